"""Round 153: memory layouts of elementwise results and gradients, convolutions with no channel, ``rot90``'s dims
given as one int, and the step-through's refused edits named as the page counts.

Oracle: PyTorch 2.13 CPU (values in float64 to 1e-12, strides, ``is_contiguous`` in both formats, whether a
``view`` works, exception classes). An elementwise op of operands laid out in different orders is a deliberate,
documented difference (README: NumPy's order, where PyTorch's result takes the first operand's): its values are
checked here, and its layout pinned as the README says it.
"""

from __future__ import annotations

import itertools

import browser
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.playground import create_app

LAYOUTS = ("row-major", "channels-last", "permuted", "transposed-last", "expanded", "stepped", "broadcast")


def laid_out(lib, values: np.ndarray, layout: str):
    """A float64 tensor of ``values`` (shape (N, C, H, W)) in ``layout``, made the same way in both libraries."""
    if layout == "row-major":
        return lib.tensor(values)
    if layout == "channels-last":
        return lib.tensor(values).contiguous(memory_format=lib.channels_last)
    if layout == "permuted":  # column-major: memory holds the reversed dims
        return lib.tensor(np.ascontiguousarray(values.transpose(3, 2, 1, 0))).permute(3, 2, 1, 0)
    if layout == "transposed-last":
        return lib.tensor(np.ascontiguousarray(values.swapaxes(2, 3))).transpose(2, 3)
    if layout == "expanded":
        return lib.tensor(np.ascontiguousarray(values[:, :1])).expand(*values.shape)
    if layout == "stepped":  # every other entry of a row twice as long
        wide = np.repeat(values, 2, axis=-1)
        return lib.tensor(wide)[..., ::2]
    return lib.tensor(np.ascontiguousarray(values[0, :, :1, :1]))  # (C, 1, 1), broadcast against (N, C, H, W)


def values_of(layout: str, values: np.ndarray) -> np.ndarray:
    """The entries ``laid_out`` holds (an expanded or broadcast tensor repeats a slice)."""
    if layout == "expanded":
        return np.broadcast_to(values[:, :1], values.shape)
    if layout == "broadcast":
        return values[0, :, :1, :1]
    return values


BINARY = {"add": lambda lib, a, b: a + b, "mul": lambda lib, a, b: a * b, "sub": lambda lib, a, b: a - b,
          "div": lambda lib, a, b: a / (b * b + 1), "maximum": lambda lib, a, b: lib.maximum(a, b),
          "atan2": lambda lib, a, b: lib.atan2(a, b), "where": lambda lib, a, b: lib.where(a > b, a, b)}
COMPARE = {"lt": lambda a, b: a < b, "eq": lambda a, b: a == b, "ge": lambda a, b: a >= b}
UNARY = {"tanh": lambda x: x.tanh(), "neg": lambda x: -x, "exp": lambda x: x.exp(), "relu": lambda x: x.relu(),
         "scaled": lambda x: x * 2.5, "shifted": lambda x: x - 1, "sigmoid": lambda x: x.sigmoid()}

shapes = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(1, 4))


def drawn(data, shape: tuple) -> np.ndarray:
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    return np.random.default_rng(seed).integers(-4, 5, size=shape).astype(np.float64) / 2  # ties for comparisons


def seen_layout(t) -> tuple:
    """What a learner can see of a layout: the strides of the dims of size > 1 (a dim of size 1 may step
    anything, which no view reads), ``is_contiguous`` in both formats."""
    lib = gg if isinstance(t, gg.Tensor) else __import__("torch")
    steps = tuple(s for s, n in zip(t.stride(), t.shape) if n > 1)
    return steps, t.is_contiguous(), t.is_contiguous(memory_format=lib.channels_last)


def views_of(t) -> list:
    """Whether each of a few views works: merging neighbouring dims, or all of them."""
    results = []
    for shape in ((-1,), (t.shape[0], -1), (t.shape[0] * t.shape[1], -1), tuple(t.shape[:3]) + (-1,)):
        try:
            t.view(*shape)
            results.append(True)
        except RuntimeError:
            results.append(False)
    return results


