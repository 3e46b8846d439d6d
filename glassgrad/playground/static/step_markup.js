// The step-through's markup, built once here for the page (main.js) and the notebook widget (widget.js).
// Ids name the parts: the page has one step-through, and each widget draws into its own shadow root,
// so an id is unique wherever it lands. StepView finds them inside its root, never in the document.

import { h, revealFocused, s } from "./dom.js";

/** The controls that pick an example (the page only: a widget steps through the learner's own model). */
function exampleChoices() {
  return [
    h("label", { "data-control": "example", "data-title": "Example" }, "Example ", h("select", { id: "step-example" })),
    h("label", { "data-control": "seed", "data-title": "Seed", id: "step-seed-box" },
      "Seed ", h("input", { id: "step-seed", type: "number", min: "0", step: "1" })),
  ];
}

function customChoices() {
  return h("span", { id: "step-custom", class: "custom", "data-control": "custom",
                     "data-title": "Layer sizes, activation and loss (custom)" },
    h("label", {}, "Layer sizes ", h("input", { id: "step-sizes", type: "text", size: "9", "aria-describedby": "sizes-help" })),
    h("label", {}, "Activation ", h("select", { id: "step-activation" })),
    h("label", {}, "Loss ", h("select", { id: "step-loss" })),
    h("small", { id: "sizes-help" }, "inputs, hidden…, outputs (at most 8 each)"));
}

function button(id, key, label, shortcut, extra = {}) {
  return h("button", { type: "button", id, "aria-keyshortcuts": key, ...extra }, `${label} `, h("kbd", {}, shortcut));
}

function legendLine(kind) {
  return s("svg", { width: "34", height: "10", "aria-hidden": "true" },
    s("line", { x1: "2", y1: "5", x2: "32", y2: "5", class: `edge ${kind}`, "stroke-width": "3",
                "stroke-dasharray": kind === "negative" ? "5 3" : null }));
}

/** The step-through's elements, in page order; ``choices``: with the example, seed and custom-layer controls. */
export function stepMarkup({ choices }) {
  const lr = h("label", { "data-control": "step-lr", "data-title": "Learning rate η" }, "Learning rate η ",
    h("input", { id: "step-lr", type: "number", step: "any",
                 "aria-describedby": "step-lr-problem" }));
  return [
    h("form", { class: "controls", id: "step-form" }, choices ? [...exampleChoices(), lr, customChoices()] : lr),
    h("p", { id: "step-lr-problem", class: "error", role: "alert", hidden: true }),
    h("div", { class: "toolbar", role: "toolbar", "aria-label": "Step controls", id: "step-buttons" },
      button("btn-forward", "f", "Forward", "F"),
      button("btn-backward", "b", "Backward", "B"),
      button("btn-update", "u", "Update", "U", { "data-control": "update", "data-title": "Update button" }),
      button("btn-reset", "r", "Reset", "R"),
      button("btn-back", "Backspace", "Step back", "⌫")),
    h("h2", { id: "step-title" }),
    h("p", { id: "step-description", class: "muted" }),
    h("p", { id: "step-narration", class: "narration", "aria-live": "polite" }),
    h("p", { id: "step-warning", class: "warning", role: "status", hidden: true }),
    h("p", { class: "loss-line" }, "Loss L = ",
      h("button", { type: "button", id: "step-loss-value", class: "cell loss", dataset: { cell: "loss" }, disabled: true }, "?"),
      " ", h("span", { id: "step-updates", class: "muted" })),
    h("div", { class: "step-grid" },
      h("div", { class: "step-main" },
        h("figure", { class: "diagram-box scrolls-sideways", onfocusin: revealFocused },
          s("svg", { id: "diagram", role: "img", "aria-labelledby": "diagram-title diagram-desc", viewBox: "0 0 640 360" },
            s("title", { id: "diagram-title" }, "Network diagram"),
            s("desc", { id: "diagram-desc" })),
          h("p", { class: "scroll-hint" }, "scroll sideways to see the whole network →"),
          h("p", { id: "diagram-legend", class: "diagram-legend" },
            legendLine("positive"), " positive weight ", legendLine("negative"), " negative weight (dashed)",
            " · thicker line = larger |w| · inside a circle: the neuron's value A, under it: ∂L/∂Z · click any of them"),
          h("figcaption", { id: "diagram-text" })),
        h("div", { id: "step-matrices", class: "matrices" })),
      h("aside", { id: "explain", class: "panel", "aria-labelledby": "explain-heading" },
        h("h2", { id: "explain-heading" }, "Click any number"),
        h("p", { id: "explain-text", class: "formula", "aria-live": "polite" },
          "Its formula appears here, with the engine's numbers plugged in."),
        h("p", { id: "explain-meaning" }),
        h("p", { id: "step-counting", class: "muted" }),
        h("form", { id: "edit-form", hidden: true, "data-control": "edit", "data-title": "Editing weights and inputs" },
          h("label", { for: "edit-value", id: "edit-label" }, "New value"),
          " ", h("input", { id: "edit-value", type: "number", step: "any", min: "-100", max: "100" }),
          " ", h("button", { type: "submit" }, "Set"),
          " ", h("small", { class: "muted" }, "Enter sets it; ", h("kbd", {}, "E"), " comes here from a number, ",
            h("kbd", {}, "Esc"), " goes back.")))),
  ];
}
