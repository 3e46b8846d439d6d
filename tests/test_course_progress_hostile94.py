"""Round 94: the learner's progress under hostile conditions (beyond tests/test_course_progress.py and
tests/test_course_learn.py).

The standard: bad input gets one clear line naming the problem and the fix, never a raw traceback, and no data
is lost (a refused progress file keeps its data byte for byte). Defects fixed here:

* a file SQLite opens but whose tables are not glassgrad's (the schema version says 2, a table is missing or
  has other columns) raised ``sqlite3.OperationalError: no such table: completed`` from deep inside, as a
  traceback; a schema version that is text said ``'>' not supported between instances of 'str' and 'int'``;
* any SQLite error after opening (a read-only file, a full disk, a lock held past the wait, an I/O error) was a
  raw traceback in ``glassgrad learn`` and a server error in the playground's Course view;
* a blank ``GLASSGRAD_DATA_DIR`` (" ") kept the progress in a folder named by spaces inside whatever folder the
  command ran in;
* ``learn --export`` onto SQLite's own files beside the progress file (``progress.sqlite3-wal``, ``-shm``) was
  written, replacing the file that holds the latest answers;
* a chapter removed from a course folder, or whose id changed, took its progress out of view without a word.

The rest pins cases that already behaved: empty file, random bytes, a directory, links, drawn interleavings of
two writers, odd answers.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_course_learn import data_dir, learn  # noqa: F401  (data_dir: autouse, progress kept in tmp_path)

import glassgrad.course.progress as progress_module
from glassgrad.course import load_course
from glassgrad.course.chapters import packaged_folder
from glassgrad.course.progress import DATA_DIR_VARIABLE, FILE_NAME, Progress, ProgressError

COURSE = load_course()


@pytest.fixture
def folder(data_dir: Path) -> Path:  # noqa: F811  (the fixture imported above)
    """The data folder (GLASSGRAD_DATA_DIR) of this test: test_course_learn's autouse fixture, imported above."""
    return data_dir


