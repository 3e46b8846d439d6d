"""``SummaryWriter`` (glassgrad.utils.tensorboard) writes the event files PyTorch 2.13's writer writes: the same
calls, read back with TensorBoard's own loader, give the same events (steps, tags, values, histogram buckets, PNG
bytes, hparams records), wall times aside. Under glassgrad.torch_names ``from torch.utils.tensorboard import
SummaryWriter`` raised "glassgrad has no counterpart"."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassgrad as gg

pytest.importorskip("tensorboard", reason="TensorBoard not installed: pip install tensorboard")
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader  # noqa: E402

from glassgrad.utils import tensorboard_summaries as ours  # noqa: E402
from glassgrad.utils.tensorboard import SummaryWriter  # noqa: E402


def log_a_training_run(library, writer_class, folder: Path) -> None:
    """The calls a course's experiment-tracking chapter makes, on ``library``'s tensors."""
    rng = np.random.default_rng(0)
    writer = writer_class(str(folder))
    for step, loss in enumerate([0.9, 0.5, 0.25]):
        writer.add_scalar("Loss/train", library.tensor(loss, requires_grad=True) * 1, step)
        writer.add_scalars("Loss", {"train": loss, "test": library.tensor(loss + 0.1)}, step)
    writer.add_scalar("lr", 0.1, 3, walltime=5.0, new_style=True)
    writer.add_scalar("third", 1 / 3, 3, new_style=True, double_precision=True)
    writer.add_histogram("fc1.weight", library.tensor(rng.standard_normal((20, 30))), 3)
    writer.add_histogram("fc1.bias", library.tensor(rng.standard_normal(40)), 3, bins="auto", max_bins=8)
    writer.add_image("sample", library.tensor(rng.random((3, 8, 6)), dtype=library.float32), 3)
    writer.add_image("grey", library.tensor(rng.random((8, 6))), 3, dataformats="HW")
    writer.add_images("batch", library.tensor((rng.random((10, 1, 4, 3)) * 255).astype(np.uint8)), 3)
    writer.add_text("notes", "lr **0.1**, batch 32", 3)
    writer.add_hparams({"lr": 0.1, "batch": 32, "optimizer": "adam", "nesterov": True}, {"hparam/accuracy": 0.875},
                       run_name="trial")
    writer.flush()
    writer.add_scalar("after_flush", 1.0, 4)
    writer.close()


def events_in(folder: Path) -> dict[str, list]:
    """Each run folder's events (relative folder → events, wall times cleared), as TensorBoard loads them."""
    found = {}
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        events = list(EventFileLoader(str(path)).Load())
        for event in events:
            event.ClearField("wall_time")
        found[str(path.parent.relative_to(folder))] = events
    return found


@pytest.mark.torch
def test_a_training_runs_events_are_pytorchs(torch, tmp_path):
    from torch.utils.tensorboard import SummaryWriter as PyTorchsWriter

    log_a_training_run(torch, PyTorchsWriter, tmp_path / "pytorch")
    log_a_training_run(gg, SummaryWriter, tmp_path / "glassgrad")
    theirs, mine = events_in(tmp_path / "pytorch"), events_in(tmp_path / "glassgrad")
    assert sorted(mine) == sorted(theirs) == [".", "Loss_test", "Loss_train", "trial"]
    for run, events in theirs.items():
        assert len(mine[run]) == len(events), run
        for number, (event, expected) in enumerate(zip(mine[run], events)):
            assert event == expected, f"{run} event {number}:\n{event}\n---\n{expected}"


FLOATS = st.floats(-1e6, 1e6, allow_nan=False, width=64)