@settings(max_examples=60, deadline=None)
@given(data=st.data(), shape=shapes, first=st.sampled_from(LAYOUTS), second=st.sampled_from(LAYOUTS),
       op=st.sampled_from(sorted(BINARY)))
def test_elementwise_values_of_any_two_layouts_are_pytorchs(torch, data, shape, first, second, op):
    a_values, b_values = drawn(data, shape), drawn(data, shape)
    expected = BINARY[op](torch, laid_out(torch, a_values, first), laid_out(torch, b_values, second))
    got = BINARY[op](gg, laid_out(gg, a_values, first), laid_out(gg, b_values, second))
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    for name, compare in COMPARE.items():
        got_compared = compare(laid_out(gg, a_values, first), laid_out(gg, b_values, second))
        expected_compared = compare(laid_out(torch, a_values, first), laid_out(torch, b_values, second))
        assert np.array_equal(got_compared.numpy(), expected_compared.numpy()), name


@settings(max_examples=60, deadline=None)
@given(data=st.data(), shape=shapes, layout=st.sampled_from(LAYOUTS[:-1]), op=st.sampled_from(sorted(UNARY)))
def test_an_elementwise_result_of_one_layout_is_laid_out_as_pytorchs(torch, data, shape, layout, op):
    """One operand, or two in the same order: PyTorch's and NumPy's rules agree, to every view."""
    values = drawn(data, shape)
    results = {}
    for lib in (torch, gg):
        x = laid_out(lib, values, layout)
        results[lib] = [UNARY[op](x), x + x, lib.where(x > 0, x, x * 3), x < 1]
    for expected, got in zip(results[torch], results[gg]):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)
        if layout != "expanded":  # an expanded operand gives a fresh row-major result in both
            assert seen_layout(got) == seen_layout(expected), (layout, op)
        assert views_of(got) == views_of(expected), (layout, op)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shape=shapes, layout=st.sampled_from(LAYOUTS[1:4]), other=st.sampled_from(LAYOUTS))
def test_an_in_place_op_keeps_its_tensors_layout_as_pytorch(torch, data, shape, layout, other):
    a_values, b_values = drawn(data, shape), drawn(data, shape)
    changed = {}
    for lib in (torch, gg):
        a = laid_out(lib, a_values, layout).clone()
        before = a.stride()
        a.mul_(laid_out(lib, b_values, other)).add_(1)
        assert a.stride() == before
        changed[lib] = a
    np.testing.assert_allclose(changed[gg].numpy(), changed[torch].numpy(), rtol=1e-12)
    assert seen_layout(changed[gg]) == seen_layout(changed[torch])


def test_operands_in_different_orders_give_numpys_order_as_the_readme_says(torch):
    """The documented difference, pinned: PyTorch's result takes the first operand's order, glassgrad's
    NumPy's (row-major where an operand is); the values are PyTorch's."""
    values = np.arange(1.0, 121.0).reshape(2, 3, 4, 5)
    for first, second in (("channels-last", "row-major"), ("permuted", "row-major"), ("channels-last", "stepped")):
        expected = laid_out(torch, values, first) + laid_out(torch, values, second)
        got = laid_out(gg, values, first) + laid_out(gg, values, second)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
        assert not expected.is_contiguous() and got.is_contiguous(), (first, second)
    a = np.arange(6.0).reshape(2, 3)
    expected, got = torch.tensor(a).t() + torch.tensor(a.T.copy()), gg.tensor(a).t() + gg.tensor(a.T.copy())
    assert expected.stride() == (1, 3) and got.stride() == (2, 1)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("layout", ["channels-last", "permuted"])
@pytest.mark.parametrize("use", ["scaled", "plus a row-major tensor", "row-major tensor times it", "summed",
                                 "reshaped", "sliced"])
