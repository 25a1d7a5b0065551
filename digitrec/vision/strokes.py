"""Which of the mask's components are a pen's strokes (keep_strokes): crisp, much thinner than
the digits are tall, about as strong as the page's other ink, no ruled line's fragment and no
paper's edge; and a digit touching a shadow, cut out of it at a higher level.
"""

import numpy as np

from digitrec.vision import filters
from digitrec.vision.beside import beside_kept
from digitrec.vision.components import (
    LINE_ANGLE,
    LONG_LINE,
    RULE_THIN,
    SHARP,
    STROKE_OF_HEIGHT,
    Components,
    collinear,
    digit_like,
    measure,
    straight_line,
    straight_piece,
)
from digitrec.vision.paper_edge import along_the_edge, edge_with_ramp
from digitrec.vision.preprocess import EdgeMaps

# A dropped component at least CORE_HEIGHT digit heights tall whose strongest ink is CORE_PEAK
# times its median, and at least CORE_INK (the page's strongest ink is 1), is cut again halfway
# between the two (see keep_strokes).
CORE_HEIGHT = 0.5
CORE_PEAK = 2.0
CORE_INK = 0.8
# Its pieces are kept at this sharpness at least (see preprocess.edge_sharpness): digits cut out
# of shadows on synthetic photos measured 0.18-0.27, the crisper bits of shadows 0.11 and less.
CORE_SHARP = 0.15
# A stroke's median ink is at least this share of the strongest digit-like component's on the
# page (ruled lines, shading and table texture are fainter than the pen), and this much contrast
# relative to the light level (see preprocess.ink_levels).
RELATIVE_LEVEL = 0.4
MIN_INK_CONTRAST = 0.13
# A fainter stroke beside kept digits (vision.beside) needs this share of MIN_INK_CONTRAST.
RESCUE_CONTRAST = 0.5
# Thin and faint is not ink: one pixel wide (a thickness, see Components, of 2) with median ink
# under FAINT (the strongest ink on the page is 1).
THIN = 2.3
FAINT = 0.45
# Under this share of the sharpness of the crispest mark of at least MARK_AREA pixels (less is
# pixel noise), a digit-sized component is shading (see stroke_tests). Bands of shadow measured
# 0.17-0.26 of the page's dust; a thin pencil digit beside bolder ones, 0.4.
RELATIVE_SHARPNESS = 0.3
MARK_AREA = 6
# A blob is thicker than STROKE_OF_HEIGHT of its height plus this: a small digit's strokes are
# thick for its size, as pen width and blur do not shrink with it.
BLUR_PX = 2.0


def keep_strokes(
    labels: np.ndarray,
    ink: np.ndarray,
    maps: EdgeMaps,
    contrast: float,
    height: float,
    min_height: float,
    min_contrast: float = MIN_INK_CONTRAST,
    any_ink: bool = False,
) -> np.ndarray:
    """The labels, relabelled without the components that are not pen strokes. `contrast` is
    what ink 1.0 means (preprocess.ink_levels), `height` the typical digit height, and a
    stroke's ink must reach `min_contrast` relative to the light level. With `any_ink`, only
    that and the ruled lines count (see stroke_tests)."""

    def judged(labelled: np.ndarray) -> tuple[np.ndarray, Components]:
        """Per component of `labelled`: whether it is kept as a stroke, and the measures."""
        parts = measure(ink, labelled, maps)
        shaped, strong = stroke_tests(parts, contrast, height, min_height, min_contrast, any_ink)
        shaped &= ~along_the_edge(parts, labelled.shape) & ~edge_with_ramp(parts, ink, labelled)
        keep = shaped & strong
        faint_ok = parts.level * contrast >= RESCUE_CONTRAST * min_contrast
        return keep | beside_kept(parts, shaped & faint_ok, keep, min_height), parts

    keep, parts = judged(labels)
    # A digit touching a shadow or smudge is one component with it, dropped whole as too soft
    # or too faint: such a component's strong core, cut at a higher level, is looked at again.
    tall = parts.height >= (CORE_HEIGHT * height if np.isfinite(height) else min_height)
    strong = (parts.peak >= CORE_PEAK * parts.level) & (parts.peak >= CORE_INK)
    cores = ~keep & tall & strong
    table = np.concatenate([[False], keep])
    if not cores.any():
        return filters.label(table[labels])[0]
    cut = np.concatenate([[np.inf], (parts.level + parts.peak) / 2])
    core_table = np.concatenate([[False], cores])
    mask = table[labels] | (core_table[labels] & (ink >= cut[labels]))
    relabelled = filters.label(mask)[0]
    keep, parts = judged(relabelled)
    # A piece cut out of a shadow must look like a pen's stroke on its own: wider than a
    # pixel (a crisp line along a shadow's edge is not) and clearly crisp.
    from_core = np.bincount(relabelled[core_table[labels]], minlength=len(keep) + 1)[1:] > 0
    pen = (parts.thickness > THIN) & (parts.sharpness >= CORE_SHARP)
    keep &= ~from_core | pen
    return filters.label(np.concatenate([[False], keep])[relabelled])[0]


def stroke_tests(
    parts: Components,
    contrast: float,
    height: float,
    min_height: float,
    min_contrast: float = MIN_INK_CONTRAST,
    any_ink: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Per component: (shaped like a pen's stroke: crisp, not a blob nor a ruled line's
    fragment; strong: about as strong as the page's digits). With `any_ink`: (not a ruled
    line's fragment; reaching `min_contrast`), for a last look where nothing else was found
    (see the predictor)."""
    tall = parts.height >= 0.5 * height
    sure = digit_like(parts, min_height) & tall
    best = float(np.max(parts.level[sure], initial=0.0))
    blob = tall & (parts.thickness > STROKE_OF_HEIGHT * parts.height + BLUR_PX)
    line = straight_line(parts)
    stroke = float(np.median(parts.thickness[sure])) if sure.any() else np.inf
    flat_line = line & (np.abs(parts.angle) <= LINE_ANGLE) & (parts.thickness < RULE_THIN * stroke)
    # Even a "1" is hardly longer than the digits are tall.
    long_line = line & (parts.length >= LONG_LINE * height)
    # The threshold breaks a faint line into pieces that need not be long each.
    long_line |= collinear(parts, straight_piece(parts), LONG_LINE * height)
    if any_ink:
        return ~flat_line & ~long_line, parts.level * contrast >= min_contrast
    # One pixel wide and faint: noise along a shadow's or the paper's edge, a fibre, a broken
    # ruled line; a pen's stroke this thin is also as strong as the rest of the writing.
    thin_faint = (parts.thickness <= THIN) & (parts.level < FAINT)
    # A digit-sized component far softer than the crispest marks on the page (the digits, or a
    # blank page's dust) is a shadow's band or a smudge: one photo's ink is about equally crisp.
    # Not than a thin straight line's piece (of a ruled or squared page), which measures far
    # crisper than a pen's stroke for being thin: beside one, a grainy pencil digit was a smudge.
    marks = parts.sharpness[(parts.area >= MARK_AREA) & ~line]
    crispest = float(marks.max()) if marks.size else 0.0
    soft = tall & (parts.sharpness < RELATIVE_SHARPNESS * crispest)
    shaped = (parts.sharpness >= SHARP) & ~soft & ~blob & ~flat_line & ~long_line
    strong = (
        ~thin_faint
        & (parts.level >= RELATIVE_LEVEL * best)
        & (parts.level * contrast >= min_contrast)
    )
    return shaped, strong
