"""The line reader's training loop (digitrec.line_training), on a tiny harvest of strips."""

import numpy as np
import torch

from digitrec.data.datasets import load_test_set
from digitrec.data.drawn_strips import drawn_strip
from digitrec.line_reader import LineNet, LineReader
from digitrec.line_training import load_strips, train_line_reader


def _harvest(path, count: int) -> None:
    """`count` strips drawn from MNIST test digits, stored as data.line_strips stores them."""
    rng, digits = np.random.default_rng(0), load_test_set()
    strips, texts = zip(*(drawn_strip(digits, rng) for _ in range(count)), strict=True)
    width = max(strip.shape[1] for strip in strips)
    images = np.zeros((count, strips[0].shape[0], width), np.uint8)
    for k, strip in enumerate(strips):
        images[k, :, : strip.shape[1]] = np.clip(np.rint(strip * 255), 0, 255)
    widths = [strip.shape[1] for strip in strips]
    np.savez(path, images=images, widths=np.array(widths), texts=np.array(texts))


def _mean_loss(reader: LineReader, strips: list[np.ndarray], texts: list[str]) -> float:
    """The mean negative log-probability of the true texts, by CTC."""
    readings = reader.read(strips, others=texts)
    return -float(np.mean([reading.other_log_probability for reading in readings]))


def test_training_makes_the_true_texts_likelier(tmp_path) -> None:
    path = tmp_path / "strips.npz"
    _harvest(path, 96)
    strips, texts = load_strips([path])
    assert len(strips) == 96 and all(text.isdigit() for text in texts)
    torch.manual_seed(0)
    untrained = LineReader(LineNet(8))
    reader, accuracy = train_line_reader(
        [path], epochs=3, drawn=32, width=8, batch_size=16, validation=16, threads=2
    )
    assert 0.0 <= accuracy <= 1.0
    assert _mean_loss(reader, strips, texts) < 0.7 * _mean_loss(untrained, strips, texts)
