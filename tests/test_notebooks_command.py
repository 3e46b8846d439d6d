"""``glassgrad notebook``: copies the packaged notebooks into the learner's folder, opens them in JupyterLab,
and says in one line how to install JupyterLab when it is missing."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import types

from glassgrad.cli import main
from glassgrad.notebooks import notebook_paths


def _digests() -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in notebook_paths()}


def test_without_jupyterlab_one_line_names_the_extra_and_exits_non_zero(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "jupyterlab", None)  # import jupyterlab now raises ImportError
    folder = tmp_path / "mine"
    code = main(["notebook", "--folder", str(folder)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and 'pip install "glassgrad[notebook]"' in err
    assert not folder.exists()


def test_copy_only_copies_every_notebook_and_keeps_the_learners_edits(tmp_path, capsys):
    packaged = _digests()
    folder = tmp_path / "mine"
    assert main(["notebook", "--copy-only", "--folder", str(folder)]) == 0
    assert "11 notebooks copied" in capsys.readouterr().out
    copies = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir()}
    assert copies == packaged
    edited = folder / "05-diagonal-flip.ipynb"
    edited.write_text("my own notes", encoding="utf-8")
    assert main(["notebook", "--copy-only", "--folder", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "0 notebooks copied" in out and "11 already there, kept as they are" in out
    assert edited.read_text(encoding="utf-8") == "my own notes"
    assert _digests() == packaged  # the installed notebooks are never edited


def test_opens_the_chosen_copy_in_jupyterlab(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "jupyterlab", types.ModuleType("jupyterlab"))
    launched = []
    monkeypatch.setattr(subprocess, "call", lambda args: launched.append(args) or 0)
    folder = tmp_path / "mine"
    assert main(["notebook", "diagonal-flip", "--folder", str(folder)]) == 0
    assert launched == [[sys.executable, "-m", "jupyterlab", str(folder / "05-diagonal-flip.ipynb")]]
    assert (folder / "05-diagonal-flip.ipynb").is_file()
    launched.clear()
    assert main(["notebook", "7", "--folder", str(folder)]) == 0
    assert launched[0][-1] == str(folder / "07-softmax-cross-entropy.ipynb")


def test_an_unknown_notebook_is_one_line_listing_the_names(tmp_path, capsys):
    code = main(["notebook", "backprop-by-magic", "--copy-only", "--folder", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "backprop-by-magic" in err and "05-diagonal-flip" in err


def test_a_folder_that_is_a_file_is_one_line_naming_the_option(tmp_path, capsys):
    taken = tmp_path / "existing.txt"
    taken.write_text("not a folder")
    assert main(["notebook", "5", "--copy-only", "--folder", str(taken)]) == 2
    assert capsys.readouterr().err.strip() == (f"glassgrad: error: --folder {taken} is a file, not a folder: give a "
                                               "folder for the files to go in")


def test_a_folder_that_refuses_new_files_is_one_line_naming_it(tmp_path, capsys, refuse_new_files):
    folder = tmp_path / "mine"
    refuse_new_files()
    assert main(["notebook", "--copy-only", "--folder", str(folder)]) == 2
    assert capsys.readouterr().err.strip() == (f"glassgrad: error: cannot write {folder}: Operation not permitted; "
                                               "give --folder a folder you can write to")
