"""ONNX export: onnxruntime must predict what torch predicts."""

import json

import numpy as np
import pytest

from digitrec.cli import main
from digitrec.errors import DigitrecError
from digitrec.export import OnnxClassifier, compare_outputs, export_onnx
from digitrec.models.classic import ClassicClassifier
from digitrec.models.loading import load_classifier


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    classifier = load_classifier("default", accelerate=False)
    path = export_onnx(classifier, tmp_path_factory.mktemp("onnx") / "default.onnx")
    return classifier, OnnxClassifier(path, classifier.classes)


def test_onnx_agrees_with_torch_on_test_digits(exported, mnist_parts):
    classifier, onnx = exported
    check = compare_outputs(classifier, onnx, mnist_parts[1].head(1000).as_float())
    assert check["same_prediction"] == 1.0
    assert check["max_abs_difference"] < 1e-4


@pytest.mark.parametrize("batch", [1, 37])
def test_batch_size_is_dynamic(exported, mnist_parts, batch):
    _, onnx = exported
    probabilities = onnx.predict_proba(mnist_parts[1].head(batch).as_float())
    assert probabilities.shape == (batch, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_classic_models_are_refused(tmp_path):
    with pytest.raises(DigitrecError, match="only torch models"):
        export_onnx(ClassicClassifier(), tmp_path / "x.onnx")


def test_a_broken_onnx_file_is_a_clear_error(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not onnx")
    with pytest.raises(DigitrecError, match="not a usable ONNX model"):
        OnnxClassifier(broken, tuple("0123456789"))


def test_cli_export_checks_on_the_test_set(tmp_path, capsys):
    target = tmp_path / "out" / "model.onnx"
    assert main(["export", "default", "--onnx", str(target), "--limit", "300", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["count"] == 300 and report["same_prediction"] == 1.0
    assert target.stat().st_size > 10_000


def test_an_onnx_twin_beside_the_model_file_runs_its_predictions(tmp_path, mnist_parts):
    import shutil

    from digitrec.export import AcceleratedClassifier
    from digitrec.models.loading import resolve_model_path

    model_path = tmp_path / "model.safetensors"
    shutil.copy(resolve_model_path("default"), model_path)
    assert not isinstance(load_classifier(model_path), AcceleratedClassifier)  # no twin yet
    torch_classifier = load_classifier(model_path, accelerate=False)
    export_onnx(torch_classifier, tmp_path / "model.onnx")
    accelerated = load_classifier(model_path)
    assert isinstance(accelerated, AcceleratedClassifier)
    assert accelerated.architecture == torch_classifier.architecture
    assert accelerated.metrics == torch_classifier.metrics
    digits = mnist_parts[1].head(300).as_float()
    np.testing.assert_allclose(
        accelerated.predict_proba(digits), torch_classifier.predict_proba(digits), atol=1e-4
    )


def test_a_stale_or_broken_twin_is_ignored(tmp_path, exported):
    import shutil

    from digitrec.export import AcceleratedClassifier
    from digitrec.models.loading import resolve_model_path

    model_path = tmp_path / "model.safetensors"
    shutil.copy(resolve_model_path("default"), model_path)
    other = load_classifier(model_path, accelerate=False)
    other.digest = "0" * 64  # as if exported from other weights
    export_onnx(other, tmp_path / "model.onnx")
    assert not isinstance(load_classifier(model_path), AcceleratedClassifier)
    (tmp_path / "model.onnx").write_bytes(b"garbage")
    assert not isinstance(load_classifier(model_path), AcceleratedClassifier)
