"""Find and load a trained model: a model file, a run folder, or a model shipped with digitrec.

This is the only way the CLI, the server and the tests load models, and it never unpickles:
model files are safetensors arrays plus JSON (see digitrec.store).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from digitrec.errors import DigitrecError, ModelFileError
from digitrec.models.classifier import Classifier, TorchClassifier
from digitrec.models.registry import get_spec
from digitrec.store import MODEL_FORMAT, read_arrays_file

MODEL_FILE = "model.safetensors"
DEFAULT_MODEL = "default"


def shipped_models() -> dict[str, Path]:
    """Models bundled in the package, by name."""
    folder = Path(str(resources.files("digitrec.pretrained")))
    return {path.stem: path for path in sorted(folder.glob("*.safetensors"))}


def resolve_model_path(reference: str | Path) -> Path:
    """A model file path from a file, a run folder (its model.safetensors) or a shipped name."""
    path = Path(reference).expanduser()
    if path.is_dir():
        if not (path / MODEL_FILE).is_file():
            raise ModelFileError(f"{path}: no {MODEL_FILE} in this folder (unfinished run?)")
        return path / MODEL_FILE
    if path.exists():
        return path
    shipped = shipped_models()
    if str(reference) in shipped:
        return shipped[str(reference)]
    names = ", ".join(shipped) or "none"
    raise ModelFileError(
        f"no model '{reference}': not a model file, a run folder, or a shipped model ({names})"
    )


def load_classifier(
    reference: str | Path = DEFAULT_MODEL, *, accelerate: bool = True
) -> Classifier:
    """The classifier in a model file, run folder or shipped model.

    With `accelerate`, a torch model whose file has an ONNX twin beside it (the same name with
    .onnx, exported from the same weights: `digitrec export`) predicts through onnxruntime."""
    path = resolve_model_path(reference)
    arrays, document = read_arrays_file(path, kind=MODEL_FORMAT)
    try:
        spec = get_spec(str(document.get("architecture")))
    except DigitrecError as error:
        raise ModelFileError(f"{path}: {error}") from None
    if document.get("kind") != spec.kind:
        raise ModelFileError(f"{path}: model kind {document.get('kind')!r} does not fit")
    if spec.kind == "torch":
        classifier = TorchClassifier.from_arrays(arrays, document, path)
        if not accelerate:
            return classifier
        from digitrec.export import accelerate as with_onnx

        return with_onnx(classifier, path.with_suffix(".onnx"))
    return spec.build.from_arrays(arrays, document, path)
