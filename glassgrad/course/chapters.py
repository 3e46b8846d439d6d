"""Chapters as data: reading a course folder, checking every chapter, and the exercises of an attempt.

A course is a folder: ``course.json`` (its id, title and pass mark) and one JSON file per
chapter, read in file-name order (``01-gradient.json``, ``02-gradient-descent.json``, …), so a
teacher reorders chapters by renaming files and adds one by adding a file. Each file is checked
against ``chapter.schema.json`` and then against what glassgrad has: the worked example, the
activity (a trace, an experiment or the gradient check), the practice kinds and the quiz
question ids must exist. A bad file stops the load with one line naming the file and the problem.

A chapter is complete when, in one attempt, at least ``pass_mark`` of its practice answers and
at least ``pass_mark`` of its quiz answers are right: ``right ≥ ⌈pass_mark · asked⌉``.

>>> course = load_course()
>>> course.chapters[0].id
'gradient'
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

COURSE_FILE = "course.json"
DEFAULT_PASS_MARK = 0.5
ATTEMPT_SEED_STRIDE = 7919
"""Attempt k of a chapter draws its problems from seed + k · this prime, so a second try asks new numbers."""


class CourseError(ValueError):
    """A course folder or chapter file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class PracticeSet:
    """Problems of one practice kind (see :data:`glassgrad.practice.KINDS`)."""

    kind: str
    count: int
    seed: int
    size: int | None = None
    difficulty: int = 1


@dataclass(frozen=True)
class Chapter:
    """One chapter: text, a live worked example, an activity, practice sets and quiz question ids."""

    number: int
    id: str
    title: str
    map_part: str
    text: tuple[str, ...]
    example: str
    activity: dict[str, str]
    practice: tuple[PracticeSet, ...]
    quiz: tuple[str, ...]
    source: Path

    def activity_command(self) -> str:
        """The command that runs this chapter's activity in the terminal."""
        return f"glassgrad {self.activity['kind']} {self.activity['name']}"

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "id": self.id, "title": self.title, "map_part": self.map_part,
                "text": list(self.text), "example": self.example, "activity": dict(self.activity),
                "activity_command": self.activity_command(),
                "practice": [vars(p).copy() for p in self.practice], "quiz": list(self.quiz)}


@dataclass(frozen=True)
class Course:
    """The chapters of a course, in order."""

    id: str
    title: str
    pass_mark: float
    chapters: tuple[Chapter, ...]
    folder: Path

    def chapter(self, key: str | int) -> Chapter:
        """A chapter by id, or by its 1-based number."""
        for chapter in self.chapters:
            if key in (chapter.id, chapter.number):
                return chapter
        if isinstance(key, int):
            raise CourseError(f"there is no chapter {key}: choose 1 to {len(self.chapters)}")
        raise CourseError(f"there is no chapter {key!r} in the course {self.id!r}")

    def needed(self, asked: int) -> int:
        """Right answers needed out of ``asked`` to pass: ``⌈pass_mark · asked⌉``."""
        return math.ceil(self.pass_mark * asked - 1e-9)


def packaged_folder() -> Path:
    """The folder of the course shipped with glassgrad."""
    return Path(str(resources.files("glassgrad.course").joinpath("chapters")))


def _schema(name: str) -> dict[str, Any]:
    return json.loads(resources.files("glassgrad.course").joinpath(name).read_text(encoding="utf-8"))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise CourseError(f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    except UnicodeDecodeError:
        raise CourseError(f"{path}: not UTF-8 text; save the file as UTF-8 JSON") from None
    except OSError as error:
        raise CourseError(f"{path}: cannot be read ({error.strerror or error})") from None


def _check_schema(document: Any, schema_name: str, path: Path) -> None:
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(_schema(schema_name)).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(part) for part in errors[0].path) or "the top level"
        raise CourseError(f"{path}: at {where}: {errors[0].message}")


