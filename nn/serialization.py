"""Saving and loading state dicts: ``nn.save(model, path)``, ``nn.load(path)``.

The file is a NumPy ``.npz`` archive, one ``.npy`` entry per tensor named by its key (readable
with ``numpy.load``). It holds arrays only: loading never unpickles anything, so a file cannot
run code.
"""

from __future__ import annotations

import os
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

import autograd as ag
from autograd import Tensor

from .module import Module

__all__ = ["load", "save"]

PathLike = str | os.PathLike[str]


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
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, array in arrays.items():
            with archive.open(key + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, array, allow_pickle=False)


def load(path: PathLike) -> OrderedDict[str, Tensor]:
    """Read a state dict written by ``save``: key -> CPU Tensor, in the saved order. Load it
    into a model (on any device) with ``model.load_state_dict(nn.load(path))``."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return OrderedDict((key, ag.Tensor(archive[key])) for key in archive.files)
    except (ValueError, zipfile.BadZipFile) as e:
        raise ValueError(
            f"nn.load: {os.fspath(path)!r} is not a state dict saved by nn.save: {e}"
        ) from e
