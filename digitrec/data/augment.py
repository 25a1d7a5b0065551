"""Random affine augmentation of a whole batch at once, on tensors.

One affine matrix per image (rotation, scale, shift) is drawn from a seeded generator and applied
with a single `affine_grid` + `grid_sample` call, so augmentation costs one batched op, not a
Python loop over samples. Background is zero after normalization shifts it, so we pad with the
batch's own background value rather than 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    rotation: float = 0.0  # max degrees either way
    shift: float = 0.0  # max shift as a fraction of the image side
    scale: float = 0.0  # max relative zoom in or out

    @property
    def enabled(self) -> bool:
        return self.rotation > 0 or self.shift > 0 or self.scale > 0


def random_affine(
    images: torch.Tensor, config: AugmentConfig, generator: torch.Generator
) -> torch.Tensor:
    """Randomly rotate, scale and shift each image of a (B, C, H, W) batch."""
    if not config.enabled:
        return images
    batch = images.shape[0]

    def uniform(limit: float) -> torch.Tensor:
        return (torch.rand(batch, generator=generator) * 2 - 1) * limit

    angle = uniform(math.radians(config.rotation))
    zoom = 1 + uniform(config.scale)
    # affine_grid works in [-1, 1] coordinates, so a shift of f of the side is 2f.
    shift_x, shift_y = uniform(2 * config.shift), uniform(2 * config.shift)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack(
        [torch.stack([cos, -sin, shift_x], 1), torch.stack([sin, cos, shift_y], 1)], 1
    ).to(images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    background = images.amin(dim=(1, 2, 3), keepdim=True)
    warped = F.grid_sample(images - background, grid, align_corners=False, padding_mode="zeros")
    return warped + background
