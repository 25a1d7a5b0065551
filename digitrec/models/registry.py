"""One registry of model architectures: name -> constructor and the recipe that trains it.

A torch model is an `nn.Module` whose constructor takes keyword arguments (the same ones are
saved in the model file, so loading rebuilds the exact architecture) and whose `forward` maps
(B, 1, 28, 28) normalized images to (B, num_classes) logits. Softmax, loss and argmax live
elsewhere. Adding a model is one file with one `@register_model` line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from digitrec.errors import DigitrecError


@dataclass(frozen=True)
class ModelSpec:
    name: str
    build: Callable[..., Any]
    description: str
    recipe: str  # the named training recipe used when only the model is given
    kind: str = "torch"  # "torch" models share the training loop; "classic" bring their fit()


_MODELS: dict[str, ModelSpec] = {}


def register_model(
    name: str, *, description: str, recipe: str, kind: str = "torch"
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(build: Callable[..., Any]) -> Callable[..., Any]:
        if name in _MODELS:
            raise RuntimeError(f"model {name!r} registered twice")
        if kind != "torch":
            build.architecture = name  # type: ignore[attr-defined]  # the name it saves under
        _MODELS[name] = ModelSpec(name, build, description, recipe, kind)
        return build

    return decorator


def model_names() -> list[str]:
    _load_families()
    return sorted(_MODELS)


def get_spec(name: str) -> ModelSpec:
    _load_families()
    try:
        return _MODELS[name]
    except KeyError:
        raise DigitrecError(
            f"unknown model '{name}' (known: {', '.join(sorted(_MODELS))})"
        ) from None


def create_model(name: str, **arguments: Any) -> Any:
    """Build a registered model (an nn.Module, or a ClassicClassifier for kind "classic");
    a wrong argument is a DigitrecError naming it."""
    spec = get_spec(name)
    try:
        return spec.build(**arguments)
    except TypeError as error:
        raise DigitrecError(f"model '{name}': bad arguments {arguments}: {error}") from None


def _load_families() -> None:
    # Importing the family modules runs their @register_model lines; done lazily so that
    # importing the registry alone stays cheap and free of import cycles.
    from digitrec.models import (  # noqa: F401
        classic_families,
        deepcnn,
        ensemble,
        fastcnn,
        lenet,
        tutorial,
    )
