"""`glassgrad train / evaluate / predict` against sizes, files and options that would crash or mislead
(issue 10, items 8, 9 and 13): one line, exit code 2, and nothing allocated for a size that is refused."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from memory_peak import traced_peak

import glassgrad as gg
from glassgrad.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2, (argv, out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err, err
    assert "training " not in out  # refused before any training
    return err


@pytest.fixture(scope="module")
def moons_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "moons.safetensors"
    assert main(["train", "--data", "moons", "--layers", "2,8,1", "--epochs", "1", "--save", str(path)]) == 0
    return path


# --- item 8: sizes checked before allocating --------------------------------------------------


def test_a_network_of_ten_billion_parameters_is_refused_before_building(capsys):
    err = refused(capsys, "train", "--data", "moons", "--layers", "2,100000,100000,2")  # 2·10⁵+10⁵ + 10¹⁰+10⁵ + 2·10⁵+2
    assert "2,100000,100000,2 has 10,000,600,002 parameters (40 GB as float32" in err
    assert "more than --max-parameters 50,000,000" in err and "raise --max-parameters" in err


def test_max_parameters_sets_the_cap(capsys):
    err = refused(capsys, "train", "--data", "moons", "--layers", "2,16,2", "--max-parameters", "81")
    assert "has 82 parameters" in err and "--max-parameters 81" in err  # 2·16 + 16 + 16·2 + 2 = 82


def test_a_class_label_of_1e10_does_not_ask_for_ten_billion_outputs(capsys, tmp_path):
    data = tmp_path / "labels.csv"
    data.write_text("a,label\n1,0\n2,1e10\n3,1\n4,0\n5,1\n")
    err = refused(capsys, "train", "--data", str(data))
    assert "the largest class label is 10000000000, so the network would need 10000000001 outputs" in err


def long_cell_csv(folder: Path) -> Path:
    path = folder / "long.csv"
    path.write_text("x1,x2,label\n1,2,0\n" + "3" * (csv.field_size_limit() + 1) + ",4,1\n")
    return path


def test_a_csv_cell_over_the_readers_limit_is_one_line_in_train_and_predict(capsys, tmp_path, moons_model):
    path = long_cell_csv(tmp_path)
    for argv in (["train", "--data", str(path)], ["predict", str(moons_model), "--input", str(path)]):
        err = refused(capsys, *argv)
        assert f"{path}, line 3: a cell is longer than {csv.field_size_limit()} characters" in err


# --- item 9: the architecture record is checked against the stored shapes first ---------------


def lying_model(folder: Path, width: int) -> Path:
    """A tiny model file whose architecture record claims a Linear(width, width)."""
    path = folder / f"lying-{width}.safetensors"
    architecture = {"glassgrad_architecture": 1, "dtype": "float32", "model": {"type": "Sequential", "layers": [
        {"type": "Linear", "in_features": width, "out_features": width, "bias": True}]}}
    gg.save({"model": {"0.weight": gg.zeros(2, 2), "0.bias": gg.zeros(2)}, "architecture": architecture,
             "training": {"data": "moons", "loss": "cross-entropy"}}, path)
    assert path.stat().st_size < 2000
    return path


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_an_architecture_larger_than_its_weights_is_refused_without_building_it(capsys, tmp_path, command):
    path = lying_model(tmp_path, 3000)
    extra = ["--input", "1,2"] if command == "predict" else []
    with traced_peak() as peak:
        err = refused(capsys, command, str(path), *extra)
    assert peak.bytes < 8 << 20  # a Linear(3000, 3000) alone would be 36 MB
    assert ("weights do not fit its architecture (size mismatch for '0.weight': the architecture says "
            "(3000, 3000), the stored tensor has (2, 2))") in err


def test_an_architecture_of_a_trillion_weights_is_one_line(capsys, tmp_path):
    err = refused(capsys, "evaluate", str(lying_model(tmp_path, 10**6)))
    assert "the architecture says (1000000, 1000000), the stored tensor has (2, 2)" in err


# --- item 13: messages that name the real problem ---------------------------------------------


def test_a_class_label_of_1e300_is_named_as_it_is_written(capsys, tmp_path):
    data = tmp_path / "huge.csv"
    data.write_text("a,label\n1,0\n2,1e300\n3,1\n")
    err = refused(capsys, "train", "--data", str(data))
    assert f"{data}, line 3: the class label '1e300' is too large to be a class" in err
    assert "-9223372036854775808" not in err


def test_a_model_path_linking_to_dev_zero_is_not_a_regular_file(capsys, tmp_path):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")
    link = tmp_path / "model.safetensors"
    link.symlink_to("/dev/zero")
    err = refused(capsys, "evaluate", str(link))
    assert "is not a regular file" in err and "character device" in err and "does not exist" not in err


def test_a_latin1_csv_is_refused_naming_the_file(capsys, tmp_path):
    data = tmp_path / "latin.csv"
    data.write_bytes("size,label\n1,chat\n2,caf\u00e9\n".encode("latin-1"))
    err = refused(capsys, "train", "--data", str(data))
    assert str(data) in err and "not UTF-8 text" in err


def test_a_tiny_validation_set_is_called_too_small_not_a_failure_to_learn(capsys):
    code, out, err = run(capsys, "train", "--data", "moons", "--val-fraction", "0.001", "--epochs", "1")
    assert code == 0, err
    assert "999 train / 1 validation samples" in out
    assert "the validation set has only 1 sample(s), too few to tell learning from chance" in out
    assert "--val-fraction 0.01 holds out 10 or more" in out
    assert "has not learned" not in out


def test_an_empty_validation_set_is_refused_with_a_fraction_that_works(capsys):
    err = refused(capsys, "train", "--data", "moons", "--val-fraction", "0.0001")
    assert "--val-fraction 0.0001 of 1000 samples leaves the validation set empty; use --val-fraction 0.01" in err


def test_one_sample_is_refused_with_advice_that_works(capsys, tmp_path):
    data = tmp_path / "one.csv"
    data.write_text("x1,x2,label\n1,2,0\n")
    for extra in ([], ["--val-fraction", "0.5"]):  # the old advice, "--val-fraction 0.5 or more", failed the same
        err = refused(capsys, "train", "--data", str(data), *extra)
        assert "only 1 sample(s): training needs at least 2" in err and "add rows" in err
        assert "--val-fraction 0.5 or more" not in err


def test_a_fraction_that_leaves_nothing_to_train_on_is_refused(capsys):
    err = refused(capsys, "train", "--data", "moons", "--val-fraction", "0.9999")
    assert "leaves nothing to train on; use --val-fraction 0.5 or less" in err


@pytest.mark.parametrize("label, shown", [("0", "0"), ("cat", "'cat'")])
def test_labels_of_one_class_are_refused(capsys, tmp_path, label, shown):
    data = tmp_path / "one-class.csv"
    data.write_text("x,label\n" + "".join(f"{i},{label}\n" for i in range(12)))
    err = refused(capsys, "train", "--data", str(data))
    assert f"has one class only (every label is {shown}): a classifier needs at least 2 classes" in err


def test_evaluate_on_too_few_rows_for_the_split_advises_split_all(capsys, tmp_path, moons_model):
    data = tmp_path / "one.csv"
    data.write_text("x1,x2,label\n0.5,0.5,1\n")
    err = refused(capsys, "evaluate", str(moons_model), "--data", str(data))
    assert "too few to repeat the training split" in err and "use --split all" in err
    code, out, err = run(capsys, "evaluate", str(moons_model), "--data", str(data), "--split", "all")
    assert code == 0 and "(all, 1 samples)" in out, err


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_model_with_a_nan_weight_is_refused_naming_the_file_and_the_weight(capsys, tmp_path, moons_model, command):
    saved = gg.load(moons_model)
    saved["model"]["2.bias"] = gg.tensor([float("nan")])
    path = tmp_path / "nan.safetensors"
    gg.save(saved, path)
    extra = ["--input", "0.5,0.5"] if command == "predict" else []
    err = refused(capsys, command, str(path), *extra)
    assert f"{path} holds non-finite weights in '2.bias'; retrain or load another checkpoint" in err


@pytest.mark.parametrize("entry, value, expected", [
    ("class_names", 3, "class_names is 3, expected a list of class names"),
    ("class_names", ["only"], "class_names lists 1 name(s) for 2 classes"),
    ("seed", "abc", "seed is 'abc', expected a whole number >= 0"),
    ("seed", -5, "seed is -5, expected a whole number >= 0"),
    ("val_fraction", "x", "val_fraction is 'x', expected a number between 0 and 1"),
    ("data", 7, "data is 7, expected a dataset name or a .csv path"),
    ("loss", "hinge", "loss is 'hinge', expected one of cross-entropy, bce, mse"),
])
@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_hand_edited_training_record_is_named_in_one_line(capsys, tmp_path, moons_model, entry, value, expected,
                                                            command):
    saved = gg.load(moons_model)
    saved["training"] = {**saved["training"], "loss": "bce", entry: value}
    path = tmp_path / "edited.safetensors"
    gg.save(saved, path)
    extra = ["--input", "0.5,0.5"] if command == "predict" else []
    err = refused(capsys, command, str(path), *extra)
    assert f"{path}: its training record is damaged ({expected}); train and save it again" in err


def test_out_of_memory_is_one_line_not_a_traceback(capsys, monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(gg.nn, "mlp", exhausted)
    code, out, err = run(capsys, "train", "--data", "moons", "--epochs", "1")
    assert code == 1
    assert err.strip() == ("glassgrad: error: out of memory: the task needs more memory than this computer has; "
                           "make it smaller (fewer or narrower layers, less data)")
