"""Model files: round trip, and refusal of anything truncated, tampered or foreign."""

import json
import struct

import numpy as np
import pytest
import torch

from digitrec.errors import ModelFileError
from digitrec.models.classifier import TorchClassifier
from digitrec.models.loading import load_classifier, resolve_model_path
from digitrec.models.registry import create_model
from digitrec.store import MODEL_FORMAT, read_arrays_file, write_arrays_file


def _classifier(name: str = "lenet5") -> TorchClassifier:
    torch.manual_seed(0)
    module = create_model(name)
    return TorchClassifier(
        module, name, {"num_classes": 10}, tuple("0123456789"), 0.13, 0.31, {"test_accuracy": 0.5}
    )


@pytest.fixture
def saved(tmp_path):
    return _classifier().save(tmp_path / "model.safetensors")


def test_round_trip_predicts_identically(saved, mnist_parts):
    images = mnist_parts[1].head(64).as_float()
    original = _classifier().predict_proba(images)
    loaded = load_classifier(saved)
    np.testing.assert_array_equal(loaded.predict_proba(images), original)
    assert loaded.metrics == {"test_accuracy": 0.5}
    assert loaded.classes == tuple("0123456789")


def test_file_is_plain_safetensors_with_json_metadata(saved):
    data = saved.read_bytes()
    (header_size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_size])
    document = json.loads(header["__metadata__"]["digitrec"])
    assert document["architecture"] == "lenet5"
    assert document["input"]["mean"] == pytest.approx(0.13)
    assert "torch" in document["versions"] and document["parameters"] == 61706
    assert b"\x80\x04" not in data[: 8 + header_size]  # no pickle opcodes in the header


def test_run_folder_resolves_to_its_model(saved):
    assert resolve_model_path(saved.parent) == saved


@pytest.mark.parametrize("cut", [0, 5, 100, -10])
def test_truncated_file_is_refused(saved, cut):
    data = saved.read_bytes()
    saved.write_bytes(data[:cut])
    with pytest.raises(ModelFileError, match=str(saved)):
        load_classifier(saved)


def test_tampered_weights_are_detected(saved):
    data = bytearray(saved.read_bytes())
    data[-5] ^= 0x01  # one bit in the last weight
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load_classifier(saved)


def test_weights_that_do_not_fit_the_architecture(tmp_path):
    arrays = {k: v.numpy() for k, v in create_model("mlp").state_dict().items()}
    document = {
        "kind": "torch",
        "architecture": "lenet5",
        "arguments": {},
        "classes": list("01"),
        "input": {"mean": 0.1, "std": 0.3},
    }
    path = write_arrays_file(tmp_path / "m.safetensors", arrays, document, kind=MODEL_FORMAT)
    with pytest.raises(ModelFileError, match="do not fit architecture 'lenet5'"):
        load_classifier(path)


def test_foreign_files_are_refused(tmp_path):
    from safetensors.numpy import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, str(plain))
    with pytest.raises(ModelFileError, match="not a digitrec model file"):
        load_classifier(plain)
    text = tmp_path / "notes.txt"
    text.write_text("hello, I am not a model" * 10)
    with pytest.raises(ModelFileError, match="not a digitrec model file"):
        load_classifier(text)


def test_checkpoint_is_not_a_model(tmp_path):
    path = write_arrays_file(tmp_path / "c.safetensors", {}, {}, kind="digitrec-checkpoint")
    with pytest.raises(ModelFileError, match="not a digitrec-model file"):
        read_arrays_file(path, kind=MODEL_FORMAT)


def test_unknown_reference(tmp_path):
    with pytest.raises(ModelFileError, match="not a model file, a run folder, or a shipped"):
        load_classifier(tmp_path / "nothing-here")
    (tmp_path / "empty-run").mkdir()
    with pytest.raises(ModelFileError, match="no model.safetensors"):
        load_classifier(tmp_path / "empty-run")
