"""``glassgrad trace NAME --format …``: every lesson in every format, to the terminal or a file."""

from __future__ import annotations

import json

import pytest
from test_trace_render import check_html

from glassgrad.cli import main


@pytest.mark.parametrize("name", ["diagonal-flip", "mlp3", "linear-regression"])
def test_every_lesson_renders_in_every_format(name, tmp_path, capsys):
    for format in ("text", "md", "html", "json"):
        path = tmp_path / f"{name}.{format}"
        assert main(["trace", name, "--format", format, "--out", str(path)]) == 0
        content = path.read_text(encoding="utf-8")
        assert "values rounded to 4 decimals" in content
        if format == "html":
            check_html(content)
        if format == "json":
            assert json.loads(content)["lesson"]["name"] == name
    capsys.readouterr()


def test_text_goes_to_the_terminal_and_ops_adds_the_op_level(capsys):
    assert main(["trace", "diagonal-flip", "--ops"]) == 0
    out = capsys.readouterr().out
    assert "Forward pass" in out and "Op level: backward" in out and "∂L/∂W₁ = ∂L/∂Z₁·Xᵀ" in out


def test_json_to_stdout_is_parseable(capsys):
    assert main(["trace", "mlp3", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["lesson"]["output_gradient"] == [0.5, -0.5, 0.0]
    assert document["real_network"]["loss"]["name"] == "cross_entropy"


@pytest.mark.parametrize("argv, message", [
    (["trace", "xor"], "diagonal-flip, mlp3, linear-regression"),
    (["trace", "mlp3", "--format", "pdf"], "text, md, html, json"),
    (["trace", "mlp3", "--out", "/no/such/folder/x.txt"], "does not exist"),
    (["trace", "mlp3", "--out", "{folder}"], "it is a folder; give a file name inside it"),
    (["graph", "mlp3", "--out", "{folder}"], "it is a folder; give a file name inside it"),
    (["experiment", "zero-grad", "--steps", "2", "--out", "{file}"], "is a file, not a folder"),
    (["tour", "--out", "{file}"], "is a file, not a folder"),
    (["experiment", "learning-rate", "--steps", "999999999999", "--out", "{folder}"],
     "--steps must be between 1 and 1000, got 999999999999"),  # it ran for ever
    (["experiment", "optimizers", "--steps", "1001", "--out", "{folder}"], "--steps must be between 1 and 1000"),
    (["experiment", "zero-grad", "--steps", "0", "--out", "{folder}"], "--steps must be between 1 and 1000, got 0"),
])
def test_bad_arguments_are_one_line_errors(argv, message, tmp_path, capsys):
    (tmp_path / "taken.txt").write_text("not a folder")
    argv = [arg.format(folder=tmp_path, file=tmp_path / "taken.txt") for arg in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_an_unwritable_out_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    def refuse(path, data):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("glassgrad.io.write_atomically", refuse)
    assert main(["trace", "mlp3", "--format", "md", "--out", str(tmp_path / "x.md")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"glassgrad: error: cannot write {tmp_path / 'x.md'}: Permission denied; "
                           "choose an --out you can write to")
