"""Reading the files datasets come in: LeCun's IDX format, the classic ``mnist.pkl.gz`` pickle,
and the SHA-256 of an array written as an IDX file (what pins a dataset, whatever file it
came from).

The pickle is read by an unpickler that knows only NumPy's array-rebuilding functions, so even
a tampered file could not run code.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["read_idx"]

# ----------------------------------------------------------------------------- the IDX format
# IDX (LeCun's format for MNIST): two zero bytes, a type code, the number of dimensions, each
# dimension as a big-endian uint32, then the values, big-endian, in C order.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """The array in an IDX file (gunzipped first when the name ends in ``.gz``)."""
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "rb") as file:
        data = file.read()
    return _parse_idx(data, os.fspath(path))


def _parse_idx(data: bytes, name: str) -> np.ndarray:
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _IDX_TYPES:
        raise ValueError(f"{name} is not an IDX file: it starts with {data[:4]!r}")
    ndim = data[3]
    start = 4 + 4 * ndim
    if len(data) < start:
        raise ValueError(f"{name}: the IDX header is cut short ({len(data)} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:start])
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - start != expected:
        raise ValueError(
            f"{name}: the IDX header says shape {shape} ({expected} bytes of {dtype}) but the "
            f"file holds {len(data) - start} bytes after it (truncated or corrupt)"
        )
    return np.frombuffer(data, dtype, offset=start).reshape(shape).astype(dtype.newbyteorder("="))


def _idx_sha256(array: np.ndarray) -> str:
    """The SHA-256 of ``array`` written as an IDX file ("" for a dtype IDX cannot hold)."""
    codes = {np.dtype(t).newbyteorder("="): code for code, t in _IDX_TYPES.items()}
    if array.dtype not in codes:
        return ""  # no IDX form: cannot match any digest
    digest = hashlib.sha256(bytes([0, 0, codes[array.dtype], array.ndim]))
    digest.update(struct.pack(f">{array.ndim}I", *array.shape))
    digest.update(np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">")).data)
    return digest.hexdigest()


# -------------------------------------------------------------------------- the pickle format
_RECONSTRUCT = np.ndarray((0,)).__reduce__()[0]  # NumPy's own array-rebuilding function
_ARRAY_GLOBALS = {  # the only globals a pickle of NumPy arrays names
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,  # pickles from NumPy < 2
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that can build NumPy arrays and nothing else: every global a pickle names
    must be one of NumPy's array-rebuilding functions, so no pickle can make it run code."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ARRAY_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: this unpickler builds only NumPy arrays"
            ) from None


def _read_pickle(path: Path) -> dict[str, np.ndarray]:
    """The classic ``mnist.pkl.gz``, ``((x, y), (x, y), (x, y))`` for training (50,000),
    validation (10,000) and test (10,000), as uint8 arrays in the IDX layout, training and
    validation concatenated back into the 60,000 training images."""
    with gzip.open(path, "rb") as file:
        # encoding: the file was pickled by Python 2, whose byte strings hold the array data
        parts = _ArrayUnpickler(file, encoding="latin1").load()
    try:
        (x_train, y_train), (x_val, y_val), (x_test, y_test) = parts
        arrays = {
            "x_train": np.concatenate([_pixels(x_train), _pixels(x_val)]),
            "y_train": np.concatenate([_labels(y_train), _labels(y_val)]),
            "x_test": _pixels(x_test),
            "y_test": _labels(y_test),
        }
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{path} is not the classic MNIST pickle ((x, y) for train, validation and test, "
            f"x float (n, 784) with pixels k/256, y integer (n,)): {error}"
        ) from error
    return arrays


def _pixels(x: Any) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f" or x.ndim != 2 or x.shape[1] != 784:
        raise ValueError(f"images: expected a float array (n, 784), got {_describe(x)}")
    levels = x.astype(np.float64) * 256  # the pickle holds the original bytes / 256, exactly
    if not np.all((levels >= 0) & (levels <= 255) & (levels == np.rint(levels))):
        raise ValueError("images: the pixels are not multiples of 1/256 in [0, 1)")
    return levels.astype(np.uint8).reshape(-1, 28, 28)


def _labels(y: Any) -> np.ndarray:
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu" or y.ndim != 1:
        raise ValueError(f"labels: expected an integer array (n,), got {_describe(y)}")
    if y.size and (y.min() < 0 or y.max() > 255):
        raise ValueError("labels: values outside 0..255")
    return y.astype(np.uint8)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array {value.shape} of {value.dtype}"
    return type(value).__name__
