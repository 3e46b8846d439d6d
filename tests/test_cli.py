"""The CLI's error contract: one line on stderr, exit 2 for bad arguments, 1 for failures."""

from __future__ import annotations

import re

import pytest

from glassgrad import cli
from glassgrad.commands.practice import KIND_HELP
from glassgrad.practice.problems import KINDS


@pytest.fixture
def failing_command(monkeypatch):
    """Register a command that raises whatever the test puts in ``raised``."""
    raised: list[BaseException] = []

    def boom() -> None:
        raise raised[0]

    # a private copy of the command list, restored after the test, so "boom" never leaks out
    cli._register_commands()
    monkeypatch.setattr(cli.app, "registered_commands", list(cli.app.registered_commands))
    cli.app.command(name="boom")(boom)
    return raised


@pytest.mark.parametrize("error, code", [
    (ValueError("bad value"), 2), (FileNotFoundError("no such file: x.csv"), 2), (PermissionError("denied"), 2),
    (cli.CommandError("unknown --data"), 2), (RuntimeError("shapes (2, 3) and (4,) cannot be broadcast"), 1),
    (IndexError("index 9 is out of bounds"), 1),
])
def test_errors_are_one_line(capsys, failing_command, error, code):
    failing_command.append(error)
    assert cli.main(["boom"]) == code
    err = capsys.readouterr().err
    assert err.startswith("glassgrad: error: ") and str(error) in err
    assert len(err.strip().splitlines()) == 1


def test_debug_shows_the_traceback(monkeypatch, failing_command):
    monkeypatch.setenv("GLASSGRAD_DEBUG", "1")
    failing_command.append(RuntimeError("inner"))
    with pytest.raises(RuntimeError, match="inner"):
        cli.main(["boom"])


def test_unknown_command_and_option_exit_2(capsys):
    assert cli.main(["no-such-command"]) == 2
    assert cli.main(["rules", "--no-such-option"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_practice_kind_help_names_every_kind_in_order():
    """`practice --kind`'s help is written out (the CLI does not import the practice package to start faster): it must
    name exactly the kinds practice.problems.KINDS deals, in that order, so a new kind cannot be left out of it."""
    listed = re.findall(r"[a-z]+(?:-[a-z]+)+", KIND_HELP.split(" (")[0])
    assert listed == list(KINDS), (listed, list(KINDS))
