"""The problem kinds, and problem sets: generating them, and reading them back from JSON.

Each kind has a seeded generator ``generate(seed, size, difficulty) -> Problem``: the same
seed, size and difficulty give the same problem. Problem i of a set made from seed S has its own
seed, :func:`problem_seed` (S, i), mixed by NumPy's ``SeedSequence``: sets from seeds 1, 2, 3 share
no problems (with S + i, set 2's first problem would be set 1's second). A mixed set (no kind
named) deals the kinds out in a seeded order.

>>> problem = generate("forward-blank", seed=5)
>>> problem.equation
'Z = W·X'
>>> problem.check(str(problem.answer)).correct
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .chain_rule import chain_rule
from .gradient_kinds import relu_backward, softmax_ce_gradient
from .matmul_blank import backward_blank, forward_blank
from .numbers import seeded
from .numerical_gradient import numerical_gradient
from .problem import Problem
from .update_kinds import gd_update, linear_regression_step

FORMAT = "glassgrad-practice"
VERSION = 1
DIFFICULTIES = (1, 2, 3)
SEED_BITS = 63
MAX_SEED = 2**SEED_BITS - 1
"""The largest seed of a set (19 digits): a set's JSON keeps its seed, and :func:`load_problem_set` reads whole
numbers of at most :data:`LONGEST_INTEGER` digits. A random seed has ``SEED_BITS`` bits."""
MAX_SET_SIZE = 10_000
"""Problems in one set (a set is built whole in memory, and a printed one whole on the page)."""


@dataclass(frozen=True)
class Kind:
    """A problem kind: its name, what it drills, its generator and the sizes it supports."""

    name: str
    summary: str
    generate: Callable[[int, int, int], Problem]
    sizes: tuple[int, int]
    default_size: int


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("forward-blank", "Z = W·X with one blank in X or Z (size: W is size×size)", forward_blank, (2, 6), 3),
    Kind("backward-blank", "dZ = dW·X with one blank in X or dZ (size: dW is size×size)", backward_blank, (2, 6), 3),
    Kind("relu-backward", "dZ = dA ⊙ ReLU′(Z), one blank in dZ (size: vector length)", relu_backward, (2, 8), 4),
    Kind("softmax-ce-gradient", "∂L/∂z = ŷ − y for softmax + cross-entropy (size: classes)",
         softmax_ce_gradient, (2, 6), 3),
    Kind("gd-update", "new w = w − η·g, one blank in w, η, g or new w (size: weights)", gd_update, (1, 6), 3),
    Kind("linear-regression-step", "one batch GD step of h(x) = w₀ + w₁·x (size: data points)",
         linear_regression_step, (2, 6), 3),
    Kind("chain-rule", "one backward step of a small ReLU network (size: hidden units)", chain_rule, (2, 4), 3),
    Kind("numerical-gradient", "(L(w + h) − L(w − h))/(2h) against backprop's ∂L/∂w for a tiny model "
         "(size: examples)", numerical_gradient, (1, 3), 1),
)}


def generate(kind: str, seed: int, size: int | None = None, difficulty: int = 1) -> Problem:
    """One problem of ``kind``; ``size`` defaults to the kind's usual size."""
    chosen = _kind(kind)
    size = chosen.default_size if size is None else size
    low, high = chosen.sizes
    if not low <= size <= high:
        raise ValueError(f"size {size} does not fit kind {kind!r}: choose a size from {low} to {high}")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be 1, 2 or 3, not {difficulty}")
    return chosen.generate(int(seed), int(size), int(difficulty))


def generate_set(kind: str | None, count: int, seed: int, size: int | None = None,
                 difficulty: int = 1) -> list[Problem]:
    """``count`` problems, problem i from :func:`problem_seed` (seed, i); all kinds, dealt in a seeded order, when
    ``kind`` is None. ``seed``: a whole number from 0 to :data:`MAX_SEED`."""
    rng = seeded(seed)  # the one rule for seeds (a whole number from 0 up), for a set of one kind as for a mixed set
    if seed > MAX_SEED:
        raise ValueError(f"seed {seed} is too large for a problem set: choose one from 0 to 2**{SEED_BITS} - 1 "
                         f"({len(str(MAX_SEED))} digits), which its JSON file keeps and `practice check` reads back")
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    if count > MAX_SET_SIZE:
        raise ValueError(f"count {count} is more than the {MAX_SET_SIZE} problems one set can have; for more, make "
                         "several sets with different seeds")
    if kind is not None:
        _kind(kind)
        kinds = [kind] * count
    else:
        names = list(KINDS)
        order = rng.permutation(len(names))
        kinds = [names[order[i % len(names)]] for i in range(count)]
    return [generate(name, problem_seed(seed, i), size, difficulty) for i, name in enumerate(kinds)]


