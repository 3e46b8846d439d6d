"""Problem sets for a class: sets from different seeds are independent, and a printed sheet does not
show the seed its answer key could be regenerated from."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgrad.cli import main
from glassgrad.practice import KINDS, generate_set


def _fingerprint(problem) -> str:
    """What a student sees of a problem: its question and every number shown."""
    return json.dumps({"question": problem.question,
                       "tensors": {name: [str(v) for v in values.ravel()] for name, values in problem.tensors.items()}})


@pytest.mark.parametrize("kind", list(KINDS))
def test_three_students_with_seeds_1_2_3_get_different_sheets(kind):
    """With seed + i they shared 8 or 9 of 10 problems; now only a chance match (a kind with few small
    problems, softmax-ce-gradient, can draw the same three probabilities twice)."""
    sets = [[_fingerprint(problem) for problem in generate_set(kind, 10, seed)] for seed in (1, 2, 3)]
    for a, b in ((0, 1), (1, 2), (0, 2)):
        shared = len(set(sets[a]) & set(sets[b]))
        assert shared <= 2, f"seeds {a + 1} and {b + 1} share {shared} of 10 {kind} problems"


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**40), st.integers(1, 5))
def test_neighbouring_seeds_never_reuse_a_problem_seed(seed, shift):
    first = [p.seed for p in generate_set("forward-blank", 8, seed)]
    second = [p.seed for p in generate_set("forward-blank", 8, seed + shift)]
    assert set(first).isdisjoint(second) and len(set(first)) == 8


def test_a_printed_sheet_shows_an_id_not_the_seed(tmp_path, capsys):
    seed = "987654321"
    for form in ("md", "html"):
        out = tmp_path / f"sheet.{form}"
        assert main(["practice", "generate", "--count", "4", "--seed", seed, "--format", form, "--out", str(out)]) == 0
        text = out.read_text(encoding="utf-8")
        assert seed not in text and "(sheet " in text
    capsys.readouterr()


def test_without_a_seed_each_sheet_is_new(tmp_path, capsys):
    documents = []
    for n in range(2):
        out = tmp_path / f"set{n}.json"
        assert main(["practice", "generate", "--count", "3", "--out", str(out)]) == 0
        documents.append(json.loads(out.read_text(encoding="utf-8")))
    capsys.readouterr()
    assert documents[0]["seed"] != documents[1]["seed"]  # kept in the JSON (the teacher's copy)
    assert [p["question"] + str(p["tensors"]) for p in documents[0]["problems"]] != \
        [p["question"] + str(p["tensors"]) for p in documents[1]["problems"]]


@pytest.mark.parametrize("command", [["generate", "--count", "2"], ["sheet"]])
def test_an_unwritable_out_names_it_not_the_temporary_file(tmp_path, capsys, refuse_new_files, command):
    out = tmp_path / "sheet.txt"
    refuse_new_files()
    assert main(["practice", *command, "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == f"glassgrad: error: cannot write {out}: Operation not permitted; choose an --out you can write to"
