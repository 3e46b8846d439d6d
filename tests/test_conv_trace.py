"""The glass box on a CNN: convolution, pooling and embedding steps written from their rows, and each
written-out entry (a window's products, a weight's sum over positions) equal to the engine's numbers."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.trace.explain import Writer, trace_entry
from glassgrad.trace.render_json import render_json

EXACT = Writer(factor=repr, result=repr)


def _traced(model, x, target):
    with gg.trace() as tape:
        tape.watch(model)
        F.cross_entropy(model(x), target).backward()
    return tape.describe()


def _model(conv: dict, pool: gg.nn.Module, size: int = 6) -> gg.nn.Sequential:
    """Conv2d(2 → 4, 3×3) → ReLU → ``pool`` → Flatten → Linear(…, 3), float64, fixed weights."""
    gg.manual_seed(0)
    body = gg.nn.Sequential(gg.nn.Conv2d(2, 4, 3, dtype=gg.float64, **conv), gg.nn.ReLU(), pool, gg.nn.Flatten())
    features = body(gg.zeros(1, 2, size, size, dtype=gg.float64)).shape[1]
    return gg.nn.Sequential(*body, gg.nn.Linear(features, 3, dtype=gg.float64))


def _evaluate(entry) -> float:
    """The written sum of products (``a·b + c·d + e``) computed from its terms, as a reader would."""
    if entry.formula.startswith("max("):
        return max(term.value for term in entry.terms)
    if entry.formula.startswith("("):
        count = int(entry.formula.rsplit("/", 1)[1])
        return sum(term.value for term in entry.terms) / count
    total, position = 0.0, 0
    for product in entry.formula.split(" + "):
        factors = product.split("·")
        value = 1.0
        for _ in factors:
            value *= entry.terms[position].value
            position += 1
        total += value
    assert position == len(entry.terms)
    return total


SETTINGS = [{}, {"padding": 1}, {"stride": 2, "padding": 1}, {"dilation": 2, "padding": 2}, {"groups": 2}]


@pytest.mark.parametrize("conv", SETTINGS, ids=str)
def test_the_conv_step_is_written_from_its_row_and_every_entry_sums_to_the_engines_number(conv):
    model = _model(conv, gg.nn.MaxPool2d(2))
    x = gg.tensor(np.random.default_rng(1).normal(size=(2, 2, 6, 6)))
    document = _traced(model, x, gg.tensor([0, 2]))
    forward = document["forward"][0]
    assert forward["kind"] == "layer" and forward["op"] == "conv2d"
    stride, dilation = conv.get("stride", 1), conv.get("dilation", 1)
    shift = stride + dilation - 1 + conv.get("padding", 0)
    reads = f"{stride if stride > 1 else ''}i+{dilation if dilation > 1 else ''}u−{shift}"
    channel = "k" if conv.get("groups", 1) == 1 else "g(c)+k"
    assert forward["formula"].startswith(f"Z₁[n,c,i,j] = Σ_{{k,u,v}} W₁[c,k,u,v]·X[n,{channel},{reads},")
    assert ("padded by" in forward["formula"]) == ("padding" in conv)
    z = forward["output"]["values"]
    for index in [(0, 0, 0, 0), (1, 3, z.shape[2] - 1, z.shape[3] - 1), (1, 2, 0, z.shape[3] - 1)]:
        entry = trace_entry(forward, "forward", index, EXACT)
        assert entry.value == z[index]
        assert _evaluate(entry) == pytest.approx(z[index], rel=1e-12, abs=1e-12)
    backward = {step["role"]: step for step in document["backward"] if step["op"] == "conv2d"}
    assert backward["weight"]["formula"].startswith("∂L/∂W₁[c,k,u,v] = Σ_{n,i,j} ∂L/∂Z₁[n,c,i,j]·X[n,")
    assert backward["bias"]["formula"] == "∂L/∂b₁[c] = Σ_{n,i,j} ∂L/∂Z₁[n,c,i,j]"
    weight, bias = model[0].weight.grad.numpy(), model[0].bias.grad.numpy()
    for wanted in [(0, 0, 0, 0), (3, 1, 2, 1), (1, 0, 1, 2)]:
        index = tuple(min(i, size - 1) for i, size in zip(wanted, weight.shape))
        entry = trace_entry(backward["weight"], "backward", index, EXACT)
        assert entry.value == weight[index]
        assert _evaluate(entry) == pytest.approx(weight[index], rel=1e-10, abs=1e-12)
    for channel_index in range(4):
        entry = trace_entry(backward["bias"], "backward", (channel_index,), EXACT)
        assert _evaluate(entry) == pytest.approx(bias[channel_index], rel=1e-10, abs=1e-12)


def test_the_gradient_of_the_convs_input_written_out_is_the_engines():
    gg.manual_seed(3)
    conv = gg.nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype=gg.float64)
    x = gg.tensor(np.random.default_rng(2).normal(size=(2, 2, 5, 5)), requires_grad=True)
    with gg.trace() as tape:
        tape.watch(conv)
        (conv(x) ** 2).sum().backward()
    step = next(s for s in tape.describe()["backward"] if s["op"] == "conv2d" and s["role"] == "input")
    assert "/∂X[n,k,y,x] = Σ " in step["formula"] and "with 2i+u−3 = y, 2j+v−3 = x" in step["formula"]
    for index in [(0, 0, 0, 0), (1, 1, 2, 3), (1, 0, 4, 4)]:
        entry = trace_entry(step, "backward", index, EXACT)
        assert _evaluate(entry) == pytest.approx(x.grad.numpy()[index], rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("pool, symbol_formula", [
    (gg.nn.MaxPool2d(2), "P₁[n,c,i,j] = max_{u,v} A₁[n,c,2i+u−2,2j+v−2]"),
    (gg.nn.MaxPool2d(3, stride=1, padding=1), "P₁[n,c,i,j] = max_{u,v} A₁[n,c,i+u−2,j+v−2],  the input padded by 1"),
    (gg.nn.AvgPool2d(2), "P₁[n,c,i,j] = (1/4) Σ_{u,v} A₁[n,c,2i+u−2,2j+v−2]"),
    (gg.nn.AvgPool2d(3, 1, 1, count_include_pad=False), "P₁[n,c,i,j] = (1/the number of its entries inside"),
    (gg.nn.AdaptiveAvgPool2d((3, 2)), "P₁[n,c,i,j] = mean of A₁[n,c,h,w] over the window of (i, j)"),
])
def test_pooling_steps_and_their_entries(pool, symbol_formula):
    model = _model({"padding": 1}, pool)
    x = gg.tensor(np.random.default_rng(4).normal(size=(1, 2, 6, 6)))
    with gg.trace() as tape:
        tape.watch(model)
        model(x).sum().backward()
    document = tape.describe()
    step = next(s for s in document["forward"] if s["op"] in ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"))
    assert step["formula"].startswith(symbol_formula)
    values = step["output"]["values"]
    for index in np.ndindex(*values.shape):
        entry = trace_entry(step, "forward", index, EXACT)
        assert _evaluate(entry) == pytest.approx(values[index], rel=1e-12, abs=1e-12)
    backward = next(s for s in document["backward"] if s["op"] == step["op"])
    assert "/∂A₁[n,c," in backward["formula"].split(" = ")[0]


def test_the_trace_of_a_cnn_renders_to_json_and_the_explanation_reads_json_settings():
    import json
    model = _model({"padding": 1, "stride": 2}, gg.nn.MaxPool2d(3))
    document = _traced(model, gg.tensor(np.random.default_rng(5).normal(size=(1, 2, 6, 6))), gg.tensor([1]))
    back = json.loads(render_json(document))
    step = back["forward"][0]
    step["output"]["values"] = np.array(step["output"]["values"])
    for item in step["inputs"]:
        item["values"] = np.array(item["values"])
    entry = trace_entry(step, "forward", (0, 1, 2, 0), EXACT)
    assert _evaluate(entry) == pytest.approx(document["forward"][0]["output"]["values"][0, 1, 2, 0], rel=1e-12)


def test_an_embedding_step_is_a_lookup_written_from_its_row():
    gg.manual_seed(0)
    table = gg.nn.Embedding(5, 2, dtype=gg.float64)
    with gg.trace() as tape:
        tape.watch(table)
        (table(gg.tensor([[1, 4, 1]])) ** 2).sum().backward()
    document = tape.describe()
    forward = next(s for s in document["forward"] if s["op"] == "embedding")
    assert forward["formula"] == "E₁ = weight[X]"
    backward = next(s for s in document["backward"] if s["op"] == "embedding")
    assert backward["formula"].startswith("∂v₂/∂weight = row r: Σ ∂v₂/∂E₁[p, :] over the positions p whose index is r")
    np.testing.assert_array_equal(backward["output"]["values"], table.weight.grad.numpy())


def test_a_conv_without_bias_is_written_without_the_bias_term_and_its_entries_still_add_up():
    gg.manual_seed(1)
    conv = gg.nn.Conv1d(2, 3, 3, padding=1, bias=False, dtype=gg.float64)
    with gg.trace() as tape:
        tape.watch(conv)
        out = conv(gg.randn(1, 2, 5, dtype=gg.float64))
        out.sum().backward()
    step = tape.describe()["forward"][0]
    assert step["formula"] == ("Z₁[n,c,i] = Σ_{k,u} W₁[c,k,u]·X[n,k,i+u−2],  the input padded by 1 on each side "
                               "with zeros")
    entry = trace_entry(step, "forward", (0, 2, 4), EXACT)
    assert len(entry.terms) == 2 * 2 * 2  # 2 channels × the 2 offsets inside; the third reads the padding
    assert _evaluate(entry) == pytest.approx(out.numpy()[0, 2, 4], rel=1e-12)


@pytest.mark.parametrize("conv", [{"padding": 1}, {"stride": 2, "padding": 1}, {"dilation": 2, "padding": 2}], ids=str)
def test_the_formulas_index_arithmetic_counts_from_1_like_the_entries_it_explains(conv):
    model = _model(conv, gg.nn.MaxPool2d(2))
    document = _traced(model, gg.tensor(np.random.default_rng(6).normal(size=(1, 2, 6, 6))), gg.tensor([1]))
    step = document["forward"][0]
    stride, dilation, padding = conv.get("stride", 1), conv.get("dilation", 1), conv["padding"]
    shift = stride + dilation - 1 + padding
    z = step["output"]["values"]
    for index in np.ndindex(*z.shape):
        terms = trace_entry(step, "forward", index, EXACT).terms
        for weight, x in zip(terms[0:-1:2], terms[1:-1:2]):  # W₁[c,k,u,v]·X[n,k,row,column] pairs, then b₁
            for position, offset, read in zip(index[2:], weight.index[2:], x.index[2:]):
                assert read + 1 == stride * (position + 1) + dilation * (offset + 1) - shift