@pytest.fixture(scope="module")
def pytorchs_default_bins(tmp_path_factory):
    """The edges PyTorch's writer gives ``summary.histogram`` for ``bins='tensorflow'`` (its ``default_bins``)."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    from torch.utils.tensorboard import SummaryWriter as PyTorchsWriter

    writer = PyTorchsWriter(str(tmp_path_factory.mktemp("bins")))
    writer.close()
    assert torch.__version__.startswith("2.13")
    return writer.default_bins


@pytest.mark.torch
@settings(deadline=None)
@given(values=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=12), elements=FLOATS),
       bins=st.sampled_from(["tensorflow", "auto", "fd", "sturges", 7]), max_bins=st.one_of(st.none(),
                                                                                           st.integers(1, 40)))
def test_histograms_are_pytorchs(torch, pytorchs_default_bins, values, bins, max_bins):
    """The buckets (PyTorch's 1.1-ratio edges by default, NumPy's for the other ``bins``), merged by ``max_bins``,
    trimmed to the filled stretch, and the min, max, count, sum and sum of squares."""
    from torch.utils.tensorboard import summary as theirs

    def record(make, library, edges):
        try:
            return make("h", library.tensor(values), edges, max_bins)
        except Exception as error:  # noqa: BLE001 (NumPy's OverflowError of 'fd' bins where the spread is 0, …)
            return type(error)

    assert ours.tensorflow_bins() == pytorchs_default_bins
    assert record(ours.histogram, gg, bins) == \
        record(theirs.histogram, torch, pytorchs_default_bins if bins == "tensorflow" else bins)


IMAGES = st.one_of(
    st.tuples(st.just("CHW"), hnp.array_shapes(min_dims=3, max_dims=3, max_side=6).map(lambda s: (3, *s[1:]))),
    st.tuples(st.just("HWC"), hnp.array_shapes(min_dims=3, max_dims=3, max_side=6).map(lambda s: (*s[:2], 1))),
    st.tuples(st.just("HW"), hnp.array_shapes(min_dims=2, max_dims=2, max_side=6)),
    st.tuples(st.just("NCHW"), hnp.array_shapes(min_dims=4, max_dims=4, max_side=5).map(lambda s: (s[0], 1, *s[2:]))),
    st.tuples(st.just("NHWC"), hnp.array_shapes(min_dims=4, max_dims=4, max_side=5).map(lambda s: (*s[:3], 3))),
)


@pytest.mark.torch
@settings(deadline=None)
@given(layout=IMAGES, kind=st.sampled_from(["float32", "float64", "uint8"]), seed=st.integers(0, 2**16))
def test_images_are_pytorchs(torch, layout, kind, seed):
    """The same PNG bytes, height, width and channels: floats in [0, 1] (and beyond, clipped) scaled by 255 and cut
    to whole numbers, uint8 as they are, grey images made RGB, batches laid out 8 to a row."""
    from torch.utils.tensorboard import summary as theirs

    dataformats, shape = layout
    rng = np.random.default_rng(seed)
    pixels = (rng.random(shape) * 1.2 - 0.1).astype(kind) if kind != "uint8" else \
        rng.integers(0, 256, shape).astype(np.uint8)
    assert ours.image("i", gg.tensor(pixels), dataformats) == theirs.image("i", torch.tensor(pixels),
                                                                           dataformats=dataformats)


@pytest.mark.torch
@given(value=st.one_of(FLOATS, st.integers(-10**6, 10**6)), new_style=st.booleans(), double=st.booleans())
def test_scalars_are_pytorchs(torch, value, new_style, double):
    from torch.utils.tensorboard import summary as theirs

    assert ours.scalar("s", gg.tensor(value), new_style, double) == \
        theirs.scalar("s", torch.tensor(value), new_style=new_style, double_precision=double)


def test_what_cannot_be_logged_is_refused_in_one_line(tmp_path):
    """PyTorch's exception types, with the fix in the message."""
    writer = SummaryWriter(tmp_path)
    with pytest.raises(AssertionError, match="one number"):
        writer.add_scalar("loss", gg.ones(3), 0)
    with pytest.raises(ValueError, match="empty"):
        writer.add_histogram("w", gg.ones(0), 0)
    with pytest.raises(AssertionError, match="dataformats"):
        writer.add_image("i", gg.ones(3, 4, 5), 0, dataformats="HWCC")
    with pytest.raises(TypeError, match="dict"):
        writer.add_hparams([("lr", 0.1)], {"acc": 1.0})
    with pytest.raises(ValueError, match="example input"):
        writer.add_graph(gg.nn.Linear(2, 2))
    for name in ("add_video", "add_audio", "add_mesh", "add_custom_scalars"):
        with pytest.raises(NotImplementedError, match=f"SummaryWriter.{name}: not provided"):
            getattr(writer, name)(gg.nn.Linear(2, 2), gg.ones(1, 2))
    writer.close()


