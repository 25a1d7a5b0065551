"""Which ink is a pen's stroke (vision.components, strokes, paper_edge): component measures,
ruled lines and their fragments, the sheet's edge, shading, and faint strokes beside kept
digits."""

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from digitrec.vision.components import measure


def test_component_measures_tell_a_line_from_a_blob() -> None:
    image = Image.new("L", (300, 200), 0)
    draw = ImageDraw.Draw(image)
    rise = 120 * np.tan(np.radians(10))
    draw.line([(20, 60), (140, 60 - rise)], fill=255, width=4)  # rises to the right
    draw.ellipse([(200, 100), (260, 160)], fill=255)
    ink = np.asarray(image, np.float32) / 255
    labels = ndimage.label(ink > 0.5)[0]
    parts = measure(ink, labels)
    line, disc = (0, 1) if parts.box[0, 1] < parts.box[1, 1] else (1, 0)
    assert parts.length[line] == pytest.approx(122, abs=8)
    assert parts.thickness[line] == pytest.approx(4, abs=1.5)
    assert parts.angle[line] == pytest.approx(10, abs=2)
    assert parts.thickness[disc] > 0.4 * parts.height[disc]
    assert parts.sharpness.min() > 0.1 and parts.level.min() == pytest.approx(1.0)


def test_a_ruled_lines_thin_fragment_is_no_measure_of_the_pens_crispness() -> None:
    # A soft, grainy pencil "0" beside a piece of a thin line, which (thin) measures far
    # crisper than any pen's stroke: the "0" is still a stroke, not a smudge.
    from digitrec.vision.preprocess import edge_maps
    from digitrec.vision.rules import label
    from digitrec.vision.strokes import stroke_tests

    ring = np.zeros((200, 200), np.uint8)
    cv2.ellipse(ring, (90, 100), (25, 40), 0, 0, 360, 255, 9)
    grain = ndimage.gaussian_filter(np.random.default_rng(3).random(ring.shape), 1.0)
    grain = (grain - grain.min()) / (grain.max() - grain.min())
    ink = ndimage.gaussian_filter(np.where(ring > 0, np.clip(1.4 * grain, 0, 1), 0.0), 3.5)
    line = np.zeros_like(ink)
    line[40:64, 170:172] = 0.9
    ink = np.maximum(ink / ink.max(), ndimage.gaussian_filter(line, 0.5)).astype(np.float32)
    labels = label(ink > 0.25)
    parts = measure(ink, labels, edge_maps(ink))
    zero = int(np.argmax(parts.height))
    assert parts.sharpness[zero] < 0.3 * parts.sharpness.max()  # far softer than the line
    shaped, _ = stroke_tests(parts, contrast=0.5, height=80, min_height=8)
    assert shaped[zero]


def _bars(shape: tuple[int, int], bars: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, ...]:
    """Ink 1.0 in the (y0, x0, y1, x1) rectangles on an empty page: ink map, mask, edge maps."""
    from digitrec.vision.preprocess import edge_maps

    ink = np.zeros(shape, np.float32)
    for y0, x0, y1, x1 in bars:
        ink[y0:y1, x0:x1] = 1.0
    return ink, ink > 0.5, edge_maps(ink)


def test_a_lone_upright_stroke_is_no_ruled_line() -> None:
    # A "1" alone on a page is a long thin run like a rule's piece, and with it taken out there
    # is no digit left to measure the digit height by: it must be measured with the "1", which
    # is then too short for a rule. The long ruled line beside it still goes, and the specks
    # stay (the components' rules judge them).
    from digitrec.vision.rules import clean_mask

    one, rule, specks = (100, 200, 136, 202), (20, 0, 22, 400), [(250, 50, 253, 53)]
    ink, mask, maps = _bars((300, 400), [one, rule, *specks])
    cleaned, removed, height = clean_mask(mask, ink, maps, min_height=8)
    assert height == 36
    assert cleaned[100:136, 200:202].all() and not cleaned[20:22].any()
    assert removed[20:22].all() and cleaned[250:253, 50:53].all()


