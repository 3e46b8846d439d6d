"""The computational graph as SVG: one box per tensor, one arrow per input, values and gradients inside."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.cli import main
from glassgrad.lessons import diagonal_flip, linear_regression
from glassgrad.trace.graph import build_nodes, graph_svg, placed_nodes
from glassgrad.trace.numbers import format_number

SVG = "{http://www.w3.org/2000/svg}"


def boxes(svg: str) -> list[tuple[float, float, float, float]]:
    root = ET.fromstring(svg)
    return [tuple(float(rect.get(k)) for k in ("x", "y", "width", "height")) for rect in root.iter(f"{SVG}rect")]


@pytest.fixture(scope="module")
def flip():
    return diagonal_flip.run()


def test_layer_graph_of_the_lesson_has_its_ten_tensors_and_nine_arrows(flip):
    svg = graph_svg(flip)
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"X", "W₁", "b₁", "W₂", "b₂", "y"} <= set(texts)  # inputs: their symbol
    assert {"Z₁ = W₁·X + b₁", "A₁ = ReLU(Z₁)", "ŷ = W₂·A₁ + b₂"} <= set(texts)  # computed: their formula
    assert any(t and t.startswith("L = (1/n) Σ (ŷ − y)²") for t in texts)
    assert len(boxes(svg)) == 10
    assert len([p for p in root.iter(f"{SVG}path") if p.get("marker-end")]) == 3 + 1 + 3 + 2
    gradient = flip["gradients"]["2.bias"]
    assert any(t and "grad" in t and format_number(gradient[0]) in t for t in texts)


def test_boxes_do_not_overlap_and_inputs_sit_left_of_outputs(flip):
    for level in ("layer", "op"):
        placed = boxes(graph_svg(flip, level))
        for i, (x1, y1, w1, h1) in enumerate(placed):
            for x2, y2, w2, h2 in placed[i + 1:]:
                assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1
    nodes, _, _ = placed_nodes(flip)
    for node in nodes.values():
        for symbol in node.inputs:
            assert nodes[symbol].x < node.x


def test_op_level_shows_every_primitive_of_an_expression():
    document = linear_regression.run(steps=1)
    layer, op = build_nodes(document, "layer"), build_nodes(document, "op")
    assert set(layer) == set(op) >= {"w₀", "w₁", "x", "h(x)", "SSE", "L"}
    with pytest.raises(ValueError, match="'layer' or 'op'"):
        build_nodes(document, "module")


def test_graph_command_writes_svg(tmp_path, capsys):
    path = tmp_path / "g.svg"
    assert main(["graph", "mlp3", "--level", "op", "--out", str(path)]) == 0
    assert ET.fromstring(path.read_text(encoding="utf-8")).tag == f"{SVG}svg"
    assert main(["graph", "mlp3", "--level", "ops"]) == 2


def test_tape_graph_draws_any_traced_expression_op_by_op():
    x = gg.tensor([1.0, -2.0], requires_grad=True)
    with gg.trace() as tape:
        ((x * x).exp().sum()).backward()
    root = ET.fromstring(tape.graph(level="op"))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"v₁ = X·X", "v₂ = exp(v₁)", "v₃ = Σ v₂"} <= set(texts)
    gradient = 2 * np.array([1.0, -2.0]) * np.exp([1.0, 4.0])  # d/dx Σ exp(x²) = 2x·exp(x²)
    assert any(t and t.startswith("grad ") and format_number(gradient[1]) in t for t in texts)