def test_a_leafs_gradient_is_laid_out_as_the_leaf_as_pytorchs(torch, layout, use):
    """PyTorch's gradient layout contract: a leaf whose entries sit densely gets ``.grad`` in its own strides."""
    values = np.arange(1.0, 121.0).reshape(2, 3, 4, 5)
    uses = {"scaled": lambda lib, x: x * 2, "plus a row-major tensor": lambda lib, x: x + lib.tensor(values),
            "row-major tensor times it": lambda lib, x: lib.tensor(values) * x, "summed": lambda lib, x: x,
            "reshaped": lambda lib, x: x.reshape(-1) * 1, "sliced": lambda lib, x: x[:, :, ::2]}
    grads = {}
    for lib in (torch, gg):
        x = laid_out(lib, values, layout).detach().requires_grad_()
        (uses[use](lib, x) ** 2).sum().backward()
        grads[lib] = x.grad
    assert grads[gg].stride() == grads[torch].stride()
    np.testing.assert_allclose(grads[gg].numpy(), grads[torch].numpy(), rtol=1e-12)


# --- convolutions with a dim of size 0 ---------------------------------------------------------------------------


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_a_convolution_with_no_input_channel_is_refused_in_one_line_not_given_pytorchs_shape(torch, dims):
    """PyTorch 2.13 returns (N, 0, …) for (C, 0, k…) weights, where C channels (each its bias) are due: glassgrad
    refuses it, never a wrong shape (README)."""
    size, kernel = (5,) * dims, (3,) * dims
    function = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[dims]
    torch_function = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d,
                      3: torch.nn.functional.conv3d}[dims]
    result = torch_function(torch.ones(2, 0, *size, dtype=torch.float64), torch.ones(3, 0, *kernel,
                                                                                      dtype=torch.float64))
    assert result.shape[1] != 3  # PyTorch's result has not out_channels channels: why glassgrad refuses
    with pytest.raises(RuntimeError, match=r"has a dim of size 0") as error:
        function(gg.ones(2, 0, *size, dtype=gg.float64), gg.ones(3, 0, *kernel, dtype=gg.float64), gg.ones(3))
    assert "\n" not in str(error.value) and "at least 1" in str(error.value)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("weight", ["no output channel", "no input channel", "neither"])
def test_a_transposed_convolution_with_a_channel_count_of_0_raises_pytorchs_class(torch, dims, weight):
    inputs, outputs = {"no output channel": (3, 0), "no input channel": (0, 3), "neither": (0, 0)}[weight]
    size, kernel = (5,) * dims, (3,) * dims
    names = {1: "conv_transpose1d", 2: "conv_transpose2d", 3: "conv_transpose3d"}
    with pytest.raises(Exception) as expected:
        getattr(torch.nn.functional, names[dims])(torch.ones(2, inputs, *size, dtype=torch.float64),
                                                  torch.ones(inputs, outputs, *kernel, dtype=torch.float64))
    with pytest.raises(expected.type) as error:
        getattr(F, names[dims])(gg.ones(2, inputs, *size, dtype=gg.float64),
                                gg.ones(inputs, outputs, *kernel, dtype=gg.float64))
    assert "\n" not in str(error.value) and "size 0" in str(error.value)


# --- rot90 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dims", [0, 1, None, 1.5])
@pytest.mark.parametrize("form", ["function", "method"])
def test_rot90_of_dims_given_as_one_value_says_to_give_a_pair(torch, dims, form):
    call = {"function": lambda lib: lib.rot90(lib.ones(2, 3), 1, dims),
            "method": lambda lib: lib.ones(2, 3).rot90(1, dims)}[form]
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(expected.type) as error:
        call(gg)
    message = str(error.value)
    assert "\n" not in message and "dims" in message and "(0, 1)" in message and "not iterable" not in message


def test_rot90_of_a_pair_still_turns_as_pytorch(torch):
    values = np.arange(24.0).reshape(2, 3, 4)
    for k, dims in itertools.product(range(-2, 5), [(0, 1), [1, 2], (2, 0), (-1, -2)]):
        expected = torch.rot90(torch.tensor(values), k, dims)
        np.testing.assert_array_equal(gg.rot90(gg.tensor(values), k, dims).numpy(), expected.numpy())


