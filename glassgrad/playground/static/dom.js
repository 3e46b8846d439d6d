// Small DOM helpers: build elements from data, never from HTML strings.

const SVG_NS = "http://www.w3.org/2000/svg";

/** h("button", {class: "cell", dataset: {cell: "W1[0,0]"}}, "+0.5000") → an element. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  return fill(element, attributes, children);
}

/** The same for SVG elements (circle, line, text, g, polyline…). */
export function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  return fill(element, attributes, children);
}

function fill(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Remove every child of an element (keeping the listed ones, e.g. an SVG's <title> and <desc>). */
export function clear(element, keep = []) {
  for (const child of [...element.childNodes]) {
    if (!keep.includes(child)) child.remove();
  }
}

export const $ = (id) => document.getElementById(id);

/** Fill a <select> with options: [{name, title}] or plain names. */
export function setOptions(select, items, selected) {
  clear(select);
  for (const item of items) {
    const name = typeof item === "string" ? item : item.name;
    const title = typeof item === "string" ? item : item.title || item.name;
    select.append(h("option", { value: name, selected: name === selected }, title));
  }
}

/** True when a classroom link hides the element (or what contains it). */
export function isHidden(element) {
  return Boolean(element.closest(".classroom-hidden"));
}

/** A ``focusin`` listener for a box that scrolls sideways (the step-through's diagram, the graph of every number):
 *  the number tabbed to is scrolled wholly into the box. The browser scrolls only one it cannot see at all, so
 *  on a phone Tab left a box 3 px inside the edge, 2 % of it shown, or a last-column neuron cut in half. */
export function revealFocused(event) {
  event.target.scrollIntoView({ block: "nearest", inline: "nearest" });
}

/** True while the user is typing in a field: keyboard shortcuts stay out of the way. */
export function isTyping(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName));
}

const READABLE_PX = 12; // the smallest size a label may have on screen
const watched = new WeakSet();

/** Keep the ``.tick`` labels (and any text marked ``.keep-readable``) of an SVG drawn in its own units (its viewBox)
 *  READABLE_PX on screen at least, however narrow it is shown (a phone shows a 480-unit chart 350 px wide inside
 *  its border, and 11 units as 8 px); again whenever its width changes (a view shown, a phone turned), and when
 *  called after such a text is added. Where the stylesheet's size is larger, it stays. */
export function keepTicksReadable(svg) {
  const resize = () => {
    const drawn = svg.getScreenCTM(); // units to screen pixels, inside the border (its width is no part of the scale)
    const scale = drawn ? Math.hypot(drawn.a, drawn.b) : 0;
    if (!(scale > 0) || svg.getBoundingClientRect().width === 0) return; // hidden: sized when it is shown
    const readable = Math.ceil((READABLE_PX / scale) * 100) / 100; // rounded up: never a hair under READABLE_PX
    for (const tick of svg.querySelectorAll(".tick, .keep-readable")) {
      tick.style.fontSize = "";
      const styled = parseFloat(getComputedStyle(tick).fontSize);
      tick.style.fontSize = `${Math.max(styled, readable)}px`;
    }
  };
  if (!watched.has(svg)) {
    watched.add(svg);
    new ResizeObserver(resize).observe(svg);
  }
  resize();
}
