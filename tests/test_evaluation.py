import numpy as np
import pytest

from digitrec.evaluation import confusion_matrix, metrics_from_probabilities, misclassified


def test_metrics_on_a_hand_made_case():
    labels = np.array([0, 0, 1, 1, 2])
    probabilities = np.array(
        [
            [0.9, 0.1, 0.0],
            [0.2, 0.7, 0.1],  # 0 read as 1
            [0.1, 0.8, 0.1],
            [0.0, 1.0, 0.0],
            [0.3, 0.3, 0.4],
        ]
    )
    metrics = metrics_from_probabilities(probabilities, labels, ("a", "b", "c"))
    assert metrics["accuracy"] == pytest.approx(0.8)
    assert metrics["errors"] == 1
    assert metrics["confusion"] == [[1, 1, 0], [0, 2, 0], [0, 0, 1]]
    expected_loss = -np.mean(np.log([0.9, 0.2, 0.8, 1.0, 0.4]))
    assert metrics["loss"] == pytest.approx(expected_loss)
    a, b, c = metrics["per_class"]
    assert (a["precision"], a["recall"], a["support"]) == (1.0, 0.5, 2)
    assert b["precision"] == pytest.approx(2 / 3) and b["recall"] == 1.0
    assert b["f1"] == pytest.approx(0.8)
    assert c["f1"] == 1.0


def test_confidently_wrong_loss_stays_finite():
    metrics = metrics_from_probabilities(np.array([[0.0, 1.0]]), np.array([0]), ("0", "1"))
    assert np.isfinite(metrics["loss"]) and metrics["loss"] > 20


def test_confusion_rows_are_true_classes():
    matrix = confusion_matrix(np.array([2, 2, 0]), np.array([1, 2, 0]), 3)
    assert matrix[2, 1] == 1 and matrix.sum() == 3


def test_misclassified_picks_the_errors():
    images = np.arange(3 * 4).reshape(3, 2, 2)
    probabilities = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    wrong_images, true, predicted, confidence = misclassified(
        images, np.array([0, 0, 1]), probabilities
    )
    assert true.tolist() == [0, 1] and predicted.tolist() == [1, 0]
    np.testing.assert_allclose(confidence, [0.7, 0.6])
    assert wrong_images.shape == (2, 2, 2)


def test_empty_set_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        metrics_from_probabilities(np.zeros((0, 10)), np.zeros(0, int), tuple("0123456789"))
