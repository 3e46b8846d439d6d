"""`glassgrad rules` prints every op's formula and derivatives exactly as the rule table writes them
(square brackets included: rich would read ``[index]`` as markup and drop it)."""

from __future__ import annotations

import pytest

from glassgrad import cli
from glassgrad.ops import RULES


def test_rules_prints_every_formula_whole(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "500")  # one table row per line: each formula can be found whole
    assert cli.main(["rules"]) == 0
    printed = capsys.readouterr().out
    for op in RULES.values():
        assert op.formula in printed, f"{op.name}: {op.formula!r} is not printed whole"
        for line in op.derivative_lines():
            assert line in printed, f"{op.name}: {line!r} is not printed whole"
    assert "out = a[index]" in printed and "out = [a₁, a₂, …] joined along a dim" in printed


@pytest.mark.parametrize(("command", "switch"), [("serve", "--no-browser"), ("tour", "--interactive"),
                                                 ("trace", "--ops")])
def test_a_switch_is_listed_without_a_value(capsys, monkeypatch, command, switch):
    """Help that said ``--no-browser <bool>`` invited ``--no-browser true``, which fails."""
    monkeypatch.setenv("COLUMNS", "200")
    assert cli.main([command, "--help"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if switch in line)
    assert "<bool>" not in line and "give it alone" in line