def _strokes(shape: tuple[int, int], paths: list[list[tuple[int, int]]], width: int) -> tuple:
    """Ink 1.0 along the (x, y) polylines, `width` px thick: ink map, mask, edge maps."""
    from digitrec.vision.preprocess import edge_maps

    ink = np.zeros(shape, np.uint8)
    for path in paths:
        cv2.polylines(ink, [np.array(path, np.int32)], False, 255, width)
    ink = (ink / 255).astype(np.float32)
    return ink, ink > 0.5, edge_maps(ink)


def test_a_close_up_ones_stem_is_no_ruled_line() -> None:
    # A "1" filling much of a close-up photo: without its stem, a long thin run, what is left
    # (the flag) measures short, and the stem would pass for a rule beside it. Lone and short
    # for the image, in a digit-shaped component, it stays.
    from digitrec.vision.rules import clean_mask

    ink, mask, maps = _strokes((300, 400), [[(170, 70), (200, 40), (200, 175)]], 8)
    cleaned, removed, height = clean_mask(mask, ink, maps, min_height=8)
    assert not removed.any() and cleaned[60:160, 196:204].all()
    assert height >= 130


def test_a_close_up_nines_tail_is_no_ruled_line_and_a_lone_edge_as_long_is() -> None:
    # A 9 filling a close-up photo: its tail, with the loop's side it runs on from, spans more
    # than half the image, but it is a minor part of the 9's ink. The same line alone (the
    # paper's edge, say) is a rule.
    from digitrec.vision.rules import clean_mask

    turns = np.linspace(0, 6.3, 60)
    loop = [(200 + round(45 * np.cos(t)), 115 + round(55 * np.sin(t))) for t in turns]
    tail = [(245, 120), (235, 340)]
    ink, mask, maps = _strokes((400, 300), [loop, tail], 10)
    cleaned, removed, height = clean_mask(mask, ink, maps, min_height=8)
    assert not removed.any() and cleaned.sum() == mask.sum() and height > 250
    ink, mask, maps = _strokes((400, 300), [tail, [(100, 300), (115, 330)]], 10)
    cleaned, removed, _ = clean_mask(mask, ink, maps, min_height=8)
    assert removed[:, 200:].sum() > 0.9 * mask[:, 200:].sum() and not cleaned[:, 200:].any()


def test_a_sheets_corner_goes_though_lone_and_short() -> None:
    # The corner of a sheet's edge in the photo, beside a small digit: its upright side is lone
    # and short for the image like a close-up 1's stem, but the component is far wider than a
    # digit. Both sides go.
    from digitrec.vision.rules import clean_mask

    corner = [(100, 160), (310, 160), (310, 40)]
    # A 0 with cut corners: drawn as a rectangle it would be taken for a form's empty box.
    ring = [(40, 45), (50, 40), (60, 45), (60, 65), (50, 70), (40, 65), (40, 45)]
    ink, mask, maps = _strokes((300, 400), [corner, ring], 3)
    cleaned, removed, height = clean_mask(mask, ink, maps, min_height=8)
    assert height < 40
    assert removed[60:150, 308:312].any() and not cleaned[60:150, 305:315].any()
    assert cleaned[40:70, 40:60].any()


