// Code view: the learner's own program, run on this computer by the server in a separate Python process
// (/api/code/*, which needs the launch's token), its output streamed in while it runs, an error's line
// marked in the editor, the numbers of the trace it left, and its network opened in the other views.
// The editor is CodeMirror, bundled from frontend/ into build/editor.js; without the bundle a plain
// text box stands in and the page says how to build it. A tab opened without the token, or holding one the
// server refuses (an earlier launch's), shows the starters (reading them needs none) with Run off and one line
// saying which URL to open.

import { api, codeHeaders, forgetToken, hasToken, showError } from "./api.js";
import { $, clear, h, setOptions } from "./dom.js";

const POLL_MS = 150;
const BUILD_COMMAND = "cd frontend && npm ci && npm run build";
const DRAFTS_KEY = "glassgrad-code-drafts"; // each starter's text as the learner left it (this browser only)
const SHOWN = 10; // rows and columns of a matrix shown in the trace's numbers (the whole trace has the rest)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A <textarea> with the editor's interface, for a computer where the editor bundle was never built. */
function plainEditor(parent, doc, onRun, label) {
  const area = h("textarea", { "aria-label": label, spellcheck: "false", autocapitalize: "off" });
  area.value = doc;
  area.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      onRun();
    }
  });
  parent.append(area);
  return {
    getText: () => area.value,
    setText: (text) => { area.value = text; },
    markErrorLine(n) { // select the line: the nearest a text box has to a mark
      if (!n) return;
      const lines = area.value.split("\n");
      const start = lines.slice(0, n - 1).reduce((sum, line) => sum + line.length + 1, 0);
      area.setSelectionRange(start, start + (lines[n - 1] || "").length);
    },
    focus: () => area.focus(),
  };
}

/** The engine's trace HTML (as Jupyter shows it) as page nodes: parsed in an inert template (nothing in it runs),
 *  without scripts, links or styles. The page's Content-Security-Policy allows no inline style, and even parsing
 *  one is reported as an error, so the engine's <style> block and style="…" attributes (its values are escaped:
 *  no quote inside) are cut from the text first; code.css styles the trace's classes instead. */
