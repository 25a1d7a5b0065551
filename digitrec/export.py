"""ONNX export of torch models, and a classifier that runs the exported file with onnxruntime.

The exported graph takes what every digitrec classifier takes, images (N, 1, 28, 28) in [0, 1]
with the ink bright, and returns class probabilities: the input standardization and the
softmax are baked in, so a consumer of the file needs no digitrec constants. The batch size is
dynamic.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from digitrec.errors import DigitrecError
from digitrec.models.classifier import Classifier, TorchClassifier

log = logging.getLogger(__name__)

INPUT_NAME = "images"
OUTPUT_NAME = "probabilities"
OPSET = 18
# ONNX metadata keys: the digest of the weights the file was exported from, and the classes.
DIGEST_KEY = "digitrec_arrays_sha256"
CLASSES_KEY = "digitrec_classes"


class _Probabilities(nn.Module):
    """The classifier's module with its standardization in front and a softmax behind."""

    def __init__(self, module: nn.Module, mean: float, std: float) -> None:
        super().__init__()
        self.module = module
        self.mean, self.std = mean, std

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # (N, 1, 28, 28) in [0, 1]
        return torch.softmax(self.module((images - self.mean) / self.std), dim=1)


def export_onnx(classifier: Classifier, path: Path) -> Path:
    """Write `classifier` (a torch model) as an ONNX file at `path`."""
    if not isinstance(classifier, TorchClassifier):
        raise DigitrecError(
            f"only torch models export to ONNX; '{classifier.architecture}' is a "
            f"{classifier.kind} model"
        )
    wrapped = _Probabilities(classifier.module.eval(), classifier.mean, classifier.std).eval()
    example = torch.zeros(2, 1, 28, 28)
    batch = torch.export.Dim("batch", min=1)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings(), _quiet("torch.onnx", "onnxscript"):
            warnings.simplefilter("ignore")  # the exporter's own deprecation chatter
            program = torch.onnx.export(
                wrapped,
                (example,),
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_shapes={"images": {0: batch}},
                opset_version=OPSET,
                dynamo=True,
                verbose=False,
            )
        program.save(str(path))
        _write_metadata(path, classifier)
    except OSError as error:
        raise DigitrecError(f"{path}: cannot write ({error.strerror or error})") from None
    return path


def save_with_twin(classifier: Classifier, path: Path) -> Path:
    """Save a torch model at `path` and its ONNX twin beside it; the twin's path. The twin is
    exported from the file as written, so that it carries the digest of those weights."""
    from digitrec.models.loading import load_classifier  # which loads twins from here

    path.parent.mkdir(parents=True, exist_ok=True)
    classifier.save(path)
    return export_onnx(load_classifier(path, accelerate=False), path.with_suffix(".onnx"))


def _write_metadata(path: Path, classifier: TorchClassifier) -> None:
    import onnx

    model = onnx.load(str(path))
    properties = {CLASSES_KEY: json.dumps(list(classifier.classes))}
    if classifier.digest:
        properties[DIGEST_KEY] = classifier.digest
    for key, value in properties.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))


def onnx_metadata(path: Path) -> dict[str, str]:
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:  # onnx raises DecodeError and friends for a damaged file
        raise DigitrecError(f"{path}: not a readable ONNX file ({error})") from None
    return {entry.key: entry.value for entry in model.metadata_props}


@contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """Silence the exporter's loggers, which report every optimization pass."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class OnnxClassifier:
    """predict_proba through onnxruntime, for an exported file."""

    kind = "onnx"

    def __init__(self, path: Path, classes: tuple[str, ...], threads: int | None = None) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        # Idle worker threads would otherwise spin for a while after each call: wasted CPU that
        # a server's other requests (or the other worker process) need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own types for unreadable files
            raise DigitrecError(f"{path}: not a usable ONNX model ({error})") from None
        self.architecture = Path(path).stem
        self.classes = tuple(classes)
        self.metrics: dict[str, Any] = {}

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, dtype=np.float32)
        if len(images) == 0:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        batch = images.reshape(len(images), 1, 28, 28)
        return self.session.run([OUTPUT_NAME], {INPUT_NAME: batch})[0]

    def parameter_count(self) -> int:
        return 0


def compare_outputs(reference: Classifier, exported: OnnxClassifier, images: np.ndarray) -> dict:
    """How closely the exported model follows the original on `images`."""
    expected = reference.predict_proba(images)
    got = exported.predict_proba(images)
    return {
        "count": len(images),
        "same_prediction": float((expected.argmax(1) == got.argmax(1)).mean()),
        "max_abs_difference": float(np.abs(expected - got).max()),
    }


class AcceleratedClassifier:
    """A torch classifier whose predictions run through its ONNX twin in onnxruntime.

    onnxruntime runs these small nets several times faster than torch eager on a CPU, in
    batches and above all one digit at a time (see BENCHMARKS.md). Everything but prediction
    (metadata, parameter count, saving) is the torch classifier's."""

    kind = "torch"

    def __init__(self, torch_classifier: TorchClassifier, onnx_path: Path) -> None:
        self.torch_classifier = torch_classifier
        self.onnx = OnnxClassifier(onnx_path, torch_classifier.classes)
        self.onnx_path = onnx_path

    def __getattr__(self, name: str) -> Any:  # architecture, classes, metrics, save, ...
        return getattr(self.torch_classifier, name)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        return self.onnx.predict_proba(images)


def accelerate(classifier: TorchClassifier, onnx_path: Path) -> Classifier:
    """`classifier` running on `onnx_path` if that file was exported from the same weights;
    `classifier` itself otherwise (no twin, or a stale one)."""
    if not onnx_path.is_file() or classifier.digest is None:
        return classifier
    try:
        metadata = onnx_metadata(onnx_path)
    except DigitrecError as error:
        log.warning("ignoring %s", error)
        return classifier
    if metadata.get(DIGEST_KEY) != classifier.digest:
        log.warning("ignoring %s: exported from other weights than the model's", onnx_path)
        return classifier
    return AcceleratedClassifier(classifier, onnx_path)
