import torch

from digitrec.data.augment import AugmentConfig, random_affine


def _batch() -> torch.Tensor:
    images = torch.zeros(8, 1, 28, 28)
    images[:, :, 8:20, 12:16] = 1.0  # a vertical bar in every image
    return images


def test_disabled_is_identity():
    images = _batch()
    assert random_affine(images, AugmentConfig(), torch.Generator()) is images


def test_same_seed_same_result_and_shape():
    config = AugmentConfig(rotation=15, shift=0.1, scale=0.1)
    first = random_affine(_batch(), config, torch.Generator().manual_seed(1))
    second = random_affine(_batch(), config, torch.Generator().manual_seed(1))
    other = random_affine(_batch(), config, torch.Generator().manual_seed(2))
    assert first.shape == (8, 1, 28, 28)
    assert torch.equal(first, second)
    assert not torch.equal(first, other)


def test_each_image_gets_its_own_transform():
    out = random_affine(_batch(), AugmentConfig(rotation=20), torch.Generator().manual_seed(0))
    assert not torch.allclose(out[0], out[1])


def test_shift_moves_the_mass_and_keeps_the_background():
    images = _batch() * 2 - 0.5  # standardized-like: background -0.5
    config = AugmentConfig(shift=0.15)
    out = random_affine(images, config, torch.Generator().manual_seed(0))
    # Pixels far from the bar stay background; total ink is roughly kept.
    assert torch.allclose(out[:, :, 0, 0], torch.full((8, 1), -0.5))
    ink_before = (images + 0.5).sum(dim=(1, 2, 3))
    ink_after = (out + 0.5).sum(dim=(1, 2, 3))
    assert torch.allclose(ink_before, ink_after, rtol=0.1)
    cols = torch.arange(28.0)
    centre = ((out + 0.5).sum(dim=(1, 2)) * cols).sum(1) / (out + 0.5).sum(dim=(1, 2, 3))
    assert (centre - 13.5).abs().max() > 0.5  # something moved
    assert (centre - 13.5).abs().max() <= 0.15 * 28 + 1  # but no further than allowed


def test_elastic_distortion_bends_strokes_by_about_the_asked_amount():
    images = _batch()
    config = AugmentConfig(elastic=1.5)
    out = random_affine(images, config, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and not torch.allclose(out[0], out[1])
    # The stroke is bent locally, not moved away or wiped out: its ink stays within a factor of
    # two (local stretching changes its area) and its centre of mass within two pixels.
    ink_before, ink_after = images.sum(dim=(1, 2, 3)), out.sum(dim=(1, 2, 3))
    ratio = ink_after / ink_before
    assert ((ratio > 0.5) & (ratio < 2)).all()
    columns = torch.arange(28.0)
    centre_before = (images.sum(dim=(1, 2)) * columns).sum(1) / ink_before
    centre_after = (out.sum(dim=(1, 2)) * columns).sum(1) / ink_after
    assert ((centre_after - centre_before).abs() < 2).all()


def test_elastic_field_is_smooth_and_has_the_asked_size():
    from digitrec.data.augment import elastic_field

    field = elastic_field(64, 28, 28, 2.0, torch.Generator().manual_seed(0))
    pixels = field * 14  # back from [-1, 1] units to pixels on a 28-px side
    rms = pixels.pow(2).mean().sqrt()
    assert abs(float(rms) - 2.0) < 0.1
    # Neighbouring pixels move together: the step between neighbours is far below the motion.
    step = (pixels[:, 1:] - pixels[:, :-1]).abs().mean()
    assert float(step) < 0.2 * float(pixels.abs().mean())


def test_shear_slants_a_vertical_bar_both_ways_by_at_most_the_asked_amount():
    images = torch.zeros(16, 1, 28, 28)
    images[:, :, 4:24, 13:15] = 1.0
    out = random_affine(images, AugmentConfig(shear=0.5), torch.Generator().manual_seed(0))
    slants = []
    for image in out[:, 0]:
        rows, columns = torch.nonzero(image > 0.4, as_tuple=True)
        rows, columns = rows.float() - rows.float().mean(), columns.float() - columns.float().mean()
        slants.append(float((rows * columns).sum() / (rows * rows).sum()))  # columns per row
    assert min(slants) < -0.1 and max(slants) > 0.1  # leaning either way
    assert max(abs(s) for s in slants) <= 0.55
    # A slant moves rows sideways: the bar keeps its rows, its height and its ink.
    assert torch.allclose(out.sum(dim=(1, 2, 3)), images.sum(dim=(1, 2, 3)), rtol=0.05)
    assert (out[:, 0, :4].abs().max() < 0.05) and (out[:, 0, 24:].abs().max() < 0.05)
