"""Real photos with no digit in them (scikit-image's sample images: people, animals, textures,
the sky) read as "no digit", not as a random number."""

import numpy as np
import pytest
import skimage.data

from digitrec.models.loading import load_classifier
from digitrec.predictor import Predictor

# Textures (brick, grass, gravel) are the hard ones: lines and pebbles everywhere, some of
# which look like strokes. Not the coins, whose round rims are fair 0s.
PHOTOS = ["astronaut", "brick", "camera", "cat", "coffee", "grass", "gravel", "horse", "moon"]
PHOTOS += ["rocket", "retina", "hubble_deep_field"]


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor(load_classifier("default"))


@pytest.mark.parametrize("name", PHOTOS)
def test_a_photo_of_no_digit_reads_as_no_digit(predictor: Predictor, name: str) -> None:
    photo = np.asarray(getattr(skimage.data, name)())
    if photo.dtype == bool:  # the horse's silhouette
        photo = np.where(photo, 255, 0).astype(np.uint8)
    reading = predictor.read_image(photo)
    assert reading.text == "" and reading.digits == []
