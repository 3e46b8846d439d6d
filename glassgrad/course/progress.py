"""A learner's progress through a course, kept in SQLite so that it lasts.

Where: ``progress.sqlite3`` in the user's data directory (``platformdirs``: ``~/.local/share/glassgrad``
on Linux), or in the folder named by the environment variable ``GLASSGRAD_DATA_DIR`` (tests and
classrooms use it to keep the real home untouched).

What: every attempt at a chapter (when, how long, practice and quiz scores, passed or not), every
answer given (the question, what was typed, right or wrong, when), which chapters are complete,
and where the learner is in each course.

Safety: the database runs in WAL mode, so one process can read while another writes; every write
is one transaction started with ``BEGIN IMMEDIATE`` (a second process waits for it, up to
:data:`BUSY_SECONDS`, instead of failing); a process killed mid-write leaves the last committed
state, which SQLite restores when the file is next opened. The schema has a version: opening an
older database applies the missing :data:`MIGRATIONS` in order, inside one transaction.

Failures: every SQLite error, on opening, reading or writing, becomes a one-line :class:`ProgressError` that
names the file and what to do (:func:`_problem`): a file locked by another process, read-only, on a full
disk, or damaged. A file that SQLite opens but whose tables are not the ones its schema version promises
(another program's database, a table dropped by hand) is refused on opening, before the learner answers
anything; its tables and rows are left as they were.

>>> import tempfile
>>> progress = Progress(Path(tempfile.mkdtemp()) / "progress.sqlite3")
>>> progress.schema_version() == SCHEMA_VERSION
True
"""

from __future__ import annotations

import functools
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

DATA_DIR_VARIABLE = "GLASSGRAD_DATA_DIR"
FILE_NAME = "progress.sqlite3"
BUSY_SECONDS = 30.0
"""How long a write waits for another process's transaction before giving up."""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: attempts, answers, completed chapters, the learner's place
        "CREATE TABLE attempts (id INTEGER PRIMARY KEY, course TEXT NOT NULL, chapter TEXT NOT NULL, "
        "number INTEGER NOT NULL, started_at REAL NOT NULL, finished_at REAL, practice_right INTEGER, "
        "practice_asked INTEGER, quiz_right INTEGER, quiz_asked INTEGER, passed INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX attempts_by_chapter ON attempts (course, chapter)",
        "CREATE TABLE answers (id INTEGER PRIMARY KEY, attempt INTEGER NOT NULL REFERENCES attempts (id), "
        "part TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, correct INTEGER NOT NULL, "
        "answered_at REAL NOT NULL)",
        "CREATE TABLE completed (course TEXT NOT NULL, chapter TEXT NOT NULL, completed_at REAL NOT NULL, "
        "PRIMARY KEY (course, chapter))",
        "CREATE TABLE position (course TEXT PRIMARY KEY, chapter TEXT NOT NULL, updated_at REAL NOT NULL)",
    ),
    (  # 2: the time spent on an attempt, reading included (finished_at − started_at would count idle days)
        "ALTER TABLE attempts ADD COLUMN seconds REAL NOT NULL DEFAULT 0",
    ),
)
"""Schema changes, oldest first: version k of the database has the first k applied."""
SCHEMA_VERSION = len(MIGRATIONS)


class ProgressError(OSError):
    """The progress database cannot be used; the message names the file and what to do."""


def _is_busy(error: sqlite3.Error) -> bool:
    """Whether SQLite refused because another connection holds a lock (not because the file is bad)."""
    return "locked" in str(error) or "busy" in str(error)


def _problem(path: Path, error: sqlite3.Error) -> ProgressError:
    """The one-line error for SQLite's ``error`` on the progress file ``path``: what happened and what to do."""
    text = str(error)
    if _is_busy(error):
        return ProgressError(f"the progress file {path} stayed locked by another glassgrad process for "
                             f"{BUSY_SECONDS:g} s; close the other program (the playground, a notebook) and try again")
    if "readonly" in text or "read-only" in text:
        return ProgressError(f"cannot write the progress file {path}: it is read-only ({text}); make it and its "
                             f"folder writable, or set {DATA_DIR_VARIABLE} to a folder you can write to")
    if "full" in text:
        return ProgressError(f"cannot write the progress file {path}: the disk is full ({text}); free some space "
                             f"and try again (what was stored before is kept)")
    return ProgressError(f"the progress file {path} is damaged or not a glassgrad database ({text}); move it away "
                         f"(glassgrad starts a new one) or set {DATA_DIR_VARIABLE} to another folder")


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _reporting(method: _Method) -> _Method:
    """``method`` of :class:`Progress` with SQLite's errors turned into one-line :class:`ProgressError`."""
    @functools.wraps(method)
    def reported(self: Progress, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as error:
            raise _problem(self.path, error) from None
    return reported  # type: ignore[return-value]


@functools.cache
def expected_columns() -> dict[str, tuple[str, ...]]:
    """Every table of a database at :data:`SCHEMA_VERSION` and its columns, as the migrations make them."""
    fresh = sqlite3.connect(":memory:")
    try:
        fresh.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for statements in MIGRATIONS:
            for statement in statements:
                fresh.execute(statement)
        names = [row[0] for row in fresh.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: _columns(fresh, name) for name in names}
    finally:
        fresh.close()


def _columns(connection: sqlite3.Connection, table: str) -> tuple[str, ...]:
    """The columns of ``table`` (none when there is no such table)."""
    return tuple(row[0] for row in connection.execute("SELECT name FROM pragma_table_info(?)", (table,)))


def data_dir() -> Path:
    """The folder for glassgrad's data: ``$GLASSGRAD_DATA_DIR``, else the platform's user data directory.

    A blank value (``GLASSGRAD_DATA_DIR=" "``) counts as unset, as an empty one does: as a path it would be a
    folder named by spaces in whatever folder the command runs in, a new place for every folder.
    """
    override = os.environ.get(DATA_DIR_VARIABLE)
    if override and override.strip():
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("glassgrad", appauthor=False))


