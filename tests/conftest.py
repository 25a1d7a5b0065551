"""Shared fixtures: small, fast slices of the bundled MNIST."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from digitrec.data.datasets import DataSplits, load_parts, validation_indices


@pytest.fixture(autouse=True)
def _two_threads() -> None:
    # Tests compare exact weights across runs; pin the thread count they run with.
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def mnist_parts():
    return load_parts("mnist")


def head_splits(parts, train_count: int, val_count: int, test_count: int) -> DataSplits:
    """The first training digits split into train/validation, and the first test digits."""
    train, test = parts
    head = train.head(train_count + val_count)
    train_idx, val_idx = validation_indices(len(head), val_count, seed=0)
    name = f"mnist-{train_count}"
    return DataSplits(name, head.subset(train_idx), head.subset(val_idx), test.head(test_count))


@pytest.fixture(scope="session")
def small_splits(mnist_parts) -> DataSplits:
    """3,000 training, 500 validation and 1,000 test digits."""
    return head_splits(mnist_parts, 3000, 500, 1000)


@pytest.fixture(scope="session")
def tiny_splits(mnist_parts) -> DataSplits:
    """600 training, 100 validation and 200 test digits, for runs that only need to finish."""
    return head_splits(mnist_parts, 600, 100, 200)


def mnist_png_bytes(image: np.ndarray, *, invert: bool = True) -> bytes:
    """An MNIST digit as a PNG, by default dark ink on white paper like a scan."""
    import io

    from PIL import Image

    pixels = 255 - image if invert else image
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).resize((112, 112)).save(buffer, format="PNG")
    return buffer.getvalue()
