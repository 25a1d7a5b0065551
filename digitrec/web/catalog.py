"""The models a request may choose with `?model=`: the shipped ones and the one `--model` named.

A request names a model by a key of this catalog, never by a path, so no request can make the
server open an arbitrary file. Each model is loaded at most once, on first use (the default one
when the app starts), and shared by every request after that.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digitrec.errors import DigitrecError
from digitrec.models.loading import (
    DEFAULT_MODEL,
    load_classifier,
    resolve_model_path,
    shipped_models,
)
from digitrec.predictor import Predictor
from digitrec.store import MODEL_FORMAT, read_arrays_file


class UnknownModelError(DigitrecError):
    """A request asked for a model that is not in the catalog."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    shipped: bool


class ModelCatalog:
    def __init__(self, default: str = DEFAULT_MODEL, *, max_pixels: int) -> None:
        self.max_pixels = max_pixels
        self.entries = {
            name: ModelEntry(name, path, True) for name, path in shipped_models().items()
        }
        # Resolved as `predict --model` would (a file or folder of that name comes first), and
        # now, so that a bad --model fails at start with the loader's one-line message.
        path = resolve_model_path(default)
        if default not in self.entries or self.entries[default].path != path:
            self.entries[default] = ModelEntry(default, path, False)
        self.default = default
        self._predictors: dict[str, Predictor] = {}
        self._lock = threading.Lock()
        self._described: list[dict[str, Any]] | None = None

    def predictor(self, name: str | None = None) -> Predictor:
        name = name or self.default
        if name not in self.entries:
            known = ", ".join(self.entries)
            raise UnknownModelError(f"no model '{name}' on this server (available: {known})")
        predictor = self._predictors.get(name)
        if predictor is None:
            with self._lock:  # two first requests at once must not load the model twice
                predictor = self._predictors.get(name)
                if predictor is None:
                    classifier = load_classifier(self.entries[name].path)
                    predictor = Predictor(classifier, max_pixels=self.max_pixels)
                    self._predictors[name] = predictor
        return predictor

    def describe(self) -> list[dict[str, Any]]:
        """Name, architecture, parameters and training metrics of every model, from the file's
        metadata (a model not used yet is not built for this). Files do not change while the
        server runs, so they are read once."""
        if self._described is not None:
            return self._described
        described = []
        for entry in self.entries.values():
            try:
                _, document = read_arrays_file(entry.path, kind=MODEL_FORMAT)
            except DigitrecError as error:  # a shipped file damaged on disk: say so, keep serving
                described.append(self._row(entry, {}, str(error)))
                continue
            described.append(self._row(entry, document, None))
        self._described = described
        return described

    def _row(self, entry: ModelEntry, document: dict[str, Any], error: str | None):
        return {
            "name": entry.name,
            "default": entry.name == self.default,
            "shipped": entry.shipped,
            "architecture": document.get("architecture"),
            "parameters": document.get("parameters"),
            "classes": document.get("classes"),
            "metrics": document.get("metrics") or {},
            "error": error,
        }
