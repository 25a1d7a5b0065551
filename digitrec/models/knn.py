"""k nearest neighbours on pixels, or on principal components of the pixels.

Fitting only stores the training set (uint8 pixels, or float32 projections when PCA is on) and,
with PCA, the mean and components found by an eigendecomposition of the training covariance.
Prediction ranks squared distances ||b||² − 2ab (+ ||a||², constant per query, so only added
for the chosen neighbours) from one matrix product per chunk of query rows; numpy's matmul
measured as fast as torch's here and keeps the model free of torch. `chunk_size` bounds the
memory: a chunk holds chunk_size × train-size float32 distances.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits  # installed with scikit-learn

from digitrec.errors import DigitrecError
from digitrec.models.classic import DIGIT_CLASSES, ClassicClassifier, batches, flat_pixels
from digitrec.models.registry import register_model

if TYPE_CHECKING:
    from digitrec.config import TrainConfig
    from digitrec.data.datasets import DigitSet

WEIGHTS = ("uniform", "distance")
# A neighbour at distance 0 (a duplicate) would get an infinite weight; this caps it.
_MIN_DISTANCE = 1e-6
_GROUP = 256  # training points per group in the pruned top-k search (see _smallest_k)


@register_model(
    "knn",
    description="k nearest neighbours on pixels, optionally on PCA components",
    recipe="knn",
    kind="classic",
)
class KNNClassifier(ClassicClassifier):
    def __init__(
        self,
        classes: tuple[str, ...] = DIGIT_CLASSES,
        *,
        k: int = 3,
        weights: str = "uniform",
        pca_components: int | None = None,
        chunk_size: int = 512,
    ) -> None:
        _check_arguments(k, weights, pca_components, chunk_size)
        super().__init__(
            classes, k=k, weights=weights, pca_components=pca_components, chunk_size=chunk_size
        )
        self.k, self.weights, self.chunk_size = k, weights, chunk_size
        self.pca_components = pca_components
        self.train_points: np.ndarray | None = None  # uint8 pixels, or float32 projections
        self.train_labels: np.ndarray | None = None
        self.mean: np.ndarray | None = None  # PCA only: (784,) and (784, components)
        self.components: np.ndarray | None = None
        self._features: np.ndarray | None = None  # float32 copy of train_points, built lazily
        self._squared_norms: np.ndarray | None = None

    # --- fitting and state ------------------------------------------------------------------

    def fit(
        self, train: DigitSet, val: DigitSet, config: TrainConfig, show_progress: bool = False
    ) -> list[dict[str, float]]:
        # kNN learns nothing to watch on `val`: it just memorises `train`.
        labels = train.labels.astype(_label_type(len(self.classes)))
        if self.pca_components is None:
            points = train.images.reshape(len(train), -1).astype(np.uint8)
            self._set_state(points, labels)
            return []
        pixels = flat_pixels(train.images)
        self.mean, self.components = fit_pca(pixels, self.pca_components)
        self._set_state(self._project(pixels), labels)
        return []

    def state_arrays(self) -> dict[str, np.ndarray]:
        if self.train_points is None or self.train_labels is None:
            raise RuntimeError("knn: fit() or load_state() first")
        arrays = {"train_points": self.train_points, "train_labels": self.train_labels}
        if self.mean is not None and self.components is not None:
            arrays |= {"mean": self.mean, "components": self.components}
        return arrays

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        points, labels = arrays["train_points"], arrays["train_labels"]
        if points.ndim != 2 or labels.shape != (len(points),):
            raise ValueError(f"train_points {points.shape} and train_labels {labels.shape}")
        if labels.size and labels.max() >= len(self.classes):
            raise ValueError(f"label {labels.max()} but {len(self.classes)} classes")
        if self.pca_components is None:
            if points.dtype != np.uint8:
                raise ValueError(f"train_points must be uint8 pixels, not {points.dtype}")
        else:
            self.mean = arrays["mean"].astype(np.float32)
            self.components = arrays["components"].astype(np.float32)
            expected = (len(self.mean), self.pca_components)
            if self.components.shape != expected or points.shape[1] != self.pca_components:
                raise ValueError(f"components {self.components.shape}, expected {expected}")
        self._set_state(points, labels)

    def _set_state(self, points: np.ndarray, labels: np.ndarray) -> None:
        self.train_points, self.train_labels = points, labels
        self._features = self._squared_norms = None

    # --- prediction --------------------------------------------------------------------------

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Vote shares of the k nearest training digits (weighted by 1/distance if asked)."""
        distances, neighbours = self.kneighbors(images)
        labels = self.train_labels[neighbours]  # type: ignore[index]
        return vote_shares(distances, labels, len(self.classes), self.weights)

    def kneighbors(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(distances, indices), each (N, k), nearest first: Euclidean distances to, and
        indices of, the k nearest training points of each image."""
        features, norms = self._train_features()
        queries = self._transform(images)
        k = min(self.k, len(features))
        distances = np.empty((len(queries), k), dtype=np.float32)
        indices = np.empty((len(queries), k), dtype=np.int64)
        for start, stop in batches(len(queries), self.chunk_size):
            chunk = queries[start:stop]
            squared, found = _nearest(chunk, features, norms, k)
            squared += np.einsum("ij,ij->i", chunk, chunk)[:, None]
            distances[start:stop] = np.sqrt(np.maximum(squared, 0.0))
            indices[start:stop] = found
        return distances, indices

    def _train_features(self) -> tuple[np.ndarray, np.ndarray]:
        # Kept in memory after the first call: converting 60,000 uint8 images to float
        # for every predict call would cost as much as a chunk of distances.
        if self.train_points is None:
            raise RuntimeError("knn: fit() or load_state() first")
        if self._features is None or self._squared_norms is None:
            points = self.train_points
            self._features = flat_pixels(points) if points.dtype == np.uint8 else points
            self._squared_norms = np.einsum("ij,ij->i", self._features, self._features)
        return self._features, self._squared_norms

    def _transform(self, images: np.ndarray) -> np.ndarray:
        pixels = flat_pixels(images)
        return pixels if self.components is None else self._project(pixels)

    def _project(self, pixels: np.ndarray) -> np.ndarray:
        return ((pixels - self.mean) @ self.components).astype(np.float32)


def _nearest(
    queries: np.ndarray, features: np.ndarray, norms: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Squared distances minus ||query||², and indices, of the k nearest rows of `features`,
    sorted nearest first."""
    scores = queries @ features.T  # (chunk, train): the one big allocation
    scores *= -2.0
    scores += norms
    if k < scores.shape[1]:
        found = _smallest_k(scores, k)
    else:
        found = np.broadcast_to(np.arange(scores.shape[1]), scores.shape).copy()
    picked = np.take_along_axis(scores, found, axis=1)
    order = np.argsort(picked, axis=1, kind="stable")
    return np.take_along_axis(picked, order, axis=1), np.take_along_axis(found, order, axis=1)


def _smallest_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k smallest entries of each row, in no particular order.

    Each of the k groups of columns with the smallest minima holds an entry no larger than the
    k-th smallest of those minima, so the k smallest entries of the row lie in those groups
    (ties aside). argpartition then runs on k groups (plus the ragged tail) instead of the
    whole row; on 60,000 training digits that made the top-k step 5x faster than a plain
    argpartition, which had cost more than the matrix product with PCA.
    """
    rows, columns = scores.shape
    groups = columns // _GROUP
    if groups <= 4 * k:  # pruning only pays when it discards most of the groups
        return np.argpartition(scores, k - 1, axis=1)[:, :k]
    body = scores[:, : groups * _GROUP].reshape(rows, groups, _GROUP)
    best = np.argpartition(body.min(axis=2), k - 1, axis=1)[:, :k]
    candidates = body[np.arange(rows)[:, None], best].reshape(rows, k * _GROUP)
    where = (best[:, :, None] * _GROUP + np.arange(_GROUP)).reshape(rows, k * _GROUP)
    tail = np.arange(groups * _GROUP, columns)
    if tail.size:
        candidates = np.concatenate([candidates, scores[:, tail]], axis=1)
        where = np.concatenate([where, np.broadcast_to(tail, (rows, tail.size))], axis=1)
    picked = np.argpartition(candidates, k - 1, axis=1)[:, :k]
    return np.take_along_axis(where, picked, axis=1)


def vote_shares(
    distances: np.ndarray, labels: np.ndarray, classes: int, weights: str = "uniform"
) -> np.ndarray:
    """(N, classes) shares of the votes of N × k neighbours with these distances and labels."""
    if weights == "distance":
        votes = 1.0 / np.maximum(distances.astype(np.float64), _MIN_DISTANCE)
    else:
        votes = np.ones(distances.shape, dtype=np.float64)
    proba = np.zeros((len(labels), classes), dtype=np.float64)
    np.add.at(proba, (np.arange(len(labels))[:, None], labels), votes)
    return (proba / proba.sum(axis=1, keepdims=True)).astype(np.float32)


def fit_pca(pixels: np.ndarray, components: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and the top `components` principal axes (D, components) of `pixels` (N, D),
    from an eigendecomposition of the D × D covariance: far cheaper than an SVD of N × D."""
    if components > pixels.shape[1]:
        raise DigitrecError(f"knn: pca_components {components} > {pixels.shape[1]} pixels")
    data = pixels.astype(np.float64)
    mean = data.mean(axis=0)
    centred = data - mean
    covariance = centred.T @ centred
    # On a busy machine multi-threaded OpenBLAS took 2-7 s on this 784 × 784 eigh, waiting for
    # its threads; one thread takes 0.07 s.
    with threadpool_limits(1, user_api="blas"):
        _, vectors = np.linalg.eigh(covariance)  # eigenvalues ascending
    axes = vectors[:, ::-1][:, :components]
    # Eigenvectors have arbitrary signs; fix them so that the same data gives the same file.
    axes *= np.where(axes[np.abs(axes).argmax(axis=0), np.arange(components)] < 0, -1.0, 1.0)
    return mean.astype(np.float32), axes.astype(np.float32)


def _check_arguments(k: int, weights: str, pca_components: int | None, chunk_size: int) -> None:
    if k < 1:
        raise DigitrecError(f"knn: k must be at least 1, got {k}")
    if weights not in WEIGHTS:
        raise DigitrecError(f"knn: weights must be {' or '.join(WEIGHTS)}, got {weights!r}")
    if pca_components is not None and pca_components < 1:
        raise DigitrecError(f"knn: pca_components must be at least 1, got {pca_components}")
    if chunk_size < 1:
        raise DigitrecError(f"knn: chunk_size must be at least 1, got {chunk_size}")


def _label_type(classes: int) -> np.dtype:
    return np.min_scalar_type(max(classes - 1, 0))
