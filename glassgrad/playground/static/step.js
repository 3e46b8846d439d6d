// Step-through view: Forward, Backward (one layer per press), Update, Reset, Step back.
// The page sends the state (example, seed, η, actions) and renders what the engine returns.

import { api, showError } from "./api.js";
import { drawDiagram } from "./diagram.js";
import { $, clear, h, setOptions } from "./dom.js";

const BUTTONS = { forward: "btn-forward", backward: "btn-backward", update: "btn-update" };

export class StepView {
  constructor(options, state, save) {
    this.state = Object.assign({ example: "diagonal-flip", seed: 0, lr: 0.1, sizes: "2,3,2", activation: "relu",
                                 loss: "mse", actions: "" }, state);
    Object.assign(state, this.state);
    this.state = state;
    this.save = save;
    this.view = null;
    this.selected = null;
    setOptions($("step-example"), options.examples, this.state.example);
    setOptions($("step-activation"), options.activations, this.state.activation);
    setOptions($("step-loss"), options.losses, this.state.loss);
    $("step-seed").value = this.state.seed;
    $("step-lr").value = this.state.lr;
    $("step-sizes").value = this.state.sizes;
    this.showCustom();
    for (const [id, field] of [["step-example", "example"], ["step-seed", "seed"], ["step-sizes", "sizes"],
                               ["step-activation", "activation"], ["step-loss", "loss"]]) {
      $(id).addEventListener("change", () => this.restart(field, $(id).value));
    }
    $("step-lr").addEventListener("change", () => this.change({ lr: Number($("step-lr").value) }));
    $("step-form").addEventListener("submit", (event) => event.preventDefault());
    $("btn-forward").addEventListener("click", () => this.act("f"));
    $("btn-backward").addEventListener("click", () => this.act("b"));
    $("btn-update").addEventListener("click", () => this.act("u"));
    $("btn-reset").addEventListener("click", () => this.change({ actions: "" }));
    $("btn-back").addEventListener("click", () => this.change({ actions: this.actions().slice(0, -1).join(" ") }));
    $("edit-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("edit-value").value.trim();
      if (this.selected && value !== "") this.act(`${this.selected}=${Number(value)}`);
    });
  }

  activate() {
    if (!this.view) this.change({});
  }

  /** Keyboard shortcuts of this view; true when the key was used. */
  key(key) {
    const actions = { f: () => this.act("f"), b: () => this.act("b"), u: () => this.act("u"),
                      r: () => $("btn-reset").click(), Backspace: () => $("btn-back").click() };
    const run = actions[key.length === 1 ? key.toLowerCase() : key];
    if (!run) return false;
    run();
    return true;
  }

  actions() {
    return this.state.actions ? this.state.actions.split(" ") : [];
  }

  showCustom() {
    $("step-custom").hidden = this.state.example !== "custom";
  }

  restart(field, value) {
    this.clearExplanation();
    this.change({ [field]: field === "seed" ? Number(value) : value, actions: "" });
    this.showCustom();
  }

  act(action) {
    if (action.length === 1 && this.view && !this.view.can[{ f: "forward", b: "backward", u: "update" }[action]]) return;
    this.change({ actions: [...this.actions(), action].join(" ") });
  }

  body(extra = {}) {
    const { example, seed, lr, actions, sizes, activation, loss } = this.state;
    const body = { example, seed, lr, actions, ...extra };
    if (example === "custom") Object.assign(body, { sizes, activation, loss });
    return body;
  }

  async change(update) {
    const previous = { ...this.state };
    Object.assign(this.state, update);
    try {
      this.view = await api("/api/step", this.body());
      showError(null);
    } catch (error) {
      Object.assign(this.state, previous);
      showError(error);
      return;
    }
    this.state.actions = this.view.actions;
    this.save();
    this.render();
    if (this.selected) this.explain(this.selected, false);
  }

  render() {
    const view = this.view;
    $("step-title").textContent = view.title;
    $("step-description").textContent = view.description;
    $("step-narration").textContent = view.narration;
    $("step-loss-value").textContent = view.loss ? view.loss.text : "?";
    $("step-updates").textContent = view.updates ? `(after ${view.updates} update${view.updates > 1 ? "s" : ""})` : "";
    for (const [name, id] of Object.entries(BUTTONS)) $(id).disabled = !view.can[name];
    $("btn-back").disabled = !view.can.step_back;
    $("btn-reset").disabled = !view.can.step_back;
    this.keepFocus();
    drawDiagram($("diagram"), view, (cell) => this.explain(cell));
    $("diagram-desc").textContent = view.diagram_text;
    $("diagram-text").textContent = view.diagram_text;
    this.renderMatrices();
  }

  /** When the pressed button becomes disabled, move focus to the next useful one (keyboard users). */
  keepFocus() {
    const active = document.activeElement;
    if (active && active.closest && active.closest("#step-buttons") && active.disabled) {
      const next = ["btn-backward", "btn-update", "btn-forward"].map($).find((button) => !button.disabled);
      if (next) next.focus();
    }
  }

  renderMatrices() {
    const view = this.view;
    const box = $("step-matrices");
    clear(box);
    const group = (title, ...matrices) => h("section", { class: "layer-card", "aria-label": title },
      h("h3", {}, title), h("div", { class: "matrix-row" }, matrices.map((m) => this.matrix(m))));
    // in the order the engine computes them: forward from the input, then backward from the loss
    box.append(group("Input and target", view.input, view.target));
    for (const layer of view.layers) {
      box.append(group(`Forward, layer ${layer.index} (${layer.activation})`, layer.W, layer.b, layer.Z, layer.A));
    }
    box.append(group("Output", view.prediction, view.dprediction));
    for (const layer of [...view.layers].reverse()) {
      box.append(group(`Backward, layer ${layer.index}`, layer.dZ, layer.dW, layer.db, layer.dA_in));
    }
  }

  /** A vector (shown as a column) or a matrix; every number is a button that explains itself. */
  matrix(m) {
    const pending = m.values === null;
    const shape = m.shape;
    const rows = shape[0];
    const columns = shape.length === 2 ? shape[1] : 1;
    const table = h("table", { class: `matrix${pending ? " pending" : ""}`, dataset: { name: m.name },
                               title: pending ? "not computed yet" : null },
      h("caption", {}, `${m.label} (${shape.join("×")})`));
    const body = h("tbody");
    for (let i = 0; i < rows; i += 1) {
      const row = h("tr");
      for (let j = 0; j < columns; j += 1) {
        if (pending) {
          row.append(h("td", {}, h("span", { class: "unknown", "aria-label": "not computed yet" }, "?")));
          continue;
        }
        const index = shape.length === 2 ? [i, j] : [i];
        const text = shape.length === 2 ? m.text[i][j] : m.text[i];
        const value = shape.length === 2 ? m.values[i][j] : m.values[i];
        const cell = `${m.name}[${index.join(",")}]`;
        const sign = value > 0 ? "positive" : value < 0 ? "negative" : "zero";
        row.append(h("td", {}, h("button", {
          type: "button", class: `cell ${sign}`, dataset: { cell, value: String(value) },
          "aria-label": `${m.label}[${index.join(",")}] = ${text}`, "aria-pressed": String(cell === this.selected),
          onclick: () => this.explain(cell),
        }, text)));
      }
      body.append(row);
    }
    table.append(body);
    return table;
  }

  async explain(cell, announceErrors = true) {
    let data;
    try {
      data = await api("/api/step/explain", this.body({ cell }));
    } catch (error) {
      if (announceErrors) showError(error);
      else this.clearExplanation();
      return;
    }
    this.selected = cell;
    for (const button of document.querySelectorAll("#step-matrices .cell")) {
      button.setAttribute("aria-pressed", String(button.dataset.cell === cell));
    }
    $("explain-heading").textContent = data.label;
    $("explain-text").textContent = data.text;
    $("explain-text").dataset.value = String(data.value);
    $("explain-meaning").textContent = `${data.meaning} Full float32 value: ${data.full}.`.trim();
    $("edit-form").hidden = !data.editable;
    $("edit-label").textContent = `New value for ${data.label}`;
    // the float32 value in full (7 significant digits), ready to edit
    $("edit-value").value = data.editable ? String(Number(data.value.toPrecision(7))) : "";
  }

  clearExplanation() {
    this.selected = null;
    $("explain-heading").textContent = "Click any number";
    $("explain-text").textContent = "Its formula appears here, with the engine's numbers plugged in.";
    $("explain-meaning").textContent = "";
    $("edit-form").hidden = true;
  }
}
