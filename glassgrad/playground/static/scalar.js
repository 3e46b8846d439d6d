// Scalar view: every number of a small network as a box (value and ∂L/∂ of it), the fused linear
// layer split into micrograd's · and + boxes. Boxes and places come from /api/scalar; this draws them.

import { api, showError } from "./api.js";
import { $, clear, h, revealFocused, s, setOptions } from "./dom.js";

const LINE_HEIGHT = 15;
const PADDING = 8;
const EXAMPLES = [
  { name: "diagonal-flip", title: "diagonal flip (4→3→4, 31 parameters)" },
  { name: "linear-regression", title: "linear regression (2 parameters, 5 points)" },
];

export class ScalarView {
  constructor(options, state, save) {
    this.state = state;
    this.save = save;
    this.data = null;
    this.chosen = null;
    const panel = $("view-scalar");
    clear(panel);
    this.example = h("select", { id: "scalar-example" });
    setOptions(this.example, EXAMPLES, state.example || EXAMPLES[0].name);
    this.example.addEventListener("change", () => this.load(this.example.value));
    this.svg = s("svg", { id: "scalar-graph", role: "img", "aria-labelledby": "scalar-graph-title" });
    this.detail = h("p", { id: "scalar-detail", class: "formula", "aria-live": "polite" },
      "Click a box: its value, its gradient, and what it is made from.");
    panel.append(
      h("h2", { id: "scalar-title" }, "Every number a box"),
      h("p", { class: "muted", id: "scalar-intro" }, "The engine runs a layer as one fused op, Z = X·Wᵀ + b. Here " +
        "it is split the way micrograd draws it: a · box per weight times input and a chain of + boxes per output, " +
        "then the activation (ReLU, in a network that has one) and the loss's pieces. Each box holds the engine's " +
        "value and its gradient, ∂L/∂ of it (— for data, which gets none)."),
      h("form", { class: "controls", id: "scalar-form" }, h("label", {}, "Example ", this.example)),
      this.detail,
      h("div", { class: "scalar-box scrolls-sideways", tabindex: 0, "aria-label": "The scalar graph (scrolls)",
        onfocusin: revealFocused },
        h("p", { class: "scroll-hint" }, "scroll sideways to see the whole graph →"), this.svg),
      h("p", { id: "scalar-note", class: "muted" }, "Numbers are the engine's float64 values, rounded to 4 decimals " +
        "in the boxes and in full when you click one."));
    $("scalar-form").addEventListener("submit", (event) => event.preventDefault());
  }

  activate() {
    if (!this.data) this.load(this.example.value);
  }

  key() {
    return false;
  }

  async load(example) {
    try {
      this.data = await api("/api/scalar", { example });
      showError(null);
    } catch (error) {
      showError(error);
      return;
    }
    this.state.example = example;
    this.chosen = null;
    this.detail.textContent = "Click a box: its value, its gradient, and what it is made from.";
    this.save();
    this.draw();
    this.svg.parentElement.scrollTo(0, 0);
  }

  draw() {
    const data = this.data;
    const svg = this.svg;
    clear(svg);
    svg.setAttribute("viewBox", `0 0 ${Math.ceil(data.width)} ${Math.ceil(data.height)}`);
    svg.setAttribute("width", Math.ceil(data.width));
    svg.setAttribute("height", Math.ceil(data.height));
    $("scalar-title").textContent = data.title;
    $("scalar-note").textContent = `${data.boxes.length} boxes; ${data.note} Numbers are the engine's float64 ` +
      "values, rounded to 4 decimals in the boxes and in full when you click one.";
    svg.append(s("title", { id: "scalar-graph-title" }, data.title));
    svg.append(s("defs", {}, s("marker", { id: "scalar-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z",
      fill: "#555" }))));
    const byName = new Map(data.boxes.map((box) => [box.name, box]));
    const edges = s("g", { class: "scalar-edges" });
    for (const box of data.boxes) {
      for (const name of box.inputs) {
        const from = byName.get(name);
        const x1 = from.x + from.width;
        const y1 = from.y + from.height / 2;
        const x2 = box.x;
        const y2 = box.y + box.height / 2;
        const bend = (x2 - x1) / 2;
        edges.append(s("path", { d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`,
          "data-from": name, "data-to": box.name, class: "scalar-edge", "marker-end": "url(#scalar-arrow)" }));
      }
    }
    svg.append(edges);
    for (const box of data.boxes) {
      const group = s("g", { class: box.inputs.length ? "scalar-node" : "scalar-node leaf", tabindex: 0,
        role: "button", "data-name": box.name, "aria-label": `${box.title}: value ${box.lines[1][0].slice(6)}, ` +
        `${box.lines[2][0]}` });
      group.append(s("rect", { x: box.x, y: box.y, width: box.width, height: box.height, rx: 5 }));
      box.lines.forEach(([text, style], line) => {
        group.append(s("text", { x: box.x + PADDING, y: box.y + PADDING + 10 + line * LINE_HEIGHT,
          class: `scalar-${style}` }, text));
      });
      group.addEventListener("click", () => this.pick(box.name));
      group.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          this.pick(box.name);
        }
      });
      svg.append(group);
    }
  }

  pick(name) {
    const box = this.data.boxes.find((item) => item.name === name);
    this.chosen = name;
    for (const group of this.svg.querySelectorAll(".scalar-node")) {
      const linked = group.dataset.name === name || box.inputs.includes(group.dataset.name);
      group.classList.toggle("picked", linked);
    }
    for (const edge of this.svg.querySelectorAll(".scalar-edge")) {
      edge.classList.toggle("picked", edge.dataset.to === name);
    }
    const parts = box.inputs.map((input) => `${input} = ${this.data.boxes.find((item) => item.name === input).value}`);
    const made = box.inputs.length ? ` (${box.op} of ${parts.join(", ")})` : " (a leaf: nothing makes it)";
    const grad = box.grad === null ? "no gradient (data)" : `∂L/∂ of it = ${box.grad}`;
    // a tensor entry's box: its name counting from 1, then the code's index (the server's label)
    const title = box.title.startsWith(box.name) ? box.label + box.title.slice(box.name.length) : box.title;
    this.detail.textContent = `${title}${made}: value ${box.value}; ${grad}`;
  }
}