def one_line(err: str) -> str:
    assert err.startswith("glassgrad: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def stored(folder: Path, chapter: str = "gradient", passed: bool = True) -> Path:
    """A progress file with one finished attempt at ``chapter`` (complete when ``passed``)."""
    with Progress(folder / FILE_NAME) as progress:
        attempt, _ = progress.start_attempt(COURSE.id, chapter)
        progress.record_answer(attempt, "practice", "q#1", "3", True)
        progress.finish_attempt(attempt, (1, 1), (1, 1), passed, 2.0)
    return folder / FILE_NAME


def unchanged(before: bytes, after: bytes) -> bool:
    """The file holds what it held: every byte after SQLite's 100-byte header is the same (opening a file switches it
    to WAL mode, which rewrites two header bytes and the change counter, and nothing else)."""
    return before[100:] == after[100:] and before[:18] == after[:18]


def _raw(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


# --- a file of the wrong shape -----------------------------------------------------------------------------------

WRONG_SHAPES = {
    "tables missing": ("CREATE TABLE schema_version (version INTEGER)", "INSERT INTO schema_version VALUES (2)"),
    "a column missing": ("DROP TABLE completed", "CREATE TABLE completed (course TEXT, done REAL)"),
    "a text version": ("DROP TABLE schema_version", "CREATE TABLE schema_version (version)",
                       "INSERT INTO schema_version VALUES ('two')"),
    "a negative version": ("UPDATE schema_version SET version = -1",),
}


@pytest.mark.parametrize("shape", WRONG_SHAPES)
@pytest.mark.parametrize("options", [("--map",), ("--export", "p.json"), ()])
def test_a_database_of_the_wrong_shape_is_one_line_and_left_alone(monkeypatch, capsys, folder, tmp_path, shape,
                                                                   options):
    """DEFECT: ``no such table: completed`` (and the like) came as a traceback from the first query."""
    if shape == "tables missing":
        folder.mkdir()
        path = folder / FILE_NAME
    else:
        path = stored(folder)
    _raw(path, *WRONG_SHAPES[shape])
    before = path.read_bytes()
    monkeypatch.chdir(tmp_path)
    code, out, err = learn(monkeypatch, capsys, ["", "1"], *options)
    assert code == 2 and not out
    assert f"{path} is damaged or not a glassgrad database" in one_line(err) and "move it away" in err
    assert unchanged(before, path.read_bytes()) and not (tmp_path / "p.json").exists()


def test_the_wrong_shape_names_what_is_missing(folder):
    path = stored(folder)
    _raw(path, "ALTER TABLE attempts DROP COLUMN seconds")
    with pytest.raises(ProgressError, match=r"the table attempts has no seconds, which schema version 2 has"):
        Progress(path)


def test_the_course_view_reports_a_wrong_shape_instead_of_failing(folder, tmp_path):
    """DEFECT: the playground answered ``GET /api/course`` with a server error (sqlite3.OperationalError)."""
    from starlette import testclient

    from glassgrad.playground import create_app

    path = stored(folder)
    _raw(path, "DROP TABLE position")
    with testclient.TestClient(create_app(output_dir=tmp_path / "out"), base_url="http://127.0.0.1:8000") as client:
        answer = client.get("/api/course")
    assert answer.status_code == 200
    body = answer.json()
    assert "is damaged or not a glassgrad database (no table position" in body["progress_error"]
    assert body["done"] == 0 and body["position"] is None


# --- SQLite refusing a read or a write after the file opened ---------------------------------------------------------

class _Failing:
    """A connection whose statements starting with ``prefix`` fail with SQLite's ``message``."""

    def __init__(self, connection: sqlite3.Connection, prefix: str, message: str) -> None:
        self.connection, self.prefix, self.message = connection, prefix, message

    def execute(self, statement: str, *args):
        if statement.startswith(self.prefix):
            raise sqlite3.OperationalError(self.message)
        return self.connection.execute(statement, *args)

    def close(self) -> None:
        self.connection.close()

    @property
    def in_transaction(self) -> bool:
        return self.connection.in_transaction

    def __setattr__(self, name, value):
        if name in ("connection", "prefix", "message"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.connection, name, value)


FAILURES = {
    "database or disk is full": "the disk is full",
    "attempt to write a readonly database": "it is read-only",
    "database is locked": "stayed locked by another glassgrad process",
    "disk I/O error": "is damaged or not a glassgrad database",
}


@pytest.mark.parametrize("message", FAILURES)
def test_a_write_refused_mid_chapter_is_one_line_and_keeps_what_was_stored(monkeypatch, capsys, folder, message):
    """DEFECT: the learner's second answer failing to store (disk full, …) ended ``learn`` with a traceback."""
    from course_answers import right_answers

    practice, _ = right_answers(COURSE.chapter(1))
    real_connect = sqlite3.connect
    connections = []

    def connect(*args, **kwargs):
        connections.append(_Failing(real_connect(*args, **kwargs), "\x00never", message))
        return connections[-1]

    monkeypatch.setattr(progress_module.sqlite3, "connect", connect)
    original = Progress.record_answer

    def record_then_fail(self, *args):  # the first answer is stored, the next one meets the failure
        original(self, *args)
        connections[-1].prefix = "INSERT INTO answers"

    monkeypatch.setattr(Progress, "record_answer", record_then_fail)
    code, out, err = learn(monkeypatch, capsys, ["", practice[0], practice[1]])
    assert code == 2 and FAILURES[message] in one_line(err) and str(folder / FILE_NAME) in err
    monkeypatch.setattr(progress_module.sqlite3, "connect", real_connect)
    with Progress() as progress:
        attempts = progress.export(COURSE.id)["attempts"]
    assert [[answer["answer"] for answer in attempt["answers"]] for attempt in attempts] == [[practice[0]]]


@pytest.mark.parametrize("message", FAILURES)
def test_a_read_refused_is_one_line(monkeypatch, capsys, folder, message):
    stored(folder)
    real_connect = sqlite3.connect
    monkeypatch.setattr(progress_module.sqlite3, "connect", lambda *args, **kwargs: _Failing(
        real_connect(*args, **kwargs), "SELECT chapter FROM completed", message))
    code, _, err = learn(monkeypatch, capsys, [], "--map")
    assert code == 2 and FAILURES[message] in one_line(err)


def test_a_read_only_file_shows_the_map_and_refuses_to_start_before_any_answer(monkeypatch, capsys, folder):
    """Root ignores file modes, so the file is opened read-only the way SQLite opens one it may not write."""
    stored(folder)
    real_connect = sqlite3.connect
    monkeypatch.setattr(progress_module.sqlite3, "connect",
                        lambda target, *args, **kwargs: real_connect(f"file:{target}?mode=ro", *args, uri=True,
                                                                     **kwargs))
    code, out, _ = learn(monkeypatch, capsys, [], "--map")
    assert code == 0 and "(1 of 11 chapters complete" in out
    code, out, err = learn(monkeypatch, capsys, ["", "1"])
    assert code == 2 and "it is read-only" in one_line(err) and "make it and its folder writable" in err
    assert "? = " not in out  # refused at the first write, before the learner typed anything


# --- where the file lives --------------------------------------------------------------------------------------

@pytest.mark.parametrize("blank", [" ", "  \t"])
def test_a_blank_data_dir_variable_counts_as_unset(monkeypatch, tmp_path, blank):
    """DEFECT: GLASSGRAD_DATA_DIR=" " kept progress in ./" "/progress.sqlite3, a new place for every folder."""
    monkeypatch.setenv(DATA_DIR_VARIABLE, blank)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert progress_module.data_dir().resolve() != (Path.cwd() / blank).resolve()
    assert progress_module.data_dir().is_absolute() and progress_module.data_dir().name == "glassgrad"


def test_export_onto_sqlites_own_files_beside_the_progress_file_is_refused(monkeypatch, capsys, folder):
    """DEFECT: ``--export progress.sqlite3-wal`` replaced the file holding the latest committed answers."""
    stored(folder)
    for suffix in ("-wal", "-shm"):
        target = folder / f"{FILE_NAME}{suffix}"
        code, _, err = learn(monkeypatch, capsys, [], "--export", str(target))
        assert code == 2 and f"is the progress file's {suffix[1:].upper()} file" in one_line(err)
        assert "give --export another file name" in err
    code, out, _ = learn(monkeypatch, capsys, [], "--map")
    assert "(1 of 11 chapters complete" in out


def test_export_through_a_link_to_the_progress_file_is_refused(monkeypatch, capsys, folder, tmp_path):
    path = stored(folder)
    link = tmp_path / "link.json"
    link.symlink_to(path)
    before = path.read_bytes()
    code, _, err = learn(monkeypatch, capsys, [], "--export", str(link))
    assert code == 2 and "is the progress file this command reads" in one_line(err)
    assert unchanged(before, path.read_bytes())


@pytest.mark.parametrize("kind", ["a folder", "a dangling link into a missing folder", "a link loop",
                                  "the data folder a file", "the data folder under a file"])
def test_a_progress_path_that_cannot_be_a_file_is_one_line(monkeypatch, capsys, folder, tmp_path, kind):
    path = folder / FILE_NAME
    if kind == "a folder":
        path.mkdir(parents=True)
    elif kind == "a dangling link into a missing folder":
        folder.mkdir()
        path.symlink_to(tmp_path / "nowhere" / "p.sqlite3")
    elif kind == "a link loop":
        folder.mkdir()
        path.symlink_to(path)
    elif kind == "the data folder a file":
        folder.write_text("x", encoding="utf-8")
    else:
        (tmp_path / "f").write_text("x", encoding="utf-8")
        monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path / "f" / "sub"))
    code, _, err = learn(monkeypatch, capsys, [], "--map")
    assert code == 2 and "GLASSGRAD_DATA_DIR" in one_line(err)


