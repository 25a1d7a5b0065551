"""A random forest (or extra trees) on pixels: fitted by scikit-learn, predicted by numpy.

After fitting, every tree is exported to flat arrays, so that a model file holds no pickle and
loading needs no scikit-learn object. Only internal nodes are stored (feature, threshold, left
and right child); a child pointer p >= 0 is an internal node of the same tree and p < 0 a
leaf, whose class probabilities are row -p - 1 of `leaf_values`. Leaf rows are deduplicated
across all trees: fully grown trees have pure leaves, so ten rows serve hundreds of
thousands of leaves and leaves cost nothing beyond the pointer to them.

Prediction walks all trees for a batch of samples at once, one depth level per step, keeping
only the (sample, tree) pairs not yet at a leaf. It matches scikit-learn's predict_proba to
float rounding (a test checks this against the fitted forest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from digitrec.errors import DigitrecError
from digitrec.models.classic import DIGIT_CLASSES, ClassicClassifier, batches, flat_pixels
from digitrec.models.registry import register_model

if TYPE_CHECKING:
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

    from digitrec.config import TrainConfig
    from digitrec.data.datasets import DigitSet

# Samples per prediction batch: the walk holds a few int64s per (sample, tree) pair.
_BATCH = 2048
_STATE = ("feature", "threshold", "left", "right", "leaf_values", "tree_offsets", "roots")


@register_model(
    "forest",
    description="random forest or extra trees on pixels (scikit-learn fit, numpy predict)",
    recipe="forest",
    kind="classic",
)
class ForestClassifier(ClassicClassifier):
    def __init__(
        self,
        classes: tuple[str, ...] = DIGIT_CLASSES,
        *,
        trees: int = 100,
        max_depth: int | None = None,
        min_samples_leaf: int = 1,
        max_features: str | int | float = "sqrt",
        extra_trees: bool = False,
    ) -> None:
        _check_arguments(trees, max_depth, min_samples_leaf)
        super().__init__(
            classes,
            trees=trees,
            max_depth=max_depth,
            min_samples_leaf=min_samples_leaf,
            max_features=max_features,
            extra_trees=extra_trees,
        )
        self.state: dict[str, np.ndarray] = {}
        self._walk: tuple[np.ndarray, ...] | None = None  # global-index arrays for prediction

    def estimator(self, config: TrainConfig) -> RandomForestClassifier | ExtraTreesClassifier:
        """The unfitted scikit-learn forest that fit() trains."""
        from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

        forest = ExtraTreesClassifier if self.arguments["extra_trees"] else RandomForestClassifier
        return forest(
            n_estimators=self.arguments["trees"],
            max_depth=self.arguments["max_depth"],
            min_samples_leaf=self.arguments["min_samples_leaf"],
            max_features=self.arguments["max_features"],
            n_jobs=config.threads or -1,
            random_state=config.seed,
        )

    def fit(
        self, train: DigitSet, val: DigitSet, config: TrainConfig, show_progress: bool = False
    ) -> list[dict[str, float]]:
        forest = self.estimator(config).fit(flat_pixels(train.images), train.labels)
        self.load_state(export_forest(forest, len(self.classes)))
        return []  # one-shot: no epochs to report

    def state_arrays(self) -> dict[str, np.ndarray]:
        if not self.state:
            raise RuntimeError("forest: fit() or load_state() first")
        return dict(self.state)

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        state = {name: arrays[name] for name in _STATE}
        if state["leaf_values"].shape[1:] != (len(self.classes),):
            raise ValueError(
                f"leaf_values {state['leaf_values'].shape} for {len(self.classes)} classes"
            )
        self._walk = _global_arrays(state)
        self.state = state

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Mean over the trees of each tree's leaf class probabilities."""
        if self._walk is None:
            raise RuntimeError("forest: fit() or load_state() first")
        pixels = flat_pixels(images)
        if self._walk[1].size and self._walk[1].max() >= pixels.shape[1]:
            raise DigitrecError(f"forest: trees test pixels beyond the {pixels.shape[1]} given")
        values = self.state["leaf_values"]
        trees = len(self.state["roots"])
        proba = np.empty((len(pixels), values.shape[1]), dtype=np.float32)
        for start, stop in batches(len(pixels), _BATCH):
            rows = leaf_rows(pixels[start:stop], *self._walk)
            # Summed in float64, as scikit-learn does, before the division by the tree count.
            summed = values[rows].sum(axis=1, dtype=np.float64)
            proba[start:stop] = summed / trees
        return proba