def default_path() -> Path:
    return data_dir() / FILE_NAME


class Progress:
    """The progress database at ``path`` (:func:`default_path` when None), created and migrated on open."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise ProgressError(f"cannot open the progress file {self.path}: {error}; set {DATA_DIR_VARIABLE} "
                                "to a folder you can write to") from None
        try:
            self._prepare()
            self._check_tables()
        except sqlite3.Error as error:
            self._connection.close()
            raise _problem(self.path, error) from None
        except ProgressError:
            self._connection.close()
            raise

    def _prepare(self) -> None:
        """Set the connection up and migrate the file, trying again while another process holds a lock.

        Two processes opening a new file at once can each need the other's lock (one switching the file to
        WAL, one migrating it); SQLite then answers one of them "database is locked" at once, without
        waiting: that one tries again shortly, for up to :data:`BUSY_SECONDS`.
        """
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                self._connection.execute("PRAGMA journal_mode = WAL")
                self._connection.execute("PRAGMA synchronous = FULL")
                self._connection.execute("PRAGMA foreign_keys = ON")
                self._migrate()
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _check_tables(self) -> None:
        """Refuse a file whose tables lack a column this glassgrad reads or writes (without changing it)."""
        for table, columns in expected_columns().items():
            found = _columns(self._connection, table)
            missing = [column for column in columns if column not in found]
            if missing:
                what = f"the table {table} has no {', '.join(missing)}" if found else f"no table {table}"
                raise sqlite3.DatabaseError(f"{what}, which schema version {SCHEMA_VERSION} has")

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is stored, or none of it (also when the process is killed)."""
        self._connection.execute("BEGIN IMMEDIATE")
        try:
            yield self._connection
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        try:
            self._connection.execute("COMMIT")
        except sqlite3.Error:  # a full disk refuses the commit itself: end the transaction, keep the connection usable
            if self._connection.in_transaction:
                self._connection.execute("ROLLBACK")
            raise

    @_reporting
    def schema_version(self) -> int:
        """The file's schema version (0 for a new file)."""
        return self._schema_version()

    def _schema_version(self) -> int:
        exists = self._connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
        if not exists:
            return 0
        row = self._connection.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else 0
        if type(version) is not int or version < 0:
            raise sqlite3.DatabaseError(f"its schema version is {version!r}, not a whole number")
        return version

    def _migrate(self) -> None:
        """Apply the migrations this database lacks, in one transaction (two processes opening it at once
        take turns: the second finds the work done)."""
        if self._schema_version() == SCHEMA_VERSION:
            return
        with self._transaction() as db:
            version = self._schema_version()
            if version > SCHEMA_VERSION:
                raise ProgressError(f"the progress file {self.path} has schema version {version}, newer than this "
                                    f"glassgrad's {SCHEMA_VERSION}: upgrade glassgrad, or set {DATA_DIR_VARIABLE} "
                                    "to another folder")
            if version == 0:
                db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                db.execute("INSERT INTO schema_version VALUES (0)")
            for statements in MIGRATIONS[version:]:
                for statement in statements:
                    db.execute(statement)
            db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))

    # --- writing -------------------------------------------------------------------------------------------------

    @_reporting
    def start_attempt(self, course: str, chapter: str) -> tuple[int, int]:
        """A new attempt at ``chapter``, which becomes the learner's place; returns the attempt's id and its number
        (0 for the first attempt at that chapter)."""
        with self._transaction() as db:
            number = db.execute("SELECT COUNT(*) FROM attempts WHERE course = ? AND chapter = ?",
                                (course, chapter)).fetchone()[0]
            cursor = db.execute("INSERT INTO attempts (course, chapter, number, started_at) VALUES (?, ?, ?, ?)",
                                (course, chapter, number, time.time()))
            db.execute("INSERT INTO position VALUES (?, ?, ?) ON CONFLICT (course) DO UPDATE SET "
                       "chapter = excluded.chapter, updated_at = excluded.updated_at", (course, chapter, time.time()))
        return int(cursor.lastrowid), int(number)

    @_reporting
    def record_answer(self, attempt: int, part: str, question: str, answer: str, correct: bool) -> None:
        """One graded answer (``part`` is ``practice`` or ``quiz``), stored at once."""
        with self._transaction() as db:
            db.execute("INSERT INTO answers (attempt, part, question, answer, correct, answered_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (attempt, part, question, answer, int(correct), time.time()))

    @_reporting
    def record_time(self, attempt: int, seconds: float) -> None:
        """The time spent so far on an attempt left unfinished (the learner stopped in the middle)."""
        with self._transaction() as db:
            db.execute("UPDATE attempts SET seconds = ? WHERE id = ?", (seconds, attempt))

    @_reporting
    def finish_attempt(self, attempt: int, practice: tuple[int, int], quiz: tuple[int, int], passed: bool,
                       seconds: float) -> None:
        """Close an attempt with its scores ``(right, asked)``; a passed one completes its chapter, in the same
        transaction."""
        with self._transaction() as db:
            db.execute("UPDATE attempts SET finished_at = ?, practice_right = ?, practice_asked = ?, quiz_right = ?, "
                       "quiz_asked = ?, passed = ?, seconds = ? WHERE id = ?",
                       (time.time(), *practice, *quiz, int(passed), seconds, attempt))
            if passed:
                course, chapter = db.execute("SELECT course, chapter FROM attempts WHERE id = ?", (attempt,)).fetchone()
                db.execute("INSERT OR IGNORE INTO completed VALUES (?, ?, ?)", (course, chapter, time.time()))

    @_reporting
    def move_to(self, course: str, chapter: str) -> None:
        """Remember ``chapter`` as where the learner is in ``course``."""
        with self._transaction() as db:
            db.execute("INSERT INTO position VALUES (?, ?, ?) ON CONFLICT (course) DO UPDATE SET "
                       "chapter = excluded.chapter, updated_at = excluded.updated_at", (course, chapter, time.time()))

    @_reporting
    def reset(self, course: str) -> int:
        """Forget everything about ``course``; returns how many attempts were removed."""
        with self._transaction() as db:
            ids = "SELECT id FROM attempts WHERE course = ?"
            db.execute(f"DELETE FROM answers WHERE attempt IN ({ids})", (course,))
            removed = db.execute("DELETE FROM attempts WHERE course = ?", (course,)).rowcount
            db.execute("DELETE FROM completed WHERE course = ?", (course,))
            db.execute("DELETE FROM position WHERE course = ?", (course,))
        return removed

    # --- reading -------------------------------------------------------------------------------------------------

    @_reporting
    def position(self, course: str) -> str | None:
        """The chapter id the learner was last at, or None."""
        row = self._connection.execute("SELECT chapter FROM position WHERE course = ?", (course,)).fetchone()
        return row[0] if row else None

    @_reporting
    def completed(self, course: str) -> set[str]:
        """The ids of the chapters completed in ``course``."""
        return {row[0] for row in self._connection.execute("SELECT chapter FROM completed WHERE course = ?",
                                                           (course,))}

    @_reporting
    def chapters(self, course: str) -> set[str]:
        """The ids of every chapter of ``course`` that has anything stored (an attempt, a completion, the place)."""
        return {row[0] for row in self._connection.execute(
            "SELECT chapter FROM attempts WHERE course = ? UNION SELECT chapter FROM completed WHERE course = ? "
            "UNION SELECT chapter FROM position WHERE course = ?", (course, course, course))}

    @_reporting
    def export(self, course: str) -> dict[str, Any]:
        """Everything stored about ``course``, as plain data (for a teacher: ``glassgrad learn --export``)."""
        db = self._connection
        db.row_factory = sqlite3.Row
        try:
            attempts = [dict(row) for row in db.execute(
                "SELECT * FROM attempts WHERE course = ? ORDER BY id", (course,))]
            for attempt in attempts:
                attempt["answers"] = [dict(row) for row in db.execute(
                    "SELECT part, question, answer, correct, answered_at FROM answers WHERE attempt = ? ORDER BY id",
                    (attempt["id"],))]
            completed = {row["chapter"]: row["completed_at"] for row in db.execute(
                "SELECT chapter, completed_at FROM completed WHERE course = ? ORDER BY completed_at", (course,))}
        finally:
            db.row_factory = None
        return {"format": "glassgrad-progress", "schema_version": SCHEMA_VERSION, "course": course,
                "position": self.position(course), "completed": completed, "attempts": attempts}
