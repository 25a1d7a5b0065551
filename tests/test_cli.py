"""The command line: happy paths on tiny data, and every error path as one line on stderr."""

import json

import numpy as np
import pytest

from digitrec.cli import main
from tests.conftest import mnist_png_bytes

TINY_TRAIN = [
    "--train-limit",
    "2000",
    "--val-size",
    "100",
    "--epochs",
    "2",
    "--batch-size",
    "32",
    "--threads",
    "2",
    "--no-progress",
]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse exits on usage errors
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    code = main(["-q", "train", *TINY_TRAIN, "--runs-dir", str(runs), "--name", "tiny"])
    assert code == 0
    return runs / "tiny"


def test_train_writes_the_run_folder(trained_run):
    names = {path.name for path in trained_run.iterdir()}
    expected = {
        "model.safetensors",
        "config.json",
        "history.csv",
        "metrics.json",
        "curves.png",
        "confusion.png",
        "errors.png",
        "checkpoint.safetensors",
    }
    assert expected <= names
    config = json.loads((trained_run / "config.json").read_text())
    assert config["model"] == "fastcnn" and config["epochs"] == 2 and config["train_limit"] == 2000
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["test"]["count"] == 10000 and 0.8 < metrics["test_accuracy"] <= 1.0
    assert (trained_run / "history.csv").read_text().startswith("epoch,train_loss,train_acc")


def test_eval_json(trained_run, capsys):
    code, out, _ = run_cli(capsys, "eval", str(trained_run), "--json", "--limit", "300")
    assert code == 0
    report = json.loads(out)
    assert {"accuracy", "loss", "per_class", "confusion"} <= set(report)
    assert np.asarray(report["confusion"]).sum() == 300
    assert report["accuracy"] > 0.8


def test_eval_text_report(trained_run, capsys):
    code, out, _ = run_cli(capsys, "eval", str(trained_run), "--limit", "300")
    assert code == 0 and "accuracy" in out and "precision" in out and "confusion" in out


def test_train_refuses_to_overwrite_a_run(trained_run, capsys):
    code, _, err = run_cli(
        capsys, "train", *TINY_TRAIN, "--runs-dir", str(trained_run.parent), "--name", "tiny"
    )
    assert_one_line_error(code, err, "run folder exists")


def test_resume_of_a_finished_run_keeps_its_epochs(trained_run, capsys):
    code, out, _ = run_cli(capsys, "train", "--resume", str(trained_run), "--json")
    assert code == 0 and json.loads(out)["epochs"] == 2


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory, mnist_parts):
    folder = tmp_path_factory.mktemp("digits")
    _, test = mnist_parts
    paths = []
    for index in range(20):
        path = folder / f"digit{index}-{test.labels[index]}.png"
        path.write_bytes(mnist_png_bytes(test.images[index]))
        paths.append(path)
    return paths, test.labels[:20]


def test_predict_json_with_the_shipped_model(digit_files, capsys):
    paths, labels = digit_files
    code, out, _ = run_cli(capsys, "predict", "--json", *map(str, paths))
    assert code == 0
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["file"] for r in results] == list(map(str, paths))
    correct = sum(r["text"] == str(label) for r, label in zip(results, labels, strict=True))
    assert correct >= 19
    first = results[0]
    assert first["error"] is None and len(first["digits"]) == 1
    digit = first["digits"][0]
    assert digit["digit"] == int(first["text"]) and 0 < digit["confidence"] <= 1
    assert len(digit["top"]) == 3 and digit["top"][0] == [digit["digit"], digit["confidence"]]


def test_predict_text_output(digit_files, capsys):
    paths, labels = digit_files
    code, out, _ = run_cli(capsys, "predict", str(paths[0]))
    assert code == 0 and out.startswith(f"{paths[0]}: {labels[0]}")


def test_predict_blank_image_is_no_digit(tmp_path, capsys):
    blank = tmp_path / "blank.png"
    blank.write_bytes(mnist_png_bytes(np.zeros((28, 28), np.uint8)))
    code, out, _ = run_cli(capsys, "predict", "--json", str(blank))
    assert code == 0
    assert json.loads(out) == {"file": str(blank), "text": "", "digits": [], "error": None}


def test_predict_keeps_going_after_a_bad_file(digit_files, tmp_path, capsys):
    paths, _ = digit_files
    missing = tmp_path / "missing.png"
    code, out, err = run_cli(capsys, "predict", "--json", str(missing), str(paths[1]))
    assert code == 1
    bad, good = (json.loads(line) for line in out.splitlines())
    assert "no such file" in bad["error"] and bad["text"] is None
    assert good["error"] is None and good["text"]
    assert "Traceback" not in err


@pytest.fixture
def broken_files(tmp_path):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    empty_dir = tmp_path / "empty-data"
    empty_dir.mkdir()
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("x")
    bad_model = tmp_path / "model.safetensors"
    bad_model.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    return {"corrupt": corrupt, "empty_dir": empty_dir, "file": not_a_dir, "model": bad_model}


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["predict", "{tmp}/nope.png"], ["nope.png", "no such file"]),
        (["predict", "{corrupt}"], ["corrupt.png"]),
        (["predict", "--model", "no-such-model", "{corrupt}"], ["no-such-model"]),
        (["predict", "--model", "{model}", "{corrupt}"], ["not a digitrec model file"]),
        (["eval", "{model}"], ["not a digitrec model file"]),
        (["eval", "default", "--data", "{empty_dir}"], ["no <label>/ sub-folders"]),
        (["train", "--data", "{empty_dir}", "--runs-dir", "{tmp}/r"], ["no <label>/"]),
        (["train", "--data", "nowhere", "--runs-dir", "{tmp}/r"], ["unknown data 'nowhere'"]),
        (["train", "--runs-dir", "{file}"], ["cannot write here"]),
        (["train", "--model", "resnet", "--runs-dir", "{tmp}/r"], ["unknown model 'resnet'"]),
        (["train", "--epochs", "0", "--runs-dir", "{tmp}/r"], ["epochs must be positive"]),
        (["train", "--augment-shear", "-1", "--runs-dir", "{tmp}/r"], ["augment-shear must be"]),
        (["train", "--model-args", "{{oops", "--runs-dir", "{tmp}/r"], ["not valid JSON"]),
        (["train", "--resume", "{tmp}/never-ran"], ["never-ran"]),
        (["train", "--resume"], ["--resume needs a run folder"]),
        (["train", "--epochs", "many"], ["invalid int value"]),
        (["train", "--optimiser", "adam"], ["unrecognized arguments"]),
        (["train", "--recipe", "nope"], ["invalid choice"]),
        (["fly"], ["invalid choice"]),
        ([], ["required"]),
    ],
)
def test_error_paths_are_one_line(argv, needles, broken_files, tmp_path, capsys):
    values = {key: str(path) for key, path in broken_files.items()} | {"tmp": str(tmp_path)}
    code, _, err = run_cli(capsys, *(arg.format(**values) for arg in argv))
    assert_one_line_error(code, err, *needles)
