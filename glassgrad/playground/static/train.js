// Training view: a job on the server trains step by step; the page draws what each step reports.
// The URL keeps the configuration and the step count, and the server replays them exactly.

import { api, showError } from "./api.js";
import { drawBoundary, drawCurves, drawNorms, legendSample } from "./charts.js";
import { $, clear, h, setOptions } from "./dom.js";

const STEPS_PER_REQUEST = 10;
const FIELDS = ["dataset", "hidden", "activation", "loss", "optimizer", "batch_size", "clip", "seed"];
const INPUTS = { dataset: "train-dataset", hidden: "train-hidden", activation: "train-activation", loss: "train-loss",
                 optimizer: "train-optimizer", batch_size: "train-batch", clip: "train-clip", seed: "train-seed" };
const NUMERIC = new Set(["batch_size", "clip", "seed"]);

/** Free the job's slot on the server (also while the page is closing). */
function deleteJob(id) {
  fetch(`/api/train/${id}`, { method: "DELETE", keepalive: true }).catch(() => {});
}

export class TrainView {
  constructor(options, state, save) {
    const defaults = options.training_defaults;
    this.defaults = Object.fromEntries([...FIELDS, "lr"].map((field) =>
      [field, field === "hidden" ? defaults.hidden.join(",") : defaults[field]]));
    for (const field of Object.keys(this.defaults)) if (state[field] === undefined) state[field] = this.defaults[field];
    this.state = state;
    this.save = save;
    this.job = null;
    this.losses = [];
    this.points = null;
    this.playing = false;
    this.busy = false;
    this.run = 0; // which start() is current: a newer configuration makes an older replay stop
    this.maxSteps = options.limits.steps_per_request;
    this.maxTotal = options.limits.total_steps;
    this.twoD = new Set(options.two_d);
    setOptions($("train-dataset"), options.datasets, state.dataset);
    setOptions($("train-activation"), options.activations, state.activation);
    setOptions($("train-loss"), options.losses, state.loss);
    setOptions($("train-optimizer"), options.optimizers.map((o) => ({ name: o.name, title: o.name })), state.optimizer);
    for (const [field, id] of Object.entries(INPUTS)) {
      $(id).addEventListener("change", () => this.configure({ [field]: NUMERIC.has(field) ? Number($(id).value) : $(id).value }));
    }
    // the slider spans exactly the rates the server takes (/api/options' lr_rule): 10^min … 10^max
    $("train-lr").min = Math.log10(options.lr_rule.low);
    $("train-lr").max = Math.log10(options.lr_rule.high);
    this.showConfig();
    $("train-lr").addEventListener("input", () => this.showRate());
    $("train-lr").addEventListener("change", () => this.configure({ lr: this.rateFromSlider() }));
    $("train-form").addEventListener("submit", (event) => event.preventDefault());
    $("btn-play").addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    $("btn-step").addEventListener("click", () => this.advance(1));
    $("btn-train-reset").addEventListener("click", () => this.configure({}));
    $("btn-train-fresh").addEventListener("click", () => this.configure({ from_code: "" }));
    $("btn-save").addEventListener("click", () => this.saveWeights());
    $("compare-form").addEventListener("submit", (event) => { event.preventDefault(); this.compare(); });
    window.addEventListener("pagehide", () => this.stopJob());
  }

  activate() {
    if (this.job) return;
    const asked = this.state.step || 0;
    if (!(Number.isInteger(asked) && asked >= 0 && asked <= this.maxTotal)) { // say so, rather than ask the server
      showError(new Error(`The link asks for training step ${asked}, but a run replays whole numbers of steps from 0 ` +
                          `to ${this.maxTotal}: starting at step 0 instead.`));
      this.state.step = 0;
      this.save();
      this.start(0, false);
      return;
    }
    this.start(asked);
  }

  key(key) {
    if (key.toLowerCase() === "p") $("btn-play").click();
    else if (key.toLowerCase() === "s") $("btn-step").click();
    else return false;
    return true;
  }

  /** The form as the state holds it. */
  showConfig() {
    for (const [field, id] of Object.entries(INPUTS)) $(id).value = this.state[field];
    $("train-lr").value = Math.log10(this.state.lr);
    this.showRate(this.state.lr); // a link's η may lie between the slider's marks: show the one in use
  }

