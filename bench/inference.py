"""Inference speed of the shipped models (digitrec/pretrained): torch eager against
onnxruntime, in batches and one digit at a time, and what int8 quantization of the ONNX export
does to accuracy and speed."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from digitrec.data.datasets import DataSplits, load_splits
from digitrec.export import OnnxClassifier, export_onnx
from digitrec.models.classifier import TorchClassifier
from digitrec.models.loading import load_classifier

# The shipped models, by the names `digitrec predict --model` takes.
SHIPPED = ("default", "small", "best", "ensemble")
SINGLE_CALLS = 500  # batch-1 latency: the median over this many calls
CALIBRATION_DIGITS = 1000  # training digits that set the int8 activation ranges


def throughput(predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray) -> float:
    """Digits per second for the whole set in one call, after a warm-up call."""
    predict(images[:256])
    started = time.perf_counter()
    predict(images)
    return len(images) / (time.perf_counter() - started)


def single_latency_ms(predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray) -> float:
    for index in range(20):  # warm-up
        predict(images[index : index + 1])
    times = []
    for index in range(SINGLE_CALLS):
        one = images[index : index + 1]
        started = time.perf_counter()
        predict(one)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def inference_benchmark(runs_dir: Path) -> str:
    del runs_dir  # nothing is trained: the shipped models are measured
    splits = load_splits("mnist")
    models = {name: Path(name) for name in SHIPPED}
    return "\n".join(
        [
            "## Inference: the shipped models",
            "",
            "The models in `digitrec/pretrained` on the 10,000 MNIST test digits; batch 1 is the "
            "median of single-digit calls.",
            "",
            inference_table(models, splits),
            "",
            "### int8 quantization (onnxruntime, on the ONNX export)",
            "",
            quantization_table({name: models[name] for name in ("default", "best")}, splits),
            "",
        ]
    )


def inference_table(models: dict[str, Path], splits: DataSplits) -> str:
    images = splits.test.as_float()
    lines = [
        "| model | parameters | torch digits/s | onnxruntime digits/s | torch batch-1 ms "
        "| onnxruntime batch-1 ms | same predictions |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for name, reference in models.items():
            classifier = load_classifier(reference, accelerate=False)
            assert isinstance(classifier, TorchClassifier)
            onnx = OnnxClassifier(
                export_onnx(classifier, Path(folder) / "m.onnx"), classifier.classes
            )
            same = (
                classifier.predict_proba(images).argmax(1) == onnx.predict_proba(images).argmax(1)
            ).mean()
            lines.append(
                f"| {name} | {classifier.parameter_count():,} "
                f"| {throughput(classifier.predict_proba, images):,.0f} "
                f"| {throughput(onnx.predict_proba, images):,.0f} "
                f"| {single_latency_ms(classifier.predict_proba, images):.3f} "
                f"| {single_latency_ms(onnx.predict_proba, images):.3f} | {same:.2%} |"
            )
    return "\n".join(lines)


def quantization_table(models: dict[str, Path], splits: DataSplits) -> str:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    calibration = splits.train.as_float()[:CALIBRATION_DIGITS].reshape(-1, 1, 28, 28)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(np.array_split(calibration, 10))

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self.batches, None)
            return None if batch is None else {"images": batch}

    images, labels = splits.test.as_float(), splits.test.labels
    lines = [
        "| model | variant | test accuracy | change (points) | digits/s | batch-1 ms | file |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for name, reference in models.items():
            classifier = load_classifier(reference, accelerate=False)
            assert isinstance(classifier, TorchClassifier)
            fp32 = _without_shape_annotations(export_onnx(classifier, Path(folder) / "fp32.onnx"))
            variants = {"fp32": fp32}
            quantize_dynamic(
                str(fp32), str(Path(folder) / "dynamic.onnx"), weight_type=QuantType.QInt8
            )
            variants["int8 dynamic"] = Path(folder) / "dynamic.onnx"
            quantize_static(
                str(fp32),
                str(Path(folder) / "static.onnx"),
                Reader(),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
            )
            variants["int8 static"] = Path(folder) / "static.onnx"
            baseline = None
            for variant, path in variants.items():
                onnx = OnnxClassifier(path, classifier.classes)
                accuracy = float((onnx.predict_proba(images).argmax(1) == labels).mean())
                baseline = accuracy if baseline is None else baseline
                lines.append(
                    f"| {name} | {variant} | {accuracy:.2%} | {100 * (accuracy - baseline):+.2f} "
                    f"| {throughput(onnx.predict_proba, images):,.0f} "
                    f"| {single_latency_ms(onnx.predict_proba, images):.3f} "
                    f"| {path.stat().st_size / 1024:.0f} KB |"
                )
    return "\n".join(lines)


def _without_shape_annotations(path: Path) -> Path:
    """The quantizer re-runs ONNX shape inference, which rejects some intermediate shapes
    the torch exporter annotates (seen: a Linear's output); it needs none of them."""
    import onnx

    model = onnx.load(str(path))
    del model.graph.value_info[:]
    onnx.save(model, str(path))
    return path
