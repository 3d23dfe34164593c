"""Downloads against a loopback HTTP server only; checksums, atomic writes, safe extraction, offline errors."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import shutil
import socket
import tarfile
import threading
from pathlib import Path

import pytest

from ganaug.data import DataError, load_dataset
from ganaug.data import download as dl
from ganaug.data.download import ensure_files, extract, fetch, md5_of

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
MNIST_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
needs_mnist = pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="../shared/datasets/mnist not found beside the repository")


@pytest.fixture
def closed_port_url():
    """A loopback URL nobody listens on: the offline case, without touching the internet."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@needs_mnist
def test_download_mnist_through_load_dataset(served, tmp_path, monkeypatch):
    folder, url = served
    shutil.copytree(SHARED / "mnist", folder / "mnist")
    monkeypatch.setenv(dl.MIRROR_ENV, url)
    data_dir = tmp_path / "data"
    splits = load_dataset("mnist", data_dir=data_dir, download=True)
    assert len(splits.train) == 60000 and len(splits.test) == 10000
    assert splits.train.class_counts()[:3] == [5923, 6742, 5958]
    assert _leftovers(data_dir / "mnist") == sorted(MNIST_FILES)  # no temporary files left
    for name in MNIST_FILES:
        assert md5_of(data_dir / "mnist" / name) == md5_of(SHARED / "mnist" / name)


@needs_mnist
def test_corrupted_file_is_rejected_and_nothing_is_left(served, tmp_path, monkeypatch):
    folder, url = served
    shutil.copytree(SHARED / "mnist", folder / "mnist")
    bad = folder / "mnist" / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(bad.read_bytes())
    data[100] ^= 0xFF  # one byte flipped
    bad.chmod(0o644)
    bad.write_bytes(bytes(data))
    monkeypatch.setenv(dl.MIRROR_ENV, url)
    data_dir = tmp_path / "data"
    with pytest.raises(DataError) as err:
        load_dataset("mnist", data_dir=data_dir, download=True)
    message = str(err.value)
    assert f"{url}/mnist/t10k-labels-idx1-ubyte.gz" in message
    assert "expected md5 ec29112dd5afa0611ce80d1b7f02629c" in message and "got" in message
    assert "t10k-labels-idx1-ubyte.gz" not in _leftovers(data_dir / "mnist")
    assert not [n for n in _leftovers(data_dir / "mnist") if n.startswith(".") or n.endswith(".part")]


def test_fetch_checksum_mismatch_leaves_no_file(served, tmp_path):
    folder, url = served
    (folder / "file.bin").write_bytes(b"hello")
    dest = tmp_path / "out" / "file.bin"
    with pytest.raises(DataError, match=r"checksum mismatch .*expected md5 0{32}, got 5d41402abc4b2a76b9719d911017c592"):
        fetch(f"{url}/file.bin", dest, "0" * 32)
    assert _leftovers(dest.parent) == []
    assert fetch(f"{url}/file.bin", dest, "5d41402abc4b2a76b9719d911017c592").read_bytes() == b"hello"
    assert _leftovers(dest.parent) == ["file.bin"]


def test_fetch_checks_sha1_and_the_start_of_sha256(served, tmp_path):
    folder, url = served
    (folder / "file.bin").write_bytes(b"hello")
    sha1, sha256 = hashlib.sha1(b"hello").hexdigest(), hashlib.sha256(b"hello").hexdigest()
    dest = tmp_path / "out" / "file.bin"
    with pytest.raises(DataError, match="expected sha256 starting 0000"):
        fetch(f"{url}/file.bin", dest, sha1=sha1, sha256_prefix="0000")
    assert _leftovers(dest.parent) == []
    assert fetch(f"{url}/file.bin", dest, sha1=sha1, sha256_prefix=sha256[:8]).read_bytes() == b"hello"


def test_fetch_http_error_and_non_http(served, tmp_path):
    _, url = served
    with pytest.raises(DataError, match="404"):
        fetch(f"{url}/absent.bin", tmp_path / "out" / "absent.bin", "0" * 32)
    assert _leftovers(tmp_path / "out") == []
    with pytest.raises(DataError, match="only http"):
        fetch("file:///etc/passwd", tmp_path / "passwd", "0" * 32)