  /** A link the engine refused before any run was drawn (an unknown data set, a layer too wide): its settings
   *  give way to the defaults, so that the page shows a run and every control works; false if they were. */
  startAfresh() {
    const fresh = { ...this.defaults, from_code: "" };
    if (Object.entries(fresh).every(([field, value]) => (this.state[field] ?? "") === value)) return false;
    Object.assign(this.state, fresh, { step: 0 });
    this.showConfig();
    this.save();
    return true;
  }

  /** 10^slider, written with two significant digits: the value shown is exactly the value used. The rule's bounds
   *  have two significant digits (1e-5, 100), so a rate rounded from inside them stays inside them. */
  rateFromSlider() {
    return Number((10 ** Number($("train-lr").value)).toPrecision(2));
  }

  showRate(rate = this.rateFromSlider()) {
    $("train-lr-text").textContent = `η = ${rate}`;
    $("train-lr").setAttribute("aria-valuetext", `learning rate ${rate}`); // not the slider's exponent
  }

  config() {
    const { dataset, hidden, activation, loss, optimizer, lr, batch_size, clip, seed, from_code } = this.state;
    const config = { dataset, hidden: String(hidden), activation, loss, optimizer, lr, batch_size, clip, seed };
    if (from_code) config.from_code = from_code; // the Code view's "Train it": start from the learner's weights
    return config;
  }

  /** A new setting means a new run from step 0 (the old job is stopped). */
  async configure(update) {
    this.pause();
    Object.assign(this.state, update, { step: 0 });
    this.save();
    await this.start(0);
  }

  stopJob() {
    if (this.job) deleteJob(this.job);
    this.job = null;
  }

  /** A new job from the configuration, trained to ``target`` steps (a shared link's step count). The server
   *  stops each request after a couple of seconds, so a long replay arrives in parts, with its progress shown. */
  async start(target, clearError = true) {
    this.stopJob();
    $("train-from-code").hidden = !this.state.from_code;
    const run = ++this.run;
    this.busy = true;
    $("train-clipped").textContent = "Preparing the data and the network…";
    try {
      let data = await api("/api/train", { config: this.config(), steps: target });
      if (run !== this.run) {
        deleteJob(data.id); // a newer configuration came while this one was being made
        return;
      }
      this.job = data.id;
      this.losses = data.losses.values;
      this.points = data.points || null;
      this.render(data);
      while (data.step < target && data.status !== "diverged" && run === this.run) {
        $("train-clipped").textContent = `Replaying the link: step ${data.step} of ${target}…`;
        data = await this.train(Math.min(target - data.step, this.maxSteps));
      }
      if (clearError) showError(null);
    } catch (error) {
      // 422: the link's settings refused (not a busy engine): the defaults' run, the message kept beside it
      if (run === this.run && !this.losses.length && error.status === 422 && this.startAfresh()) {
        await this.start(0, false);
        showError(error);
      } else if (run === this.run) { // an older run's job may be gone: nothing to say about it
        showError(error);
        $("train-clipped").textContent = "";  // not "Preparing…" forever: the message above says what went wrong
      }
    } finally {
      if (run === this.run) this.busy = false;
    }
  }

  /** Ask the job for ``steps`` more steps (it may do fewer when they take long) and draw the answer. */
  async train(steps) {
    const run = this.run;
    const data = await api(`/api/train/${this.job}/step`, { steps, since: this.losses.length });
    if (run !== this.run) return data; // the configuration changed meanwhile: this answer is out of date
    this.losses = this.losses.slice(0, data.losses.start).concat(data.losses.values);
    this.render(data);
    return data;
  }

  async advance(steps) {
    if (this.busy) return null;
    if (!this.job) {
      await this.start(this.state.step || 0);
      if (!this.job) return null;
    }
    this.busy = true;
    try {
      const data = await this.train(steps);
      showError(null);
      return data;
    } catch (error) {
      if (error.status === 404) this.job = null; // expired: the next press replays it from the URL's step
      showError(error);
      this.pause();
      return null;
    } finally {
      this.busy = false;
    }
  }