def _check_references(document: dict, path: Path, quiz_ids: set[str]) -> None:
    """Everything the chapter names must exist in glassgrad."""
    from ..lessons import EXPERIMENTS, LESSONS
    from ..practice.problems import KINDS
    from .examples import EXAMPLES

    if document["example"] not in EXAMPLES:
        raise CourseError(f"{path}: unknown example {document['example']!r}; choose one of {', '.join(EXAMPLES)}")
    activity = document["activity"]
    known = {"trace": LESSONS, "experiment": EXPERIMENTS, "gradcheck": {"diagonal-flip": None}}[activity["kind"]]
    if activity["name"] not in known:
        raise CourseError(f"{path}: unknown {activity['kind']} {activity['name']!r}; choose one of {', '.join(known)}")
    for number, practice in enumerate(document["practice"], 1):
        kind = KINDS.get(practice["kind"])
        if kind is None:
            raise CourseError(f"{path}: practice {number}: unknown kind {practice['kind']!r}; "
                              f"choose one of {', '.join(KINDS)}")
        size = practice.get("size", kind.default_size)
        if not kind.sizes[0] <= size <= kind.sizes[1]:
            raise CourseError(f"{path}: practice {number}: size {size} does not fit kind {kind.name!r} "
                              f"(choose {kind.sizes[0]} to {kind.sizes[1]})")
    for question in document["quiz"]:
        if question not in quiz_ids:
            raise CourseError(f"{path}: unknown quiz question {question!r}; use an id from "
                              "glassgrad/practice/quiz_bank.json")


def quiz_bank_ids() -> list[str]:
    """The ids of the quiz bank's questions, in the bank's order (the order :func:`load_bank` returns them in)."""
    text = resources.files("glassgrad.practice").joinpath("quiz_bank.json").read_text(encoding="utf-8")
    return [question["id"] for question in json.loads(text)["questions"]]


def load_course(folder: str | Path | None = None) -> Course:
    """The course in ``folder`` (the packaged course when None), every chapter checked."""
    folder = packaged_folder() if folder is None else Path(folder)
    if folder.is_file():
        holder = f": give the folder that holds it, {folder.parent}" if folder.name == COURSE_FILE else \
            "; give a folder holding course.json and chapter files"
        raise CourseError(f"{folder}: a file, not a course folder{holder}")
    if not folder.is_dir():
        raise CourseError(f"{folder}: no such course folder; give a folder holding course.json and chapter files")
    manifest_path = folder / COURSE_FILE
    if not manifest_path.is_file():
        raise CourseError(f"{manifest_path}: missing; a course folder needs a course.json with its id and title")
    manifest = _read_json(manifest_path)
    _check_schema(manifest, "course.schema.json", manifest_path)
    quiz_ids = set(quiz_bank_ids())
    chapters: list[Chapter] = []
    seen: dict[str, Path] = {}
    for path in sorted(p for p in folder.glob("*.json") if p.name != COURSE_FILE):
        document = _read_json(path)
        _check_schema(document, "chapter.schema.json", path)
        _check_references(document, path, quiz_ids)
        if document["id"] in seen:
            raise CourseError(f"{path}: chapter id {document['id']!r} is already used by {seen[document['id']].name}")
        seen[document["id"]] = path
        chapters.append(Chapter(
            len(chapters) + 1, document["id"], document["title"], document["map_part"], tuple(document["text"]),
            document["example"], dict(document["activity"]), tuple(PracticeSet(**p) for p in document["practice"]),
            tuple(document["quiz"]), path))
    if not chapters:
        raise CourseError(f"{folder}: no chapter files; add one JSON file per chapter beside course.json")
    return Course(manifest["id"], manifest["title"], float(manifest.get("pass_mark", DEFAULT_PASS_MARK)),
                  tuple(chapters), folder)


def practice_problems(chapter: Chapter, attempt: int) -> list[Any]:
    """The practice problems of ``attempt`` (0, 1, …) at ``chapter``: seeded, so a test can know the answers."""
    from ..practice import generate_set

    problems = []
    for practice in chapter.practice:
        seed = practice.seed + attempt * ATTEMPT_SEED_STRIDE
        problems += generate_set(practice.kind, practice.count, seed, practice.size, practice.difficulty)
    return problems


def quiz_questions(chapter: Chapter, attempt: int) -> list[Any]:
    """The chapter's quiz questions with their options shuffled for ``attempt`` (seeded)."""
    from ..practice import load_bank
    from ..practice.numbers import seeded

    bank = dict(zip(quiz_bank_ids(), load_bank()))
    rng = seeded(zlib.crc32(chapter.id.encode("utf-8")) * 1000 + attempt)
    return [bank[question].shuffled(rng) for question in chapter.quiz]
