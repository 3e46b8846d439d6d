// The playground's code editor: CodeMirror 6 with Python highlighting, indentation, line numbers,
// Ctrl+Enter / Cmd+Enter to run, and the line of an error marked. Bundled by build.mjs into
// glassgrad/playground/static/build/editor.js; static/code.js imports it (and falls back to a
// plain textarea when the bundle was never built).
//
// The editor lives in a shadow root: there CodeMirror styles itself with constructed style sheets,
// which the page's Content-Security-Policy (no inline <style>) allows. The page's CSS does not reach
// inside, so the look below is CodeMirror's theme; the page sizes the host element.

import { indentWithTab } from "@codemirror/commands";
import { indentUnit } from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { Compartment, EditorState, Prec, StateEffect, StateField } from "@codemirror/state";
import { Decoration, EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";

const MONOSPACE = '"DejaVu Sans Mono", Menlo, Consolas, monospace';

/** The editor fills its host (sized by the page), in the page's colours; a focus ring as the page's. */
const look = EditorView.theme({
  "&": { height: "100%", fontSize: "0.95rem", backgroundColor: "#ffffff", color: "#0f172a" },
  "&.cm-focused": { outline: "3px solid #f59e0b", outlineOffset: "-3px" },
  ".cm-scroller": { fontFamily: MONOSPACE, lineHeight: "1.5" },
  ".cm-gutters": { backgroundColor: "#f8fafc", color: "#475569", borderRight: "1px solid #cbd5e1" },
  ".cm-error-line": { backgroundColor: "#fee2e2", boxShadow: "inset 4px 0 0 #b91c1c" }, // a bar, not colour alone
});

/** On a phone's width long lines wrap (no sideways scrolling); wider, they keep Python's shape and scroll. */
const NARROW = "(max-width: 600px)";

const setErrorLine = StateEffect.define();
const errorMark = Decoration.line({ class: "cm-error-line", attributes: { title: "the error is on this line" } });

/** The marked error line: set by markErrorLine, gone as soon as the program is edited. */
const errorLine = StateField.define({
  create: () => Decoration.none,
  update(marks, transaction) {
    if (transaction.docChanged) marks = Decoration.none;
    for (const effect of transaction.effects) {
      if (!effect.is(setErrorLine)) continue;
      const line = effect.value;
      const doc = transaction.state.doc;
      marks = line && line >= 1 && line <= doc.lines ? Decoration.set([errorMark.range(doc.line(line).from)])
        : Decoration.none;
    }
    return marks;
  },
  provide: (field) => EditorView.decorations.from(field),
});

/**
 * createEditor(parent, {doc, onRun, label}) → {getText, setText, markErrorLine, focus, view}.
 * ``onRun`` is called by Ctrl+Enter (Cmd+Enter on a Mac); ``label`` names the editor for screen readers.
 */
export function createEditor(parent, { doc = "", onRun = () => {}, label = "Python program" } = {}) {
  const run = () => {
    onRun();
    return true;
  };
  const root = parent.attachShadow({ mode: "open" });
  const wrapping = new Compartment();
  const narrow = window.matchMedia(NARROW);
  const wrap = () => (narrow.matches ? EditorView.lineWrapping : []);
  const view = new EditorView({
    parent: root,
    root,
    state: EditorState.create({
      doc,
      extensions: [
        Prec.highest(keymap.of([{ key: "Mod-Enter", run }])),
        basicSetup,
        keymap.of([indentWithTab]), // Esc then Tab leaves the editor (CodeMirror's rule for keyboard users)
        python(),
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        errorLine,
        look,
        wrapping.of(wrap()),
        EditorView.contentAttributes.of({ "aria-label": label }),
      ],
    }),
  });
  narrow.addEventListener("change", () => view.dispatch({ effects: wrapping.reconfigure(wrap()) }));
  return {
    view,
    getText: () => view.state.doc.toString(),
    setText(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    /** Mark line ``n`` (1-based) and scroll it into sight; null clears the mark. */
    markErrorLine(n) {
      const doc = view.state.doc;
      const effects = [setErrorLine.of(n)];
      if (n && n >= 1 && n <= doc.lines) effects.push(EditorView.scrollIntoView(doc.line(n).from, { y: "center" }));
      view.dispatch({ effects });
    },
    focus: () => view.focus(),
  };
}
