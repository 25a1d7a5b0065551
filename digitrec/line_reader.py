"""The line reader: reads a whole line of digits from its strip (vision.strips) at once.

The digit reader needs segmentation to say where each digit is; where two digits touch or
overlap, no cut separates them and the pair reads as one digit or as two poor halves. The line
reader is a small convolutional net trained with CTC (connectionist temporal classification):
it sees the line as a sequence of columns and emits, for each pair of columns, a digit or
"nothing new", so it reads "30" written as one blob without being told where the 3 ends. The
predictor weighs its reading against segmentation's (Predictor, LINE_MARGIN).

It is trained by its own loop (digitrec.line_training) on strips the pipeline cut out of
synthetic photos of MNIST training digits and the training fonts (data.line_strips).
"""

from __future__ import annotations

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

ALPHABET = "0123456789"
BLANK = len(ALPHABET)  # CTC's "nothing new" class, last
COLUMNS_PER_FRAME = 2  # the net emits one frame per two strip columns
ARCHITECTURE = "line-ctc"


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


def ctc_targets(texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """The texts as CTC wants them: their digits' classes end to end, and each text's length."""
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
        targets, lengths = ctc_targets([texts[k] or "" for k in keep])
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
