"""The line reader: reads a whole line of digits from its strip (vision.strips) at once.

The digit reader needs segmentation to say where each digit is; where two digits touch or
overlap, no cut separates them and the pair reads as one digit or as two poor halves. The line
reader is a small convolutional net trained with CTC (connectionist temporal classification):
it sees the line as a sequence of columns and emits, for each pair of columns, a digit or
"nothing new", so it reads "30" written as one blob without being told where the 3 ends. The
predictor weighs its reading against segmentation's (Predictor, LINE_MARGIN).

It is trained on strips the pipeline cut out of synthetic photos of MNIST training digits and
the training fonts (data.line_strips):

    python -m digitrec.line_reader --data runs/cache/line-strips-A.npz runs/cache/line-strips-B.npz

writes digitrec/pretrained/line/line-reader.safetensors. It is trained by its own loop, not
digitrec.training's: that loop fits classifiers of fixed-size images to one label each, this
net maps strips of any width to sequences.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from digitrec.errors import ModelFileError
from digitrec.store import MODEL_FORMAT, read_arrays_file, write_arrays_file
from digitrec.vision.strips import STRIP_HEIGHT

log = logging.getLogger(__name__)

ALPHABET = "0123456789"
BLANK = len(ALPHABET)  # CTC's "nothing new" class, last
COLUMNS_PER_FRAME = 2  # the net emits one frame per two strip columns
ARCHITECTURE = "line-ctc"
VALIDATION = 1000  # strips held out to report the reader's accuracy


class LineNet(nn.Module):
    """Strip (N, 1, 32, W) -> per-frame log-probabilities (W // 2, N, 11), as CTC wants them.

    Convolutions take the 32 rows down to one while keeping half the columns, then dilated 1-D
    convolutions along the line give each frame about two digits' width of context."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        w = width
        self.rows = nn.Sequential(
            *block(1, w), nn.MaxPool2d(2),  # 16 x W/2
            *block(w, 2 * w), nn.MaxPool2d((2, 1)),  # 8
            *block(2 * w, 3 * w), nn.MaxPool2d((2, 1)),  # 4
            *block(3 * w, 4 * w), nn.MaxPool2d((4, 1)),  # 1
        )  # fmt: skip
        c = 4 * w
        self.line = nn.Sequential(
            nn.Conv1d(c, c, 3, padding=1), nn.ReLU(),
            nn.Conv1d(c, c, 3, padding=2, dilation=2), nn.ReLU(),
            nn.Conv1d(c, c, 3, padding=4, dilation=4), nn.ReLU(),
            nn.Conv1d(c, BLANK + 1, 1),
        )  # fmt: skip

    def forward(self, strips: torch.Tensor) -> torch.Tensor:
        features = self.rows(strips).squeeze(2)  # (N, C, frames)
        return F.log_softmax(self.line(features), dim=1).permute(2, 0, 1)


@dataclass(frozen=True)
class LineDigit:
    digit: str
    columns: tuple[int, int]  # the strip columns of the frames that emitted it, end exclusive
    top: list[tuple[str, float]]  # best digits at its surest frame, probabilities among digits


@dataclass(frozen=True)
class LineReading:
    text: str
    digits: list[LineDigit]
    log_probability: float  # of `text`, summed over all the alignments CTC allows
    # of another reading of the same strip, if one was given to weigh against (LineReader.read)
    other_log_probability: float | None = None
    # of each alternative text asked about (LineReader.read's `alternatives`), in order
    alternative_log_probabilities: tuple[float, ...] = ()


def padded_batch(strips: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Strips (32, W_i) padded with zeros to one width, and each one's frame count."""
    width = max(s.shape[1] for s in strips)
    width += -width % COLUMNS_PER_FRAME
    batch = np.zeros((len(strips), 1, STRIP_HEIGHT, width), np.float32)
    for k, strip in enumerate(strips):
        batch[k, 0, :, : strip.shape[1]] = strip
    frames = [max(1, s.shape[1] // COLUMNS_PER_FRAME) for s in strips]
    return torch.from_numpy(batch), torch.tensor(frames, dtype=torch.long)


def _targets(texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    flat = [ALPHABET.index(c) for text in texts for c in text]
    return torch.tensor(flat, dtype=torch.long), torch.tensor([len(t) for t in texts])


class LineReader:
    """A trained LineNet, reading strips in batches; saved as a digitrec model file (safetensors
    arrays and JSON, never pickle)."""

    def __init__(self, net: LineNet) -> None:
        self.net = net.eval()

    def read(
        self,
        strips: Sequence[np.ndarray],
        others: Sequence[str | None] | None = None,
        alternatives: Sequence[Sequence[str]] | None = None,
    ) -> list[LineReading]:
        """Each strip's reading along its likeliest path of frames; with `others`, also the
        log-probability of others[i], another reading of strip i (None: not asked); with
        `alternatives`, that of each text of alternatives[i], all from one pass of the net."""
        if not strips:
            return []
        batch, frames = padded_batch(strips)
        with torch.inference_mode():
            log_probs = self.net(batch)  # (T, N, classes)
        probabilities = log_probs.exp().permute(1, 0, 2).numpy()  # (N, T, classes)
        digits = [
            _best_path(p[:count]) for p, count in zip(probabilities, frames.tolist(), strict=True)
        ]
        texts = ["".join(d.digit for d in line) for line in digits]
        scores = _log_probability(log_probs, frames, texts)
        asked = list(others) if others is not None else [None] * len(strips)
        other_scores = _log_probability(log_probs, frames, asked)
        weighed: list[tuple[float, ...]] = [()] * len(strips)
        if alternatives:
            owner = [k for k, texts in enumerate(alternatives) for _ in texts]
            flat = [text for texts in alternatives for text in texts]
            if flat:
                # Back to their strips, in order: each strip's texts are consecutive in `flat`
                # (none is None, so neither is any score).
                scored = _log_probability(log_probs[:, owner], frames[owner], flat)
                flat_scores = iter(float(score) for score in scored if score is not None)
                weighed = [tuple(next(flat_scores) for _ in texts) for texts in alternatives]
        return [
            LineReading(text, line, float(score or 0.0), other, alternative)
            for text, line, score, other, alternative in zip(
                texts, digits, scores, other_scores, weighed, strict=True
            )
        ]

    def save(self, path: Path, metadata: dict) -> Path:
        arrays = {k: v.detach().cpu().numpy() for k, v in self.net.state_dict().items()}
        return write_arrays_file(
            path, arrays, {**metadata, "architecture": ARCHITECTURE}, kind=MODEL_FORMAT
        )

    @classmethod
    def load(cls, path: Path) -> LineReader:
        arrays, document = read_arrays_file(path, kind=MODEL_FORMAT)
        if document.get("architecture") != ARCHITECTURE:
            raise ModelFileError(
                f"{path}: not a line reader (architecture {document.get('architecture')!r})"
            )
        net = LineNet(int(document.get("width", 32)))
        net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in arrays.items()})
        return cls(net)


def _best_path(probabilities: np.ndarray) -> list[LineDigit]:
    """The digits of the likeliest frame-by-frame path (T, classes): runs of one class, blanks
    between, each run one digit."""
    best = probabilities.argmax(axis=1)
    digits: list[LineDigit] = []
    t = 0
    while t < len(best):
        if best[t] == BLANK:
            t += 1
            continue
        end = t
        while end + 1 < len(best) and best[end + 1] == best[t]:
            end += 1
        peak = t + int(np.argmax(probabilities[t : end + 1, best[t]]))
        among = probabilities[peak, :BLANK] / max(float(probabilities[peak, :BLANK].sum()), 1e-9)
        order = np.argsort(among)[::-1][:3]
        top = [(ALPHABET[c], float(among[c])) for c in order]
        columns = (t * COLUMNS_PER_FRAME, (end + 1) * COLUMNS_PER_FRAME)
        digits.append(LineDigit(ALPHABET[best[t]], columns, top))
        t = end + 1
    return digits


def _log_probability(
    log_probs: torch.Tensor, frames: torch.Tensor, texts: Sequence[str | None]
) -> list[float | None]:
    """log P(text | strip) for each strip, by CTC's sum over alignments; None where the text
    is None. A text longer than the strip's frames can hold is impossible: -inf."""
    scores: list[float | None] = [None if t is None else -np.inf for t in texts]
    keep = [k for k, t in enumerate(texts) if t is not None and len(t) <= int(frames[k])]
    if keep:
        targets, lengths = _targets([texts[k] or "" for k in keep])
        loss = F.ctc_loss(
            log_probs[:, keep],
            targets,
            frames[keep],
            lengths,
            blank=BLANK,
            reduction="none",
            zero_infinity=False,
        )
        for k, value in zip(keep, loss.tolist(), strict=True):
            scores[k] = -value
    return scores


def shipped_line_reader_path() -> Path:
    return Path(str(resources.files("digitrec.pretrained"))) / "line" / "line-reader.safetensors"


@cache
def load_line_reader() -> LineReader | None:
    """The shipped line reader, loaded once per process; None if it is not installed."""
    path = shipped_line_reader_path()
    return LineReader.load(path) if path.exists() else None


# --- training ------------------------------------------------------------------------------


def load_strips(paths: Sequence[Path]) -> tuple[list[np.ndarray], list[str]]:
    strips, texts = [], []
    for path in paths:
        with np.load(path, allow_pickle=False) as data:
            for image, width, text in zip(
                data["images"], data["widths"], data["texts"], strict=True
            ):
                strips.append(image[:, :width].astype(np.float32) / 255.0)
                texts.append(str(text))
    return strips, texts


def _augmented(strip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The strip a little wider or narrower and shifted up or down, as handwriting varies."""
    import cv2

    width = max(4, round(strip.shape[1] * rng.uniform(0.85, 1.15)))
    out = cv2.resize(strip, (width, STRIP_HEIGHT), interpolation=cv2.INTER_LINEAR)
    return np.roll(out, int(rng.integers(-2, 3)), axis=0)


def train_line_reader(
    paths: Sequence[Path],
    *,
    epochs: int = 12,
    drawn: int | None = None,
    seed: int = 0,
    threads: int | None = None,
    width: int = 32,
    batch_size: int = 64,
) -> tuple[LineReader, float]:
    """A reader trained on line_strips harvests, VALIDATION strips held out, and each epoch on
    `drawn` fresh strips drawn from MNIST training digits (data.drawn_strips; as many as the
    harvests hold by default); and its exact-line accuracy on the held-out strips."""
    from digitrec.data.datasets import load_splits
    from digitrec.data.drawn_strips import drawn_strip
    from digitrec.data.synthetic_photos import TRAIN_HOLDOUT

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    strips, texts = load_strips(paths)
    order = rng.permutation(len(strips))
    held, kept = order[:VALIDATION], order[VALIDATION:]
    val_size, carving_seed = TRAIN_HOLDOUT
    digits = load_splits("mnist", val_size=val_size, seed=carving_seed).train
    drawn = len(kept) if drawn is None else drawn
    net = LineNet(width)
    steps = epochs * ((len(kept) + drawn) // batch_size)
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 3e-3, total_steps=steps)
    started = time.perf_counter()
    accuracy = 0.0
    for epoch in range(epochs):
        net.train()
        examples = [(_augmented(strips[k], rng), texts[k]) for k in kept]
        examples += [drawn_strip(digits, rng) for _ in range(drawn)]
        shuffled = rng.permutation(len(examples))
        # Strips of similar width together, in chunks of 20 batches: less padding to compute.
        chunk_size = batch_size * 20
        total, count = 0.0, 0
        for first in range(0, len(shuffled), chunk_size):
            chunk = sorted(
                shuffled[first : first + chunk_size], key=lambda k: examples[k][0].shape[1]
            )
            for i in range(0, len(chunk) - batch_size + 1, batch_size):
                members = [examples[k] for k in chunk[i : i + batch_size]]
                batch, frames = padded_batch([strip for strip, _ in members])
                targets, lengths = _targets([text for _, text in members])
                loss = F.ctc_loss(
                    net(batch), targets, frames, lengths, blank=BLANK, zero_infinity=True
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if schedule.last_epoch < steps - 1:
                    schedule.step()
                total += loss.item() * len(members)
                count += len(members)
        net.eval()
        accuracy = line_accuracy(
            LineReader(net), [strips[k] for k in held], [texts[k] for k in held]
        )
        log.info(
            "epoch %d: loss %.4f, held-out lines %.4f, %.0fs",
            epoch + 1,
            total / max(count, 1),
            accuracy,
            time.perf_counter() - started,
        )
    return LineReader(net.eval()), accuracy


def line_accuracy(reader: LineReader, strips: Sequence[np.ndarray], texts: Sequence[str]) -> float:
    right = 0
    for i in range(0, len(strips), 256):
        readings = reader.read(strips[i : i + 256])
        right += sum(r.text == t for r, t in zip(readings, texts[i : i + 256], strict=True))
    return right / max(len(strips), 1)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the line reader on line strips.")
    parser.add_argument("--data", type=Path, nargs="+", required=True)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--drawn", type=int, help="strips drawn from MNIST per epoch")
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--output", type=Path, default=shipped_line_reader_path())
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()
    reader, accuracy = train_line_reader(
        args.data,
        epochs=args.epochs,
        drawn=args.drawn,
        seed=args.seed,
        threads=args.threads,
        width=args.width,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    reader.save(
        args.output,
        {
            "width": args.width,
            "held_out_accuracy": accuracy,
            "seconds": round(time.perf_counter() - started),
        },
    )
    print(f"{args.output}: {accuracy:.4f} of held-out lines read exactly")


if __name__ == "__main__":
    main()