def problem_seed(seed: int, number: int) -> int:
    """The seed of problem ``number`` (from 0) of the set made from ``seed``: a hash of both, below 2³¹.

    >>> problem_seed(1, 1) == problem_seed(2, 0)
    False
    """
    return int(np.random.SeedSequence([seed, number]).generate_state(1, np.uint32)[0] >> 1)


def sheet_id(*choices: object) -> str:
    """A short name for a printed sheet that does not give its seed away (a one-way hash of the choices).

    A student who knows the seed can regenerate the answer key; from the id they can only guess seeds
    and compare, which is why a sheet's seed is random (a 63-bit number) unless the teacher names one.
    """
    return hashlib.sha256(repr(choices).encode()).hexdigest()[:8]


def problem_set_document(problems: Sequence[Problem], kind: str | None, seed: int) -> dict[str, Any]:
    """The JSON document that ``glassgrad practice generate --format json`` writes."""
    return {"format": FORMAT, "version": VERSION, "kind": kind or "mixed", "seed": seed, "count": len(problems),
            "problems": [problem.to_dict() for problem in problems]}


def schema() -> dict[str, Any]:
    """The JSON Schema of a problem-set document (shipped as ``glassgrad/practice/schema.json``)."""
    return json.loads(resources.files("glassgrad.practice").joinpath("schema.json").read_text(encoding="utf-8"))


def validate_document(document: Any) -> None:
    """Raise ``ValueError`` (one line, naming the place) if ``document`` is not a valid problem set."""
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(schema()).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(part) for part in errors[0].path) or "the top level"
        raise ValueError(f"not a glassgrad problem set: at {where}: {errors[0].message}")
    for number, problem in enumerate(document["problems"], 1):
        blank = problem["blank"]
        if blank["tensor"] not in problem["tensors"]:
            raise ValueError(f"problem {number}: the blank names tensor {blank['tensor']!r}, which is not in 'tensors'")
        entry: Any = problem["tensors"][blank["tensor"]]
        for i in blank["index"]:
            if not isinstance(entry, list) or i >= len(entry):
                raise ValueError(f"problem {number}: blank index {blank['index']} is outside "
                                 f"tensor {blank['tensor']!r}")
            entry = entry[i]
        if entry is not None:
            raise ValueError(f"problem {number}: the blank's entry must be null in 'tensors', found {entry!r}")


LONGEST_INTEGER = 30
"""Digits of the longest whole number a problem set holds (seeds are at most :data:`MAX_SEED`, 19 digits)."""


def load_problem_set(path: str | Path) -> list[Problem]:
    """Problems from a JSON file written by ``practice generate`` (validated first).

    ``ValueError`` (one line, naming the file and the fix) for a file that is not UTF-8 JSON text, is nested
    too deeply to read, or holds a ``NaN``/``Infinity`` or a whole number too long to be a problem's.
    """
    path = Path(path)
    if not path.is_file():
        if path.is_dir():
            raise IsADirectoryError(f"the problem-set file {path} is a folder, not a file: give a file written by "
                                    "`glassgrad practice generate --format json`")
        raise FileNotFoundError(f"no such problem-set file: {path}")
    fix = "give a file written by `glassgrad practice generate --format json`"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a problem set: it is not UTF-8 text; {fix}") from None
    try:
        document = json.loads(text, parse_constant=_no_constant, parse_int=_short_integer)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON (line {error.lineno}: {error.msg})") from None
    except RecursionError:
        raise ValueError(f"{path} is not a problem set: its JSON is nested too deeply to read; {fix}") from None
    except ValueError as error:  # from _no_constant or _short_integer
        raise ValueError(f"{path} is not a problem set: it holds {error}; {fix}") from None
    validate_document(document)
    return [Problem.from_dict(problem) for problem in document["problems"]]


def _no_constant(name: str) -> None:
    raise ValueError(f"{name}, which is not a number a problem can use")


def _short_integer(text: str) -> int:
    if len(text.lstrip("-")) > LONGEST_INTEGER:
        raise ValueError(f"a whole number of {len(text.lstrip('-'))} digits, too long to be a problem's")
    return int(text)


def _kind(name: str) -> Kind:
    if name not in KINDS:
        raise ValueError(f"unknown problem kind {name!r}: choose one of {', '.join(KINDS)}")
    return KINDS[name]
