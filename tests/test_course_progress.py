"""Progress that lasts: SQLite in the data directory, migrations, two processes at once, and a SIGKILL mid-write."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassgrad.course.progress import DATA_DIR_VARIABLE, MIGRATIONS, SCHEMA_VERSION, Progress, ProgressError, data_dir

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, database: Path, *arguments: str) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), str(database), *arguments],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)


def test_the_data_directory_comes_from_the_environment_or_platformdirs(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path / "mine"))
    assert data_dir() == tmp_path / "mine"
    assert Progress().path == tmp_path / "mine" / "progress.sqlite3"
    monkeypatch.delenv(DATA_DIR_VARIABLE)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert data_dir() == tmp_path / "xdg" / "glassgrad"


def test_attempts_answers_completion_reset_and_export(tmp_path):
    with Progress(tmp_path / "p.sqlite3") as progress:
        attempt, number = progress.start_attempt("course", "one")
        assert number == 0 and progress.position("course") == "one"
        progress.record_answer(attempt, "practice", "gd-update#1", "3", True)
        progress.record_answer(attempt, "quiz", "chain-rule-1", "B", False)
        progress.finish_attempt(attempt, (1, 1), (0, 1), False, 12.5)
        assert progress.completed("course") == set()
        again, number = progress.start_attempt("course", "one")
        assert number == 1
        progress.finish_attempt(again, (1, 1), (1, 1), True, 3.0)
        progress.move_to("course", "two")
        progress.start_attempt("other", "x")
        assert progress.completed("course") == {"one"} and progress.position("course") == "two"
        document = progress.export("course")
        assert document["schema_version"] == SCHEMA_VERSION and document["position"] == "two"
        assert list(document["completed"]) == ["one"]
        first = document["attempts"][0]
        assert (first["practice_right"], first["quiz_right"], first["passed"], first["seconds"]) == (1, 0, 0, 12.5)
        assert [(a["question"], a["answer"], a["correct"]) for a in first["answers"]] == [
            ("gd-update#1", "3", 1), ("chain-rule-1", "B", 0)]
        assert first["finished_at"] >= first["started_at"] > 0
        assert progress.reset("course") == 2
        assert progress.export("course")["attempts"] == [] and progress.position("course") is None
        assert progress.position("other") == "x"  # another course is left alone


def test_an_old_database_is_migrated_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    old.execute("INSERT INTO schema_version VALUES (1)")
    for statement in MIGRATIONS[0]:
        old.execute(statement)
    old.execute("INSERT INTO attempts (course, chapter, number, started_at, finished_at, passed) "
                "VALUES ('c', 'one', 0, 1.0, 2.0, 1)")
    old.execute("INSERT INTO completed VALUES ('c', 'one', 2.0)")
    old.commit()
    old.close()
    with Progress(path) as progress:
        assert progress.schema_version() == SCHEMA_VERSION == 2
        assert progress.completed("c") == {"one"}
        assert progress.export("c")["attempts"][0]["seconds"] == 0


def test_a_newer_or_damaged_database_is_refused_in_one_line(tmp_path):
    newer = tmp_path / "newer.sqlite3"
    Progress(newer).close()
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(ProgressError, match="schema version 99, newer than") as caught:
        Progress(newer)
    assert "\n" not in str(caught.value)
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ProgressError, match=f"{damaged} is damaged or not a glassgrad database") as caught:
        Progress(damaged)
    assert "\n" not in str(caught.value)


WRITER = """
import sys
from glassgrad.course.progress import Progress
path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
progress = Progress(path)
for i in range(count):
    attempt, _ = progress.start_attempt("course", f"{name}-{i}")
    for k in range(3):
        progress.record_answer(attempt, "practice", f"q{k}", str(k), True)
    progress.finish_attempt(attempt, (3, 3), (1, 1), True, 0.1)
    print(i, flush=True)