def test_an_empty_file_and_links_to_a_real_file_work(monkeypatch, capsys, folder, tmp_path):
    folder.mkdir()
    (folder / FILE_NAME).write_bytes(b"")
    code, out, _ = learn(monkeypatch, capsys, [], "--map")
    assert code == 0 and "(0 of 11 chapters complete" in out
    real = stored(tmp_path / "real")
    (folder / FILE_NAME).unlink()
    (folder / FILE_NAME).symlink_to(real)
    code, out, _ = learn(monkeypatch, capsys, [], "--map")
    assert code == 0 and "(1 of 11 chapters complete" in out


def _hostile_bytes(valid: bytes, kind: str, data: st.DataObject) -> bytes:
    if kind == "random":
        return data.draw(st.binary(min_size=1, max_size=3000))
    if kind == "truncated":
        return valid[:data.draw(st.integers(1, len(valid) - 1))]
    if kind == "header then random":
        return b"SQLite format 3\x00" + data.draw(st.binary(min_size=0, max_size=3000))
    if kind == "one byte changed":
        at = data.draw(st.integers(0, len(valid) - 1))
        return valid[:at] + bytes([valid[at] ^ data.draw(st.integers(1, 255))]) + valid[at + 1:]
    return json.dumps(data.draw(st.recursive(st.none() | st.integers() | st.text(max_size=8),
                                             lambda inner: st.lists(inner, max_size=3), max_leaves=6))).encode()


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(["random", "truncated", "header then random", "one byte changed", "json"]),
       data=st.data())