def leaf_rows(
    pixels: np.ndarray,
    roots: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
) -> np.ndarray:
    """(N, trees) rows of leaf_values reached by each sample in each tree, walking every
    (sample, tree) pair down one level per step. Pointers are global: p >= 0 an internal node,
    p < 0 leaf row -p - 1."""
    count, width = pixels.shape
    pointer = np.tile(roots, count)  # sample-major: pair i is sample i // trees
    sample_start = np.repeat(np.arange(count, dtype=np.int64) * width, len(roots))
    flat = pixels.ravel()
    active = np.flatnonzero(pointer >= 0)
    while active.size:
        node = pointer[active]
        go_left = flat[sample_start[active] + feature[node]] <= threshold[node]
        step = np.where(go_left, left[node], right[node])
        pointer[active] = step
        active = active[step >= 0]
    return (-pointer - 1).reshape(count, len(roots))


def export_forest(forest: Any, classes: int) -> dict[str, np.ndarray]:
    """The flat arrays of a fitted scikit-learn forest, for `ForestClassifier.load_state`."""
    parts = [_export_tree(tree.tree_, forest.classes_, classes) for tree in forest.estimators_]
    # One table of distinct leaf rows for all trees; leaf pointers become rows of it.
    leaf_values, inverse = np.unique(
        np.concatenate([part["leaf_values"] for part in parts]), axis=0, return_inverse=True
    )
    inverse = inverse.ravel()
    sizes = [len(part["feature"]) for part in parts]
    leaves = np.cumsum([0] + [len(part["leaf_values"]) for part in parts])
    left, right, roots = [], [], []
    for part, first_leaf in zip(parts, leaves[:-1], strict=True):
        # Local leaf ordinal j (pointer -j - 1) -> distinct row inverse[first_leaf + j].
        remap = inverse[first_leaf : first_leaf + len(part["leaf_values"])]
        left.append(_to_rows(part["left"], remap))
        right.append(_to_rows(part["right"], remap))
        roots.append(_to_rows(part["root"], remap))
    return {
        "feature": _compact(np.concatenate([part["feature"] for part in parts])),
        "threshold": np.concatenate([part["threshold"] for part in parts]),
        "left": _compact(np.concatenate(left)),
        "right": _compact(np.concatenate(right)),
        "leaf_values": leaf_values.astype(np.float32),
        "tree_offsets": np.cumsum([0, *sizes]).astype(np.int64),
        "roots": np.concatenate(roots).astype(np.int32),
    }


def _export_tree(tree: Any, tree_classes: np.ndarray, classes: int) -> dict[str, np.ndarray]:
    """One sklearn tree as internal-node arrays with tree-local pointers, leaves numbered in
    node order (pointer -j - 1 for the j-th leaf), and its leaves' class probabilities."""
    is_leaf = tree.children_left < 0
    ordinal = np.where(is_leaf, -np.cumsum(is_leaf), np.cumsum(~is_leaf) - 1)
    internal = ~is_leaf
    values = tree.value[is_leaf, 0, :].astype(np.float64)
    totals = values.sum(axis=1, keepdims=True)
    values /= np.where(totals == 0, 1.0, totals)  # as DecisionTreeClassifier.predict_proba
    # The forest may have seen only some classes (a small subset): put them in their columns.
    leaf_values = np.zeros((len(values), classes), dtype=np.float32)
    leaf_values[:, tree_classes.astype(np.int64)] = values
    return {
        "feature": tree.feature[internal],
        "threshold": _floor_float32(tree.threshold[internal]),
        "left": ordinal[tree.children_left[internal]],
        "right": ordinal[tree.children_right[internal]],
        "root": ordinal[:1],
        "leaf_values": leaf_values,
    }


