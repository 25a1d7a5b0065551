"""Ensembles: their probabilities are the members' average, and they round-trip as one file."""

import json

import numpy as np
import pytest
import torch

from digitrec.cli import main
from digitrec.errors import DigitrecError
from digitrec.models.classifier import TorchClassifier
from digitrec.models.ensemble import build_ensemble
from digitrec.models.loading import load_classifier
from digitrec.models.registry import create_model


def _member(seed: int, mean: float = 0.13, std: float = 0.31) -> TorchClassifier:
    torch.manual_seed(seed)
    module = create_model("fastcnn", num_classes=10, width=4)
    for parameter in module.parameters():  # move away from init so members really differ
        parameter.data.add_(torch.randn_like(parameter) * 0.3)
    return TorchClassifier(
        module, "fastcnn", {"num_classes": 10, "width": 4}, tuple("0123456789"), mean, std
    )


@pytest.fixture(scope="module")
def digits(mnist_parts):
    return mnist_parts[1].head(64).as_float()


def test_probabilities_are_the_members_average(digits):
    members = [_member(1), _member(2), _member(3, mean=0.2, std=0.25)]
    ensemble = build_ensemble(members)
    expected = np.mean([member.predict_proba(digits) for member in members], axis=0)
    np.testing.assert_allclose(ensemble.predict_proba(digits), expected, atol=1e-5)


def test_file_round_trip_keeps_every_member(tmp_path, digits):
    ensemble = build_ensemble([_member(4), _member(5, mean=0.1, std=0.3)])
    ensemble.save(tmp_path / "ensemble.safetensors")
    loaded = load_classifier(tmp_path / "ensemble.safetensors")
    assert loaded.architecture == "ensemble"
    assert loaded.parameter_count() == ensemble.parameter_count()
    np.testing.assert_allclose(
        loaded.predict_proba(digits), ensemble.predict_proba(digits), atol=1e-6
    )


def test_members_must_agree_on_classes():
    other = _member(6)
    other.classes = tuple("abcdefghij")
    with pytest.raises(DigitrecError, match="disagree on the classes"):
        build_ensemble([_member(7), other])
    with pytest.raises(DigitrecError, match="at least two"):
        build_ensemble([_member(8)])


def test_cli_builds_and_evaluates_an_ensemble(tmp_path, capsys):
    paths = []
    for seed in (9, 10):
        path = tmp_path / f"m{seed}.safetensors"
        _member(seed).save(path)
        paths.append(str(path))
    paths.append("default")  # a shipped model can join too
    output = tmp_path / "out" / "ens.safetensors"
    assert main(["ensemble", *paths, "-o", str(output), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["members"]) == 3
    # Two random members and a good one: better than chance, and recorded in the file.
    assert report["test_accuracy"] > 0.5
    assert load_classifier(output).metrics["test_accuracy"] == report["test_accuracy"]


def test_cli_refuses_classic_members_and_direct_training(tmp_path, capsys):
    from digitrec.models.classic import ClassicClassifier  # noqa: F401  (registers families)

    assert main(["train", "--model", "ensemble", "--runs-dir", str(tmp_path)]) == 1
    assert "not trained directly" in capsys.readouterr().err


def test_an_ensemble_exports_to_onnx_and_agrees(tmp_path, digits):
    from digitrec.export import OnnxClassifier, compare_outputs, export_onnx

    ensemble = build_ensemble([_member(11), _member(12, mean=0.2, std=0.25)])
    path = export_onnx(ensemble, tmp_path / "ensemble.onnx")
    check = compare_outputs(ensemble, OnnxClassifier(path, ensemble.classes), digits)
    assert check["same_prediction"] == 1.0 and check["max_abs_difference"] < 1e-4
