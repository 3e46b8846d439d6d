// Step-through view: Forward, Backward (one layer per press), Update, Reset, Step back.
// The view sends the state (example, seed, η, actions) through its channel and renders what the engine returns:
// the page's channel asks the server (api.js), a notebook widget's asks the kernel (widget.js).
// Requests go one after another, so quick key presses are applied in order, each to the view it follows.

import { drawDiagram } from "./diagram.js";
import { clear, h, isHidden, setOptions } from "./dom.js";

const BUTTONS = { forward: "btn-forward", backward: "btn-backward", update: "btn-update" };
const SHORTCUTS = { f: "btn-forward", b: "btn-backward", u: "btn-update", r: "btn-reset", Backspace: "btn-back" };
const EXAMPLE = { example: "diagonal-flip", seed: 0, sizes: "2,3,2", activation: "relu", loss: "mse" };

/** What is wrong with the learning rate typed in ``field`` (an <input type=number> with min and max), in one line
 *  that says how to fix it; "" when it is fine. */
/** What is wrong with the η typed in ``field``, in the server's words (``rule``: /api/options' ``lr_rule``). */
function rateProblem(field, rule) {
  const range = `${rule.fix}, e.g. 0.1`;
  const value = Number(field.value);
  if (field.validity.badInput || field.value.trim() === "" || !Number.isFinite(value)) {
    return `The learning rate η must be a number: ${range}.`;
  }
  if (value < 0) return `η = ${value} would move the weights uphill, raising the loss: ${range}.`;
  if (value === 0) return `η = 0 would leave the weights where they are: ${range}.`;
  if (value < rule.low || value > rule.high) return `${rule.label} = ${value} is out of range: ${range}.`;
  return "";
}