def _to_rows(pointers: np.ndarray, remap: np.ndarray) -> np.ndarray:
    leaf = pointers < 0
    return np.where(leaf, -remap[np.where(leaf, -pointers - 1, 0)] - 1, pointers)


def _floor_float32(threshold: np.ndarray) -> np.ndarray:
    """Thresholds as the largest float32 not above them: scikit-learn tests float32 pixels
    with `x <= threshold` in float64, and for float32 x that holds exactly when x is at most
    this float32 (rounding to nearest could move a threshold past a pixel value)."""
    rounded = threshold.astype(np.float32)
    above = rounded.astype(np.float64) > threshold
    rounded[above] = np.nextafter(rounded[above], np.float32(-np.inf))
    return rounded


def _compact(pointers: np.ndarray) -> np.ndarray:
    """int16 when every value fits (pixel numbers and tree-local pointers usually do), else
    int32."""
    small = pointers.size == 0 or (pointers.min() >= -(2**15) and pointers.max() < 2**15)
    return pointers.astype(np.int16 if small else np.int32)


def _global_arrays(state: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """(roots, feature, threshold, left, right) with internal pointers made global by adding
    each tree's offset, so that the walk indexes one array for all trees."""
    offsets = state["tree_offsets"].astype(np.int64)
    sizes = np.diff(offsets)
    if offsets[0] != 0 or offsets[-1] != len(state["feature"]) or len(sizes) != len(state["roots"]):
        raise ValueError("tree_offsets do not fit the node arrays")
    tree_of_node = np.repeat(np.arange(len(sizes)), sizes)
    local = np.arange(len(tree_of_node)) - offsets[tree_of_node]
    for name in ("left", "right"):
        _check_pointers(state[name], sizes[tree_of_node], len(state["leaf_values"]), local)
    _check_pointers(state["roots"], sizes, len(state["leaf_values"]), np.full(len(sizes), -1))
    if len(state["threshold"]) != len(state["feature"]) or np.any(state["feature"] < 0):
        raise ValueError("feature and threshold do not fit the node arrays")

    def globalise(pointers: np.ndarray, base: np.ndarray) -> np.ndarray:
        pointers = pointers.astype(np.int64)
        return np.where(pointers >= 0, pointers + base, pointers)

    return (
        globalise(state["roots"], offsets[:-1]),
        state["feature"].astype(np.int64),
        state["threshold"].astype(np.float32),
        globalise(state["left"], offsets[tree_of_node]),
        globalise(state["right"], offsets[tree_of_node]),
    )


def _check_pointers(
    pointers: np.ndarray, sizes: np.ndarray, leaves: int, parents: np.ndarray
) -> None:
    """A damaged file must fail on load, not index out of range or loop forever in the walk:
    children must point to a later node of their own tree (as scikit-learn numbers them) or
    to an existing leaf row."""
    pointers = pointers.astype(np.int64)
    internal = pointers >= 0
    if len(pointers) != len(parents) or not (
        np.all(pointers[internal] < sizes[internal])
        and np.all(pointers[internal] > parents[internal])
        and np.all(pointers[~internal] >= -leaves)
    ):
        raise ValueError("node pointers out of range")


def _check_arguments(trees: int, max_depth: int | None, min_samples_leaf: int) -> None:
    if trees < 1:
        raise DigitrecError(f"forest: trees must be at least 1, got {trees}")
    if max_depth is not None and max_depth < 1:
        raise DigitrecError(f"forest: max_depth must be at least 1, got {max_depth}")
    if min_samples_leaf < 1:
        raise DigitrecError(f"forest: min_samples_leaf must be at least 1, got {min_samples_leaf}")