function traceNodes(html) {
  const template = document.createElement("template");
  template.innerHTML = html.replace(/<style[\s\S]*?<\/style>/gi, "").replace(/\sstyle=("[^"]*"|'[^']*')/gi, "");
  const parsed = template.content;
  for (const element of parsed.querySelectorAll("script, style, link, meta, iframe, object, embed, form")) {
    element.remove();
  }
  for (const element of parsed.querySelectorAll("*")) {
    for (const { name } of [...element.attributes]) {
      if (name === "style" || name.startsWith("on") || /(^|:)(href|src|action)$/.test(name)) element.removeAttribute(name);
    }
  }
  return [...parsed.childNodes].map((node) => document.importNode(node, true));
}

/** A number of the trace: the engine's text of it (the server writes it, by glassgrad.trace.numbers.format_number),
 *  its full value in data-value and in the tooltip. NaN and ±∞ come as null: their text ("nan", "+inf") is all
 *  there is to say. The sign's colour follows the sign the text writes. */
function numberSpan(value, text) {
  const sign = text.startsWith("-") ? "negative" : text.startsWith("+") ? "positive" : "zero";
  const full = value === null ? text : String(value);
  return h("span", { class: `code-number ${sign}`, title: full, dataset: { value: full } }, text);
}

/** The sizes of a nested list of numbers: [2, 3] for a 2×3 matrix, [] for a number. */
function shapeOf(values) {
  const shape = [];
  for (let part = values; Array.isArray(part); part = part[0]) shape.push(part.length);
  return shape;
}

/** A scalar, a vector (one row) or a matrix of numbers, with the engine's ``texts`` of them (nested alike); a big
 *  one is cut, saying so. More than two dimensions are shown as rows of the last one, as the trace shows them. */
function numbersElement(values, texts) {
  if (texts === null || texts === undefined) return h("span", { class: "muted" }, "—"); // no gradient flowed here
  if (!Array.isArray(texts)) return numberSpan(values, texts); // a number (null when NaN or ±∞: its text says which)
  const shape = shapeOf(values);
  const asRows = (nested) => (shape.length === 1 ? [nested] : nested.flat(shape.length - 2));
  const rows = asRows(values);
  const rowTexts = asRows(texts);
  const cut = rows.length > SHOWN || shape[shape.length - 1] > SHOWN;
  const table = h("table", { class: "matrix" }, h("tbody", {}, rows.slice(0, SHOWN).map((row, i) =>
    h("tr", {}, row.slice(0, SHOWN).map((value, j) => h("td", {}, numberSpan(value, rowTexts[i][j])))))));
  if (!cut) return table;
  return h("div", {}, table, h("small", { class: "muted" }, `(${shape.join("×")}; the first ${SHOWN} of each side shown)`));
}

export class CodeView {
  constructor(options, state, save, { views, show }) {
    this.state = state;
    this.save = save;
    this.views = views; // the other views: "Open in …" sets their state and switches to them
    this.show = show;
    this.limits = options.code; // {time_limit_s, memory_limit_mb}
    this.starters = new Map();
    this.editor = null;
    this.loading = null;
    this.run = null; // the id of the run going on, or null
    this.stopping = false; // Stop was pressed: the run ends at the next look
    this.left = null; // what the last finished run left: {run, example, model}
    $("code-form").addEventListener("submit", (event) => event.preventDefault());
    $("code-starter").addEventListener("change", () => this.choose($("code-starter").value));
    $("btn-code-restore").addEventListener("click", () => this.restore());
    $("btn-run").addEventListener("click", () => this.start());
    $("btn-stop").addEventListener("click", () => this.stop());
    $("btn-open-step").addEventListener("click", () => this.openStep());
    $("btn-open-train").addEventListener("click", () => this.openTrain());
    $("btn-open-scalar").addEventListener("click", () => this.openScalar());
    window.addEventListener("pagehide", () => this.leave());
  }

  activate() {
    if (!this.loading) this.loading = this.load();
  }

  key() {
    return false; // the editor takes every key; Ctrl+Enter runs (the editor's own keymap)
  }

  async load() {
    await this.makeEditor();
    let data;
    try {
      data = await this.fetchStarters();
      showError(null);
    } catch (error) {
      showError(error);
      this.loading = null; // try again when the tab is shown again
      return;
    }
    $("code-notice").textContent = data.notice;
    this.limits = { time_limit_s: data.time_limit_s, memory_limit_mb: data.memory_limit_mb };
    this.starters = new Map(data.starters.map((starter) => [starter.name, starter]));
    if (!this.starters.has(this.state.starter)) this.state.starter = data.starters[0].name;
    setOptions($("code-starter"), data.starters, this.state.starter);
    this.editor.setText(this.draft(this.state.starter));
    $("code-starter-text").textContent = "Your changes to each starter stay in this browser; Restore the starter " +
      "brings back its first text.";
    this.showTokenNote();
    this.save();
  }

  /** The starters. A tab whose token the server refuses (403: one of an earlier launch) forgets it and reads them
   *  with none, as a tab opened without one does: Run is then off and the note says which URL to open. Running
   *  code still needs this launch's token. */
  async fetchStarters() {
    try {
      return await api("/api/code/starters");
    } catch (error) {
      if (error.status !== 403 || !hasToken()) throw error;
      forgetToken();
      return api("/api/code/starters");
    }
  }

  /** Without the token the server would refuse Run: say so before, next to the code, and turn Run off. */
  showTokenNote() {
    const missing = !hasToken();
    $("code-token-note").hidden = !missing;
    $("btn-run").disabled = missing;
    if (missing) $("btn-run").setAttribute("aria-describedby", "code-token-note");
    if (missing) this.setState("cannot run in this tab", true);
  }

  async makeEditor() {
    if (this.editor) return;
    const box = $("code-editor");
    const label = "Your Python program";
    try {
      const { createEditor } = await import("./build/editor.js");
      // CodeMirror keeps Tab for indenting (Esc then Tab leaves it): the page says so, or a keyboard user is stuck
      this.editor = createEditor(box, { doc: "", onRun: () => this.start(),
                                        label: `${label}: Tab indents; Esc, then Tab, leaves the editor` });
      $("code-editor-keys").hidden = false;
    } catch {
      $("code-editor-note").textContent = `The code editor is not built on this computer: ${BUILD_COMMAND} ` +
        "builds it (Node.js needed). A plain text box stands in.";
      $("code-editor-note").hidden = false;
      this.editor = plainEditor(box, "", () => this.start(), label);
    }
  }

  drafts() {
    try {
      return JSON.parse(localStorage.getItem(DRAFTS_KEY) || "{}");
    } catch {
      return {};
    }
  }

  draft(name) {
    const drafts = this.drafts();
    return name in drafts ? drafts[name] : this.starters.get(name).code;
  }

  keepDraft() {
    if (!this.editor || !this.starters.has(this.state.starter)) return;
    const drafts = this.drafts();
    drafts[this.state.starter] = this.editor.getText();
    localStorage.setItem(DRAFTS_KEY, JSON.stringify(drafts));
  }

  choose(name) {
    this.keepDraft();
    this.state.starter = name;
    this.editor.setText(this.draft(name));
    this.save();
  }

  restore() {
    const drafts = this.drafts();
    delete drafts[this.state.starter];
    localStorage.setItem(DRAFTS_KEY, JSON.stringify(drafts));
    this.editor.setText(this.starters.get(this.state.starter).code);
  }

  setState(text, bad = false) {
    $("code-state").textContent = text;
    $("code-state").classList.toggle("bad", bad);
  }

  setRunning(running) {
    const stopHadFocus = document.activeElement === $("btn-stop");
    $("btn-run").disabled = running;
    $("btn-stop").disabled = !running;
    if (!running && stopHadFocus) $("btn-run").focus(); // keyboard users keep a place on the page
  }

  async start() {
    if (this.run || !this.editor || !hasToken()) return;
    this.keepDraft();
    this.editor.markErrorLine(null);
    clear($("code-output"));
    $("code-message").hidden = true;
    $("code-result").hidden = true;
    let answer;
    try {
      answer = await api("/api/code/run", { code: this.editor.getText() });
      showError(null);
    } catch (error) {
      this.setState("not run", true);
      showError(error);
      return;
    }
    this.run = answer.run;
    this.stopping = false;
    this.setRunning(true);
    this.setState("running…");
    this.poll(answer.run, performance.now());
  }

  /** Ask for the run's news every POLL_MS until it ends; the output is appended as it comes. */
  async poll(id, started) {
    let since = 0;
    while (this.run === id) {
      let data;
      try {
        data = await api(`/api/code/runs/${encodeURIComponent(id)}?since=${since}`);
      } catch (error) {
        this.run = null;
        this.setRunning(false);
        this.setState("lost touch with the run", true);
        showError(error);
        return;
      }
      this.append(data.events);
      since = data.next;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (data.state === "running") {
        this.setState(`${this.stopping ? "stopping" : "running"}… ${seconds} s`);
        await sleep(POLL_MS);
        continue;
      }
      this.run = null;
      this.setRunning(false);
      this.finish(data, id, seconds);
    }
  }

  append(events) {
    const output = $("code-output");
    const atBottom = output.scrollHeight - output.scrollTop - output.clientHeight < 4;
    for (const { stream, text } of events) {
      const last = output.lastElementChild;
      if (last && last.dataset.stream === stream) last.textContent += text;
      else output.append(h("span", { class: stream, dataset: { stream } }, text));
    }
    if (atBottom) output.scrollTop = output.scrollHeight; // follow the output, unless the learner scrolled up
  }

  finish(data, id, seconds) {
    const { time_limit_s: limit, memory_limit_mb: memory } = this.limits;
    const states = {
      finished: [`finished in ${seconds} s`, false],
      stopped: ["stopped", false],
      "timed out": [`timed out after ${limit} s`, true],
      "out of memory": [`out of memory (limit ${memory} MB)`, true],
      error: [data.line ? `stopped by an error on line ${data.line}` : "stopped by an error", true],
    };
    const [text, bad] = states[data.state] || [data.state, true];
    this.setState(text, bad);
    const message = data.state === "finished" ? null : data.message; // "finished in …" is the state line already
    $("code-message").textContent = message || "";
    $("code-message").hidden = !message;
    $("code-message").className = bad ? "error" : "warning";
    if (data.line) this.editor.markErrorLine(data.line);
    this.showResult(data.result, id);
  }

  /** The tape and model the program left: the trace's numbers, the whole trace, and where to open them. */
  showResult(result, id) {
    const left = result && (result.tape || result.model);
    $("code-result").hidden = !left;
    if (!left) return;
    this.left = { run: id, example: result.example, model: result.model };
    const names = [result.tape ? "a trace named tape" : null, result.model ? "a network named model" : null];
    $("code-result-text").textContent = [`Your program left ${names.filter(Boolean).join(" and ")}.`,
      ...(result.notes || []), result.example ? "Its network opens in the other views:" : ""].join(" ");
    $("btn-open-step").hidden = !result.example;
    $("btn-open-scalar").hidden = !result.example;
    $("btn-open-train").hidden = !result.trainable;
    const summary = $("code-summary");
    clear(summary);
    if (result.summary && result.summary.length) {
      summary.append(h("p", { class: "muted", id: "code-summary-precision" }, result.precision),
        h("table", { class: "code-numbers" },
        h("thead", {}, h("tr", {}, ["", "formula", "value", "∂L/∂ of it"].map((title) => h("th", { scope: "col" }, title)))),
        h("tbody", {}, result.summary.map((entry) => h("tr", { dataset: { symbol: entry.symbol } },
          h("th", { scope: "row" }, entry.symbol), h("td", { class: "formula" }, entry.formula),
          h("td", { class: "values", dataset: { label: "value" } }, numbersElement(entry.values, entry.values_text)),
          h("td", { class: "grads", dataset: { label: "∂L/∂ of it" } }, numbersElement(entry.grad, entry.grad_text)))))));
    }
    const trace = $("code-trace");
    clear(trace);
    $("code-trace-box").hidden = !result.tape_html;
    if (result.tape_html) trace.append(...traceNodes(result.tape_html));
  }

  stop() {
    if (!this.run) return;
    this.stopping = true;
    api(`/api/code/runs/${encodeURIComponent(this.run)}/stop`, {}).catch((error) => showError(error));
    this.setState("stopping…");
  }

  /** The page is closing: a run still going on is stopped (the request outlives the page). */
  leave() {
    this.keepDraft();
    if (!this.run) return;
    fetch(`/api/code/runs/${encodeURIComponent(this.run)}/stop`, {
      method: "POST", keepalive: true, body: "{}", headers: { ...codeHeaders(), "Content-Type": "application/json" },
    }).catch(() => {});
  }

  /** The views' example lists hold the built-in examples: add the program's network to them. */
  offer(select) {
    const name = this.left.example;
    if (![...select.options].some((option) => option.value === name)) {
      select.append(h("option", { value: name }, "your program's network"));
    }
    select.value = name;
  }

  openStep() {
    this.offer($("step-example"));
    this.views.step.restart("example", this.left.example);
    this.show("step");
  }

  async openScalar() {
    this.offer($("scalar-example"));
    await this.views.scalar.load(this.left.example);
    this.show("scalar");
  }

  openTrain() {
    this.views.train.configure({ from_code: this.left.run });
    this.show("train");
  }
}
