// The notebook widget (gg.widgets.StepThrough): the page's step-through for the learner's own model.
// Bundled by frontend/build.mjs into static/build/stepthrough.js, an anywidget module. The markup
// (step_markup.js), the view (step.js) and the CSS (app.css, sent by the kernel) are the page's own;
// only the channel differs: a request goes to the kernel as a custom message and the kernel's reply,
// carrying the request's id, answers it. Everything is drawn in a shadow root, so the page's CSS and
// ids stay inside the widget and the notebook's CSS stays out.

import { h, isTyping } from "./dom.js";
import { StepView } from "./step.js";
import { stepMarkup } from "./step_markup.js";

const PATIENCE_MS = 60_000; // a kernel busy with another cell answers late; a dead one never does

/** A channel over the widget's messages: ``request(path, body)`` → a Promise of the kernel's JSON. */
function kernelChannel(model) {
  const waiting = new Map();
  const prefix = Math.random().toString(36).slice(2);
  let count = 0;
  const listen = (message) => {
    const pending = message && waiting.get(message.id);
    if (!pending) return; // another view's request, or one given up on
    waiting.delete(message.id);
    clearTimeout(pending.timer);
    if (message.error !== undefined) pending.reject(new Error(message.error));
    else pending.resolve(message.data);
  };
  model.on("msg:custom", listen);
  return {
    request(path, body) {
      count += 1;
      const id = `${prefix}-${count}`;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`the kernel did not answer in ${PATIENCE_MS / 1000} s: is it still running? ` +
                           "Run the widget's cell again."));
        }, PATIENCE_MS);
        waiting.set(id, { resolve, reject, timer });
        model.send({ id, path, body });
      });
    },
    close() {
      model.off("msg:custom", listen);
      for (const pending of waiting.values()) clearTimeout(pending.timer);
      waiting.clear();
    },
  };
}

function render({ model, el }) {
  const shadow = el.shadowRoot || el.attachShadow({ mode: "open" }); // drawn again into the same cell: reuse it
  shadow.replaceChildren();
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const root = h("section", { class: "stepthrough", "aria-label": "Step through your network" },
    error, ...stepMarkup({ choices: false }));
  shadow.append(h("style", {}, model.get("_styles")), root);
  const state = { lr: model.get("lr"), actions: model.get("actions") };
  const showError = (problem) => {
    error.textContent = problem ? problem.message || String(problem) : "";
    error.hidden = !problem;
  };
  const save = () => { // the notebook keeps the steps taken, as the page's URL does
    model.set("actions", state.actions);
    model.save_changes();
  };
  const channel = kernelChannel(model);
  const view = new StepView(root, channel, { options: { counting: model.get("_counting"), lr_rule: model.get("_lr_rule") }, state, save, showError });
  root.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    if (view.key(event.key)) {
      event.preventDefault();
      event.stopPropagation(); // the key was the widget's: not a notebook shortcut as well
    }
  });
  view.activate();
  return () => channel.close();
}

export default { render };