def test_drawn_damage_is_read_or_refused_in_one_line_never_changed(tmp_path_factory, kind, data):
    """Whatever the bytes, ``learn --map`` shows a map (exit 0) or refuses in one line (exit 2) and leaves the file
    as it was; a refusal never raises anything but ProgressError."""
    work = tmp_path_factory.mktemp("damage")
    valid = stored(work / "valid")
    connection = sqlite3.connect(valid)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    target = work / "data" / FILE_NAME
    target.parent.mkdir()
    target.write_bytes(_hostile_bytes(valid.read_bytes(), kind, data))
    before = target.read_bytes()
    try:
        with Progress(target) as progress:
            progress.completed(COURSE.id), progress.position(COURSE.id), progress.export(COURSE.id)
            progress.chapters(COURSE.id)
    except ProgressError as error:
        assert "\n" not in str(error) and str(target) in str(error)
        assert unchanged(before, target.read_bytes())


# --- two writers, and a course whose chapters changed -----------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.sampled_from(["start", "answer", "finish", "move"]),
                          st.sampled_from(["gradient", "chain-rule", "ünïcode-ish"])), max_size=20))
def test_two_connections_interleaved_lose_no_write(tmp_path_factory, steps):
    """Two open Progress objects on one file (two ``learn`` processes), their writes interleaved as drawn: every
    attempt and answer of both is there, numbered per chapter in the order they started."""
    path = tmp_path_factory.mktemp("two") / FILE_NAME
    writers = [Progress(path), Progress(path)]
    try:
        current: list[int | None] = [None, None]
        expected_answers, expected_numbers, counts, passed = {}, {}, {}, set()
        for who, action, chapter in steps:
            progress = writers[who]
            if action == "start" or current[who] is None:
                attempt, number = progress.start_attempt("course", chapter)
                assert number == counts.get(chapter, 0)
                counts[chapter] = number + 1
                current[who], expected_answers[attempt], expected_numbers[attempt] = attempt, 0, (chapter, number)
            attempt = current[who]
            if action == "answer":
                progress.record_answer(attempt, "practice", "q", "ü\x00\x1b", True)
                expected_answers[attempt] += 1
            elif action == "finish":
                progress.finish_attempt(attempt, (1, 1), (1, 1), True, 1.0)
                passed.add(expected_numbers[attempt][0])
            elif action == "move":
                progress.move_to("course", chapter)
        for reader in writers:
            document = reader.export("course")
            assert {a["id"]: len(a["answers"]) for a in document["attempts"]} == expected_answers
            assert {a["id"]: (a["chapter"], a["number"]) for a in document["attempts"]} == expected_numbers
            assert reader.completed("course") == passed
        if expected_answers:
            answers = writers[0].export("course")["attempts"]
            assert all(answer["answer"] == "ü\x00\x1b" for a in answers for answer in a["answers"])
    finally:
        for writer in writers:
            writer.close()