class _TruncatingHandler(http.server.BaseHTTPRequestHandler):
    """Promises 100,000 bytes, sends 1,000, then hangs up: a transfer cut off midway."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"x" * 1000)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


def test_interrupted_transfer_leaves_no_partial_file(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TruncatingHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with pytest.raises(DataError, match="could not download"):
            fetch(f"http://127.0.0.1:{server.server_address[1]}/big.bin", tmp_path / "out" / "big.bin", "0" * 32)
    finally:
        server.shutdown()
        server.server_close()
    assert _leftovers(tmp_path / "out") == []


@pytest.mark.parametrize("download", [True, False])
def test_offline_error_names_each_expected_file(tmp_path, monkeypatch, closed_port_url, download):
    monkeypatch.setenv(dl.MIRROR_ENV, closed_port_url)
    with pytest.raises(DataError) as err:
        load_dataset("mnist", data_dir=tmp_path, download=download)
    message = str(err.value)
    for name in MNIST_FILES:
        assert str(tmp_path / "mnist" / name) in message
        assert f"https://ossci-datasets.s3.amazonaws.com/mnist/{name}" in message
    assert ("Download failed" in message) is download
    assert _leftovers(tmp_path / "mnist") == []  # nothing half-written


def _tar(path: Path, members: list[tarfile.TarInfo], payload: bytes = b"x") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for m in members:
            if m.isreg():
                m.size = len(payload)
                tar.addfile(m, io.BytesIO(payload))
            else:
                tar.addfile(m)
    return path


def _link(name: str, target: str, kind=tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(
    "member",
    [
        tarfile.TarInfo("../evil"),
        tarfile.TarInfo("ok/../../evil"),
        tarfile.TarInfo("/tmp/evil-absolute"),
        _link("ok/link", "../../evil"),
        _link("abs-link", "/etc/passwd"),
        _link("hard", "../evil", tarfile.LNKTYPE),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink-out", "symlink-absolute", "hardlink-out"],
)
def test_extract_refuses_escaping_members(tmp_path, member):
    archive = _tar(tmp_path / "bad.tar.gz", [tarfile.TarInfo("ok/fine.txt"), member])
    dest = tmp_path / "dest" / "inner"
    with pytest.raises(DataError, match="outside"):
        extract(archive, dest)
    assert _leftovers(dest) == []  # not even the harmless member was written
    assert not (tmp_path / "dest" / "evil").exists() and not (tmp_path / "evil").exists()


def test_extract_good_archive_with_inner_link(tmp_path):
    archive = _tar(tmp_path / "good.tar.gz", [tarfile.TarInfo("top/a.txt"), _link("top/b.txt", "a.txt")], b"abc")
    extract(archive, tmp_path / "dest")
    assert (tmp_path / "dest" / "top" / "a.txt").read_bytes() == b"abc"
    assert (tmp_path / "dest" / "top" / "b.txt").read_bytes() == b"abc"
    assert _leftovers(tmp_path / "dest") == ["top"]


def test_extract_not_an_archive(tmp_path):
    (tmp_path / "x.tar.gz").write_bytes(b"not a tar")
    with pytest.raises(DataError, match="not a readable tar archive"):
        extract(tmp_path / "x.tar.gz", tmp_path / "dest")


def test_archive_download_is_extracted_and_removed(served, tmp_path, monkeypatch):
    """The CIFAR-10 path: one tar.gz providing the batches, checked, extracted, then deleted."""
    folder, url = served
    staged = tmp_path / "staged"
    for name in dl.SOURCES["cifar10"].files:
        (staged / name).parent.mkdir(parents=True, exist_ok=True)
        (staged / name).write_bytes(b"batch")
    (folder / "cifar10").mkdir()
    archive = folder / "cifar10" / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(staged / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    source = dl.SOURCES["cifar10"]
    resource = dataclasses.replace(source.resources[0], md5=md5_of(archive))
    monkeypatch.setitem(dl.SOURCES, "cifar10", dataclasses.replace(source, resources=(resource,)))
    root = tmp_path / "data" / "cifar10"
    ensure_files("cifar10", root, download=True, mirror=url)
    assert _leftovers(root) == ["cifar-10-batches-py"]  # the archive itself is gone
    assert sorted(p.name for p in (root / "cifar-10-batches-py").iterdir()) == sorted(n.split("/")[1] for n in source.files)


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(DataError, match="unknown dataset 'nope'") as err:
        load_dataset("nope")
    for name in ("mnist", "fashion-mnist", "cifar10", "svhn", "stl10", "digits", "folder:PATH"):
        assert name in str(err.value)
