"""Saving and loading state dicts: ``nn.save(model, path)``, ``nn.load(path)``.

The file is a NumPy ``.npz`` archive, one ``.npy`` entry per tensor named by its key (readable
with ``numpy.load``). It holds arrays only: loading never unpickles anything, so a file cannot
run code.

``load`` checks every entry before it reads it: the entry must be a ``.npy`` array of a numeric
dtype (bool, int, uint, float) whose header's shape and dtype account exactly for the entry's
size in the archive. A file that fails a check raises :class:`SerializationError` naming the
file, the entry and what is wrong, before anything large is allocated: a 200-byte file cannot
make ``load`` ask for terabytes.
"""

from __future__ import annotations

import errno
import math
import os
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.errors import ArraygradError

from .module import Module

__all__ = ["SerializationError", "load", "save"]

PathLike = str | os.PathLike[str]

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a first entry, or an empty archive
# The most a deflate stream can expand (its format caps it near 1032:1): an entry that claims
# more than this times its compressed size is not a real archive entry.
_MAX_DEFLATE_RATIO = 1032


class SerializationError(ArraygradError, ValueError):
    """A file that ``nn.load`` cannot read as a state dict; the message names the file, the
    entry and what is wrong with it."""


def save(obj: Module | Mapping[str, Any], path: PathLike) -> None:
    """Write a state dict (or a module's ``state_dict()``) to ``path`` exactly (no suffix is
    added). Values are Tensors or arrays, on any device; they are stored from the host."""
    state = obj.state_dict() if isinstance(obj, Module) else obj
    arrays = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"nn.save: keys must be strings, got {key!r}")
        if isinstance(value, Tensor):
            value = value.detach()
        elif hasattr(value, "dtype") and hasattr(value, "shape"):
            value = ag.tensor(value)
        else:
            raise TypeError(
                f"nn.save: {key!r} is a {type(value).__name__}; a state dict holds tensors "
                f"or arrays only"
            )
        arrays[key] = value.cpu().numpy()
    try:
        archive = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED)
    except FileNotFoundError:
        folder = os.path.dirname(os.path.abspath(os.fspath(path)))
        raise FileNotFoundError(
            errno.ENOENT, f"nn.save: the folder {folder!r} does not exist", os.fspath(path)
        ) from None
    with archive:
        for key, array in arrays.items():
            with archive.open(key + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, array, allow_pickle=False)


def load(path: PathLike) -> OrderedDict[str, Tensor]:
    """Read a state dict written by ``save``: key -> CPU Tensor, in the saved order. Load it
    into a model (on any device) with ``model.load_state_dict(nn.load(path))``.

    Only numeric arrays load (bool, int, uint, float); nothing is unpickled. A file that is
    not such an archive raises :class:`SerializationError` (a ``ValueError``) saying what is
    wrong, before anything large is allocated; a missing file raises ``FileNotFoundError``.
    """
    name = os.fspath(path)
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "nn.load: no such file", name) from None
    except IsADirectoryError:
        raise IsADirectoryError(
            errno.EISDIR, "nn.load: this is a folder, not a file", name
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise SerializationError(_not_an_archive(name, e)) from e
    with archive:
        disk_size = os.path.getsize(path)
        state: OrderedDict[str, Tensor] = OrderedDict()
        for info in archive.infolist():
            key = _check_entry(name, info, disk_size)
            if key in state:
                raise _error(name, f"the entry {info.filename!r} appears twice")
            try:
                state[key] = Tensor(_read_entry(name, archive, info))
            except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError) as e:
                # a damaged, encrypted or oddly compressed entry
                raise _error(name, f"the entry {info.filename!r} cannot be read: {e}") from e
        return state


def _error(name: str, what: str) -> SerializationError:
    return SerializationError(f"nn.load: {name!r} is not a state dict saved by nn.save: {what}")


def _not_an_archive(name: str, error: Exception) -> str:
    """Why ``name`` could not be opened as a zip archive, in the words of what it is."""
    with open(name, "rb") as f:
        head = f.read(8)
    if not head:
        what = "the file is empty (0 bytes); was the save interrupted?"
    elif head.startswith(_NPY_MAGIC):
        what = (
            "it is a single NumPy array (.npy), not an archive of named arrays (.npz); read it "
            "with numpy.load, or save a dict of tensors with nn.save"
        )
    elif head.startswith(_ZIP_MAGIC):
        what = f"the zip archive is truncated or damaged ({error})"
    else:
        what = f"it is not a zip archive of .npy arrays (it starts with {head!r})"
    return f"nn.load: {name!r} is not a state dict saved by nn.save: {what}"


def _check_entry(name: str, info: zipfile.ZipInfo, disk_size: int) -> str:
    """The key of archive entry ``info``, after checking that its sizes are possible."""
    if info.is_dir() or not info.filename.endswith(".npy"):
        raise _error(
            name,
            f"the entry {info.filename!r} is not a .npy array (a state dict holds one "
            f"'<key>.npy' entry per tensor)",
        )
    if info.compress_size > disk_size:
        raise _error(
            name,
            f"the entry {info.filename!r} claims {info.compress_size} bytes but the file has "
            f"{disk_size}; it is truncated or damaged",
        )
    stored = info.compress_type == zipfile.ZIP_STORED
    if (stored and info.file_size != info.compress_size) or (
        info.file_size > max(info.compress_size, 1) * _MAX_DEFLATE_RATIO
    ):
        raise _error(
            name,
            f"the entry {info.filename!r} claims {info.file_size} bytes uncompressed from "
            f"{info.compress_size} bytes in the file, which no archive writer produces",
        )
    return info.filename[: -len(".npy")]


def _read_entry(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """The array in entry ``info``: its header checked against the entry's size before the
    data are read (and allocated)."""
    entry = info.filename
    with archive.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")
        except ValueError as e:
            raise _error(name, f"the entry {entry!r} is not a valid .npy array: {e}") from e
        if dtype.kind not in "biuf" or dtype.fields is not None or dtype.itemsize > 8:
            raise _error(
                name,
                f"the entry {entry!r} holds {dtype.str} data; a state dict holds numeric "
                f"arrays only (bool, int, uint or float of at most 64 bits)",
            )
        if any(n < 0 for n in shape):
            raise _error(name, f"the entry {entry!r} declares the shape {shape}")
        nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        header = f.tell()
        if header + nbytes != info.file_size:
            raise _error(
                name,
                f"the entry {entry!r} declares shape {shape} of {dtype.str} ({nbytes} bytes of "
                f"data) but holds {info.file_size - header} bytes after its header",
            )
        raw = np.empty(nbytes, np.uint8)  # the size is now known to be the entry's
        if f.readinto(raw) != nbytes:
            raise _error(name, f"the entry {entry!r} ends before its data do")
    array = raw.view(dtype).reshape(shape, order="F" if fortran else "C")
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
    return array
