// The whole state lives in the URL (query string), so a link reproduces exactly what a student sees.

const FIELDS = {
  step: { example: "s_example", seed: "s_seed", lr: "s_lr", sizes: "s_sizes", activation: "s_activation",
          loss: "s_loss", actions: "s_actions" },
  train: { dataset: "t_dataset", hidden: "t_hidden", activation: "t_activation", loss: "t_loss",
           optimizer: "t_optimizer", lr: "t_lr", batch_size: "t_batch", clip: "t_clip", seed: "t_seed", step: "t_step",
           from_code: "t_from_code" },
  practice: { kind: "p_kind", seed: "p_seed" },
  landscape: { x: "l_x", y: "l_y", steps: "l_steps", rate: "l_rate", at: "l_at", zoom: "l_zoom" },
  scalar: { example: "g_example" },
  code: { starter: "c_starter" },
};
const NUMBERS = new Set(["seed", "lr", "batch_size", "clip", "step"]);

/** {view, hide: [...], step: {...}, train: {...}, practice: {...}} from the current URL. */
export function readState() {
  const query = new URLSearchParams(location.search);
  const state = { view: query.get("view") || "step", hide: (query.get("hide") || "").split(",").filter(Boolean) };
  for (const [part, keys] of Object.entries(FIELDS)) {
    state[part] = {};
    for (const [field, key] of Object.entries(keys)) {
      const value = query.get(key);
      if (value === null) continue;
      state[part][field] = NUMBERS.has(field) && value !== "" && !Number.isNaN(Number(value)) ? Number(value) : value;
    }
  }
  return state;
}

/** The URL for a state (a view's part may be left out: it then adds nothing to the link). */
export function stateUrl(state, hide = state.hide) {
  const query = new URLSearchParams();
  query.set("view", state.view);
  for (const [part, keys] of Object.entries(FIELDS)) {
    for (const [field, key] of Object.entries(keys)) {
      const value = (state[part] || {})[field];
      if (value !== undefined && value !== null && value !== "") query.set(key, Array.isArray(value) ? value.join(",") : value);
    }
  }
  if (hide.length) query.set("hide", hide.join(","));
  return `${location.pathname}?${query.toString()}`;
}

/** Record the state in the address bar (no new history entry). */
export function writeState(state) {
  history.replaceState(null, "", stateUrl(state));
}

/** Hide the controls a teacher chose to hide (elements with data-control="name"). */
export function applyHidden(hide) {
  for (const element of document.querySelectorAll("[data-control]")) {
    element.classList.toggle("classroom-hidden", hide.includes(element.dataset.control));
  }
}
