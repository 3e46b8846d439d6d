// Course view: the chapters in order, the chapter map filled in from the stored progress, and links
// into the other views. Progress is what 'glassgrad learn' stored; the view asks again each time it is shown.

import { api, showError } from "./api.js";
import { $, clear, h } from "./dom.js";
import { stateUrl } from "./state.js";

/** A view state's address: the link opens that view exactly as a shared link would. */
function linkUrl(link) {
  const state = { view: link.view, hide: [], step: {}, train: {}, practice: {} };
  state[link.view] = { ...link.fields };
  return stateUrl(state);
}

/** The server's SVG (built from data, chapter titles escaped) as an element, parsed, never run as HTML. */
function svgElement(text) {
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
  return document.importNode(parsed, true);
}

export class CourseView {
  constructor() {
    $("course-refresh").addEventListener("click", () => this.load());
  }

  activate() {
    this.load();
  }

  key() {
    return false;
  }

  async load() {
    let course;
    try {
      course = await api("/api/course");
      showError(null);
    } catch (error) {
      showError(error);
      return;
    }
    this.render(course);
  }

  render(course) {
    $("course-title").textContent = course.title;
    const current = course.chapters.find((chapter) => chapter.current);
    $("course-summary").textContent = `${course.done} of ${course.total} chapters complete` +
      (current ? `; you are at chapter ${current.number}, ${current.title}.` : ".");
    $("course-progress-error").hidden = !course.progress_error;
    $("course-progress-error").textContent = course.progress_error || "";
    const map = $("course-map");
    clear(map);
    map.append(svgElement(course.map_svg),
      h("figcaption", { class: "muted" }, "Each part of the network fills in when its chapter is complete ",
        "(practice and quiz passed). Chapter numbers are next to the parts."));
    const list = $("course-chapters");
    clear(list);
    for (const chapter of course.chapters) list.append(this.chapter(chapter));
  }

  chapter(chapter) {
    const status = chapter.complete ? "complete" : chapter.current ? "you are here" : "to do";
    const example = chapter.worked_example;
    const table = h("table", { class: "course-example" },
      h("caption", {}, `Worked example (computed now by glassgrad): ${example.title}`),
      h("tbody", {}, example.rows.map(([label, value]) => h("tr", {}, h("th", { scope: "row" }, label),
        h("td", {}, value)))));
    const precision = h("p", { class: "muted course-precision" }, example.precision);
    const links = h("p", { class: "course-links" }, chapter.links.map((link) =>
      h("a", { href: linkUrl(link), dataset: { view: link.view } }, link.label)));
    const body = h("div", { class: "course-body" },
      chapter.text.map((paragraph) => h("p", {}, paragraph)), table, precision, links,
      h("p", { class: "muted" }, `Practice: ${chapter.practice_count} problems, quiz: ${chapter.quiz_count} questions. `,
        "In the terminal: ", h("code", {}, chapter.terminal[0]), " (the chapter), ", h("code", {}, chapter.terminal[1]),
        " (its activity)."));
    const summary = h("summary", {}, h("span", { class: "course-mark", "aria-hidden": "true" }, chapter.complete ? "■" : "□"),
      ` ${chapter.number}. ${chapter.title} `, h("span", { class: "course-status" }, `(${status})`));
    return h("li", { class: `course-chapter${chapter.complete ? " complete" : ""}${chapter.current ? " current" : ""}`,
      dataset: { chapter: chapter.id } }, h("details", { open: chapter.current }, summary, body));
  }
}
