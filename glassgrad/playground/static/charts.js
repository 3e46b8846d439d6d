// Charts for the training view: loss curves (SVG), the decision boundary (canvas), gradient norms.
// They draw the engine's numbers; every label is text the server wrote.

import { clear, h, keepTicksReadable, s } from "./dom.js";

const DASHES = ["", "7 4", "2 3", "10 3 2 3", "1 5"];
const BOX = { left: 72, right: 14, top: 14, bottom: 32, width: 480, height: 260 };

/** Draw curves [{values, label, dash}] scaled to 0…yMax.value. A curve that goes above yMax leaves through the top
 *  where it crosses it (and comes back in where it falls below): drawn along the top edge, it would read as a loss
 *  that stays at yMax. A curve whose loss stops being a number (null: the run diverged there) climbs from its last
 *  point inside the chart to the top at that step and ends in a dot, so that a run which blows up at once is still
 *  seen, not a line hidden on the axis or no line at all. */
export function drawCurves(svg, curves, yMax, stepsLabel) {
  clear(svg, [...svg.querySelectorAll(":scope > title, :scope > desc")]);
  const plotWidth = BOX.width - BOX.left - BOX.right;
  const plotHeight = BOX.height - BOX.top - BOX.bottom;
  svg.append(
    s("line", { x1: BOX.left, y1: BOX.top, x2: BOX.left, y2: BOX.top + plotHeight, class: "axis" }),
    s("line", { x1: BOX.left, y1: BOX.top + plotHeight, x2: BOX.left + plotWidth, y2: BOX.top + plotHeight, class: "axis" }),
    s("text", { x: BOX.left - 6, y: BOX.top + 4, "text-anchor": "end", class: "tick" }, yMax ? yMax.text : ""),
    s("text", { x: BOX.left - 6, y: BOX.top + plotHeight, "text-anchor": "end", class: "tick" }, "0"),
    s("text", { x: BOX.left + plotWidth, y: BOX.height - 8, "text-anchor": "end", class: "tick" }, stepsLabel),
    s("text", { x: BOX.left, y: BOX.height - 8, class: "tick" }, "step 0"),
  );
  keepTicksReadable(svg);
  if (!yMax || !(yMax.value > 0)) return;
  const longest = Math.max(...curves.map((curve) => curve.values.length), 2);
  curves.forEach((curve, index) => {
    const stride = Math.max(1, Math.floor(curve.values.length / 800));
    let points = [];
    const flush = () => {
      if (points.length > 1) {
        svg.append(s("polyline", { points: points.join(" "), class: `curve curve-${index}`,
                                   "stroke-dasharray": curve.dash ?? DASHES[index % DASHES.length] }));
      }
      points = [];
    };
    const x = (step) => (BOX.left + (step / (longest - 1)) * plotWidth).toFixed(1);
    const y = (value) => (BOX.top + plotHeight * (1 - value / yMax.value)).toFixed(1);
    const diverged = curve.values.indexOf(null); // not a finite number: the run diverged at this step
    const drawn = diverged < 0 ? curve.values.length : diverged;
    let inside = drawn - 1; // a diverged run's last step inside the chart: from there it climbs to its dot
    while (diverged >= 0 && inside >= 0 && curve.values[inside] > yMax.value) inside -= 1;
    let before = null; // the step drawn last, and its loss
    for (let step = 0; step < drawn; step += stride) {
      if (diverged >= 0 && step > inside) break;
      const value = curve.values[step];
      const above = value > yMax.value;
      if (before && above !== before.value > yMax.value) { // it crosses the top edge between the two steps
        const at = before.step + ((yMax.value - before.value) / (value - before.value)) * (step - before.step);
        points.push(`${x(at)},${BOX.top}`);
        if (above) flush();
      }
      if (!above) points.push(`${x(step)},${y(value)}`);
      before = { step, value };
    }
    if (diverged >= 0) {
      points.push(`${x(diverged)},${BOX.top}`);
      svg.append(s("circle", { cx: x(diverged), cy: BOX.top, r: 6, class: `curve-end curve-${index}` },
        s("title", {}, `diverged at step ${diverged}`)));
    }
    flush();
  });
}

export const dashFor = (index) => DASHES[index % DASHES.length];

/** A short line sample for a legend entry, with the curve's dash pattern (and its end's dot if it diverged). */
export function legendSample(index, diverged = false) {
  return s("svg", { width: 36, height: 14, "aria-hidden": "true", class: "sample" },
    s("line", { x1: 0, y1: 7, x2: 36, y2: 7, class: `curve curve-${index}`, "stroke-dasharray": dashFor(index) }),
    diverged ? s("circle", { cx: 30, cy: 7, r: 5, class: `curve-end curve-${index}` }) : null);
}

const CLASS_COLOURS = [[37, 99, 235], [234, 88, 12], [22, 163, 74], [147, 51, 234]];

/** Shade each grid cell by its predicted class (stronger where surer), then draw the points:
 *  ○ for class 0, × for class 1 (shapes as well as colours). */
export function drawBoundary(canvas, boundary, points) {
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (!boundary) return;
  const cells = boundary.resolution;
  const edge = (k) => Math.round((k * canvas.width) / cells); // whole pixels: cells never overlap
  boundary.classes.forEach((label, index) => {
    const [r, g, b] = CLASS_COLOURS[label % CLASS_COLOURS.length];
    const alpha = 0.1 + 0.45 * Math.max(0, (boundary.confidence[index] - 0.5) * 2);
    const column = index % cells;
    const row = Math.floor(index / cells);
    context.fillStyle = `rgba(${r}, ${g}, ${b}, ${alpha.toFixed(3)})`;
    context.fillRect(edge(column), edge(row), edge(column + 1) - edge(column), edge(row + 1) - edge(row));
  });
  if (!points) return;
  const [x0, x1] = boundary.x_range;
  const [y0, y1] = boundary.y_range;
  points.xy.forEach(([px, py], index) => {
    const cx = ((px - x0) / (x1 - x0)) * canvas.width;
    const cy = (1 - (py - y0) / (y1 - y0)) * canvas.height;
    const [r, g, b] = CLASS_COLOURS[points.labels[index] % CLASS_COLOURS.length];
    context.strokeStyle = `rgb(${r}, ${g}, ${b})`;
    context.lineWidth = 1.6;
    context.beginPath();
    if (points.labels[index] === 0) {
      context.arc(cx, cy, 3.5, 0, 2 * Math.PI);
    } else {
      context.moveTo(cx - 3.5, cy - 3.5); context.lineTo(cx + 3.5, cy + 3.5);
      context.moveTo(cx + 3.5, cy - 3.5); context.lineTo(cx - 3.5, cy + 3.5);
    }
    context.stroke();
  });
}

/** One row per parameter: its name, a bar (log scale 1e-8…1e2) and the engine's number. */
export function drawNorms(list, norms) {
  clear(list);
  if (!norms.length) list.append(h("li", { class: "muted" }, "No step yet: press Step or Play to see them."));
  for (const norm of norms) {
    const position = norm.value === null ? 1 : Math.min(1, Math.max(0, (Math.log10(norm.value || 1e-12) + 8) / 10));
    const bar = h("span", { class: "bar", "aria-hidden": "true" });
    bar.style.width = `${(position * 100).toFixed(1)}%`;
    list.append(h("li", { dataset: { name: norm.name } }, h("span", { class: "norm-label" }, norm.label),
      h("span", { class: "track" }, bar), h("span", { class: "norm-value" }, norm.text)));
  }
}