"""


def test_two_processes_write_at_once_and_nothing_is_lost(tmp_path):
    database = tmp_path / "shared.sqlite3"
    writers = [_python(WRITER, database, name, "60") for name in ("a", "b")]
    results = [writer.communicate(timeout=300) for writer in writers]
    for writer, (_, err) in zip(writers, results):
        assert writer.returncode == 0, err
    with Progress(database) as progress:
        document = progress.export("course")
        assert len(document["attempts"]) == 120
        assert all(len(attempt["answers"]) == 3 for attempt in document["attempts"])
        assert len(progress.completed("course")) == 120
    check = sqlite3.connect(database)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    check.close()


def _wait_for_lines(process: subprocess.Popen, count: int) -> list[str]:
    lines = []
    while len(lines) < count:
        line = process.stdout.readline()
        assert line, f"the writer ended early: {process.stderr.read()}"
        lines.append(line)
    return lines


def test_sigkill_in_the_middle_of_a_transaction_loses_only_that_transaction(tmp_path):
    database = tmp_path / "crash.sqlite3"
    with Progress(database) as progress:
        attempt, _ = progress.start_attempt("course", "kept")
        progress.finish_attempt(attempt, (1, 1), (1, 1), True, 1.0)
    holder = _python("""
        import sys, time
        from glassgrad.course.progress import Progress
        progress = Progress(sys.argv[1])
        attempt, _ = progress.start_attempt("course", "half")
        with progress._transaction() as db:  # a write that never commits: killed inside
            db.execute("INSERT INTO answers (attempt, part, question, answer, correct, answered_at) "
                       "VALUES (?, 'quiz', 'q', 'A', 1, 0)", (attempt,))
            db.execute("INSERT INTO completed VALUES ('course', 'half', 0)")
            print("inside", flush=True)
            time.sleep(120)
    """, database)
    assert _wait_for_lines(holder, 1) == ["inside\n"]
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    with Progress(database) as progress:  # the lock died with the process: writing works at once
        assert progress.completed("course") == {"kept"}
        half = [a for a in progress.export("course")["attempts"] if a["chapter"] == "half"]
        assert len(half) == 1 and half[0]["answers"] == [] and half[0]["finished_at"] is None
        assert progress.position("course") == "half"  # committed before the kill: the learner resumes there
        again, number = progress.start_attempt("course", "half")
        assert number == 1


def test_sigkill_at_a_random_moment_of_many_writes_leaves_whole_attempts(tmp_path):
    database = tmp_path / "random.sqlite3"
    writer = _python(WRITER, database, "w", "100000")
    _wait_for_lines(writer, 25)
    time.sleep(0.05)  # somewhere inside the next attempt's writes
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    check = sqlite3.connect(database)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
    with Progress(database) as progress:
        attempts = progress.export("course")["attempts"]
        finished = [a for a in attempts if a["finished_at"] is not None]
        assert len(finished) >= 25 and len(attempts) - len(finished) <= 1
        assert all(len(a["answers"]) == 3 for a in finished)
        assert progress.completed("course") == {a["chapter"] for a in finished}


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.booleans(), st.booleans()), max_size=12))
def test_completed_chapters_and_place_follow_the_attempts(tmp_path_factory, attempts):
    """Against a plain model: a chapter is complete once any attempt at it passed; the place is the last chapter
    started; attempt numbers count per chapter; an unfinished attempt completes nothing."""
    with Progress(tmp_path_factory.mktemp("model") / "p.sqlite3") as progress:
        passed, numbers = set(), {}
        for chapter, finished, ok in attempts:
            attempt, number = progress.start_attempt("course", chapter)
            assert number == numbers.get(chapter, 0)
            numbers[chapter] = number + 1
            if finished:
                progress.finish_attempt(attempt, (int(ok), 1), (int(ok), 1), ok, 1.0)
                passed |= {chapter} if ok else set()
        assert progress.completed("course") == passed
        assert progress.position("course") == (attempts[-1][0] if attempts else None)
        assert len(progress.export("course")["attempts"]) == len(attempts)


class _RefusingOnce:
    """A connection that answers "database is locked" to its first ``refusals`` WAL switches, as SQLite does at
    once (without waiting) to one of two processes that each need the other's lock on a new file."""

    def __init__(self, connection, refusals):
        self.connection, self.refusals = connection, refusals

    def execute(self, statement, *args):
        if statement.startswith("PRAGMA journal_mode") and self.refusals:
            self.refusals -= 1
            raise sqlite3.OperationalError("database is locked")
        return self.connection.execute(statement, *args)

    def close(self):
        self.connection.close()


def test_a_file_locked_while_it_opens_is_waited_for_not_called_damaged(tmp_path, monkeypatch):
    import glassgrad.course.progress as progress_module

    real_connect = sqlite3.connect
    monkeypatch.setattr(progress_module.sqlite3, "connect",
                        lambda *args, **kwargs: _RefusingOnce(real_connect(*args, **kwargs), 3))
    with Progress(tmp_path / "new.sqlite3") as progress:
        assert progress.schema_version() == progress_module.SCHEMA_VERSION
    monkeypatch.setattr(progress_module, "BUSY_SECONDS", 0.2)
    monkeypatch.setattr(progress_module.sqlite3, "connect",
                        lambda *args, **kwargs: _RefusingOnce(real_connect(*args, **kwargs), 10**6))
    with pytest.raises(ProgressError, match=r"stayed locked by another glassgrad process for 0.2 s") as caught:
        Progress(tmp_path / "other.sqlite3")
    assert "damaged" not in str(caught.value) and "\n" not in str(caught.value)
