"""Official download locations and checksums, atomic checked downloads, and safe archive extraction.

Every loader calls :func:`ensure_files` first. If the dataset's files are present nothing happens.
If they are missing and downloading is allowed, each missing file (or the archive holding it) is
fetched from its official URL, or from ``$GANAUG_MIRROR/<dataset>/<file name>`` when that variable
(or the ``mirror`` argument) is set, checked against its md5, and only then moved into place.
Otherwise a :class:`DataError` lists each expected file, where to put it and where it comes from.
Files already on disk are not re-hashed (Debian's Fashion-MNIST, for one, is recompressed and has
other md5s); the loaders validate their content instead.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ganaug import distributed as dist
from ganaug.data.errors import DataError

MIRROR_ENV = "GANAUG_MIRROR"  # base URL of a mirror laid out as <base>/<dataset>/<file name>
TIMEOUT_S = 10.0  # connect and per-read timeout; a dead network fails fast
CHUNK = 1 << 20


@dataclass(frozen=True)
class Resource:
    """One downloadable file: its official URL and md5; ``provides`` lists what it puts under the root."""

    url: str
    md5: str
    provides: tuple[str, ...]  # paths relative to the dataset root; an archive provides its members

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def is_archive(self) -> bool:
        return self.filename.endswith((".tar.gz", ".tgz", ".tar"))


@dataclass(frozen=True)
class Source:
    """What a dataset needs on disk (``files``, relative to its root) and where each comes from."""

    files: tuple[str, ...]
    resources: tuple[Resource, ...]
    note: str = ""  # shown in the missing-files message, e.g. an accepted alternative layout


def _idx_source(base: str, md5s: dict[str, str]) -> Source:
    resources = tuple(Resource(base + name, md5, (name,)) for name, md5 in md5s.items())
    return Source(
        files=tuple(md5s),
        resources=resources,
        note="Uncompressed IDX files (the same names without .gz) are accepted too.",
    )


_MNIST_BASE = "https://ossci-datasets.s3.amazonaws.com/mnist/"  # the mirror torchvision uses
_FASHION_BASE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_CIFAR_BATCHES = tuple(f"cifar-10-batches-py/{n}" for n in (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta"))
_STL_FILES = tuple(f"stl10_binary/{n}" for n in ("train_X.bin", "train_y.bin", "test_X.bin", "test_y.bin", "class_names.txt"))
_SVHN_BASE = "http://ufldl.stanford.edu/housenumbers/"

SOURCES: dict[str, Source] = {
    "mnist": _idx_source(
        _MNIST_BASE,
        {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    "fashion-mnist": _idx_source(
        _FASHION_BASE,
        {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    ),
    "cifar10": Source(
        files=_CIFAR_BATCHES,
        resources=(Resource("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a", _CIFAR_BATCHES),),
        note="An ImageFolder tree train/<class>/*.png + test/<class>/*.png in the same folder is read instead when present.",
    ),
    "svhn": Source(
        files=("train_32x32.mat", "test_32x32.mat"),
        resources=(
            Resource(_SVHN_BASE + "train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373", ("train_32x32.mat",)),
            Resource(_SVHN_BASE + "test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3", ("test_32x32.mat",)),
        ),
        note=f"Optional: extra_32x32.mat (md5 a93ce644f1a588dc4d68dda5feec44a7, {_SVHN_BASE}extra_32x32.mat) "
        "is read as unlabeled images when present; it is never downloaded automatically (1.3 GB).",
    ),
    "stl10": Source(
        files=_STL_FILES,
        resources=(Resource("http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz", "91f7769df0f17e558f3565bffb0c7dfb", (*_STL_FILES, "stl10_binary/unlabeled_X.bin")),),
        note="stl10_binary/unlabeled_X.bin is optional; when present it becomes the unlabeled split.",
    ),
}


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(url: str, dest: Path, md5: str | None = None, timeout: float = TIMEOUT_S, *, sha1: str | None = None,
          sha256_prefix: str | None = None) -> Path:
    """Download ``url`` to ``dest`` only if it is whole (Content-Length) and every given checksum matches (md5, sha1,
    the start of its sha256); the file appears complete or not at all."""
    expected = {name: value for name, value in (("md5", md5), ("sha1", sha1), ("sha256", sha256_prefix)) if value}
    if not expected:
        raise ValueError("fetch needs a checksum: md5, sha1 or sha256_prefix")
    if not url.startswith(("http://", "https://")):
        raise DataError(f"refusing to download {url!r}: only http(s) URLs are fetched")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digests = {name: hashlib.new(name) for name in expected}
        print(f"downloading {url} -> {dest}", file=sys.stderr)
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            received = 0
            for block in iter(lambda: response.read(CHUNK), b""):
                for digest in digests.values():
                    digest.update(block)
                out.write(block)
                received += len(block)
        if length is not None and received != int(length):  # read(n) does not raise on a cut-off transfer
            raise DataError(f"could not download {url}: connection closed after {received} of {length} bytes")
        for name, want in expected.items():
            got = digests[name].hexdigest()
            if not got.startswith(want) if name == "sha256" else got != want:
                start = " starting" if name == "sha256" else ""
                raise DataError(f"checksum mismatch for {url}: expected {name}{start} {want}, got {got}; "
                                "the file was discarded")
        os.replace(tmp, dest)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:  # HTTP error, refused, timeout, disk full
        reason = err.reason if type(err) is urllib.error.URLError else err
        raise DataError(f"could not download {url}: {reason}") from err
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _check_member(member: tarfile.TarInfo, dest: Path, archive: Path) -> None:
    """Reject members that would land, or point through a link, outside ``dest``."""
    path = dest / member.name
    if not path.resolve().is_relative_to(dest):
        raise DataError(f"{archive}: member {member.name!r} would be written outside {dest}; archive refused")
    if member.issym() or member.islnk():
        # A symlink resolves from its own folder, a hard link from the archive root.
        base = path.parent if member.issym() else dest
        link = (base / member.linkname).resolve()
        if os.path.isabs(member.linkname) or not link.is_relative_to(dest):
            raise DataError(f"{archive}: link {member.name!r} -> {member.linkname!r} points outside {dest}; archive refused")


def extract(archive: Path, dest: Path) -> None:
    """Extract a tar archive into ``dest`` safely and atomically per top-level entry.

    Members leaving ``dest`` (``../x``, absolute paths) or links pointing outside it are refused
    before anything is written; tarfile's ``data`` filter is applied as a second line of defence.
    Extraction goes to a temporary folder inside ``dest`` first, so a failure leaves nothing behind.
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    dest = dest.resolve()
    try:
        tar = tarfile.open(archive)
    except (tarfile.TarError, OSError) as err:
        raise DataError(f"{archive}: not a readable tar archive ({err})") from err
    tmp = Path(tempfile.mkdtemp(dir=dest, prefix=".extract-"))
    try:
        with tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, dest, archive)
            tar.extractall(tmp, members=members, filter="data")
        for entry in tmp.iterdir():
            target = dest / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            os.replace(entry, target)
    except (tarfile.TarError, OSError, EOFError) as err:
        raise DataError(f"{archive}: extraction failed ({err})") from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _present(path: Path) -> bool:
    """A file counts as present, and a ``.gz`` file also when its uncompressed version is there."""
    return path.is_file() or (path.suffix == ".gz" and path.with_suffix("").is_file())


