import gzip

import numpy as np
import pytest

from digitrec.data.idx import encode_idx, parse_idx, read_idx, write_idx
from digitrec.errors import DataError


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 5, 6)])
def test_round_trip_every_dtype_and_rank(tmp_path, dtype, shape):
    array = (np.arange(np.prod(shape)) % 120 - 7).astype(dtype).reshape(shape)
    for name in ("a.idx", "a.idx.gz"):
        path = write_idx(tmp_path / name, array)
        loaded = read_idx(path)
        assert loaded.dtype == array.dtype
        assert loaded.shape == array.shape
        np.testing.assert_array_equal(loaded, array)


def test_header_is_standard_big_endian():
    data = encode_idx(np.zeros((2, 3), dtype=np.int32))
    assert data[:4] == bytes([0, 0, 0x0C, 2])
    assert data[4:12] == bytes([0, 0, 0, 2, 0, 0, 0, 3])


def test_gzip_detected_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    path = tmp_path / "labels.idx"  # no .gz suffix, gzipped content
    path.write_bytes(gzip.compress(encode_idx(array)))
    np.testing.assert_array_equal(read_idx(path), array)


def test_bundled_mnist_labels_match_readme():
    labels = read_idx("digitrec/data/mnist/train-labels-idx1-ubyte.gz")
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(labels).tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "too short"),
        (b"\x00\x00", "too short"),
        (b"\x12\x34\x08\x01\x00\x00\x00\x01\x05", "bad magic"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "bad magic"),  # unknown dtype code
        (b"\x00\x00\x08\x03\x00\x00\x00\x01", "truncated IDX header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "size mismatch"),  # 2 of 5 values
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "size mismatch"),  # trailing junk
        (b"\x00\x00\x08\x02\xff\xff\xff\xff\xff\xff\xff\xff", "impossible size"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
    ],
)
def test_malformed_data_is_a_clear_error(data, message):
    with pytest.raises(DataError, match=message):
        parse_idx(data, name="sample.idx")


def test_truncated_gzip_file_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    full = gzip.compress(encode_idx(np.zeros((10, 28, 28), dtype=np.uint8)))
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "nope.idx")


def test_unsupported_dtype_is_refused():
    with pytest.raises(ValueError, match="cannot store"):
        encode_idx(np.zeros(3, dtype=np.complex64))