# --- the step-through's refused edits --------------------------------------------------------------------------

starlette_testclient = pytest.importorskip("starlette.testclient")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(output_dir=tmp_path_factory.mktemp("out"))
    with starlette_testclient.TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def refusal(client, actions: str, example: str = "mlp3") -> str:
    response = client.post("/api/step", json={"example": example, "actions": actions})
    assert response.status_code == 422, response.text
    return response.json()["error"]


def page_label(client, cell: str, example: str = "mlp3") -> str:
    """The entry's name as the page's edit form shows it ("New value for y[1]")."""
    return client.post("/api/step/explain", json={"example": example, "actions": "", "cell": cell}).json()["label"]


@pytest.mark.parametrize(("action", "cell", "said"), [
    ("y[0]=1.5", "y[0]", "class index, a whole number from 0 to 2 (class 1 to class 3 as the page counts)"),
    ("y[0]=7", "y[0]", "class index, a whole number from 0 to 2 (class 1 to class 3 as the page counts)"),
    ("x[1]=abc", "x[1]", "is not a number"),
    ("W1[1,0]=1e9", "W1[1,0]", "out of range"),
    ("b2[3]=500", "b2[3]", "out of range"),
])
def test_a_refused_edit_names_the_entry_as_the_page_labels_it(client, action, cell, said):
    message = refusal(client, f"f {action}")
    label = page_label(client, cell)
    assert f"the page's {label}, counting from 1" in message, (message, label)
    assert f"action 2 ('{action}'" in message and said in message and "\n" not in message


@pytest.mark.parametrize(("action", "named"), [("W1[5,0]=1", "W₁[6,1]"), ("x[9]=1", "X[10]"), ("y[1]=0", "y[2]")])
def test_an_edit_outside_the_tensor_names_the_missing_entry_counting_from_1(client, action, named):
    message = refusal(client, action)
    assert f"the page's {named}, counting from 1" in message and "the entry is outside" in message
    assert "index [" not in message  # the code's 0-based list, which read as the page's position


@settings(max_examples=25, deadline=None)
@given(layer=st.integers(1, 3), row=st.integers(0, 3), column=st.integers(0, 3))
def test_every_weights_refused_edit_names_the_label_its_cell_has(client, layer, row, column):
    rows, columns = client.post("/api/step", json={"example": "mlp3"}).json()["layers"][layer - 1]["W"]["shape"]
    row, column = row % rows, column % columns
    message = refusal(client, f"W{layer}[{row},{column}]=101")
    assert f"the page's {page_label(client, f'W{layer}[{row},{column}]')}, counting from 1" in message


def test_the_page_shows_a_refused_edit_by_the_entrys_label_on_a_laptop_and_a_phone(tmp_path):
    browser.require_playwright()
    with browser.playground(tmp_path / "out") as (url, _), browser.chromium() as chromium:
        for name, viewport in browser.VIEWPORTS.items():
            with browser.offline_page(chromium, viewport, timeout_ms=15_000,
                                      ignore=lambda text: "status of 422" in text) as page:  # 422: in words
                page.goto(f"{url}/?view=step&s_example=mlp3")
                page.locator('#step-matrices [data-cell="y[0]"]').click()
                form = page.locator("#view-step #edit-form")
                form.wait_for()
                assert page.locator("#view-step #edit-label").inner_text() == "New value for y[1]"
                page.locator("#view-step #edit-value").fill("1.5")
                page.locator("#view-step #edit-value").press("Enter")
                text = page.locator("#error-text")
                text.wait_for()
                assert "the page's y[1], counting from 1" in text.inner_text()
                assert "from 0 to 2 (class 1 to class 3 as the page counts)" in text.inner_text()
                browser.assert_seen(text, f"the refusal at {name}")
                box = text.bounding_box()
                assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], f"{name}: {box}"
                browser.assert_no_sideways_scroll(page, f"the step-through at {name}")
                browser.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(browser.SCREENSHOTS / f"step_refused_edit153_{name}.png"))
