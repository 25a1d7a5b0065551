"""A fully-connected network written from scratch in NumPy: the network of Michael Nielsen's
"Neural networks and deep learning", vectorized over the mini-batch.

Layer i maps activations (B, layers[i]) to (B, layers[i + 1]) as `a @ w{i} + b{i}`; hidden
layers apply sigmoid or ReLU, the last a softmax scored by cross-entropy. Training is mini-batch
SGD with optional momentum and L2 weight decay (on weights, not biases), in float32.

From TrainConfig, `fit` uses epochs, batch_size, lr, momentum, weight_decay, schedule (constant,
step with step_size/gamma, or cosine; any other falls back to cosine), seed and threads (BLAS
threads; None means one here, see `fit`). The torch-only settings (optimizer, dropout,
augmentation, label smoothing, early stopping) are ignored: this is plain SGD on raw pixels.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from digitrec.errors import DigitrecError
from digitrec.models.classic import DIGIT_CLASSES, ClassicClassifier, batches, flat_pixels
from digitrec.models.registry import register_model

if TYPE_CHECKING:
    from digitrec.config import TrainConfig
    from digitrec.data.datasets import DigitSet

log = logging.getLogger(__name__)

ACTIVATIONS = ("sigmoid", "relu")
INPUT_SIZE = 28 * 28
_PREDICT_BATCH = 2048  # rows per forward pass at prediction: bounds memory, keeps BLAS busy

Params = dict[str, np.ndarray]


# --- the network as pure functions of its parameters ----------------------------------------


def _forward(params: Params, x: np.ndarray, activation: str) -> list[np.ndarray]:
    """Activations of every layer, input first; the last entry is the log-softmax output."""
    depth = len(params) // 2
    outputs = [x]
    for i in range(depth):
        z = outputs[-1] @ params[f"w{i}"] + params[f"b{i}"]
        if i < depth - 1:
            outputs.append(expit(z) if activation == "sigmoid" else np.maximum(z, 0, out=z))
        else:
            # Log-softmax by the max-shift trick: exact and free of overflow for any logits.
            z -= z.max(axis=1, keepdims=True)
            z -= np.log(np.exp(z).sum(axis=1, keepdims=True))
            outputs.append(z)
    return outputs


def _backward(
    params: Params, outputs: list[np.ndarray], y: np.ndarray, activation: str, weight_decay: float
) -> Params:
    """Gradients of mean cross-entropy + weight_decay/2 * sum(w**2), by backpropagation."""
    depth = len(params) // 2
    # Softmax with cross-entropy: d loss / d logits is (probabilities - one-hot) / batch.
    delta = np.exp(outputs[-1])
    delta[np.arange(len(y)), y] -= 1
    delta /= len(y)
    grads: Params = {}
    for i in reversed(range(depth)):
        grads[f"w{i}"] = outputs[i].T @ delta + weight_decay * params[f"w{i}"]
        grads[f"b{i}"] = delta.sum(axis=0)
        if i > 0:  # the input layer needs no delta
            # Both derivatives are functions of the activation itself, so z need not be kept.
            a = outputs[i]
            slope = a * (1 - a) if activation == "sigmoid" else (a > 0).astype(a.dtype)
            delta = (delta @ params[f"w{i}"].T) * slope
    return grads


def _cross_entropy(log_probs: np.ndarray, y: np.ndarray) -> float:
    return float(-log_probs[np.arange(len(y)), y].mean())


def loss_and_gradients(
    params: Params,
    x: np.ndarray,
    y: np.ndarray,
    activation: str = "sigmoid",
    weight_decay: float = 0.0,
) -> tuple[float, Params]:
    """(loss, gradients by name) of the network `params` on inputs x (B, 784) and labels y.

    Computes in the dtype of `params` and `x`, so a float64 copy can be checked against
    finite differences.
    """
    outputs = _forward(params, x, activation)
    penalty = sum(float((w * w).sum()) for name, w in params.items() if name.startswith("w"))
    loss = _cross_entropy(outputs[-1], y) + 0.5 * weight_decay * penalty
    return loss, _backward(params, outputs, y, activation, weight_decay)


def initial_params(layers: Sequence[int], activation: str, seed: int) -> Params:
    """Zero biases; weights N(0, gain/fan_in): He (gain 2) into ReLU layers, else LeCun (1),
    which is the "improved" initialization of Nielsen's chapter 3 for sigmoid neurons."""
    rng = np.random.default_rng(seed)
    params: Params = {}
    for i, (fan_in, fan_out) in enumerate(pairwise(layers)):
        gain = 2.0 if activation == "relu" and i < len(layers) - 2 else 1.0
        weights = rng.standard_normal((fan_in, fan_out), dtype=np.float32)
        params[f"w{i}"] = weights * np.float32(math.sqrt(gain / fan_in))
        params[f"b{i}"] = np.zeros(fan_out, dtype=np.float32)
    return params


