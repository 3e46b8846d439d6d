"""A learner's usual mistakes in a notebook: each gets one line naming the problem and the fix.

StepThrough given a layer it cannot draw or a frozen model, ``check`` given a vector for a number, a history of
one epoch, and one lesson notebook run end to end with a vector typed as the answer. PyTorch is the oracle for
the widget's numbers on a ``.double()`` model and on a compiled one.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.course import check
from glassgrad.training import History

pytest.importorskip("anywidget", reason="the dev extra installs anywidget")
from glassgrad.widgets.stepthrough import StepThrough  # noqa: E402

nn = gg.nn
X, Y = [0.5, -1.0], [1.0]


def mlp(*middle: nn.Module) -> nn.Module:
    gg.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), *middle, nn.Tanh(), nn.Linear(3, 1))


def one_line_error(make, kind=ValueError) -> str:
    with pytest.raises(kind) as caught:
        make()
    message = str(caught.value)
    assert "\n" not in message, message
    return message


@pytest.mark.parametrize("layer, name", [
    (lambda: nn.BatchNorm1d(3), "BatchNorm1d"),
    (lambda: nn.LayerNorm(3), "LayerNorm"),
])
def test_a_layer_with_parameters_other_than_linear_is_named_with_the_fix(layer, name):
    message = one_line_error(lambda: StepThrough(mlp(layer()), X, Y))
    assert name in message and "nn.Linear layers and activations" in message, message
    assert "batch of 2" not in message  # BatchNorm's own advice cannot be followed in a one-sample widget


def test_a_conv_model_is_named_not_blamed_on_the_input_shape():
    message = one_line_error(lambda: StepThrough(nn.Sequential(nn.Conv2d(1, 1, 2)), X, Y))
    assert "Conv2d" in message and "nn.Linear" in message and "(N, C, H, W)" not in message, message


@pytest.mark.parametrize("middle", [lambda: nn.Dropout(0.5), lambda: nn.Softmax(dim=-1)])
def test_a_layer_without_parameters_it_cannot_draw_says_what_to_build(middle):
    message = one_line_error(lambda: StepThrough(mlp(middle()), X, Y))
    assert "none of these: build the model from nn.Linear layers and activations" in message, message


@pytest.mark.parametrize("frozen", ["all", "one"])
def test_a_frozen_model_is_named_not_a_key_error(frozen):
    model = mlp()
    parameters = list(model.parameters()) if frozen == "all" else [model[0].weight]
    for parameter in parameters:
        parameter.requires_grad_(False)
    message = one_line_error(lambda: StepThrough(model, X, Y))
    assert "0.weight" in message and "requires_grad_(True)" in message, message
    assert not model[0].weight.requires_grad  # the learner's model is left as it was


@pytest.mark.parametrize("target", [[1.0, 2.0], [0.5, 1.0, 2.0]])
def test_a_target_of_the_wrong_length_says_one_per_output(target):
    message = one_line_error(lambda: StepThrough(mlp(), X, target))
    assert f"y holds {len(target)} values and the model gives 1 output:" in message, message
    assert "reshape" not in message


@pytest.mark.parametrize("loss", [nn.MSELoss, nn.CrossEntropyLoss])
def test_a_loss_class_instead_of_a_loss_module_says_to_call_it(loss):
    message = one_line_error(lambda: StepThrough(mlp(), X, [0], loss=loss))
    assert f"loss=gg.nn.{loss.__name__}()" in message, message


def test_a_pytorch_model_is_named_as_pytorch_s(torch):
    message = one_line_error(lambda: StepThrough(torch.nn.Sequential(torch.nn.Linear(2, 1)), X, Y), TypeError)
    assert "got torch.nn." in message and "gg.nn.Sequential" in message, message


@pytest.mark.parametrize("wrap", ["double", "compiled"])
def test_widget_numbers_equal_pytorch_float64_and_the_model_stays(wrap, torch):
    model = mlp().double()
    stepped = gg.compile(copy.deepcopy(model)) if wrap == "compiled" else model
    before = [p.array.copy() for p in stepped.parameters()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a compiled model steps as its model: no warning the learner cannot act on
        widget, replies = StepThrough(stepped, X, Y, lr=0.3), []
        widget.send = lambda content, buffers=None: replies.append(content)
        widget._handle_custom_msg({"id": "1", "path": "/api/step", "body": {"lr": 0.3, "actions": "f b b u"}}, [])
    layers = replies[0]["data"]["layers"]
    reference = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()
    with torch.no_grad():
        for mine, theirs in zip(model.parameters(), reference.parameters()):
            theirs.copy_(torch.tensor(mine.array))
    torch.nn.functional.mse_loss(reference(torch.tensor([X], dtype=torch.float64)),
                                 torch.tensor([Y], dtype=torch.float64)).backward()
    expected = [(p - 0.3 * p.grad).detach().numpy() for p in reference.parameters()]
    for number, layer in enumerate(layers):
        np.testing.assert_allclose(layer["W"]["values"], expected[2 * number], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer["b"]["values"], expected[2 * number + 1], rtol=1e-12, atol=1e-14)
    for parameter, old in zip(stepped.parameters(), before):
        np.testing.assert_array_equal(parameter.array, old)


def test_a_frozen_compiled_model_names_its_own_parameters():
    model = mlp()
    model[0].weight.requires_grad_(False)
    message = one_line_error(lambda: StepThrough(gg.compile(model), X, Y))
    assert "0.weight does not require grad" in message and "_orig_mod" not in message, message


@pytest.mark.parametrize("answer, expected", [(0.4400001, 0.44), (0.44, 0.44003), (-1.2346, -1.234567891)])
def test_a_near_miss_states_the_tolerance_and_what_to_type(answer, expected):
    result = check(answer, expected)
    assert result.status == "wrong" and "\n" not in result.message
    assert "within ±1e-09" in result.message and "rounded to 4 decimals" in result.message, result.message


@pytest.mark.parametrize("answer, expected, tolerance", [(0.45, 0.44, None), (0.44, 0.44003, 1e-6)])
def test_a_plain_miss_or_a_stated_tolerance_adds_nothing(answer, expected, tolerance):
    message = check(answer, expected, tolerance).message
    assert message.startswith("Not quite") and "Close" not in message, message


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=3).filter(lambda s: s not in ([1],)),
       kind=st.sampled_from(["tensor", "numpy"]))
def test_check_names_an_answer_of_several_numbers_and_its_shape(shape, kind):
    values = np.full(shape, 0.44)
    answer = gg.tensor(values) if kind == "tensor" else values
    result = check(answer, 0.44)
    assert result.status == "unreadable"
    assert f"{values.size} numbers" in result.message and str(tuple(shape)) in result.message, result.message
    assert ".item()" in result.message and "\n" not in result.message


def test_a_history_of_one_epoch_says_one_epoch():
    html = History([{"epoch": 1, "train_loss": 0.5}])._repr_html_()
    assert "1 epoch<" in html and "1 epochs" not in html


@pytest.mark.parametrize("value, dtype", [(3, "int64"), (-2**40, "int64"), (True, "bool"), (0, "int32")])
def test_a_zero_dim_integer_or_bool_tensor_is_shown_whole_as_in_one_dim(value, dtype, torch):
    html = gg.tensor(value, dtype=getattr(gg, dtype))._repr_html_()
    one_dim = gg.tensor([value], dtype=getattr(gg, dtype))._repr_html_()
    whole = str(torch.tensor(value).item())  # the number itself, no decimals; a bool True/False, as PyTorch prints it
    assert f">{whole}</span>" in html and f">{whole}</td>" in one_dim, html
    assert ".0000" not in html.split("</style>")[1] and "e+" not in html.split("</style>")[1]


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 4)])
def test_an_empty_tensor_says_it_is_empty(shape):
    html = gg.zeros(*shape)._repr_html_()
    assert "the tensor is empty" in html and "<tr></tr>" not in html


def test_the_tape_of_a_step_that_failed_before_its_first_op_says_nothing_was_recorded(torch):
    model = nn.Linear(2, 1)
    with pytest.raises(RuntimeError), gg.trace(model) as tape:
        model(gg.tensor([[1.0, 2.0, 3.0]]))  # a wrong input size: the op raises before it is recorded
    with pytest.raises(RuntimeError):  # PyTorch raises the same class for this mistake
        torch.nn.Linear(2, 1)(torch.ones(1, 3))
    assert "Nothing recorded" in tape._repr_html_() and "Nothing recorded" in tape.render("text")
    with gg.trace(model) as working:
        model(gg.tensor([[1.0, 2.0]]))
    assert "Nothing recorded" not in working._repr_html_()


def test_a_module_named_script_is_escaped():
    model = nn.Module()
    model.add_module("<script>alert(1)</script>", nn.Linear(1, 1))
    assert "<script>alert" not in model._repr_html_()


def test_a_notebook_answered_with_a_vector_says_what_is_wrong(tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbformat")
    nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")
    from glassgrad.notebooks import notebook_paths

    notebook = nbformat.read(notebook_paths()[0], as_version=4)
    cell = next(c for c in notebook.cells if c.get("metadata", {}).get("glassgrad", {}).get("exercise"))
    first, _, rest = cell.source.partition("\n")
    assert first.startswith("answer = ...")
    cell.source = f"answer = gg.tensor([3.0, 3.0])  # the learner typed the whole vector\n{rest}"
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "".join(output.get("data", {}).get("text/plain", "") + output.get("text", "") for output in cell.outputs)
    assert "Cannot read your answer: your answer holds 2 numbers" in text and "(2,)" in text, text