def _missing_message(dataset: str, root: Path, missing: list[str], source: Source, tried: bool = False) -> str:
    lines = [f"dataset {dataset!r}: {len(missing)} file(s) missing from {root}:"]
    for name in missing:
        resource = next(r for r in source.resources if name in r.provides)
        how = f"inside {resource.url}, extract it here" if resource.is_archive else f"from {resource.url}"
        lines.append(f"  {root / name}  ({how})")
    if tried:
        lines.append(f"Put the files in {root} by hand, or point ${MIRROR_ENV} at a mirror laid out as <base>/{dataset}/<file name>.")
    else:
        lines.append(f"Put the files in {root}, or allow downloading to fetch them.")
    if source.note:
        lines.append(source.note)
    return "\n".join(lines)


def ensure_files(dataset: str, root: Path, download: bool, mirror: str | None = None) -> Path:
    """Make sure ``root`` holds the dataset's files, downloading them if allowed; returns ``root``.

    Under torchrun, rank 0 looks (and downloads) first; the other processes then find the files in place.
    """
    return dist.main_first(_ensure_files, dataset, root, download, mirror)


def _ensure_files(dataset: str, root: Path, download: bool, mirror: str | None = None) -> Path:
    source = SOURCES[dataset]
    root = Path(root)
    missing = [f for f in source.files if not _present(root / f)]
    if not missing:
        return root
    if not download:
        raise DataError(_missing_message(dataset, root, missing, source))
    base = mirror or os.environ.get(MIRROR_ENV)
    try:
        for resource in source.resources:
            if all(_present(root / f) for f in resource.provides if f in source.files):
                continue
            url = f"{base.rstrip('/')}/{dataset}/{resource.filename}" if base else resource.url
            path = fetch(url, root / resource.filename, resource.md5)
            if resource.is_archive:
                try:
                    extract(path, root)
                finally:
                    path.unlink(missing_ok=True)
    except DataError as err:
        raise DataError(f"{_missing_message(dataset, root, missing, source, tried=True)}\nDownload failed: {err}") from err
    still = [f for f in source.files if not _present(root / f)]
    if still:
        raise DataError(_missing_message(dataset, root, still, source, tried=True) + "\nThe download did not contain them.")
    return root