export class StepView {
  /** ``root`` holds the markup of step_markup.js; ``channel.request(path, body)`` answers with the engine's JSON
   *  (or throws an Error carrying its message); ``save()`` keeps the state; ``showError`` shows a problem. */
  constructor(root, channel, { options, state, save, showError }) {
    this.root = root;
    this.channel = channel;
    this.showError = showError;
    this.choices = Boolean(this.$("step-example")); // the page picks an example; a widget has its model
    this.state = Object.assign({ lr: 0.1, actions: "" }, this.choices ? EXAMPLE : {}, state);
    Object.assign(state, this.state);
    this.state = state;
    this.save = save;
    this.view = null;
    this.selected = null;
    this.queue = Promise.resolve();
    if (this.choices) this.setUpChoices(options);
    this.$("step-counting").textContent = options.counting;
    this.lrRule = options.lr_rule;
    Object.assign(this.$("step-lr"), { min: this.lrRule.low, max: this.lrRule.high, value: this.state.lr });
    // a new η is an action: the updates already made keep theirs, Step back undoes the change
    this.$("step-lr").addEventListener("change", () => this.changeRate());
    this.$("step-form").addEventListener("submit", (event) => event.preventDefault());
    for (const id of Object.values(SHORTCUTS)) this.$(id).addEventListener("click", () => this.press(id));
    this.$("step-loss-value").addEventListener("click", () => this.explain("loss"));
    this.$("edit-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = this.$("edit-value").value.trim();
      const cell = this.selected;
      if (cell && value !== "") this.act(`${cell}=${Number(value)}`).then(() => this.focusCell(cell));
    });
    this.$("edit-value").addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.focusCell(this.selected);
    });
  }

  /** The part of this view with that id (found inside the root: a page or a widget's shadow root). */
  $(id) {
    return id ? this.root.querySelector(`#${id}`) : null;
  }

  setUpChoices(options) {
    this.seeded = new Set(options.examples.filter((example) => example.seeded).map((example) => example.name));
    this.options = options;
    this.setChoices();
    for (const [id, field] of [["step-example", "example"], ["step-seed", "seed"], ["step-sizes", "sizes"],
                               ["step-activation", "activation"], ["step-loss", "loss"]]) {
      this.$(id).addEventListener("change", () => this.restart(field, this.$(id).value));
    }
  }

  /** The example, seed and layer choices of the form, as the state holds them. */
  setChoices() {
    setOptions(this.$("step-example"), this.options.examples, this.state.example);
    setOptions(this.$("step-activation"), this.options.activations, this.state.activation);
    setOptions(this.$("step-loss"), this.options.losses, this.state.loss);
    this.$("step-seed").value = this.state.seed;
    this.$("step-sizes").value = this.state.sizes;
  }

  activate() {
    if (!this.view) this.change(() => ({}));
  }

  /** Keyboard shortcuts of this view; true when the key was used. A control a classroom link hides has none. */
  key(key) {
    const name = key.length === 1 ? key.toLowerCase() : key;
    if (name === "e" && !this.$("edit-form").hidden && !isHidden(this.$("edit-form"))) {
      this.$("edit-value").focus();
      this.$("edit-value").select();
      return true;
    }
    const button = this.$(SHORTCUTS[name] || "");
    if (!button || isHidden(button)) return false;
    this.press(button.id); // not button.click(): a button still disabled may be enabled by the presses queued before
    return true;
  }

  press(id) {
    const actions = { "btn-forward": () => this.act("f"), "btn-backward": () => this.act("b"),
                      "btn-update": () => this.act("u"),
                      // Reset: the example's initial weights again, keeping the η now in use
                      "btn-reset": () => this.change(() => ({ lr: this.view.lr, actions: "" })),
                      "btn-back": () => this.change(() => ({ actions: this.actions().slice(0, -1).join(" ") })) };
    return actions[id]();
  }

  actions() {
    return this.state.actions ? this.state.actions.split(" ") : [];
  }

  /** The seed matters only where weights are drawn (moons, custom); layer choices only for custom. */
  showChoices() {
    if (!this.choices) return;
    this.$("step-custom").hidden = this.state.example !== "custom";
    this.$("step-seed-box").hidden = !this.seeded.has(this.state.example);
  }

  restart(field, value) {
    this.clearExplanation();
    this.change(() => ({ [field]: field === "seed" ? Number(value) : value, actions: "" }));
  }

  /** The η typed in the field, sent only when it is a learning rate the field allows (its min and max, the
   *  engine's range): otherwise the line under the field says what was wrong and how to fix it, nothing is sent,
   *  and the field shows the η in use again. */
  changeRate() {
    const field = this.$("step-lr");
    const problem = rateProblem(field, this.lrRule);
    this.showRateProblem(problem);
    if (!problem) this.act(`lr=${Number(field.value)}`);
    else field.value = this.view ? this.view.lr : this.state.lr;
  }

  showRateProblem(problem) {
    this.$("step-lr-problem").textContent = problem;
    this.$("step-lr-problem").hidden = !problem;
  }

  /** Append one action, if the view it would follow allows it (a button pressed twice quickly acts once). */
  act(action) {
    return this.change(() => {
      const needs = { f: "forward", b: "backward", u: "update" }[action];
      if (needs && this.view && !this.view.can[needs]) return null;
      return { actions: [...this.actions(), action].join(" ") };
    });
  }

  /** Queue a state change: ``update()`` runs when the previous request has answered, and returns the
   *  fields to change (or null for nothing). The engine then computes the new view. */
  change(update) {
    this.queue = this.queue.then(async () => {
      const fields = update();
      if (fields === null) return;
      const previous = { ...this.state };
      Object.assign(this.state, fields);
      let refused = null; // shown once the view is drawn: a link's problem stays said beside the fresh start
      try {
        this.view = await this.channel.request("/api/step", this.body());
      } catch (error) {
        Object.assign(this.state, previous);
        if (this.view) this.$("step-lr").value = this.view.lr; // a refused η does not stay written in the field
        if (this.view || error.status !== 422 || !this.startAfresh()) { // 422: refused, not a busy engine
          this.showError(error);
          return;
        }
        refused = error;
        try {
          this.view = await this.channel.request("/api/step", this.body());
        } catch {
          this.showError(error);
          return;
        }
      }
      this.showError(refused);
      this.state.actions = this.view.actions;
      this.save();
      this.render();
      if (this.selected) { // explain it again with the new numbers, if the new view has it (no request for a gap)
        const shown = this.root.querySelector(`[data-cell="${CSS.escape(this.selected)}"]`);
        if (shown && !shown.disabled) await this.explain(this.selected, false);
        else this.clearExplanation();
      }
    });
    return this.queue;
  }

  /** A link the engine refused before any view was drawn (an unknown action, η = NaN): its choices give way to the
   *  defaults (the page's first example, η = 0.1, no actions), so that every button works; false if they were. */
  startAfresh() {
    const fresh = Object.assign({ lr: 0.1, actions: "" }, this.choices ? EXAMPLE : {});
    if (Object.entries(fresh).every(([field, value]) => this.state[field] === value)) return false;
    Object.assign(this.state, fresh);
    if (this.choices) this.setChoices();
    return true;
  }

  body(extra = {}) {
    const { example, seed, lr, actions, sizes, activation, loss } = this.state;
    if (!this.choices) return { lr, actions, ...extra };
    const body = { example, seed, lr, actions, ...extra };
    if (example === "custom") Object.assign(body, { sizes, activation, loss });
    return body;
  }

  render() {
    const view = this.view;
    this.$("step-title").textContent = view.title;
    this.$("step-description").textContent = view.description;
    this.$("step-narration").textContent = view.narration;
    this.$("step-warning").textContent = view.warning;
    this.$("step-warning").hidden = !view.warning;
    this.showChoices();
    this.$("step-lr").value = view.lr;
    this.showRateProblem(""); // said of an η refused before this view: the learner has moved on
    const loss = this.$("step-loss-value");
    loss.textContent = view.loss ? view.loss.text : "?";
    loss.disabled = !view.loss;
    loss.setAttribute("aria-label", view.loss ? `loss L = ${view.loss.text}, show its formula` : "loss: not computed yet");
    this.$("step-updates").textContent = view.updates ? `(after ${view.updates} update${view.updates > 1 ? "s" : ""})` : "";
    // read before disabling: Chromium blurs a button as it is disabled
    const pressed = this.root.getRootNode().activeElement;
    for (const [name, id] of Object.entries(BUTTONS)) this.$(id).disabled = !view.can[name];
    this.$("btn-back").disabled = !view.can.step_back;
    this.$("btn-reset").disabled = !view.can.step_back;
    this.keepFocus(pressed);
    drawDiagram(this.$("diagram"), view, (cell) => this.explain(cell));
    this.$("diagram-desc").textContent = view.diagram_text;
    this.$("diagram-text").textContent = view.diagram_text;
    this.renderMatrices();
  }

  /** When the pressed button (``pressed``, focused before the view changed) is now disabled, move focus
   *  to the next useful one (keyboard users), rather than letting it fall back to the page. */
  keepFocus(pressed) {
    if (pressed && pressed.closest && pressed.closest("#step-buttons") && pressed.disabled) {
      const next = ["btn-backward", "btn-update", "btn-forward"].map((id) => this.$(id))
        .find((button) => !button.disabled);
      if (next) next.focus();
    }
  }

  focusCell(cell) {
    const button = this.root.querySelector(`#step-matrices .cell[data-cell="${cell}"]`);
    if (button) button.focus();
  }

  renderMatrices() {
    const view = this.view;
    const box = this.$("step-matrices");
    clear(box);
    const group = (title, ...matrices) => h("section", { class: "layer-card", "aria-label": title },
      h("h3", {}, title), h("div", { class: "matrix-row" }, matrices.filter(Boolean).map((m) => this.matrix(m))));
    // in the order the engine computes them: forward from the input, then backward from the loss
    box.append(group("Input and target", view.input, view.target));
    for (const layer of view.layers) {
      // a layer without an activation has A = Z: its output is shown once
      const output = layer.activation === "identity" ? [layer.Z] : [layer.Z, layer.A];
      box.append(group(`Forward, layer ${layer.index} (${layer.activation})`, layer.W, layer.b, ...output));
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
        const cell = `${m.name}[${index.join(",")}]`; // the code's 0-based index: an id, never shown
        const entry = shape.length === 2 ? m.entries[i][j] : m.entries[i]; // the learner's name, counting from 1
        const sign = value > 0 ? "positive" : value < 0 ? "negative" : "zero";
        row.append(h("td", {}, h("button", {
          type: "button", class: `cell ${sign}`, dataset: { cell, value: String(value) },
          "aria-label": `${entry} = ${text}`, "aria-pressed": String(cell === this.selected),
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
      data = await this.channel.request("/api/step/explain", this.body({ cell }));
    } catch (error) {
      if (announceErrors) this.showError(error);
      else this.clearExplanation();
      return;
    }
    this.selected = cell;
    for (const button of this.root.querySelectorAll("#step-matrices .cell")) {
      button.setAttribute("aria-pressed", String(button.dataset.cell === cell));
    }
    this.$("explain-heading").textContent = data.label;
    this.$("explain-text").textContent = data.text;
    this.$("explain-text").dataset.value = String(data.value);
    this.$("explain-meaning").textContent = `${data.meaning} Full ${data.dtype} value: ${data.full}.`.trim();
    this.$("edit-form").hidden = !data.editable;
    this.$("edit-label").textContent = `New value for ${data.label}`;
    // the value in full (as the model's dtype writes it), ready to edit
    this.$("edit-value").value = data.editable ? String(Number(data.full)) : "";
  }

  clearExplanation() {
    this.selected = null;
    this.$("explain-heading").textContent = "Click any number";
    this.$("explain-text").textContent = "Its formula appears here, with the engine's numbers plugged in.";
    this.$("explain-meaning").textContent = "";
    this.$("edit-form").hidden = true;
  }
}
