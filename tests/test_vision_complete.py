"""Digits get back the faint parts of their strokes that the threshold cut off (vision.complete)."""

import cv2
import numpy as np
from scipy import ndimage

from digitrec.vision.complete import completed, faint_neighbours
from digitrec.vision.grouping import Blob, find_blobs
from digitrec.vision.preprocess import edge_maps
from digitrec.vision.segment import segment_digits
from tests.test_vision_segment import _digit, _mnist, _paper, _paste, _read

THRESHOLD = 0.5


def _found(ink: np.ndarray) -> tuple[list[Blob], np.ndarray]:
    """The blobs of the ink above THRESHOLD, as segmentation finds them."""
    labels = ndimage.label(ink > THRESHOLD)[0]
    return find_blobs(labels, min_height=10)


def _six(ink: np.ndarray, x: int, loop: float) -> None:
    """A 6 drawn at column x: a bold stem down to a loop drawn at strength `loop`."""
    cv2.line(ink, (x + 22, 20), (x + 6, 70), 1.0, 4)
    cv2.ellipse(ink, (x + 20, 78), (15, 14), 0, 0, 360, loop, 4)
    cv2.line(ink, (x + 6, 70), (x + 8, 76), 1.0, 4)


def test_a_faint_loop_is_given_back_to_its_digit() -> None:
    ink = np.zeros((120, 120), np.float32)
    _six(ink, 30, loop=0.35)
    blobs, labels = _found(ink)
    assert len(blobs) == 1 and blobs[0].box[2] < 82  # the stem alone
    before = labels.copy()
    [six], grown = completed(blobs, labels, ink, THRESHOLD, np.zeros(ink.shape, bool))
    _, _, y1, x1 = six.box
    assert y1 >= 90 and x1 >= 63, six.box  # the loop's bottom and right side
    loop = (ink > 0.3) & (ink < THRESHOLD)
    assert np.isin(grown[loop], six.ids).mean() > 0.9
    np.testing.assert_array_equal(labels, before)  # the caller's labels are left as they were


def test_no_faint_ink_no_change() -> None:
    ink = np.zeros((120, 120), np.float32)
    _six(ink, 30, loop=1.0)
    blobs, labels = _found(ink)
    assert completed(blobs, labels, ink, THRESHOLD, np.zeros(ink.shape, bool)) == (blobs, labels)


def test_faint_ink_between_two_digits_is_shared_by_nearness() -> None:
    # Two bold strokes joined by a faint bridge: each takes the half of it nearer to it.
    ink = np.zeros((100, 160), np.float32)
    cv2.line(ink, (40, 20), (40, 80), 1.0, 4)
    cv2.line(ink, (100, 20), (100, 80), 1.0, 4)
    cv2.line(ink, (42, 50), (98, 50), 0.35, 3)
    blobs, labels = _found(ink)
    left, right = completed(blobs, labels, ink, THRESHOLD, np.zeros(ink.shape, bool))[0]
    assert 66 <= left.box[3] <= 74 and 66 <= right.box[1] <= 74, (left.box, right.box)


def test_a_faint_line_through_a_digit_is_not_taken() -> None:
    # A ruled line the threshold dropped runs through the digit and on across the page: it is
    # not part of the digit, though connected to it.
    ink = np.zeros((120, 300), np.float32)
    cv2.line(ink, (0, 60), (299, 60), 0.35, 2)
    _six(ink, 130, loop=1.0)
    blobs, labels = _found(ink)
    [six], _ = completed(blobs, labels, ink, THRESHOLD, np.zeros(ink.shape, bool))
    assert six.box == blobs[0].box


def test_ruled_pixels_and_unconnected_faint_ink_are_not_taken() -> None:
    ink = np.zeros((120, 160), np.float32)
    _six(ink, 30, loop=0.35)
    cv2.circle(ink, (120, 60), 12, 0.35, 3)  # faint, near, but not touching
    rules = np.zeros(ink.shape, bool)
    rules[:, 56:] = True  # say a rule was taken out here, right of the stem
    blobs, labels = _found(ink)
    [six], _ = completed(blobs, labels, ink, THRESHOLD, rules)
    assert six.box[2] >= 90 and six.box[3] <= 56, six.box