def test_a_digit_running_off_the_frame_stays_and_the_table_along_it_goes() -> None:
    # An 8 photographed close, wider than half the photo, its tail cut by the right edge: it
    # touches the edge over a stroke's width only. The dark table along the left side lies
    # along the edge all the way.
    from digitrec.vision.rules import clean_mask

    def ring(cx: int, cy: int, r: int) -> list[tuple[int, int]]:
        turns = np.linspace(0, 2 * np.pi, 40)
        return [(round(cx + r * np.cos(t)), round(cy + r * np.sin(t))) for t in turns]

    paths = [ring(120, 100, 35), ring(120, 172, 37), [(140, 72), (210, 35)]]
    ink, mask, maps = _strokes((300, 200), paths, 8)
    mask[:, :12] = True
    ink[mask] = 1.0
    cleaned, _, _ = clean_mask(mask, ink, maps, min_height=8)
    assert mask[:, 199].any() and mask[:, 80:].any(axis=0).all()  # off the edge, 0.6 wide
    assert cleaned[60:210, 80:160].sum() == mask[60:210, 80:160].sum()
    assert not cleaned[:, :12].any()


def test_bits_a_rule_leaves_beside_it_do_not_make_it_a_digit() -> None:
    # Upright rules, each with a bit of ink beside it every 12 px that the rule's band does not
    # take, and a small 0 below them. The bits, left all along a rule, measured it as a digit
    # 200 px tall, and no rule was long enough to go.
    from digitrec.vision.preprocess import edge_maps
    from digitrec.vision.rules import clean_mask

    bars = []
    for x in range(60, 340, 14):
        bars.append((40, x, 240, x + 2))
        bars += [(y, x + 2, y + 2, x + 5) for y in range(44, 240, 12)]
    ink, mask, _ = _bars((300, 400), bars)
    zero = [(155, 255), (165, 255), (170, 260), (170, 280), (165, 285), (155, 285), (150, 280)]
    zero_ink, zero_mask, _ = _strokes((300, 400), [[*zero, zero[0]]], 3)
    ink, mask = np.maximum(ink, zero_ink), mask | zero_mask
    cleaned, removed, height = clean_mask(mask, ink, edge_maps(ink), min_height=8)
    assert height < 40
    assert removed[40:240, 60:62].mean() > 0.9 and cleaned[250:290, 145:175].sum() > 300


def test_the_rest_of_a_lattice_counts_piece_by_piece() -> None:
    # Squared paper whose rules the threshold broke in places: the unbroken ones are rule
    # candidates, and all join in one piece. What is left of it (the broken rules' dashes)
    # measured at the whole lattice's extent made the digits 200 px tall and kept every rule.
    from digitrec.vision.preprocess import edge_maps
    from digitrec.vision.rules import clean_mask

    bars = []
    for k in range(15):
        x, y, inner = 60 + 14 * k, 40 + 14 * k, 2 <= k <= 12
        if inner:
            bars.append((40, x, 240, x + 2))
        else:
            bars += [(v + d, x, v + d + 6, x + 2) for v in range(40, 236, 14) for d in (0, 9)]
        if inner and k % 2:
            bars.append((y, 60, y + 2, 262))
        else:
            bars += [(y, u + d, y + 2, u + d + 6) for u in range(60, 256, 14) for d in (0, 9)]
    ink, mask, _ = _bars((300, 400), bars)
    ring = [(305, 100), (320, 95), (335, 100), (335, 150), (320, 155), (305, 150)]
    ring_ink, ring_mask, _ = _strokes((300, 400), [[*ring, ring[0]]], 3)
    ink, mask = np.maximum(ink, ring_ink), mask | ring_mask
    cleaned, removed, height = clean_mask(mask, ink, edge_maps(ink), min_height=8)
    assert height < 70
    assert removed[40:240, 88:90].mean() > 0.5 and removed[82:84, 60:262].mean() > 0.5
    assert cleaned[90:160, 300:340].sum() == ring_mask.sum()


def test_without_candidates_taken_whole_the_height_is_measured_on_what_is_left() -> None:
    # A blank page's broad patch of shadow is no digit-like component, and no rule candidate
    # took anything whole: the height is still measured (on the patch), never infinite, which
    # would keep the patch as a digit-sized stroke.
    from digitrec.vision.rules import clean_mask

    ink, mask, maps = _bars((300, 400), [(100, 100, 160, 140), (250, 50, 253, 53)])
    _, _, height = clean_mask(mask, ink, maps, min_height=8)
    assert height == 60


