"""Reader and writer for the IDX format that MNIST and its siblings are distributed in.

An IDX file is a 4-byte magic number (two zero bytes, a dtype code, the number of dimensions),
one big-endian uint32 per dimension, then the values in C order, big-endian. Files may be
gzip-compressed; we detect that from the gzip magic bytes, not from the file name.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from digitrec.errors import DataError

# IDX dtype code -> numpy dtype (big-endian as stored on disk).
_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
# A sane ceiling that still admits any real data set; it stops a corrupt header from making us
# try to allocate terabytes.
_MAX_VALUES = 2**34


def parse_idx(data: bytes, *, name: str = "IDX data") -> np.ndarray:
    """Decode IDX bytes (optionally gzipped) into a native-endian numpy array."""
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise DataError(f"{name}: corrupt or truncated gzip stream ({error})") from None
    if len(data) < 4:
        raise DataError(f"{name}: too short to be an IDX file ({len(data)} bytes)")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _DTYPES or ndim == 0:
        raise DataError(f"{name}: not an IDX file (bad magic number {data[:4].hex()})")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(f"{name}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = _DTYPES[code]
    count = math.prod(shape)  # Python ints: a hostile header cannot overflow this
    if count > _MAX_VALUES:
        raise DataError(f"{name}: IDX header claims an impossible size {shape}")
    expected = header_size + count * dtype.itemsize
    if len(data) != expected:
        raise DataError(
            f"{name}: IDX size mismatch: header says {shape} ({expected} bytes), "
            f"file has {len(data)} bytes (truncated or corrupt)"
        )
    values = np.frombuffer(data, dtype=dtype, count=count, offset=header_size)
    return values.reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (plain or .gz) from disk; any problem is a DataError naming the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror or error})") from None
    return parse_idx(data, name=str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """Encode an array as IDX bytes (uncompressed)."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}")
    header = struct.pack(">HBB", 0, _CODES[native], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    stored = _DTYPES[_CODES[native]]
    return header + np.ascontiguousarray(array, dtype=stored).tobytes()


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write an array as an IDX file, gzip-compressed when the name ends in .gz."""
    path = Path(path)
    data = encode_idx(array)
    if path.suffix == ".gz":
        # mtime=0 keeps the output byte-identical across runs.
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path
