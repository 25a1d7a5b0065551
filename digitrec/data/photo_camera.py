"""The camera of a synthetic photo (digitrec.data.synthetic_photos): the flat sheet from
digitrec.data.photo_sheet placed in the frame (turned, in perspective, sometimes lying on a table
with its shadow), then light, hand shake, defocus, sensor noise and JPEG; and each digit's box
carried into the final image.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from digitrec.data.photo_sheet import resize

Box = tuple[int, int, int, int]


def image_size(rng: np.random.Generator) -> tuple[int, int]:
    """Mostly modest photos for speed, some up to 2000x1500."""
    ranges = [(200, 640), (640, 1200), (1200, 2000)]
    longest = rng.uniform(*ranges[rng.choice(3, p=[0.65, 0.28, 0.07])])
    shortest = max(200.0, longest / rng.choice([1.0, 4 / 3, 3 / 2, 16 / 9]))
    size = (round(longest), round(shortest))
    return size if rng.random() < 0.5 else size[::-1]


def sheet_quad(rng: np.random.Generator, w: int, h: int, border: bool) -> np.ndarray:
    """Where the sheet's corners (tl, tr, br, bl) land in the photo."""
    angle = np.radians(rng.normal(0, 3 if border else 0.8))
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    if border:  # the whole sheet lies on a table, slightly rotated
        # A real sheet's shape (A4, letter, a square note, an index card), mostly turned the way
        # the photo is, filling 60-90% of the frame; not a strip of any aspect.
        aspect = rng.choice([1.414, 1.294, 1.0, 1.5])
        landscape = (w >= h) == (rng.random() < 0.8)
        ratio = aspect if landscape else 1 / aspect  # width over height
        fill = rng.uniform(0.3, 0.45)
        half_w = min(w * fill, h * fill * ratio)
        half = np.array([half_w, half_w / ratio])
    else:  # the sheet fills the frame: push its corners out so no edge shows
        half = np.array([w, h]) * (0.5 + abs(angle) * max(w / h, h / w) + rng.uniform(0.02, 0.05))
    corners = (np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half) @ rotate.T
    # Perspective: each corner moves a little, outwards only when the sheet fills the frame.
    jitter = rng.uniform(-0.025, 0.025, (4, 2)) * min(w, h)
    corners += jitter if border else np.sign(corners) * np.abs(jitter)
    center = np.array([w, h]) / 2
    if border:  # slide it off-centre as far as the frame allows
        room = np.maximum(center - np.abs(corners).max(axis=0) - 2, 0)
        center += rng.uniform(-1, 1, 2) * room
    return corners + center


def homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    rows = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    solution = np.linalg.solve(np.array(rows, float), dst.reshape(-1).astype(float))
    return np.append(solution, 1.0).reshape(3, 3)