def test_a_thin_line_along_the_image_edge_is_no_stroke() -> None:
    # The border of a sheet or table cut by the frame, lying along it: even a piece of one,
    # only three times longer than thick. The same line inside the image, or one meeting the
    # edge end on, stays a stroke candidate.
    from digitrec.vision.paper_edge import along_the_edge

    shape = (200, 300)
    cases = {
        (80, 0, 92, 3): True,  # along the left edge, short
        (10, 297, 150, 300): True,  # along the right edge
        (197, 100, 200, 160): True,  # along the bottom
        (80, 100, 92, 103): False,  # the same short piece inside
        (0, 150, 40, 153): False,  # upright, meeting the top edge end on
    }
    for bar, expected in cases.items():
        ink, mask, maps = _bars(shape, [bar])
        parts = measure(ink, ndimage.label(mask)[0], maps)
        assert along_the_edge(parts, shape).tolist() == [expected], bar


def _is_edge_with_ramp(profile: np.ndarray, threshold: float, length: int = 100) -> bool:
    """edge_with_ramp's verdict on an upright line `length` px long with this ink `profile`
    across it, the mask cut at `threshold`."""
    from digitrec.vision.paper_edge import edge_with_ramp

    ink = np.zeros((200, 200), np.float32)
    ink[100 - length // 2 : 100 + length // 2, 90 : 90 + len(profile)] = profile
    labels = ndimage.label(ink > threshold)[0]
    [verdict] = edge_with_ramp(measure(ink, labels, None), ink, labels).tolist()
    return verdict


def test_a_line_with_a_ramp_of_shadow_on_one_side_is_the_sheets_edge() -> None:
    # The sheet's edge casting a soft shadow: ink that steps up on one side of the line and
    # fades away over many pixels on the other. A pen's "1", blurred alike on both sides (on
    # clean paper or on a smudge), and the same line without its ramp stay.
    ramp = np.clip(1.0 - np.arange(20) / 20, 0, 1)
    pen = np.array([0.2, 0.6, 1.0, 1.0, 0.6, 0.2])
    cases = {"edge with ramp": (np.r_[np.zeros(5), ramp], True), "pen": (pen, False)}
    cases["edge without ramp"] = (np.r_[np.zeros(5), ramp[:4], np.zeros(16)], False)
    cases["pen on a smudge"] = (np.r_[np.full(8, 0.3), pen, np.full(8, 0.3)], False)
    for name, (profile, expected) in cases.items():
        assert _is_edge_with_ramp(profile, 0.5) == expected, name


def test_a_faint_sheets_edge_with_a_faint_ramp_is_the_sheets_edge() -> None:
    # On a light table the sheet's edge is a faint line (0.4) and its shadow fainter still: a
    # ramp of 0.11, under the fixed share a dark line's ramp must reach, but a quarter of this
    # line's own ink. The same faint line with paper on both sides stays.
    line = np.full(4, 0.4)
    ramp = np.clip(0.12 - np.arange(12) / 100, 0, 1)
    assert _is_edge_with_ramp(np.r_[np.zeros(5), line, ramp], 0.2, length=160)
    assert not _is_edge_with_ramp(line, 0.2, length=160)


def test_a_bent_marker_one_with_soft_flanks_is_no_sheets_edge() -> None:
    # A thick marker "1", slanting, bent near its top and tapering there, its ink fading over
    # three pixels on both flanks alike. Sampled at a fixed distance from its main axis, one
    # side landed on its own flank and read as a ramp: the digit was dropped as the sheet's
    # edge. Beyond the stroke's own edge there is paper on both sides.
    from digitrec.vision.paper_edge import edge_with_ramp

    rows = np.arange(0, 181, 15)
    left = np.array([108, 100, 98, 89, 87, 82, 77, 72, 68, 67, 64, 65, 67])
    right = np.array([115, 116, 117, 111, 112, 106, 99, 97, 92, 91, 92, 89, 88])
    ink = np.zeros((240, 200), np.float32)
    x = np.arange(200)
    for r in range(181):
        a, b = np.interp(r, rows, left), np.interp(r, rows, right)
        core = np.clip(np.minimum(x - a + 1, b - x + 1), 0, 1)
        out = np.maximum(x - b, a - x)
        flank = np.where(out > 0, np.clip(0.45 - 0.15 * (out - 1), 0, None), 0)
        ink[30 + r] = np.maximum(core, flank)
    labels = ndimage.label(ink > 0.5)[0]
    parts = measure(ink, labels, None)
    assert edge_with_ramp(parts, ink, labels).tolist() == [False]


def test_a_stroke_touching_a_soft_shadow_is_cut_out_of_it() -> None:
    # A "1" whose foot touches a broad soft smudge makes one component with it, too soft to be
    # ink as a whole; cut at a higher level, its strong core is a stroke again. The smudge alone
    # stays out.
    from digitrec.vision.preprocess import edge_maps
    from digitrec.vision.strokes import keep_strokes

    y, x = np.mgrid[:200, :300]
    smudge = 0.4 * np.exp(-(((x - 150) / 50.0) ** 2 + ((y - 150) / 35.0) ** 2))
    ink = smudge.astype(np.float32)
    ink[90:142, 148:152] = 1.0  # the "1", its foot in the smudge
    labels = ndimage.label(ink > 0.25)[0]
    assert labels.max() == 1  # one component: the stroke and the smudge
    kept = keep_strokes(labels, ink, edge_maps(ink), 1.0, 50.0, 8.0)
    assert kept.max() == 1
    rows, cols = np.nonzero(kept)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (90, 141, 148, 151)


def test_a_faint_digit_beside_sure_ones_is_kept_alone_it_is_not() -> None:
    # A number whose third digit is written far more lightly than the others (a pen running
    # dry): too faint for the page-wide test, it is kept for standing on their line, beside
    # them. The same faint ring alone, away from any digit, stays out.
    from digitrec.vision.preprocess import edge_maps
    from digitrec.vision.strokes import keep_strokes

    ink = np.zeros((200, 400), np.float32)
    rings = {(60, 50): 1.0, (60, 100): 1.0, (60, 150): 0.3, (160, 330): 0.3}
    for (cy, cx), strength in rings.items():
        cv2.ellipse(ink, (cx, cy), (14, 20), 0, 0, 360, strength, 4)
    labels = ndimage.label(ink > 0.1)[0]
    kept = keep_strokes(labels, ink, edge_maps(ink), 1.0, 44.0, 8.0)
    found = {
        (int(r.start + r.stop) // 2, int(c.start + c.stop) // 2)
        for r, c in ndimage.find_objects(kept)
    }
    assert found == {(60, 50), (60, 100), (60, 150)}


def test_any_ink_keeps_a_blob_but_not_a_ruled_line() -> None:
    # A filled blob (a bold chalk digit run together) and a long ruled line across the page.
    from digitrec.vision.preprocess import edge_maps
    from digitrec.vision.rules import label
    from digitrec.vision.strokes import stroke_tests

    ink = np.zeros((200, 300), np.float32)
    cv2.ellipse(ink, (150, 90), (25, 45), 0, 0, 360, 1.0, -1)
    ink[170:172, 5:295] = 1.0
    labels = label(ink > 0.5)
    parts = measure(ink, labels, edge_maps(ink))
    blob, line = (0, 1) if parts.height[0] > parts.height[1] else (1, 0)
    shaped, strong = stroke_tests(parts, contrast=1.0, height=90, min_height=8)
    assert not (shaped & strong)[blob]
    shaped, strong = stroke_tests(parts, contrast=1.0, height=90, min_height=8, any_ink=True)
    assert (shaped & strong)[blob] and not (shaped & strong)[line]