def learning_rate(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """The learning rate of mini-batch `step` (counted from 0 over the whole run)."""
    if config.schedule == "constant":
        return config.lr
    if config.schedule == "step":
        return config.lr * config.gamma ** (step // steps_per_epoch // config.step_size)
    # Cosine annealing per step, from lr down to zero at the end of the last epoch.
    progress = step / (config.epochs * steps_per_epoch)
    return config.lr * 0.5 * (1 + math.cos(math.pi * progress))


# --- the classifier ---------------------------------------------------------------------------


@register_model(
    "numpy-mlp",
    description="fully-connected net in plain NumPy (Nielsen's book), trained by SGD",
    recipe="numpy-mlp",
    kind="classic",
)
class NumpyMLP(ClassicClassifier):
    def __init__(
        self,
        classes: tuple[str, ...] = DIGIT_CLASSES,
        layers: Sequence[int] = (INPUT_SIZE, 30, 10),
        activation: str = "sigmoid",
    ) -> None:
        layers = [int(size) for size in layers]
        _check_layout(layers, activation, len(tuple(classes)))
        super().__init__(classes, layers=layers, activation=activation)
        self.layers = layers
        self.activation = activation
        self.params = initial_params(layers, activation, seed=0)  # usable before fit

    def initialize(self, seed: int) -> None:
        self.params = initial_params(self.layers, self.activation, seed)

    def loss_and_gradients(
        self, x: np.ndarray, y: np.ndarray, weight_decay: float = 0.0
    ) -> tuple[float, Params]:
        return loss_and_gradients(self.params, x, y, self.activation, weight_decay)

    def fit(
        self, train: DigitSet, val: DigitSet, config: TrainConfig, show_progress: bool = False
    ) -> list[dict[str, float]]:
        x, y = flat_pixels(train.images), train.labels
        rng = np.random.default_rng(config.seed)
        self.initialize(config.seed)
        # Momentum velocities start at zero, so the first update is plain SGD (as in torch).
        velocity = {name: np.zeros_like(value) for name, value in self.params.items()}
        log.info("training numpy-mlp %s %s by SGD", self.layers, self.activation)
        start, history = time.perf_counter(), []
        # One BLAS thread unless asked: per-batch products this small gain little from a second
        # thread, and ran 4-10x slower with two when another process shared the cores.
        with threadpool_limits(limits=config.threads or 1, user_api="blas"):
            for epoch in range(config.epochs):
                order = rng.permutation(len(y))  # a fresh, seeded shuffle every epoch
                loss, accuracy = self._train_epoch(
                    x[order], y[order], epoch, velocity, config, show_progress
                )
                history.append(self._epoch_row(epoch, loss, accuracy, val, start))
        return history

    def _train_epoch(
        self,
        x: np.ndarray,
        y: np.ndarray,
        epoch: int,
        velocity: Params,
        config: TrainConfig,
        show_progress: bool,
    ) -> tuple[float, float]:
        """One pass over shuffled (x, y); returns its mean cross-entropy and accuracy."""
        per_epoch = math.ceil(len(y) / config.batch_size)
        chunks: Iterable[tuple[int, int]] = batches(len(y), config.batch_size)
        if show_progress:
            label = f"epoch {epoch + 1}/{config.epochs}"
            chunks = tqdm(chunks, total=per_epoch, desc=label, leave=False)
        loss_sum, correct = 0.0, 0
        for step, (begin, end) in enumerate(chunks, start=epoch * per_epoch):
            lr = learning_rate(config, step, per_epoch)
            batch_loss, batch_correct = self._step(x[begin:end], y[begin:end], lr, velocity, config)
            loss_sum += batch_loss * (end - begin)
            correct += batch_correct
        return loss_sum / len(y), correct / len(y)

    def _step(
        self, x: np.ndarray, y: np.ndarray, lr: float, velocity: Params, config: TrainConfig
    ) -> tuple[float, int]:
        """One SGD update on a mini-batch; returns its cross-entropy and correct count."""
        outputs = _forward(self.params, x, self.activation)
        grads = _backward(self.params, outputs, y, self.activation, config.weight_decay)
        for name, grad in grads.items():
            v = velocity[name]
            v *= config.momentum
            v -= np.float32(lr) * grad
            self.params[name] += v
        log_probs = outputs[-1]
        return _cross_entropy(log_probs, y), int((log_probs.argmax(axis=1) == y).sum())

    def _epoch_row(
        self, epoch: int, train_loss: float, train_acc: float, val: DigitSet, start: float
    ) -> dict[str, float]:
        log_probs = self._log_proba(val.images)
        val_loss = _cross_entropy(log_probs, val.labels)
        val_acc = float((log_probs.argmax(axis=1) == val.labels).mean())
        row = {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "train_acc": train_acc,
            "val_loss": val_loss,
            "val_acc": val_acc,
            "seconds": time.perf_counter() - start,
        }
        log.info(
            "epoch %(epoch)d: train loss %(train_loss).4f acc %(train_acc).4f, "
            "val loss %(val_loss).4f acc %(val_acc).4f (%(seconds).1f s)",
            row,
        )
        return row

    def _log_proba(self, images: np.ndarray) -> np.ndarray:
        if len(images) == 0:  # flat_pixels cannot reshape an empty batch to (0, -1)
            return np.zeros((0, self.layers[-1]), np.float32)
        x = flat_pixels(images)
        parts = [
            _forward(self.params, x[begin:end], self.activation)[-1]
            for begin, end in batches(len(x), _PREDICT_BATCH)
        ]
        return np.concatenate(parts)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        return np.exp(self._log_proba(images))

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {name: value.copy() for name, value in self.params.items()}

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        expected = _param_shapes(self.layers)
        missing, extra = expected.keys() - arrays.keys(), arrays.keys() - expected.keys()
        if missing or extra:
            raise ValueError(
                f"arrays {_names(missing)} missing, {_names(extra)} unexpected "
                f"for layers {self.layers}"
            )
        params: Params = {}
        for name, shape in expected.items():
            array = np.asarray(arrays[name])
            if array.shape != shape:
                raise ValueError(
                    f"array {name} has shape {array.shape}, layers {self.layers} need {shape}"
                )
            if not np.isfinite(array).all():
                raise ValueError(f"array {name} holds non-finite values")
            params[name] = array.astype(np.float32)
        self.params = params


def _check_layout(layers: list[int], activation: str, num_classes: int) -> None:
    if activation not in ACTIVATIONS:
        raise DigitrecError(f"activation must be one of {', '.join(ACTIVATIONS)}: {activation!r}")
    if len(layers) < 2 or min(layers) < 1:
        raise DigitrecError(f"layers must be two or more positive sizes, got {layers}")
    if layers[0] != INPUT_SIZE:
        raise DigitrecError(f"the first layer must have {INPUT_SIZE} inputs, got {layers[0]}")
    if layers[-1] != num_classes:
        raise DigitrecError(f"the last layer must have {num_classes} outputs (one per class)")


def _param_shapes(layers: list[int]) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (fan_in, fan_out) in enumerate(pairwise(layers)):
        shapes[f"w{i}"] = (fan_in, fan_out)
        shapes[f"b{i}"] = (fan_out,)
    return shapes


def _names(keys: Iterable[str]) -> str:
    return ", ".join(sorted(keys)) or "none"
