"""Contract tests over every registered torch model."""

import pytest
import torch

from digitrec.errors import DigitrecError
from digitrec.models import create_model, get_spec, model_names

EXPECTED_PARAMETERS = {
    "mlp": 13_002,  # the Keras tutorial's model.summary()
    "cnn": 93_322,  # likewise
    "tutorial-cnn": 8_490,  # 10*(25+1) + 20*(250+1) + 320*10+10
    "lenet5": 61_706,  # the classic LeNet-5 count with a 5x5x6 C1 on padded input
    "fastcnn": 24_058,
    "deepcnn": 288_170,  # 3 stages of two conv+BN blocks (32, 64, 128 maps), linear 128-10
}
# Built from other trained models (digitrec ensemble), not from a recipe; tested on its own.
COMPOSITE_MODELS = {"ensemble"}
TORCH_MODELS = [
    name
    for name in model_names()
    if get_spec(name).kind == "torch" and name not in COMPOSITE_MODELS
]


def test_every_torch_model_has_a_pinned_parameter_count():
    assert set(TORCH_MODELS) == set(EXPECTED_PARAMETERS)


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_parameter_count(name):
    model = create_model(name)
    assert sum(p.numel() for p in model.parameters()) == EXPECTED_PARAMETERS[name]


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_logits_shape_and_gradient_reaches_every_parameter(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=7)
    logits = model(torch.randn(5, 1, 28, 28))
    assert logits.shape == (5, 7)
    logits.logsumexp(1).sum().backward()
    for parameter_name, parameter in model.named_parameters():
        assert parameter.grad is not None, parameter_name
        assert parameter.grad.abs().sum() > 0, parameter_name


@pytest.mark.parametrize("name", sorted(set(model_names()) - COMPOSITE_MODELS))
def test_model_names_its_recipe(name):
    from digitrec.config import RECIPES

    recipe = get_spec(name).recipe
    assert recipe in RECIPES and RECIPES[recipe]["model"] == name


def test_unknown_model_lists_known_ones():
    with pytest.raises(DigitrecError, match=r"unknown model 'resnet9000' \(known: .*mlp"):
        create_model("resnet9000")


def test_bad_argument_is_a_clear_error():
    with pytest.raises(DigitrecError, match="bad arguments"):
        create_model("mlp", colour="blue")