def _teachers_course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    shutil.copytree(packaged_folder(), course)
    return course


def test_a_removed_chapter_is_named_and_the_others_keep_their_progress(monkeypatch, capsys, folder, tmp_path):
    """DEFECT: a chapter file removed (or its id changed) took its progress out of view without a word."""
    course = _teachers_course(tmp_path)
    stored(folder, "gradient")
    stored(folder, "chain-rule")
    with Progress() as progress:
        progress.move_to(COURSE.id, "chain-rule")
    (course / "04-chain-rule.json").unlink()
    code, out, _ = learn(monkeypatch, capsys, [], "--map", "--course", str(course))
    assert code == 0 and "(1 of 10 chapters complete" in out
    note = [line for line in out.splitlines() if line.startswith("Note:")]
    assert note == [f"Note: the course {COURSE.id!r} no longer has this chapter with stored progress: 'chain-rule' "
                    "(complete); that progress is kept (a chapter file with the same id brings it back)"]
    assert "Next: chapter 2." in out  # the place was the removed chapter: the first one not complete
    code, out, _ = learn(monkeypatch, capsys, ["q"], "--course", str(course))
    assert code == 0 and out.splitlines()[0] == note[0] and "Chapter 2 of 10" in out
    shutil.copy(packaged_folder() / "04-chain-rule.json", course)  # back: its progress is there again
    code, out, _ = learn(monkeypatch, capsys, [], "--map", "--course", str(course))
    assert "(2 of 11 chapters complete" in out and "Note:" not in out


def test_a_renamed_chapter_id_is_named_with_its_old_id(monkeypatch, capsys, folder, tmp_path):
    course = _teachers_course(tmp_path)
    stored(folder, "gradient", passed=False)
    chapter = course / "01-gradient.json"
    chapter.write_text(json.dumps({**json.loads(chapter.read_text(encoding="utf-8")), "id": "gradients"}),
                       encoding="utf-8")
    code, out, _ = learn(monkeypatch, capsys, [], "--map", "--course", str(course))
    assert code == 0 and "no longer has this chapter with stored progress: 'gradient';" in out


# --- odd answers, Ctrl-C ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("answer", ["9" * 200_000, "\x00\x01\x1b[2J\x7f", "\udcff\udcfe", "1/000", "nan", "(" * 5000])
def test_odd_answers_get_a_message_and_the_question_again_and_are_not_stored(monkeypatch, capsys, answer):
    code, out, err = learn(monkeypatch, capsys, ["", answer])
    assert code == 0 and not err and "Try again" in out and "(end of input)" in out
    assert max(len(line) for line in out.splitlines()) < 400  # a long answer is not echoed whole
    with Progress() as progress:
        assert [a["answers"] for a in progress.export(COURSE.id)["attempts"]] == [[]]


def test_ctrl_c_while_a_chapter_computes_keeps_the_answers(monkeypatch, capsys):
    """Ctrl-C at a question stops like 'q' (exit 0, pinned by tests/test_course_tmux.py); while the worked example
    computes, it stops the same way with one line saying the progress is saved."""
    from course_answers import right_answers

    import glassgrad.course.terminal as terminal

    practice, _ = right_answers(COURSE.chapter(1))
    learn(monkeypatch, capsys, ["", practice[0]])

    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(terminal, "worked_example", interrupted)
    code, out, err = learn(monkeypatch, capsys, [""])
    assert code == 0 and not err and out.strip().splitlines()[-1].startswith("Stopped (Ctrl-C). Your progress is saved")
    with Progress() as progress:
        assert [len(a["answers"]) for a in progress.export(COURSE.id)["attempts"]] == [1]


