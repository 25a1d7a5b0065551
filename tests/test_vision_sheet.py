"""The sheet of paper in a photo, the pen's stroke width, and long lines taken out of the ink."""

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from digitrec.vision.page import stroke_width, without_long_lines
from digitrec.vision.sheet import fill_outside, find_sheet


def _sheet_on_table(angle: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """A light sheet (0.9) rotated on a dark table (0.2), 480x640, and the sheet's true mask."""
    sheet = np.zeros((480, 640), np.float32)
    sheet[110:370, 170:470] = 1.0
    sheet = ndimage.rotate(sheet, angle, reshape=False, order=1) > 0.5
    photo = np.where(sheet, 0.9, 0.2).astype(np.float32)
    photo = ndimage.gaussian_filter(photo, 1.0)  # the camera's slight blur
    noise = np.random.default_rng(0).normal(0, 0.01, photo.shape)
    return np.clip(photo + noise, 0, 1).astype(np.float32), sheet


@pytest.mark.parametrize("angle", [0.0, 4.0, -9.0])
def test_sheet_on_a_dark_table_is_found(angle: float) -> None:
    photo, truth = _sheet_on_table(angle)
    found = find_sheet(photo)
    assert found is not None
    # Inside the sheet, a margin from its edge; nothing of the table.
    assert not (found & ~truth).any()
    assert found.sum() > 0.85 * truth.sum()


def test_sheet_search_ignores_writing_on_it() -> None:
    photo, _ = _sheet_on_table()
    for x in range(230, 420, 40):  # bold dark digits-like bars on the sheet
        photo[200:280, x : x + 12] = 0.1
    found = find_sheet(photo)
    assert found is not None and found[200:280, 230:420].all()


def test_outside_filled_with_the_paper_level() -> None:
    photo, _ = _sheet_on_table()
    found = find_sheet(photo)
    filled = fill_outside(photo, found)
    assert filled[~found] == pytest.approx(0.9, abs=0.02)
    assert np.array_equal(filled[found], photo[found])


@pytest.mark.parametrize(
    "page",
    [
        np.full((300, 400), 0.9, np.float32),
        np.tile(np.linspace(0.4, 0.95, 400, dtype=np.float32), (300, 1)),
    ],
    ids=["blank", "gradient"],
)
def test_no_sheet_when_the_paper_fills_the_frame(page: np.ndarray) -> None:
    assert find_sheet(page) is None


def test_two_bands_across_the_photo_are_no_sheet() -> None:
    # A page photographed close with a strip of dark desk along one side: the strip is no dark
    # sheet, and the page, running off three sides, is no sheet on a table either.
    photo = np.full((300, 400), 0.9, np.float32)
    photo[:, 320:] = 0.2
    photo = ndimage.gaussian_filter(photo, 1.0)
    assert find_sheet(photo) is None


def test_a_bold_zero_filling_the_frame_is_no_sheet() -> None:
    # A marker's "0" on paper filling the frame: filled in, its ring and hole make a dark disc
    # with a sharp edge on light paper, a seventh of the photo, but half of it is paper.
    y, x = np.mgrid[:360, :360]
    radius = np.hypot((y - 180) / 1.15, x - 180)
    page = np.where((radius > 35) & (radius < 68), 0.25, 0.9).astype(np.float32)
    page = ndimage.gaussian_filter(page, 1.0)
    assert find_sheet(page) is None


def test_a_soft_shadow_is_not_a_sheet_edge() -> None:
    # A hand's shadow entering from the right: dark enough, but its edge fades over ~25 px.
    shade = np.zeros((480, 640), np.float32)
    shade[:, 380:] = 1.0
    shade[100:380, 300:380] = 1.0
    page = 0.9 * (1 - 0.45 * ndimage.gaussian_filter(shade, 25))
    assert find_sheet(page) is None


def _rings(width: int) -> np.ndarray:
    """Ink map of five digit-sized rings (like zeros) drawn with a pen `width` px wide."""
    canvas = Image.new("F", (600, 200), 0.0)
    draw = ImageDraw.Draw(canvas)
    for k in range(5):
        x = 40 + 110 * k
        draw.ellipse((x, 50, x + 60, 150), outline=1.0, width=width)
    return np.asarray(canvas, np.float32)


@pytest.mark.parametrize("width", [3, 6, 10])
def test_stroke_width_of_the_pen(width: int) -> None:
    assert stroke_width(_rings(width), min_height=20) == pytest.approx(width, rel=0.3)


def test_stroke_width_ignores_soft_shading_and_a_lattice() -> None:
    # Squared paper's thin lattice, larger than the writing, and a soft shadow's fringe.
    lattice = np.zeros((200, 600), np.float32)
    lattice[::12], lattice[:, ::12] = 0.5, 0.5
    step = (np.arange(600) > 450).astype(np.float32) * np.ones((200, 1), np.float32)
    soft = ndimage.gaussian_filter(step, 8)
    ink = np.maximum(_rings(6), np.maximum(lattice, soft))
    assert stroke_width(ink, min_height=20) == pytest.approx(6, rel=0.3)
    assert stroke_width(np.zeros((200, 600), np.float32), min_height=20) is None


def test_stroke_width_ignores_a_shadow_with_a_fairly_sharp_edge() -> None:
    # A band of shadow taller than the digits and as wide as one, its edge blurred over ~8 px:
    # crisp enough for ink on its own, but not half as crisp as the pen, and far more ink.
    block = np.zeros((200, 600), np.float32)
    block[30:170, 20:80] = 0.7
    ink = np.maximum(_rings(3), ndimage.gaussian_filter(block, 8))
    assert stroke_width(ink, min_height=20) == pytest.approx(3, rel=0.3)


def test_stroke_width_ignores_a_solid_patch_of_shade() -> None:
    # A patch of shadow as crisp as the pen and larger than all the rings together: it fills
    # its box, unlike a stroke.
    block = np.zeros((200, 600), np.float32)
    block[20:180, 20:100] = 0.6
    ink = np.maximum(_rings(3), ndimage.gaussian_filter(block, 1.5))
    assert stroke_width(ink, min_height=20) == pytest.approx(3, rel=0.3)


def test_finely_squared_paper_goes_digits_stay() -> None:
    # Squares of 9 px, closer than a 90-px line drifts over at 6 degrees, turned by a degree;
    # rings drawn with a 3-px pen are the digits.
    ink = _rings(3).copy()
    cols = np.arange(ink.shape[1])
    for y in range(-10, ink.shape[0], 9):
        rows = np.round(y + cols * np.tan(np.radians(1.0))).astype(int)
        keep = (rows >= 0) & (rows < ink.shape[0])
        ink[rows[keep], cols[keep]] = np.maximum(ink[rows[keep], cols[keep]], 0.4)
    ink[:, 4::9] = np.maximum(ink[:, 4::9], 0.4)
    clean = without_long_lines(ink, 30 * 3, 3)
    pen = _rings(3) > 0.5
    near = ndimage.binary_dilation(pen, iterations=3)
    assert np.mean(clean[~near] > 0.2) < 0.03  # the lattice is gone (20% stays without)
    assert np.mean(clean[pen] > 0.5) > 0.9  # the rings stay


def test_long_lines_go_strokes_stay() -> None:
    ink = np.zeros((300, 400), np.float32)
    # Squared paper, its lines faint and sloping by a degree and a half.
    for y in range(10, 300, 25):
        rows = np.round(y + np.arange(400) * np.tan(np.radians(1.5))).astype(int)
        keep = rows < 300
        ink[rows[keep], np.arange(400)[keep]] = 0.4
    ink[:, 12::25] = 0.4
    # A "1" (a straight upright stroke 3 px wide, 60 px tall) and a "7"'s bar, across the lines.
    ink[100:160, 200:203] = 1.0
    ink[100:103, 240:270] = 1.0
    clean = without_long_lines(ink, 30 * 3)
    strokes = np.zeros(ink.shape, bool)
    strokes[100:160, 200:203] = strokes[100:103, 240:270] = True
    assert clean[~strokes].max() < 0.05
    assert clean[strokes].min() >= 0.5  # crossings only lose the line's own level


def test_a_markers_close_up_on_squared_paper_loses_the_lattice() -> None:
    # A "1" written with a marker 12 px wide fills a close-up photo of squared paper: 30 of its
    # strokes are longer than the photo, yet the lattice's lines, running across it all, go
    # (16% of the paper stays ink without LINE_OF_IMAGE).
    import cv2

    from digitrec.vision.page import page_ink

    gray = np.ones((340, 340), np.float32)
    gray[:, 5::12] = gray[5::12, :] = 0.6
    one = np.zeros(gray.shape, np.uint8)
    cv2.polylines(one, [np.array([(145, 115), (170, 95), (162, 235)], np.int32)], False, 255, 12)
    gray[one > 0] = 0.15
    ink, _ = page_ink(gray, min_height=8, sheet=find_sheet(gray))
    assert np.mean(ink[~ndimage.binary_dilation(one > 0, iterations=3)] > 0.25) < 0.02
    assert np.mean(ink[one > 0] > 0.5) > 0.95


def test_ruled_lines_across_a_sheet_filling_part_of_the_photo_go() -> None:
    # A "7" in a 14-px marker on a lined sheet filling part of a square photo: 30 of its strokes
    # are longer than the lines, and so is LINE_OF_IMAGE of the photo; the lines go all the
    # same, as longer than that share of the sheet's width. (Before, they stayed, and a bold
    # digit crossing them was joined to them: 8% of the paper stayed ink.)
    import cv2

    from digitrec.vision.page import page_ink

    gray = np.full((448, 448), 0.25)
    gray[200:440, 150:440] = 0.92
    gray[206:440:13, 150:440] = 0.7
    seven = np.zeros(gray.shape, np.uint8)
    cv2.polylines(seven, [np.array([(210, 240), (300, 240), (270, 410)])], False, 255, 14)
    gray = np.where(seven > 0, 0.2, gray).astype(np.float32)
    sheet = find_sheet(gray)
    assert sheet is not None
    ink, _ = page_ink(gray, min_height=8, sheet=sheet)
    paper = np.zeros(gray.shape, bool)
    paper[210:430, 160:430] = True
    paper &= ~ndimage.binary_dilation(seven > 0, iterations=4)
    assert np.mean(ink[paper] > 0.25) < 0.01
    # The digit stays, less a few pixels of its edge where lines cross it.
    assert np.mean(ink[seven > 0] > 0.5) > 0.85


def _shadow_across_the_sheet() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sheet on its table with a shadow (its edge soft over ~20 px) over their right part,
    darkening both to 0.45 of their light; and the true sheet and shadow masks."""
    photo, sheet = _sheet_on_table()
    shade = np.zeros(photo.shape, np.float32)
    shade[:, 380:] = 1.0
    shade = ndimage.gaussian_filter(shade, 20)
    return photo * (1 - 0.55 * shade), sheet, shade > 0.5


def test_a_shadow_across_the_sheet_leaves_the_shadowed_paper_in() -> None:
    # The lit paper is the region of one brightness; the shadowed rest of the sheet, darker,
    # goes with the table by brightness, but its edge against the lit part is soft while the
    # sheet's own edge is sharp all round: the writing there is looked for too.
    photo, sheet, shadow = _shadow_across_the_sheet()
    found = find_sheet(photo)
    assert found is not None
    assert not (found & ~sheet).any()
    assert found[sheet & shadow].mean() > 0.5  # 0.08 without going past the shadow's edge


def test_the_table_is_filled_with_the_paper_level_nearby() -> None:
    # Filled with the lit paper's level, the table beside the shadowed paper would make a step
    # there that reads as ink.
    photo, _, shadow = _shadow_across_the_sheet()
    found = find_sheet(photo)
    filled = fill_outside(photo, found)
    beside_shadowed = ~found & ndimage.binary_dilation(found & shadow, iterations=3)
    shadowed_rim = found & shadow & ~ndimage.binary_erosion(found, iterations=6)
    paper, lit = float(np.median(photo[shadowed_rim])), float(np.median(photo[found & ~shadow]))
    # Within a third of the way from the shadowed paper to the lit paper's level (0.9 of it).
    assert abs(float(np.median(filled[beside_shadowed])) - paper) < abs(lit - paper) / 3


def test_paper_notched_by_a_shadow_is_found_past_it() -> None:
    # A shadow over the sheet's upper left and the table above it: the lit paper's region is an
    # L, too far from convex for a sheet, but grown past the shadow's soft edge it is one.
    photo, sheet = _sheet_on_table()
    shade = np.zeros(photo.shape, np.float32)
    shade[:300, :330] = 1.0
    shade = ndimage.gaussian_filter(shade, 20)
    found = find_sheet(photo * (1 - 0.55 * shade))
    assert found is not None  # None without
    assert not (found & ~sheet).any()
    assert found.sum() > 0.75 * sheet.sum()  # the lit part alone is 0.6 of it


def test_a_ruled_line_leaves_no_slit_in_the_paper_grown_past_a_shadow() -> None:
    from digitrec.vision.sheet import _past_shadow

    # The lit upper half of a sheet (160-px copy), its soft lower edge, and beyond it the
    # shadowed half, bounded by the sheet's sharp edge and crossed by a sharp ruled line
    # that runs in from the sheet's left edge.
    lit = np.zeros((160, 160), bool)
    lit[30:80, 30:130] = True
    soft = np.zeros_like(lit)
    soft[79, 30:130] = True
    barrier = np.ones_like(lit)
    barrier[31:130, 31:130] = False
    barrier[105, 30:100] = True
    grown = _past_shadow(lit, soft, barrier)
    assert grown is not None
    assert grown[90:120, 40:120].all()  # without closing, rows around the line are not


def test_a_darker_part_of_the_sheet_at_its_edge_is_taken_in() -> None:
    # A crisp darker patch (0.5, paper in the shade of something) along the sheet's lower edge
    # goes with the table by brightness; the region is then notched, but a sheet is convex.
    photo, sheet = _sheet_on_table(angle=0.0)
    photo[290:371, 220:340] = 0.5
    found = find_sheet(photo)
    assert found is not None
    assert not (found & ~sheet).any()
    assert found[300:350, 240:320].all()  # none of it without
