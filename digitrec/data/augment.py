"""Random affine and elastic augmentation of a whole batch at once, on tensors.

One affine matrix per image (rotation, scale, shift, shear) is drawn from a seeded generator; an
optional elastic distortion (Simard et al. 2003: a random displacement per pixel, smoothed by a
Gaussian so neighbouring pixels move together, the way a hand wobbles) is added to the same
sampling grid. A single `grid_sample` call then warps the batch, so augmentation costs one
batched op, not a Python loop over samples. The background after standardization is not zero,
so we warp relative to each image's own background value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# Width of the Gaussian that smooths the elastic displacement field, in pixels: wide enough
# that strokes bend rather than fray (Simard et al. used 4 on 28x28 digits).
ELASTIC_SIGMA = 4.0


@dataclass(frozen=True)
class AugmentConfig:
    rotation: float = 0.0  # max degrees either way
    shift: float = 0.0  # max shift as a fraction of the image side
    scale: float = 0.0  # max relative zoom in or out
    elastic: float = 0.0  # strength of elastic distortion (typical displacement in pixels)
    # Max horizontal shear either way, in columns per row: a hand's slant, which a rotation
    # does not make (the strokes lean, the lines of writing stay level). No recipe uses it: a
    # `fastcnn` of width 32 (as `default`) trained with shear 0.3 misread 126 of 6,299 digits cut
    # from tune photos (read as the Predictor reads, as given and deskewed), the same training
    # without it 113.
    shear: float = 0.0

    @property
    def enabled(self) -> bool:
        return (
            self.rotation > 0
            or self.shift > 0
            or self.scale > 0
            or self.elastic > 0
            or self.shear > 0
        )


def random_affine(
    images: torch.Tensor, config: AugmentConfig, generator: torch.Generator
) -> torch.Tensor:
    """Randomly rotate, scale, shift, shear and (if asked) elastically distort each image of a
    (B, C, H, W) batch."""
    if not config.enabled:
        return images
    batch, _, height, width = images.shape

    def uniform(limit: float) -> torch.Tensor:
        return (torch.rand(batch, generator=generator) * 2 - 1) * limit

    angle = uniform(math.radians(config.rotation))
    zoom = 1 + uniform(config.scale)
    # affine_grid works in [-1, 1] coordinates, so a shift of f of the side is 2f.
    shift_x, shift_y = uniform(2 * config.shift), uniform(2 * config.shift)
    # Drawn only when asked for, so that the random stream (and a seeded run) without shear
    # stays as it was.
    slant = uniform(config.shear) if config.shear > 0 else torch.zeros(batch)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    # The rotation and zoom times the shear [[1, slant], [0, 1]], in the output's coordinates
    # ([-1, 1] both ways, so on a square image a slant in units is one in pixels).
    theta = torch.stack(
        [
            torch.stack([cos, cos * slant - sin, shift_x], 1),
            torch.stack([sin, sin * slant + cos, shift_y], 1),
        ],
        1,
    ).to(images.dtype)
    grid = F.affine_grid(theta, [batch, 1, height, width], align_corners=False)
    if config.elastic > 0:
        grid = grid + elastic_field(batch, height, width, config.elastic, generator).to(grid.dtype)
    background = images.amin(dim=(1, 2, 3), keepdim=True)
    warped = F.grid_sample(images - background, grid, align_corners=False, padding_mode="zeros")
    return warped + background


def elastic_field(
    batch: int, height: int, width: int, strength: float, generator: torch.Generator
) -> torch.Tensor:
    """Smooth random displacements (B, H, W, 2) in grid_sample's [-1, 1] units whose typical
    size is `strength` pixels."""
    noise = torch.rand(batch * 2, 1, height, width, generator=generator) * 2 - 1
    kernel = gaussian_kernel(ELASTIC_SIGMA)
    pad = len(kernel) // 2
    # Separable blur: rows, then columns. Reflect padding keeps the edges as lively as the centre.
    smooth = F.conv2d(F.pad(noise, (pad, pad, 0, 0), mode="reflect"), kernel.view(1, 1, 1, -1))
    smooth = F.conv2d(F.pad(smooth, (0, 0, pad, pad), mode="reflect"), kernel.view(1, 1, -1, 1))
    # Blurring shrinks the noise; rescale so `strength` is the field's actual RMS in pixels.
    smooth = smooth / smooth.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(1e-8)
    field = smooth.view(batch, 2, height, width).permute(0, 2, 3, 1) * strength
    # Pixels to [-1, 1] units: the side spans 2 units.
    return field * torch.tensor([2.0 / width, 2.0 / height])


def gaussian_kernel(sigma: float) -> torch.Tensor:
    radius = max(1, round(2 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    return kernel / kernel.sum()