def test_a_blob_offered_in_halves_grows_by_its_halves() -> None:
    # Two touching bold strokes wide enough to be tried as two digits, each with a faint tail.
    ink = np.zeros((120, 200), np.float32)
    cv2.line(ink, (60, 90), (50, 100), 0.35, 3)
    cv2.line(ink, (125, 90), (135, 100), 0.35, 3)
    cv2.line(ink, (60, 20), (60, 90), 1.0, 5)
    cv2.line(ink, (125, 20), (125, 90), 1.0, 5)
    cv2.line(ink, (60, 20), (125, 20), 1.0, 4)
    blobs, labels = _found(ink)
    assert len(blobs) == 1 and blobs[0].halves is not None
    [whole], _ = completed(blobs, labels, ink, THRESHOLD, np.zeros(ink.shape, bool))
    left, right = whole.halves
    assert left.box[1] <= 51 and left.box[3] < 100
    assert right.box[3] >= 134 and right.box[1] > 80
    assert whole.box == (
        min(left.box[0], right.box[0]),
        left.box[1],
        max(left.box[2], right.box[2]),
        right.box[3],
    )
    assert set(whole.ids) == set(left.ids) | set(right.ids)
    assert not set(left.ids) & set(right.ids)


def test_a_digit_written_lightly_beside_others_is_found_in_the_fainter_ink() -> None:
    # Three rings on a line, the third drawn too lightly for the threshold; the same faint ring
    # away from the line, a faint line under the number and a soft smudge before it are not
    # digits.
    ink = np.zeros((200, 400), np.float32)
    rings = {(60, 50): 1.0, (60, 100): 1.0, (60, 150): 0.35, (160, 330): 0.35}
    for (cy, cx), strength in rings.items():
        cv2.ellipse(ink, (cx, cy), (14, 20), 0, 0, 360, strength, 3)
    cv2.line(ink, (30, 100), (370, 100), 0.35, 2)
    smudge = np.zeros_like(ink)
    cv2.ellipse(smudge, (14, 60), (9, 18), 0, 0, 360, 1.0, -1)
    ink = np.maximum(ink, 0.4 * cv2.GaussianBlur(smudge, (0, 0), 5))
    blobs, labels = _found(ink)
    assert len(blobs) == 2
    found, grown = faint_neighbours(
        blobs, labels, ink, THRESHOLD, np.zeros(ink.shape, bool), edge_maps(ink)
    )
    assert found[:2] == blobs
    assert [b.box for b in found[2:]] == [(38, 134, 83, 167)]  # the faint ring beside
    assert np.isin(grown[40:80, 135:166], found[2].ids).sum() > 100


def test_sixes_with_a_lightly_written_loop_read_as_sixes() -> None:
    # In a photo of three digits, the middle one a 6 whose lower half (its loop) was written
    # at 40% of the strength: the threshold keeps only its upper stroke, which reads as a 1.
    digit_labels = _mnist()[1]
    rng = np.random.default_rng(1)
    sixes = np.flatnonzero(digit_labels == 6)[:20]
    others = np.flatnonzero((digit_labels != 6) & (digit_labels != 1))
    right = 0
    for n, six in enumerate(sixes):
        first, last = rng.choice(others, 2, replace=False)
        glyphs = [_digit(int(i), 3.0) for i in (first, six, last)]
        glyphs[1][glyphs[1].shape[0] // 2 :] *= 0.4
        ink = np.zeros((160, sum(g.shape[1] + 20 for g in glyphs) + 80), np.float32)
        x = 40
        for glyph in glyphs:
            _paste(ink, glyph, x, 40)
            x += glyph.shape[1] + 20
        # Light falling off across the page and a little sensor noise: a photo, not a drawing.
        light = np.linspace(0.8, 1.0, ink.shape[1])[None, :]
        noise = np.random.default_rng(n).normal(0, 0.01, ink.shape)
        photo = np.clip(_paper(ink) * light + noise, 0, 1).astype(np.float32)
        crops = segment_digits(photo)
        expected = digit_labels[[first, six, last]]
        right += len(crops) == 3 and bool((_read(crops) == expected).all())
    assert right >= 14
