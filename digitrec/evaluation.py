"""Metrics of a classifier on a labelled set, returned as plain data (nothing is printed)."""

from __future__ import annotations

from typing import Any

import numpy as np

from digitrec.data.datasets import DigitSet
from digitrec.models.classifier import Classifier

_EPSILON = 1e-12  # keeps log(0) finite for a confidently wrong prediction


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) counts: rows are true classes, columns predicted ones."""
    flat = labels.astype(np.int64) * num_classes + predicted.astype(np.int64)
    return np.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def per_class_scores(confusion: np.ndarray, classes: tuple[str, ...]) -> list[dict[str, Any]]:
    true_positive = np.diag(confusion).astype(np.float64)
    predicted_count = confusion.sum(axis=0)
    support = confusion.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted_count > 0, true_positive / predicted_count, 0.0)
        recall = np.where(support > 0, true_positive / support, 0.0)
        denominator = precision + recall
        f1 = np.where(denominator > 0, 2 * precision * recall / denominator, 0.0)
    return [
        {
            "class": name,
            "precision": float(precision[index]),
            "recall": float(recall[index]),
            "f1": float(f1[index]),
            "support": int(support[index]),
        }
        for index, name in enumerate(classes)
    ]


def metrics_from_probabilities(
    probabilities: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]
) -> dict[str, Any]:
    """accuracy, loss (mean negative log-likelihood), per_class scores and the confusion matrix."""
    if len(labels) == 0:
        raise ValueError("cannot evaluate on an empty set")
    predicted = probabilities.argmax(axis=1)
    picked = probabilities[np.arange(len(labels)), labels]
    confusion = confusion_matrix(labels, predicted, len(classes))
    return {
        "accuracy": float((predicted == labels).mean()),
        "loss": float(-np.log(np.clip(picked, _EPSILON, 1.0)).mean()),
        "count": len(labels),
        "errors": int((predicted != labels).sum()),
        "per_class": per_class_scores(confusion, classes),
        "confusion": confusion.tolist(),
    }


def evaluate(classifier: Classifier, digits: DigitSet) -> dict[str, Any]:
    """Metrics of `classifier` on `digits` (see metrics_from_probabilities)."""
    probabilities = classifier.predict_proba(digits.as_float())
    return metrics_from_probabilities(probabilities, digits.labels, digits.classes)


def misclassified(
    images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(images, true labels, predicted labels, confidence) of the wrongly classified samples."""
    predicted = probabilities.argmax(axis=1)
    wrong = predicted != labels
    return images[wrong], labels[wrong], predicted[wrong], probabilities[wrong].max(axis=1)