def _table(rng: np.random.Generator, w: int, h: int, shade: np.ndarray) -> Image.Image:
    """A desk (wood, grey, dark or white) with grain along one axis, darkened by `shade`."""
    pick = rng.integers(4)
    base = np.array([[150, 105, 65], [120, 120, 125], [55, 48, 42], [205, 203, 196]][pick])
    grain = 0.07 if pick == 0 else 0.015  # only wood shows strong grain
    lum = 1 + grain * resize(rng.standard_normal((48, 3), dtype=np.float32), w, h)
    lum *= 1 - 0.35 / 255 * shade
    rgb = lum[..., None] * (base * rng.uniform(0.85, 1.15)).astype(np.float32)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def warp_sheet(rng, sheet: Image.Image, matrix: np.ndarray, w: int, h: int, border: bool):
    """The sheet seen by the camera, lying on a table when `border`."""
    inverse = np.linalg.inv(matrix)
    data = tuple((inverse / inverse[2, 2]).reshape(-1)[:8])
    fill = sheet.getpixel((sheet.width // 2, sheet.height // 2))
    perspective = Image.Transform.PERSPECTIVE
    warped = sheet.transform((w, h), perspective, data, Image.Resampling.BILINEAR, fillcolor=fill)
    if not border:
        return warped
    cover = Image.new("L", sheet.size, 255).transform((w, h), perspective, data)
    # The sheet casts a soft shadow on the table, offset away from the light.
    dx, dy = rng.integers(1, 4, 2) * max(1, min(w, h) // 300)
    shade = cover.filter(ImageFilter.GaussianBlur(max(2, min(w, h) / 80)))
    shade = shade.transform((w, h), Image.Transform.AFFINE, (1, 0, -dx, 0, 1, -dy))
    return Image.composite(warped, _table(rng, w, h, np.asarray(shade, np.float32)), cover)


def _light(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Brightness (h, w, 1): a gradient, vignetting and sometimes a hand's soft shadow."""
    lw, lh = max(8, w // 8), max(8, h // 8)
    ys, xs = np.mgrid[0:lh, 0:lw].astype(np.float32)
    xs, ys = xs / lw - 0.5, ys / lh - 0.5
    phi = rng.uniform(0, 2 * np.pi)
    light = 1 + rng.uniform(0, 0.3) * (np.cos(phi) * xs + np.sin(phi) * ys)
    light *= 1 - rng.uniform(0, 0.25) * (xs**2 + ys**2)
    if rng.random() < 0.4:
        # A blob entering from the left edge, then flipped or transposed onto a random side.
        edge = np.sort(rng.uniform(-0.3, 1.3, 2))
        depth = rng.uniform(0.15, 0.6, 2)
        pts = np.array([[-0.5, edge[0]], [depth[0], edge[0]], [depth[1], edge[1]], [-0.5, edge[1]]])
        pts = [pts, pts * [-1, 1] + [1, 0], pts[:, ::-1], pts[:, ::-1] * [1, -1] + [0, 1]][
            rng.integers(4)
        ]
        shadow = Image.new("L", (lw, lh), 0)
        ImageDraw.Draw(shadow).polygon([(x * lw, y * lh) for x, y in pts], 255)
        soft = shadow.filter(ImageFilter.GaussianBlur(rng.uniform(0.04, 0.12) * min(lw, lh)))
        light *= 1 - rng.uniform(0.15, 0.45) / 255 * np.asarray(soft, np.float32)
    return resize(light.astype(np.float32), w, h)[..., None]


def through_camera(rng: np.random.Generator, photo: Image.Image) -> np.ndarray:
    w, h = photo.size
    scale = max(1.0, max(w, h) / 800)
    tint = rng.uniform(0.96, 1.03, 3).astype(np.float32) * rng.uniform(0.85, 1.1)
    image = np.multiply(np.asarray(photo), tint, dtype=np.float32)
    image *= _light(rng, w, h)
    image += (rng.random(image.shape, dtype=np.float32) - 0.5) * rng.uniform(3, 18)  # sensor
    pixels = np.clip(image, 0, 255, out=image).astype(np.uint8)
    if rng.random() < 0.2:  # hand shake: a short straight smear
        length = int(rng.integers(2, 4 + 3 * scale))
        pixels = ndimage.uniform_filter1d(pixels, length, axis=int(rng.integers(2)))
    photo = Image.fromarray(pixels)
    sigma = rng.uniform(0, 1.1) * scale
    if sigma > 0.3:  # defocus
        photo = photo.filter(ImageFilter.GaussianBlur(sigma))
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=int(rng.integers(40, 96)))
    return np.asarray(Image.open(buffer).convert("RGB"))


def photo_box(matrix: np.ndarray, outline: np.ndarray, w: int, h: int) -> Box:
    mapped = np.c_[outline, np.ones(len(outline))] @ matrix.T
    points = mapped[:, :2] / mapped[:, 2:]
    x0, y0 = np.floor(points.min(axis=0)).astype(int).clip(0, [w - 1, h - 1])
    x1, y1 = np.ceil(points.max(axis=0)).astype(int).clip(0, [w, h])
    return int(x0), int(y0), int(max(1, x1 - x0)), int(max(1, y1 - y0))
