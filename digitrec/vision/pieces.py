"""What segmentation hands the reader: the digit candidates of an image as MNIST-style crops
with their boxes, in reading order, and the runs of neighbouring candidates that may be one
digit (see segment.find_pieces)."""

from dataclasses import dataclass, field, replace

import numpy as np

from digitrec.vision.strips import LineStrip


@dataclass(frozen=True)
class DigitCrop:
    box: tuple[int, int, int, int]  # x, y, w, h in original image pixels
    image: np.ndarray  # (28, 28) float32 in [0, 1], MNIST-style
    line: int  # 0-based text line index
    # (28, 28): the candidate's own ink at the scale of its line's digits, centred on its box,
    # so a fragment looks small and two digits too wide (look.context_image); None if unknown.
    context: np.ndarray | None = None

    def moved(self, dx: int, dy: int, scale: float = 1.0) -> "DigitCrop":
        """The crop with its box scaled by `scale`, then moved by (dx, dy)."""
        x, y, w, h = (round(v * scale) for v in self.box)
        return DigitCrop((x + dx, y + dy, w, h), self.image, self.line, self.context)

    def within(self, height: int, width: int) -> "DigitCrop":
        """The crop with its box cut to an image of (height, width)."""
        x, y, w, h = self.box
        x0, y0 = min(max(x, 0), width), min(max(y, 0), height)
        x1, y1 = max(min(x + w, width), x0), max(min(y + h, height), y0)
        return replace(self, box=(x0, y0, x1 - x0, y1 - y0))


@dataclass(frozen=True)
class CropJoin:
    """Crops first..last (inclusive) of a Pieces taken as one digit (see joins.py)."""

    first: int
    last: int
    crop: DigitCrop
    cost: float  # what the join must gain over its pieces read apart (joins.Join.cost)
    tentative: bool = False  # the halves of one blob cut tentatively (joins.Join.tentative)


@dataclass(frozen=True)
class Pieces:
    """The digit candidates found, in reading order, and the runs of neighbours among them that
    may be one digit: which reading is right is for the classifier to say."""

    crops: list[DigitCrop]
    joins: list[CropJoin]
    # Found only by a second, more searching look (closer, see LOOK_CLOSER, or for fainter ink,
    # see Predictor): on a blank page it finds the paper's edges and texture more often than
    # the first, so the reader asks more of what it finds.
    second_look: bool = False
    # Found only by a look at the image enlarged or a last look at any ink but ruled lines,
    # stroke-like or not, told there is one digit where no other look found any (see
    # single_digit.look_harder): the reader asks the digitness check too.
    last_look: bool = False
    # Found by the fast path for clean images (clean.py): a drawing or a scan, not a photo.
    clean: bool = False
    # Ink touching the image's edge was taken for the paper's edge or the table around it
    # (rules.clean_mask) by the first look: in a photo cropped tight, that ink is the digits.
    edge_ink_dropped: bool = False
    # Each text line's ink as one strip (vision.strips), for the reader of whole lines; none
    # when told the image holds one digit.
    strips: list[LineStrip] = field(default_factory=list)
    # Found up close (see find_pieces' zoom): what the first look had found, for the reader to
    # fall back on.
    before_zoom: "Pieces | None" = None
    # The sheet of paper the look found (sheet.find_sheet), as a mask of the image it looked at
    # at the working size, if any: a closer look at part of the image keeps to it.
    sheet: np.ndarray | None = field(default=None, compare=False, repr=False)

    def moved(self, dx: int, dy: int, scale: float = 1.0) -> "Pieces":
        """The pieces with their boxes scaled by `scale`, then moved by (dx, dy)."""
        joins = [
            CropJoin(j.first, j.last, j.crop.moved(dx, dy, scale), j.cost, j.tentative)
            for j in self.joins
        ]
        crops = [crop.moved(dx, dy, scale) for crop in self.crops]
        strips = [strip.moved(dx, dy, scale) for strip in self.strips]
        before = None if self.before_zoom is None else self.before_zoom.moved(dx, dy, scale)
        return replace(self, crops=crops, joins=joins, strips=strips, before_zoom=before)

    def within(self, height: int, width: int) -> "Pieces":
        """The pieces with their boxes cut to an image of (height, width)."""
        joins = [replace(j, crop=j.crop.within(height, width)) for j in self.joins]
        crops = [crop.within(height, width) for crop in self.crops]
        before = None if self.before_zoom is None else self.before_zoom.within(height, width)
        return replace(self, crops=crops, joins=joins, before_zoom=before)

    def by_geometry(self) -> list[DigitCrop]:
        """The digits as geometry alone has them, before the reader's choice: each blob cut
        only tentatively whole."""
        whole = {j.first: j for j in self.joins if j.tentative}
        crops, index = [], 0
        while index < len(self.crops):
            if index in whole:
                crops.append(whole[index].crop)
                index = whole[index].last + 1
            else:
                crops.append(self.crops[index])
                index += 1
        return crops
