// Start-up: read the state from the URL, build the views, tabs, keyboard shortcuts, sharing.

import { api, dismissError, server, showError, takeToken } from "./api.js";
import { CodeView } from "./code.js";
import { CourseView } from "./course.js";
import { $, clear, h, isHidden, isTyping } from "./dom.js";
import { LandscapeView } from "./landscape.js";
import { PracticeView } from "./practice.js";
import { ScalarView } from "./scalar.js";
import { applyHidden, readState, stateUrl, writeState } from "./state.js";
import { StepView } from "./step.js";
import { stepMarkup } from "./step_markup.js";
import { TrainView } from "./train.js";

takeToken(); // before anything writes the address bar
$("error-dismiss").addEventListener("click", dismissError);
$("error").addEventListener("keydown", (event) => { if (event.key === "Escape") dismissError(); });
const state = readState();
const save = () => {
  writeState(state);
  $("share-link").value = new URL(stateUrl(state), location.href).href;
};

async function start() {
  const options = await api("/api/options");
  $("precision").textContent = options.precision;
  $("view-step").append(...stepMarkup({ choices: true }));
  const views = {
    step: new StepView($("view-step"), server, { options, state: state.step, save, showError }),
    train: new TrainView(options, state.train, save),
    practice: new PracticeView(options, state.practice, save),
    course: new CourseView(),
    landscape: new LandscapeView(options, state.landscape, save),
    scalar: new ScalarView(options, state.scalar, save),
  };
  if (options.code && options.code.enabled) {
    views.code = new CodeView(options, state.code, save, { views, show: (name) => show(name, true) });
  } else { // glassgrad serve --no-code: no Code tab at all
    $("tab-code").remove();
    $("view-code").remove();
  }
  if (!(state.view in views)) state.view = "step";
  const tabs = [...document.querySelectorAll("[role=tab]")];

  function show(name, focus = false) {
    state.view = name;
    for (const tab of tabs) {
      const selected = tab.dataset.view === name;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      $(tab.getAttribute("aria-controls")).hidden = !selected;
      if (selected && focus) tab.focus();
    }
    // these views write their own numbers: the note is not about them
    $("precision").hidden = ["practice", "course", "landscape", "scalar", "code"].includes(name);
    save();
    views[name].activate();
  }

  for (const tab of tabs) tab.addEventListener("click", () => show(tab.dataset.view));
  $("tabs").addEventListener("keydown", (event) => {
    const open = tabs.filter((tab) => !isHidden(tab) || tab.dataset.view === state.view);
    const index = open.findIndex((tab) => tab.dataset.view === state.view);
    const moves = { ArrowRight: 1, ArrowLeft: -1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    show(open[(index + moves[event.key] + open.length) % open.length].dataset.view, true);
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    if (event.target instanceof HTMLElement && event.target.getAttribute("role") === "tab") return;
    if (views[state.view].key(event.key)) event.preventDefault();
  });

  setUpSharing();
  applyHidden(state.hide);
  const classroom = state.hide.length > 0; // a student's link: no Share panel to untick the hidden controls in
  $("share-toggle").hidden = classroom;
  $("classroom-note").hidden = !classroom;
  show(state.view);
}

/** The share panel: the link, and which controls a classroom link hides. */
function setUpSharing() {
  const toggle = $("share-toggle");
  toggle.addEventListener("click", () => {
    const open = $("share").hidden;
    $("share").hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
  });
  $("share-copy").addEventListener("click", async () => {
    $("share-link").select();
    try {
      await navigator.clipboard.writeText($("share-link").value);
      $("share-copy").textContent = "Copied";
    } catch {
      $("share-copy").textContent = "Select and copy the link";
    }
  });
  const box = $("share-hide");
  clear(box);
  const groups = { header: "Page", "view-step": "Step through", "view-train": "Train", "view-practice": "Practice" };
  for (const [where, title] of Object.entries(groups)) {
    const checks = h("div", { class: "checks" });
    const seen = new Set();
    for (const element of document.querySelectorAll(where === "header" ? "[role=tab]" : `#${where}`)) {
      for (const control of [element, ...element.querySelectorAll("[data-title]")]) {
        const name = control.dataset.control;
        if (!name || !control.dataset.title || seen.has(name)) continue;
        seen.add(name);
        const checkbox = h("input", { type: "checkbox", value: name, checked: state.hide.includes(name) });
        checkbox.addEventListener("change", () => {
          state.hide = [...box.querySelectorAll("input:checked")].map((input) => input.value);
          save(); // the teacher keeps every control; the link hides them for students
        });
        checks.append(h("label", {}, checkbox, ` ${control.dataset.title}`));
      }
    }
    box.append(h("fieldset", { class: "hide-group" }, h("legend", {}, title), checks));
  }
}

start().catch((error) => showError(error));
