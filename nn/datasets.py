"""Moved to ``nn.train.datasets`` (which reads ``nn.train.formats`` and fetches with
``nn.train.download``); this name keeps old imports working.

It re-exports the names it had. To patch what ``load_mnist`` reads (``MNIST``, ``IDX_FILES``
...), patch ``nn.train.datasets``: setting a name here changes only this module.
"""

from .train.datasets import (
    IDX_FILES,
    MNIST,
    MNIST_MIRRORS,
    PACKAGE_INDEX,
    SPLITS,
    ChecksumError,
    DatasetNotFoundError,
    Release,
    data_home,
    load_digits,
    load_mnist,
    read_idx,
)
from .train.download import _atomic_file as _atomic_file
from .train.formats import _ArrayUnpickler as _ArrayUnpickler
from .train.formats import _idx_sha256 as _idx_sha256
from .train.formats import _read_pickle as _read_pickle

__all__ = [
    "IDX_FILES",
    "MNIST",
    "MNIST_MIRRORS",
    "PACKAGE_INDEX",
    "SPLITS",
    "ChecksumError",
    "DatasetNotFoundError",
    "Release",
    "data_home",
    "load_digits",
    "load_mnist",
    "read_idx",
]