  async play() {
    this.playing = true;
    $("btn-play").setAttribute("aria-pressed", "true");
    $("btn-play").firstChild.textContent = "Pause ";
    while (this.playing) {
      const data = await this.advance(STEPS_PER_REQUEST);
      if (!data || data.status === "diverged") this.pause();
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  }

  pause() {
    this.playing = false;
    $("btn-play").setAttribute("aria-pressed", "false");
    $("btn-play").firstChild.textContent = "Play ";
  }

  render(data) {
    this.state.step = data.step;
    this.save();
    $("train-step").textContent = data.step;
    $("train-loss-value").textContent = data.loss.text;
    $("train-loss-value").dataset.value = String(data.loss.value);
    $("train-accuracy").textContent = data.accuracy.text;
    $("train-formula").textContent = `(${this.state.optimizer}: ${data.formula})`;
    const message = $("train-message");
    message.hidden = !data.message;
    message.textContent = data.message;
    message.className = data.status === "diverged" ? "danger" : "warning";
    // screen readers hear a change of status once, not the numbers that change at every step
    const status = { ok: "", unstable: "Warning: the loss is climbing. The explanation is below the loss.",
                     diverged: "Training diverged and stopped. The explanation is below the loss." }[data.status];
    if ($("train-status").textContent !== status) $("train-status").textContent = status;
    $("train-clipped").textContent = data.clipped;
    drawCurves($("loss-curve"), [{ values: this.losses, dash: "" }], data.curve_max, `step ${data.step}`);
    $("loss-desc").textContent = `Loss after ${data.step} steps: ${data.loss.text} (highest so far ${data.curve_max.text}).`;
    const twoD = this.twoD.has(this.state.dataset);
    $("boundary-box").hidden = !twoD;
    if (twoD) {
      drawBoundary($("boundary"), data.boundary, this.points);
      const caption = `Decision boundary after step ${data.step} (accuracy ${data.accuracy.text}). Shading: predicted ` +
        "class (blue = class 0, orange = class 1), stronger where the network is surer. Points: ○ class 0, × class 1.";
      $("boundary-caption").textContent = caption;
      $("boundary").setAttribute("aria-label", caption);
    }
    drawNorms($("grad-norms"), data.grad_norms);
  }

  async saveWeights() {
    if (!this.job) return;
    try {
      const data = await api(`/api/train/${this.job}/save`, { name: $("save-name").value.trim() });
      showError(null);
      $("train-clipped").textContent = `Saved ${data.tensors.length} tensors (${data.bytes} bytes) to ${data.path}.`;
    } catch (error) {
      showError(error);
    }
  }

  async compare() {
    // a rate that is no number goes as its text, for the server to name ("abc" sent as NaN arrived as null,
    // which it read as a rate left out: "Learning rates is missing")
    const rates = $("compare-rates").value.split(",").map((text) => text.trim()).filter(Boolean)
      .map((text) => (Number.isFinite(Number(text)) ? Number(text) : text));
    const legend = $("compare-legend");
    clear(legend);
    legend.append(h("li", {}, "Training each learning rate from the same start…"));
    let data;
    try {
      data = await api("/api/train/compare", { config: this.config(), rates, steps: Number($("compare-steps").value) });
      showError(null);
    } catch (error) {
      clear(legend);
      showError(error);
      return;
    }
    clear(legend);
    $("compare-note").hidden = !data.note;
    $("compare-note").textContent = data.note;
    const curves = data.runs.map((run) => ({ values: run.losses }));
    $("compare-curve").removeAttribute("hidden"); // an SVG element has no .hidden property: the attribute is what hides it
    drawCurves($("compare-curve"), curves, data.y_max, `step ${data.steps}`);
    const words = data.runs.map((run, index) => {
      const diverged = run.status === "diverged";
      const status = run.status === "ok" || diverged ? "" : ` (${run.status})`;
      const leaves = run.losses.findIndex((loss) => loss !== null && loss > data.y_max.value);
      const above = run.losses.filter((loss) => loss !== null && loss > data.y_max.value).length;
      const back = run.losses.slice(leaves).some((loss) => loss !== null && loss <= data.y_max.value);
      const off = leaves < 0 ? "" : `; above the chart's top (${data.y_max.text}) from step ${leaves}` +
        (back ? `, ${above} step${above === 1 ? "" : "s"} in all` : " on");
      const text = diverged ? `η = ${run.lr}: diverged at step ${run.step} (loss ${run.final.text})${off}`
        : `η = ${run.lr}: final loss ${run.final.text}${status}${off}`;
      legend.append(h("li", { title: run.message }, legendSample(index, diverged), " ", text));
      return text;
    });
    $("compare-desc").textContent = `After ${data.steps} steps from the same start: ${words.join("; ")}.`;
  }
}