def test_a_refused_commit_ends_its_transaction_and_the_next_write_works(folder):
    """A full disk can refuse the COMMIT itself: the write is reported, rolled back, and the file stays usable."""
    path = stored(folder)
    real_connect = sqlite3.connect
    failing = _Failing(real_connect(path, timeout=1, isolation_level=None), "COMMIT", "database or disk is full")
    progress = Progress.__new__(Progress)
    progress.path, progress._connection = path, failing
    with pytest.raises(ProgressError, match="the disk is full"):
        progress.move_to(COURSE.id, "chain-rule")
    assert not failing.connection.in_transaction
    failing.prefix = "\x00never"
    progress.move_to(COURSE.id, "softmax-cross-entropy")
    progress.close()
    with Progress(path) as again:
        assert again.position(COURSE.id) == "softmax-cross-entropy" and again.completed(COURSE.id) == {"gradient"}


# --- an exercise cell graded in a notebook ------------------------------------------------------------------------

def test_a_notebook_value_that_became_a_vector_is_reported_not_a_numpy_error():
    """DEFECT: ``check(0.5, tensor([0.5, 1.0]))`` (a cell above changed so the engine's value is a vector) raised
    NumPy's 'cannot reshape array of size 2 into shape ()', and ``check(0.5, w.grad)`` with the backward cell
    skipped raised TypeError 'argument should be a string or a Rational instance'; both are reported like a nan."""
    import glassgrad as gg
    from glassgrad.course import check

    for value, count in ((gg.tensor([0.5, 1.0]), 2), (gg.zeros(0), 0)):
        outcome = check(0.5, value)
        assert outcome.status == "unreadable" and f"the engine's value here is {count} numbers" in str(outcome)
    assert check(0.5, gg.tensor([0.5])).correct
    weight = gg.tensor(1.0, requires_grad=True)  # its backward() cell skipped: .grad is None
    outcome = check(0.5, weight.grad)
    assert outcome.status == "unreadable" and "is None, not computed yet" in str(outcome) and "in order" in str(outcome)


@pytest.mark.parametrize("tolerance", [-1, -0.001, float("nan"), float("inf"), "0.1", True])
def test_a_bad_tolerance_is_refused_not_every_answer_wrong(tolerance):
    """DEFECT: ``check(0.5, 0.5, tolerance=-1)`` said 'Not quite: you answered 0.5, the answer is 0.5', and a nan
    tolerance raised 'Invalid literal for Fraction'."""
    from glassgrad.course import check

    with pytest.raises(ValueError, match=r"the tolerance must be a number ≥ 0, e.g. 0.001"):
        check(0.5, 0.5, tolerance)
    assert check(0.5, 0.6, 0.2).correct and check(0.5, 0.5, 0).correct


@pytest.mark.parametrize("expected", ["abc", True, [0.5], "nan"])
def test_an_expected_value_that_is_no_number_names_the_mistake(expected):
    from glassgrad.course import check

    with pytest.raises(TypeError, match=r"expected must be the engine's number .* or a practice Problem, not"):
        check(0.5, expected)


NOTEBOOK_COPIER = """
import resource, signal, sys
import glassgrad.notebooks as notebooks
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a file may not grow past 4000 bytes: as a disk that fills up
resource.setrlimit(resource.RLIMIT_FSIZE, (4000, 4000))
try:
    notebooks.copy_notebooks(sys.argv[1])
except OSError as error:
    print(type(error).__name__, error.errno)
"""


def test_a_notebook_copy_cut_short_leaves_no_half_notebook(tmp_path):
    """DEFECT: ``glassgrad notebook`` whose copy was cut short (the disk full, the process killed) left a
    half-written .ipynb, which every later run kept 'as it is' (a notebook JupyterLab cannot open). A child
    process whose files may not grow past 4000 bytes copies: every .ipynb left is whole, and the next run copies
    the rest."""
    import subprocess

    from glassgrad.notebooks import copy_notebooks, notebook_paths

    folder = tmp_path / "copies"
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run([sys.executable, "-c", NOTEBOOK_COPIER, str(folder)], capture_output=True, text=True,
                            env=environment, timeout=120)
    assert result.stdout.split() == ["OSError", "27"], result.stderr  # EFBIG: a copy past 4000 bytes was cut short
    sources = {path.name: path.read_bytes() for path in notebook_paths()}
    left = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert left and all(left[name] == sources[name] for name in left)  # only whole copies, no half one
    copy_notebooks(folder)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == sources