def test_the_default_folder_is_pytorchs_pattern(tmp_path, monkeypatch):
    """``runs/<Mon><day>_<HH>-<MM>-<SS>_<host><comment>``, as PyTorch names it."""
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="-lr0.1")
    assert re.fullmatch(r"runs/[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_.+-lr0\.1", writer.get_logdir())
    writer.close()
    assert list((tmp_path / writer.get_logdir()).glob("events.out.tfevents.*"))


def test_a_closed_writer_opens_its_file_again(tmp_path):
    """As PyTorch's: an ``add_*`` after ``close()`` starts a new event file in the same folder."""
    writer = SummaryWriter(tmp_path)
    writer.add_scalar("a", 1.0, 0)
    writer.close()
    writer.add_scalar("a", 2.0, 1)
    writer.close()
    values = [value.tensor.float_val[0] for path in sorted(tmp_path.glob("events.*"))
              for event in EventFileLoader(str(path)).Load() for value in event.summary.value]
    assert sorted(values) == [1.0, 2.0]


def test_pytorchs_import_works_and_a_missing_tensorboard_is_one_line():
    """``from torch.utils.tensorboard import SummaryWriter`` under glassgrad.torch_names; without the tensorboard
    package, one ImportError naming the install command (PyTorch's writer needs it too)."""
    done = subprocess.run([sys.executable, "-c", "from glassgrad import torch_names; torch_names.install()\n"
                           "from torch.utils.tensorboard import SummaryWriter; print(SummaryWriter.__module__)"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "glassgrad.utils.tensorboard"
    blocked = ("import importlib.abc, sys\nclass No(importlib.abc.MetaPathFinder):\n"
               "    def find_spec(self, name, path=None, target=None):\n"
               "        if name.split('.')[0] == 'tensorboard': raise ModuleNotFoundError(name)\n"
               "sys.meta_path.insert(0, No())\nimport glassgrad.utils.tensorboard\n")
    done = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "ImportError: TensorBoard logging needs the tensorboard package: pip install tensorboard "
        "(or pip install 'glassgrad[tensorboard]')")


def _net(library):
    class Net(library.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = library.nn.Sequential(library.nn.Linear(4, 3), library.nn.ReLU())
            self.head = library.nn.Linear(3, 2)

        def forward(self, x):
            return self.head(self.encoder(x) * 2).softmax(-1)

    return Net()


def _written_graph(tmp_path, model, example):
    writer = SummaryWriter(tmp_path)
    writer.add_graph(model, example)
    writer.close()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    return EventAccumulator(str(tmp_path)).Reload().Graph()


def test_the_graph_holds_each_op_in_its_layer_with_its_rule_and_shape(tmp_path):
    """By hand: x (5, 4) → encoder.0 linear (its weight and bias) → encoder.1 relu → × 2 → head linear → softmax."""
    graph = _written_graph(tmp_path, _net(gg), gg.ones(5, 4))
    nodes = {node.name: node for node in graph.node}
    assert list(nodes) == [
        "input/input.0", "Net/encoder/0/weight", "Net/encoder/0/bias", "Net/encoder/0/linear", "Net/encoder/1/relu",
        "Net/constant", "Net/mul", "Net/head/weight", "Net/head/bias", "Net/head/linear", "Net/softmax",
        "output/output.0"]
    assert list(nodes["Net/encoder/0/linear"].input) == ["input/input.0", "Net/encoder/0/weight",
                                                         "Net/encoder/0/bias"]
    assert list(nodes["Net/head/linear"].input) == ["Net/mul", "Net/head/weight", "Net/head/bias"]
    assert list(nodes["output/output.0"].input) == ["Net/softmax"]
    shape = nodes["Net/head/linear"].attr["_output_shapes"].list.shape[0]
    assert [dim.size for dim in shape.dim] == [5, 2]
    assert nodes["Net/encoder/1/relu"].attr["formula"].s.decode() == gg.ops.RELU.formula  # the rule's own text


@pytest.mark.torch
def test_the_graphs_ops_sit_in_the_layers_pytorchs_graph_puts_them_in(torch, tmp_path):
    """PyTorch's graph (a TorchScript trace) scopes each aten op as ``Net/Sequential[encoder]/Linear[0]/…``: the
    same ops, in the same order, in the same layers as glassgrad's nodes."""
    from torch.utils.tensorboard._pytorch_graph import graph as pytorchs_graph

    theirs = [(re.sub(r"\w+\[(\w+)\]", r"\1", node.name.rsplit("/", 1)[0]), node.op.removeprefix("aten::"))
              for node in pytorchs_graph(_net(torch), torch.ones(5, 4))[0].node if node.op.startswith("aten::")]
    mine = [(node.name.rsplit("/", 1)[0], node.op) for node in _written_graph(tmp_path, _net(gg), gg.ones(5, 4)).node
            if node.op not in ("IO Node", "Parameter", "Constant")]
    assert mine == theirs


def test_drawing_the_graph_leaves_the_model_and_the_generator_as_they_were(tmp_path):
    """``add_graph`` ran the forward in train mode: BatchNorm's running statistics moved and Dropout drew a mask
    from the global generator, so the model and the next random numbers changed. PyTorch traces in eval mode; now
    glassgrad does too, and gives the model back in its mode."""
    model = gg.nn.Sequential(gg.nn.Linear(4, 3), gg.nn.BatchNorm1d(3), gg.nn.Dropout(0.5))
    before = {name: value.clone() for name, value in model.state_dict().items()}
    gg.manual_seed(7)
    expected = gg.rand(3)
    gg.manual_seed(7)
    _written_graph(tmp_path, model, gg.randn(5, 4, generator=gg.Generator().manual_seed(1)))
    assert gg.equal(gg.rand(3), expected) and model.training and model[1].training
    assert all(gg.equal(model.state_dict()[name], value) for name, value in before.items())


def test_an_output_made_outside_the_graph_is_drawn_not_a_key_error(tmp_path):
    """A classifier whose forward ends in ``argmax`` (no op of the graph: it has no gradient) made ``add_graph``
    raise a raw KeyError; PyTorch draws it. Now the output's node is an ``Untraced`` one in the model's box."""

    class Classifier(gg.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = gg.nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(x).argmax(1)

    nodes = {node.name: node for node in _written_graph(tmp_path, Classifier(), gg.ones(2, 3)).node}
    assert list(nodes["output/output.0"].input) == ["Classifier/untraced"]
    assert nodes["Classifier/untraced"].op == "Untraced" and "Classifier/fc/linear" in nodes


HOSTILE = {  # what a learner may pass by mistake: PyTorch's exception type, glassgrad's one-line message
    "a string as the value": lambda w, L: w.add_scalar("loss", "0.5x", 0),
    "None as the value": lambda w, L: w.add_scalar("loss", None, 0),
    "a list as the value": lambda w, L: w.add_scalar("loss", [0.5], 0),
    "a step that is no number": lambda w, L: w.add_scalar("loss", 0.5, "epoch 1"),
    "a tag that is no string": lambda w, L: w.add_scalar(3, 0.5, 0),
    "values that are a string": lambda w, L: w.add_histogram("w", "abc", 0),
    "a 5-d image": lambda w, L: w.add_image("i", L.ones(1, 1, 3, 2, 2), 0),
    "an (H, W, 3) image read as CHW": lambda w, L: w.add_image("i", L.ones(8, 6, 3), 0),
    "dataformats of other letters": lambda w, L: w.add_image("i", L.ones(3, 8, 6), 0, dataformats="XYZ"),
    "a batch of 2-channel images": lambda w, L: w.add_images("i", L.ones(2, 2, 3, 3), 0),
    "a text that is no string": lambda w, L: w.add_text("notes", 3, 0),
    "an hparam that is a list": lambda w, L: w.add_hparams({"layers": [1, 2]}, {"acc": 1.0}),
    "scalars not in a dict": lambda w, L: w.add_scalars("loss", [0.5], 0),
    "fewer labels than points": lambda w, L: w.add_embedding(L.ones(3, 2), metadata=["a", "b"]),
    "fewer images than points": lambda w, L: w.add_embedding(L.ones(3, 2), label_img=L.ones(2, 1, 2, 2)),
    "points that are no table": lambda w, L: w.add_embedding(L.ones(3, 2, 2)),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", HOSTILE)
def test_bad_arguments_raise_pytorchs_exception_type_in_one_line(torch, name, tmp_path):
    from torch.utils.tensorboard import SummaryWriter as PyTorchsWriter

    outcomes = []
    for writer, library in ((PyTorchsWriter(str(tmp_path / "pytorch")), torch), (SummaryWriter(tmp_path / "mine"), gg)):
        with pytest.raises(Exception) as raised:
            HOSTILE[name](writer, library)
        writer.close()
        outcomes.append(raised)
    theirs, mine = outcomes
    assert mine.type is theirs.type
    assert "\n" not in str(mine.value) and len(str(mine.value)) < 200


def test_an_image_in_the_wrong_layout_is_told_how_to_read_it(tmp_path):
    """An (H, W, 3) image under the default dataformats='CHW' raised Pillow's "Cannot handle this data type: (1, 1,
    8), |u1" and dataformats='XYZ' NumPy's "repeated axis in transpose" (PyTorch's words too, and its types, which
    are kept); now each says what to write."""
    writer = SummaryWriter(tmp_path)
    with pytest.raises(TypeError, match=r"read as 'CHW' has 8 channels \(at most 4\).*needs dataformats='HWC'"):
        writer.add_image("i", gg.ones(8, 6, 3), 0)
    with pytest.raises(ValueError, match="name the dimensions with N, C, H and W"):
        writer.add_image("i", gg.ones(3, 8, 6), 0, dataformats="XYZ")
    writer.add_image("i", gg.ones(8, 6, 3), 0, dataformats="HWC")
    writer.close()


def log_embeddings_and_curves(library, writer_class, folder: Path) -> None:
    """The projector and PR-curve calls of PyTorch's TensorBoard tutorial, on ``library``'s tensors."""
    rng = np.random.default_rng(1)
    writer = writer_class(str(folder))
    features = library.tensor(rng.standard_normal((10, 4)), dtype=library.float32)
    images = library.tensor(rng.random((10, 1, 3, 3)), dtype=library.float32)
    writer.add_embedding(features, metadata=[f"class {n % 3}" for n in range(10)], label_img=images, global_step=1,
                         tag="test/features")
    writer.add_embedding(features[:4], metadata=[["a", 1], ["b", 2], ["c", 3], ["d", 4]], metadata_header=["name", "n"])
    writer.add_pr_curve("digit 3", library.tensor(rng.integers(0, 2, 50)), library.tensor(rng.random(50)), 3)
    writer.add_pr_curve("digit 4", library.tensor(rng.integers(0, 2, 50)), library.tensor(rng.random(50)), 3,
                        num_thresholds=10, weights=rng.random(50))
    writer.close()


@pytest.mark.torch
def test_embeddings_and_pr_curves_are_pytorchs_files(torch, tmp_path):
    """Every projector file (the points, labels, sprite PNG, projector_config.pbtxt) byte for byte, and the PR-curve
    events, as PyTorch's writer makes them."""
    from torch.utils.tensorboard import SummaryWriter as PyTorchsWriter

    log_embeddings_and_curves(torch, PyTorchsWriter, tmp_path / "pytorch")
    log_embeddings_and_curves(gg, SummaryWriter, tmp_path / "glassgrad")
    theirs = sorted(path.relative_to(tmp_path / "pytorch") for path in (tmp_path / "pytorch").rglob("*")
                    if path.is_file() and "tfevents" not in path.name)
    assert theirs == sorted(path.relative_to(tmp_path / "glassgrad") for path in (tmp_path / "glassgrad").rglob("*")
                            if path.is_file() and "tfevents" not in path.name)
    assert len(theirs) == 6
    for name in theirs:
        assert (tmp_path / "glassgrad" / name).read_bytes() == (tmp_path / "pytorch" / name).read_bytes(), name
    assert events_in(tmp_path / "glassgrad") == events_in(tmp_path / "pytorch")


@pytest.mark.torch
@settings(deadline=None)
@given(count=st.integers(1, 60), thresholds=st.integers(2, 200), weighted=st.booleans(), seed=st.integers(0, 2**16))
def test_pr_curves_are_pytorchs(torch, count, thresholds, weighted, seed):
    """TP, FP, TN, FN, precision and recall at each threshold (at most 127 of them), weighted or not."""
    from torch.utils.tensorboard import summary as theirs

    rng = np.random.default_rng(seed)
    labels, predictions = rng.integers(0, 2, count), rng.random(count)
    weights = rng.random(count) if weighted else None
    assert ours.pr_curve("pr", gg.tensor(labels), gg.tensor(predictions), thresholds, weights) == \
        theirs.pr_curve("pr", labels, predictions, thresholds, weights)
