// Practice view: a fill-in-the-blank problem from the engine; the answer is graded by the engine.
// The score is kept for the tab (sessionStorage): a reload keeps it, a new tab starts at none.

import { api, showError } from "./api.js";
import { $, clear, h, isHidden, setOptions } from "./dom.js";

const SCORE_KEY = "glassgrad-practice-score"; // {first, retry, shown, settled: ["kind:seed", …]}, this tab only

/** The tab's score so far, and the problems it counted (each counts once, however often it is answered). */
function storedScore() {
  const none = { first: 0, retry: 0, shown: 0, settled: [] };
  try {
    const stored = JSON.parse(sessionStorage.getItem(SCORE_KEY));
    const counts = ["first", "retry", "shown"].every((name) => Number.isSafeInteger(stored[name]) && stored[name] >= 0);
    return counts && Array.isArray(stored.settled) ? stored : none;
  } catch {
    return none;
  }
}

/** The worked solution's steps: a line that starts with spaces carries on the step above it (its "=" written
 *  under that step's "="), so it joins that step, one numbered step, its lines kept as the engine aligned them. */
function solutionSteps(lines) {
  const steps = [];
  for (const line of lines) {
    if (/^\s/.test(line) && steps.length) steps[steps.length - 1] += `\n${line}`;
    else steps.push(line);
  }
  return steps;
}

export class PracticeView {
  constructor(options, state, save) {
    this.first = { kind: options.practice_kinds[0].name, seed: 0 }; // the first problem, for a refused link
    for (const [field, value] of Object.entries(this.first)) if (state[field] === undefined) state[field] = value;
    this.state = state;
    this.save = save;
    this.problem = null;
    this.tries = 0; // wrong answers to this problem so far: the first one earns a hint and another try
    this.score = storedScore(); // each problem counts once, when it is settled
    this.settled = false;
    setOptions($("practice-kind"), options.practice_kinds, state.kind);
    $("practice-counting").textContent = options.counting; // the same convention as the step-through view
    $("practice-seed").value = state.seed;
    $("practice-kind").addEventListener("change", () => this.load({ kind: $("practice-kind").value }));
    $("practice-seed").addEventListener("change", () => this.load({ seed: Number($("practice-seed").value) }));
    $("btn-new").addEventListener("click", () => this.load({ seed: Number(this.state.seed) + 1 }));
    $("practice-form").addEventListener("submit", (event) => { event.preventDefault(); this.check(false); });
    $("btn-reveal").addEventListener("click", () => this.check(true));
    $("practice-controls").addEventListener("submit", (event) => event.preventDefault());
  }

  activate() {
    if (!this.problem) this.load({});
  }

  key(key) {
    if (key.toLowerCase() !== "n" || isHidden($("btn-new"))) return false;
    $("btn-new").click();
    return true;
  }

  async load(update) {
    const previous = { ...this.state };
    Object.assign(this.state, update);
    try {
      this.problem = await api("/api/practice/new", { kind: this.state.kind, seed: this.state.seed });
      showError(null);
    } catch (error) {
      const asked = { ...this.state };
      Object.assign(this.state, previous);
      const fresh = Object.entries(this.first).some(([field, value]) => asked[field] !== value); // once, not again
      // a link's kind or number refused (422, not a busy or absent engine): the first problem, the message kept
      if (!this.problem && fresh && error.status === 422) {
        await this.load(this.first);
        $("practice-kind").value = this.state.kind;
      }
      showError(error);
      return;
    }
    this.save();
    $("practice-seed").value = this.state.seed;
    this.render();
  }

  render() {
    const problem = this.problem;
    $("practice-equation").textContent = problem.equation;
    $("practice-question").textContent = problem.question;
    const box = $("practice-matrices");
    clear(box);
    for (const name of Object.keys(problem.tensors)) box.append(this.tensor(name));
    $("practice-answer-label").textContent = `Your answer for ${problem.blank_label}`;
    $("practice-answer").value = "";
    clear($("practice-result"));
    this.tries = 0;
    this.settled = this.score.settled.includes(this.problemKey());
    $("btn-reveal").hidden = true;
    this.showScore();
  }

  showScore() {
    const { first, retry, shown } = this.score;
    const done = first + retry + shown;
    $("practice-score").textContent = done === 0 ? "Score: no problems finished yet." :
      `Score: ${first + retry} of ${done} right (${first} at the first try, ${retry} after a hint; ` +
      `${shown} solution${shown === 1 ? "" : "s"} shown).`;
  }

  problemKey() {
    return `${this.state.kind}:${Number(this.state.seed)}`;
  }

  settle(outcome) {
    if (this.settled) return;
    this.settled = true;
    this.score[outcome] += 1;
    this.score.settled.push(this.problemKey());
    sessionStorage.setItem(SCORE_KEY, JSON.stringify(this.score));
    this.showScore();
  }

  /** A scalar, a vector (one row) or a matrix, with the blank marked; the text is the engine's. */
  tensor(name) {
    const problem = this.problem;
    const text = problem.text[name];
    const values = problem.tensors[name];
    const blank = problem.blank.tensor === name ? problem.blank.index.join(",") : null;
    const rows = !Array.isArray(text) ? [[text]] : Array.isArray(text[0]) ? text : [text];
    const valueRows = !Array.isArray(values) ? [[values]] : Array.isArray(values[0]) ? values : [values];
    const index = (i, j) => (!Array.isArray(text) ? "" : Array.isArray(text[0]) ? `${i},${j}` : `${j}`);
    const table = h("table", { class: "matrix", dataset: { name } }, h("caption", {}, name));
    const body = h("tbody");
    rows.forEach((row, i) => {
      body.append(h("tr", {}, row.map((entry, j) => {
        const isBlank = blank !== null && index(i, j) === blank;
        const value = valueRows[i][j];
        return h("td", { class: isBlank ? "blank" : null, dataset: { index: index(i, j), value: value ?? "" },
                         "aria-label": isBlank ? `${problem.blank_label}, the blank` : null }, entry);
      })));
    });
    table.append(body);
    return table;
  }

  /** Grade the answer; a first wrong answer gets a hint and another try, the second (or Show) the solution. */
  async check(reveal) {
    const box = $("practice-result");
    clear(box);
    const answer = reveal ? ($("practice-answer").value.trim() || "0") : $("practice-answer").value;
    let result;
    try {
      result = await api("/api/practice/check", { kind: this.state.kind, seed: this.state.seed, answer,
                                                  reveal: reveal || this.tries >= 1 });
      showError(null);
    } catch (error) {
      box.append(h("p", { class: "warning" }, error.message));
      return;
    }
    if (result.correct === null) { // not a number: say what to type, and it does not count as a try
      box.append(h("p", { class: "warning" }, result.not_a_number));
      return;
    }
    if (!reveal) { // shown on request: the worked solution below is the whole answer
      box.append(h("p", { class: `verdict ${result.correct ? "correct" : "wrong"}`,
                          dataset: { correct: String(result.correct) } },
                   `${result.correct ? "✓" : "✗"} ${result.feedback}`));
    }
    if (!result.correct && !reveal && result.solution.length === 0) {
      this.tries += 1;
      box.append(h("p", { class: "hint" }, `Hint: ${result.hint}`));
      $("btn-reveal").hidden = false;
      $("practice-answer").select();
      return;
    }
    this.settle(result.correct && !reveal ? (this.tries === 0 ? "first" : "retry") : "shown");
    $("btn-reveal").hidden = true;
    box.append(h("h3", {}, "Worked solution"),
               h("ol", { class: "worked" }, solutionSteps(result.solution).map((step) => h("li", {}, step))));
  }
}
