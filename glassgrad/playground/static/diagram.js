// The network diagram (SVG): neurons in columns, one line per weight.
// Line width follows |w|; negative weights are dashed as well as coloured, so no colour is needed to read them.

import { clear, s } from "./dom.js";

const WIDTH = 640;
const RADIUS = 31; // 7 characters at 12 units (+1.0000: 52 units) with 4 units clear of the outline each side
const ROW = 90; // vertical room per neuron: the circle and its gradient underneath, 10 units clear of the next circle
const FITS = 7; // characters that fit in a circle at the diagram's font size

/** A number short enough for its circle (at most FITS characters): -61080.6055 is drawn -6.1e4 (the matrices
 *  and the explanation keep the full text), 1234.5678 is drawn +1234.6, 12.3456 +12.35; the sign stays written. */
function short(text, value) {
  if (text.length <= FITS || typeof value !== "number") return text;
  const size = Math.abs(value);
  // the bounds are where rounding adds a digit: 9999.96 would be 10000.0, 999.996 1000.00
  const digits = size >= 9999.95 || size < 1e-2 ? value.toExponential(1).replace("e+", "e")
    : value.toFixed(size >= 999.995 ? 1 : 2);
  return value > 0 ? `+${digits}` : digits;
}

/** A clickable, focusable SVG group (a node or a gradient): Enter or Space picks it, as a click does. */
function pickable(cell, onPick, label) {
  if (!cell) return {};
  return { tabindex: "0", role: "button", "aria-label": label, onclick: (event) => { event.stopPropagation(); onPick(cell); },
           onkeydown: (event) => {
             if (event.key !== "Enter" && event.key !== " ") return;
             event.preventDefault();
             event.stopPropagation(); // a gradient sits inside its node's group: only the one focused is picked
             onPick(cell);
           } };
}

export function drawDiagram(svg, view, onPick) {
  const keep = [...svg.querySelectorAll(":scope > title, :scope > desc")];
  clear(svg, keep);
  const columns = [view.input, ...view.layers.map((layer) => layer.A)];
  const sizes = [view.input.shape[0], ...view.layers.map((layer) => layer.W.shape[0])];
  const height = Math.max(...sizes) * ROW + 50;
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${height}`);
  const x = (column) => 60 + (column * (WIDTH - 120)) / (columns.length - 1);
  const y = (row, count) => 40 + ((row + 0.5) * (height - 50)) / count;

  const edges = s("g", { class: "edges" });
  view.layers.forEach((layer, index) => {
    const grads = layer.dW.values;
    for (let i = 0; i < layer.W.shape[0]; i += 1) {
      for (let j = 0; j < layer.W.shape[1]; j += 1) {
        const weight = layer.W.values[i][j];
        const cell = grads ? `dW${layer.index}[${i},${j}]` : `W${layer.index}[${i},${j}]`;
        // the learner's names (counting from 1) come from the server; the cell ids keep the code's index
        const words = `${layer.W.entries[i][j]} = ${layer.W.text[i][j]}` +
          (grads ? `; ${layer.dW.entries[i][j]} = ${layer.dW.text[i][j]}` : "");
        edges.append(s("line", {
          x1: x(index), y1: y(j, sizes[index]), x2: x(index + 1), y2: y(i, sizes[index + 1]),
          class: `edge ${weight < 0 ? "negative" : "positive"}`,
          "stroke-width": (0.6 + 3.4 * Math.min(Math.abs(weight), 1.5) / 1.5).toFixed(2),
          "stroke-dasharray": weight < 0 ? "5 3" : null,
          onclick: () => onPick(cell),
        }, s("title", {}, words)));
      }
    }
  });
  svg.append(edges);

  columns.forEach((column, index) => {
    const layer = index > 0 ? view.layers[index - 1] : null;
    // MSE compares the output itself (named ŷ, or A₂ = ŷ), cross-entropy the softmax of these logits
    const named = column.label === "ŷ" ? "ŷ" : `${column.label} = ŷ`;
    const output = view.loss_name === "mse" ? named : `${column.label} (logits)`;
    const heading = index === 0 ? "X" : index === columns.length - 1 ? output : column.label;
    const activation = layer && layer.activation !== "identity" ? ` (${layer.activation})` : "";
    svg.append(s("text", { x: x(index), y: 22, class: "column-label", "text-anchor": "middle" }, heading + activation));
    for (let row = 0; row < sizes[index]; row += 1) {
      const value = column.values ? column.text[row] : "?";
      const gradient = layer && layer.dZ.values ? layer.dZ.text[row] : null;
      const slope = gradient && layer.dZ.values[row];
      const cell = index === 0 ? `x[${row}]` : column.values ? `A${index}[${row}]` : null;
      const name = column.entries[row];
      const node = s("g", { class: "node", ...pickable(cell, onPick, `${name} = ${value}, show its formula`) },
        s("title", {}, `${name} = ${value}` + (gradient ? `; ${layer.dZ.entries[row]} = ${gradient}` : "")),
        s("circle", { cx: x(index), cy: y(row, sizes[index]), r: RADIUS }),
        s("text", { x: x(index), y: y(row, sizes[index]) + 4, "text-anchor": "middle", class: "node-value",
                    dataset: { cell: cell || "" } },
          column.values ? short(value, column.values[row]) : value));
      if (gradient) {
        const gradCell = `dZ${layer.index}[${row}]`;
        node.append(s("text", { x: x(index), y: y(row, sizes[index]) + RADIUS + 14, "text-anchor": "middle",
                                class: `node-grad ${slope > 0 ? "positive" : slope < 0 ? "negative" : "zero"}`,
                                dataset: { cell: gradCell },
                                ...pickable(gradCell, onPick, `${layer.dZ.entries[row]} = ${gradient}, show its formula`) },
          `∂L/∂Z ${short(gradient, slope)}`));
      }
      svg.append(node);
    }
  });
}
