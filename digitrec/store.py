"""Safe files for models and checkpoints: safetensors arrays plus JSON metadata, no pickle.

A file is a standard safetensors file whose header metadata holds our JSON document under the
key "digitrec", with the format name and version and a sha256 over every array, so that a
truncated, tampered or foreign file is refused with a clear message instead of half-loading.
Writes are atomic: temp file, fsync, rename; a crash mid-write leaves the old file intact.

Checkpoints also hold nested state (optimizer and scheduler state dicts); `flatten_tree` turns
such trees into JSON plus named arrays and `unflatten_tree` puts them back.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.numpy import load as load_safetensors
from safetensors.numpy import save as save_safetensors

from digitrec.errors import ModelFileError

MODEL_FORMAT = "digitrec-model"
CHECKPOINT_FORMAT = "digitrec-checkpoint"
FORMAT_VERSION = 1
_META_KEY = "digitrec"
# safetensors header length is a little-endian u64; anything beyond this is not a header.
_MAX_HEADER = 100 * 1024 * 1024


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old file or the new, never a mix."""
    path = Path(path)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, 0o644)  # mkstemp makes files private; a model file is for sharing
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the rename itself durable
    finally:
        os.close(directory)


def arrays_digest(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def write_arrays_file(
    path: Path, arrays: dict[str, np.ndarray], metadata: dict[str, Any], *, kind: str
) -> Path:
    """Atomically write arrays and a JSON-able metadata dict as a digitrec safetensors file."""
    document = {
        **metadata,
        "format": kind,
        "format_version": FORMAT_VERSION,
        "arrays_sha256": arrays_digest(arrays),
    }
    contiguous = {name: np.ascontiguousarray(array) for name, array in arrays.items()}
    data = save_safetensors(contiguous, metadata={_META_KEY: json.dumps(document)})
    atomic_write(Path(path), data)
    return Path(path)


def read_arrays_file(path: Path, *, kind: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read and verify a file written by `write_arrays_file`; problems are ModelFileError."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a folder, not a model file") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read ({error.strerror or error})") from None
    document = _read_document(data, path)
    if document.get("format") != kind:
        raise ModelFileError(f"{path}: not a {kind} file (format {document.get('format')!r})")
    if document.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: format version {document.get('format_version')} is not supported "
            f"(this digitrec reads version {FORMAT_VERSION})"
        )
    try:
        arrays = load_safetensors(data)
    except Exception as error:  # safetensors raises its own error types for bad payloads
        raise ModelFileError(f"{path}: corrupt or truncated arrays ({error})") from None
    if arrays_digest(arrays) != document.get("arrays_sha256"):
        raise ModelFileError(f"{path}: checksum mismatch: the file is corrupt or was modified")
    return arrays, document


def _read_document(data: bytes, path: Path) -> dict[str, Any]:
    if len(data) < 8:
        raise ModelFileError(f"{path}: empty or truncated file (not a digitrec model file)")
    (header_size,) = struct.unpack("<Q", data[:8])
    if header_size > min(_MAX_HEADER, len(data) - 8):
        raise ModelFileError(f"{path}: not a digitrec model file, or truncated")
    try:
        header = json.loads(data[8 : 8 + header_size])
        document = json.loads(header["__metadata__"][_META_KEY])
    except (ValueError, KeyError, TypeError):
        raise ModelFileError(f"{path}: not a digitrec model file (no digitrec metadata)") from None
    if not isinstance(document, dict):
        raise ModelFileError(f"{path}: malformed digitrec metadata")
    return document


# --- nested state (optimizer, scheduler) <-> JSON + arrays -----------------------------------


def flatten_tree(tree: Any, arrays: dict[str, np.ndarray], prefix: str = "s") -> Any:
    """JSON-able copy of `tree` with every tensor/array moved into `arrays` under a unique key."""
    if isinstance(tree, torch.Tensor | np.ndarray):
        key = f"{prefix}.{len(arrays)}"
        value = tree.detach().cpu().numpy() if isinstance(tree, torch.Tensor) else tree
        arrays[key] = np.array(value)
        # The shape goes in the JSON too: safetensors turns 0-d arrays into 1-d ones.
        return {
            "__array__": key,
            "shape": list(value.shape),
            "torch": isinstance(tree, torch.Tensor),
        }
    if isinstance(tree, dict):
        if all(isinstance(key, str) for key in tree):
            return {key: flatten_tree(value, arrays, prefix) for key, value in tree.items()}
        # Optimizer state is keyed by parameter index: keep the key types.
        return {"__items__": [[k, flatten_tree(v, arrays, prefix)] for k, v in tree.items()]}
    if isinstance(tree, list | tuple):
        return [flatten_tree(value, arrays, prefix) for value in tree]
    if tree is None or isinstance(tree, bool | int | float | str):
        return tree
    raise TypeError(f"cannot store a {type(tree).__name__} in a checkpoint")


def unflatten_tree(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(tree, dict):
        if "__array__" in tree:
            array = arrays[tree["__array__"]].reshape(tree["shape"])
            return torch.from_numpy(array.copy()) if tree["torch"] else array
        if "__items__" in tree:
            return {key: unflatten_tree(value, arrays) for key, value in tree["__items__"]}
        return {key: unflatten_tree(value, arrays) for key, value in tree.items()}
    if isinstance(tree, list):
        return [unflatten_tree(value, arrays) for value in tree]
    return tree
