"""A second look at an image that may be cropped tight to its ink: framed by a margin of its
own paper (vision.frame), a digit touching the image's edge is no longer taken for the paper's
edge or the table's.
"""

import numpy as np

from digitrec.vision.frame import fills, frame_margin, framed, reaches_edge
from digitrec.vision.look import CLEAN_MAX_SIDE, looks_clean, paper_is_flat, work_image
from digitrec.vision.pieces import Pieces
from digitrec.vision.segment import find_pieces

# An image where nothing was found is looked at again framed by its own paper (vision.frame), in
# case it was cropped tight to its ink; what that finds is taken if it spans at least TIGHT_FILL
# of the image both ways (a tight crop's digits fill it). Single digits of synthetic photos
# cropped to their box (tune half, 300, read with `single`) read 262 instead of 111, with a
# margin of a tenth of their height 286 instead of 273; the first 100 MNIST test digits drawn
# at 112 px and cropped to the ink 92 instead of 20 with `single`, 72 instead of 11 without.
# Blank pages (500 photos) read with `single` give a digit 29 times instead of 22 (62 if what
# the framed look finds were taken whatever it spans); read without, no more often than before.
# So is a drawing or clean scan cropped tight where the first look found some digits (those
# touching the edge lost) if the framed look finds more: 100 numbers of 2-6 MNIST test digits
# drawn at 112 px and cropped to the ink read 94 instead of 56. Synthetic photos of numbers,
# single digits and blank pages read as before (1,100, 1,500 and 1,290).
# A photo whose first look dropped ink touching the edge is framed as well: 300 synthetic
# photos of numbers cropped to the digits' boxes top and bottom (tune half) read 236 instead
# of 218, single digits cropped to their box 263 instead of 262; numbers (1,100), single
# digits (500) and blank pages (1,290; 500 with `single`) as before. A fifth of small blank
# photos drop ink at the edge (shadows, the table) and pay for the framed look: about a fifth
# more time on average. Whole phone photos are not framed (FRAMED_PHOTO_MAX_SIDE), nor are
# photos whose digits stand away from the edge: a 12-MP photo of a number on a page had been
# preprocessed in 0.16 s instead of 0.08. Told there is one digit, where the first look found
# only a fragment of it in the middle (the strokes touching the edge dropped): single digits cut
# to their box read 270 of 300 instead of 263, with a tenth of their height around 288 instead
# of 286; single-digit photos (1,500) and blank pages read with `single` (500) as before.
TIGHT_FILL = 0.5
# Photos framed at most this long (px): a crop of a phone photo, not the whole of one.
FRAMED_PHOTO_MAX_SIDE = 2048


def framed_look(
    image: np.ndarray,
    found: Pieces,
    *,
    single: bool,
    stages: dict[str, np.ndarray] | None,
) -> Pieces | None:
    """What the image holds if it was cropped tight to its ink (see vision.frame), looked
    at inside a margin of its own paper. Asked where the first look (`found`, not by the
    fast path for clean images) found nothing, or took ink touching the image's edge for
    the paper's edge and found no digits or some reaching the edge (a photo cropped tight,
    at most FRAMED_PHOTO_MAX_SIDE long), or found some digits but the image is clean (a
    scan or a drawing cropped tight). Any other photo is framed only when told there is a
    digit: a blank page, framed, would show the paper's edge and the table's as strokes,
    and the framed look costs as much as the first. Told there is one digit, a photo that
    dropped ink at the edge is framed whatever the first look found, and the framed look
    is also taken where the first look's pieces did not fill the image (a fragment)."""
    # A photo cropped tight: ink touching the edge was dropped, and the digits found, if
    # any, reach the edge too. Not a whole phone photo: that is a page photographed, and
    # its table or shadow at the edge would have it looked at twice.
    found_boxes = [crop.box for crop in found.crops]
    photo_cut = (
        found.edge_ink_dropped
        and max(image.shape[:2]) <= FRAMED_PHOTO_MAX_SIDE
        and (single or not found_boxes or reaches_edge(image.shape, found_boxes))
    )
    # A clean image cropped tight: framed, it takes the fast path, and its own paper is flat
    # (framing alone can make a photo look clean: the flat margin outweighs the table and
    # the sheet). Checked cheapest first: too big for the fast path (a 12-MP photo), or a
    # photo's uneven paper, and it need not even be framed.
    must_be_clean = not photo_cut and (bool(found.crops) or not single)
    framed_side = max(image.shape[:2]) + 2 * frame_margin(image.shape)
    if must_be_clean and (framed_side > CLEAN_MAX_SIDE or not paper_is_flat(image)):
        return None
    # A big photo is framed shrunk: segmentation works on a smaller copy anyway, and a
    # 12-MP photo framed would be twice as big.
    source, scale = image, 1.0
    if max(image.shape[:2]) > CLEAN_MAX_SIDE:
        source, (_, scale) = work_image(image, CLEAN_MAX_SIDE)
    margin = frame_margin(source.shape)
    bigger = framed(source, margin)
    if must_be_clean and not looks_clean(bigger):
        return None
    seen: dict[str, np.ndarray] | None = None if stages is None else {}
    framed_pieces = find_pieces(bigger, stages=seen, one_digit=single)
    # Told there is one digit, a first look that found only part of the image's ink (the
    # middle of a digit whose strokes touch the edge) gains by the framed look too.
    fragment = single and not fills(image.shape[:2], found_boxes, TIGHT_FILL)
    if len(framed_pieces.crops) <= len(found.crops) and not fragment:
        return None  # what touched the edge added nothing: keep the first look's
    lone = len(framed_pieces.by_geometry()) < 2
    if lone and not (single or found.crops or framed_pieces.clean):
        # Nothing was found in the photo, and framed it shows one blob: as often a shadow
        # or the table along the edge, given a hard edge by the margin, as a digit.
        return None
    shift = -round(margin * scale)
    # Cut to the image: the ink's fringe may reach into the margin.
    framed_pieces = framed_pieces.moved(shift, shift, scale).within(*image.shape[:2])
    if not fills(image.shape[:2], [crop.box for crop in framed_pieces.crops], TIGHT_FILL):
        return None  # no tight crop: the digits of one fill it
    if stages is not None and seen is not None:
        stages.update(seen)
    return framed_pieces
