"""`practice generate`: JSON that validates against the shipped schema, and printable Markdown/HTML
worksheets of 10 problems whose answer key (on its own page) matches the JSON answers."""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

from glassgrad.cli import main
from glassgrad.practice import KINDS, load_problem_set, validate_document
from glassgrad.practice.worksheet import PAGE_BREAK_MARKDOWN


def _generate(tmp_path, name: str, *options: str) -> str:
    out = tmp_path / name
    assert main(["practice", "generate", *options, "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def shipped_schema():
    schema = json.loads(resources.files("glassgrad.practice").joinpath("schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return schema


@pytest.mark.parametrize("kind", [*KINDS, None])
@pytest.mark.parametrize("difficulty", ["1", "3"])
def test_generated_json_validates_against_the_shipped_schema(tmp_path, shipped_schema, kind, difficulty):
    options = ["--count", "6", "--seed", "4", "--difficulty", difficulty] + (["--kind", kind] if kind else [])
    document = json.loads(_generate(tmp_path, "set.json", *options))
    assert list(Draft202012Validator(shipped_schema).iter_errors(document)) == []
    assert document["kind"] == (kind or "mixed") and document["count"] == 6
    for problem in document["problems"]:
        blank = problem["blank"]
        entry = problem["tensors"][blank["tensor"]]
        for i in blank["index"]:
            entry = entry[i]
        assert entry is None  # the blank is null where the index says
        assert problem["equation"] and problem["solution"]


def test_the_seed_000_shape_of_a_blank_problem(tmp_path):
    document = json.loads(_generate(tmp_path, "z.json", "--kind", "forward-blank", "--count", "1", "--seed", "2"))
    problem = document["problems"][0]
    assert problem["equation"] == "Z = W·X"
    assert set(problem["tensors"]) == {"W", "X", "Z"}
    assert None not in sum(problem["tensors"]["W"], [])  # W always fully given
    assert problem["blank"]["tensor"] in ("X", "Z")


def test_schema_rejects_broken_documents(shipped_schema):
    good = json.loads(json.dumps({"format": "glassgrad-practice", "version": 1, "kind": "gd-update", "seed": 0,
                                  "count": 1, "problems": [_one_problem()]}))
    validate_document(good)
    broken = copy.deepcopy(good)
    del broken["problems"][0]["answer"]
    with pytest.raises(ValueError, match="at problems/0: 'answer' is a required property"):
        validate_document(broken)
    broken = copy.deepcopy(good)
    broken["problems"][0]["tensors"]["w"] = [1, "two", None]
    with pytest.raises(ValueError, match="not a glassgrad problem set"):
        validate_document(broken)
    broken = copy.deepcopy(good)
    other = "g" if broken["problems"][0]["blank"]["tensor"] == "w" else "w"
    broken["problems"][0]["blank"] = {"tensor": other, "index": [0]}
    with pytest.raises(ValueError, match="the blank's entry must be null"):
        validate_document(broken)


def _one_problem() -> dict:
    from glassgrad.practice import generate

    return json.loads(json.dumps(generate("gd-update", 5, size=3).to_dict()))


class _Sheet(HTMLParser):
    """Collects the problems, blanks, key answers, styles and any external references of a page."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.problems = 0
        self.blanks_per_problem: list[int] = []
        self.key_answers: list[str] = []
        self.key_style = ""
        self.in_key = False
        self.reading_answer = False
        self.external: list[str] = []
        self.style_text = ""
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        for name in ("src", "href"):
            if attrs.get(name):
                self.external.append(attrs[name])
        if tag in ("script", "link", "img", "iframe"):
            self.external.append(tag)
        if tag == "style":
            self.in_style = True
        if tag == "section" and "answer-key" in classes:
            self.in_key, self.key_style = True, attrs.get("style", "")
        if tag == "li" and "problem" in classes:
            self.problems += 1
            self.blanks_per_problem.append(0)
        if "blank" in classes and not self.in_key:
            self.blanks_per_problem[-1] += 1
        if tag == "span" and "answer" in classes and self.in_key:
            self.reading_answer = True
            self.key_answers.append("")

    def handle_endtag(self, tag):
        if tag == "span":
            self.reading_answer = False
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.reading_answer:
            self.key_answers[-1] += data
        if self.in_style:
            self.style_text += data


def _key_text(problem: dict) -> str:
    return problem["answer_text"] if problem["exact"] else f"≈ {problem['answer_text']} (±{problem['tolerance']:g})"


@pytest.mark.parametrize("seed", ["1", "17"])
def test_html_worksheet_for_10_problems_has_its_key_on_a_new_page(tmp_path, seed):
    options = ["--count", "10", "--seed", seed, "--difficulty", "3" if seed == "17" else "1"]
    document = json.loads(_generate(tmp_path, "set.json", *options))
    page = _generate(tmp_path, "sheet.html", *options, "--format", "html")
    sheet = _Sheet()
    sheet.feed(page)
    sheet.close()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert sheet.problems == 10 and sheet.blanks_per_problem == [1] * 10
    assert "page-break-before: always" in sheet.key_style
    assert ".answer-key { page-break-before: always" in sheet.style_text and "@media print" in sheet.style_text
    assert sheet.external == []  # standalone: nothing fetched, no CDN
    assert sheet.key_answers == [_key_text(p) for p in document["problems"]]
    assert page.index('class="answer-key"') > page.rindex('class="problem"')


def test_markdown_worksheet_key_matches_the_json_answers(tmp_path):
    options = ["--count", "10", "--seed", "5"]
    document = json.loads(_generate(tmp_path, "set.json", *options))
    text = _generate(tmp_path, "sheet.md", *options, "--format", "md")
    questions, key = text.split(PAGE_BREAK_MARKDOWN)
    assert questions.count("\n## Problem ") == 10 and questions.count("? = ______________") == 10
    assert "page-break-before: always" in PAGE_BREAK_MARKDOWN
    answers = [line.split("**")[1] for line in key.splitlines() if line[:1].isdigit() and ". **" in line]
    assert answers == [_key_text(p) for p in document["problems"]]


def test_check_grades_a_generated_set(tmp_path, capsys):
    _generate(tmp_path, "set.json", "--kind", "softmax-ce-gradient", "--count", "3", "--seed", "9")
    problems = load_problem_set(tmp_path / "set.json")
    answers = [f"{p.answer.numerator}/{p.answer.denominator}" for p in problems]
    answers[1] = "12"
    capsys.readouterr()
    assert main(["practice", "check", str(tmp_path / "set.json"), "--answers", ", ".join(answers)]) == 0
    out = capsys.readouterr().out
    assert out.count("Right:") == 2 and "Not quite: you answered 12" in out
    assert out.rstrip().endswith("Score: 2 of 3 right (67%).")
    (tmp_path / "answers.txt").write_text("\n".join([answers[0], "oops", ""]) + "\n", encoding="utf-8")
    assert main(["practice", "check", str(tmp_path / "set.json"), "--answers", str(tmp_path / "answers.txt")]) == 0
    out = capsys.readouterr().out
    assert "'oops' is not a number" in out and "No answer; the answer is" in out
    assert out.rstrip().endswith("Score: 1 of 3 right (33%).")


@pytest.mark.parametrize("content, message", [
    (b"\x80\xd0 not text", "it is not UTF-8 text"),
    (b'{"problems": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "its JSON is nested too deeply to read"),
    (b'{"seed": ' + b"9" * 5000 + b"}", "it holds a whole number of 5000 digits, too long to be a problem's"),
    (b'{"problems": [{"tensors": {"x": [NaN, 1]}}]}', "it holds NaN, which is not a number a problem can use"),
])
def test_a_damaged_problem_set_is_one_line_naming_the_file_and_the_fix(tmp_path, capsys, content, message):
    path = tmp_path / "set.json"
    path.write_bytes(content)
    assert main(["practice", "check", str(path), "-a", "1"]) == 2
    err = capsys.readouterr().err
    assert err == (f"glassgrad: error: {path} is not a problem set: {message}; give a file written by "
                   "`glassgrad practice generate --format json`\n")


def test_an_answers_file_that_is_not_text_is_one_line(tmp_path, capsys):
    _generate(tmp_path, "set.json", "--count", "2")
    (tmp_path / "answers.bin").write_bytes(b"1\n\x80\x81\n")
    capsys.readouterr()
    assert main(["practice", "check", str(tmp_path / "set.json"), "-a", str(tmp_path / "answers.bin")]) == 2
    assert capsys.readouterr().err == (f"glassgrad: error: --answers file {tmp_path / 'answers.bin'} is not UTF-8 "
                                       "text: give a text file with one answer per line, or the answers separated "
                                       "by commas\n")


def test_cli_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "bad.json").write_text('{"format": "something else"}', encoding="utf-8")
    cases = [
        (["practice", "generate", "--kind", "nope"], "unknown problem kind 'nope'"),
        (["practice", "generate", "--format", "pdf"], "unknown format 'pdf': choose json, md or html"),
        (["practice", "check", str(tmp_path / "missing.json"), "-a", "1"], "no such problem-set file"),
        (["practice", "check", str(tmp_path / "bad.json"), "-a", "1"], "not a glassgrad problem set"),
        (["practice", "generate", "--out", str(tmp_path / "no" / "such" / "dir.json")], "does not exist"),
        (["practice", "generate", "--seed", "-3"], "seed must be a whole number from 0 up, not -3"),
        (["quiz", "--seed", "-1"], "seed must be a whole number from 0 up, not -1"),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err
    _generate(tmp_path, "two.json", "--count", "2")
    assert main(["practice", "check", str(tmp_path / "two.json"), "-a", "1, 2, 3"]) == 2
    assert "3 answers for 2 problems" in capsys.readouterr().err
