"""cnnbook.data: the bundled split, and the full-MNIST download path tested offline."""

import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest

from cnnbook import data
from cnnbook.data import DownloadError, download_mnist, load_mnist, read_idx, validation_split


def test_bundled_split_is_stratified_and_deterministic():
    first, second = load_mnist(), load_mnist()
    assert first.x_train.shape == (4000, 1, 28, 28) and first.x_test.shape == (1000, 1, 28, 28)
    assert first.x_train.dtype == np.float32 and first.y_train.dtype == np.int64
    assert 0.0 <= first.x_train.min() and first.x_train.max() <= 1.0
    assert (np.bincount(first.y_train) == 400).all() and (np.bincount(first.y_test) == 100).all()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_channels_last_is_a_transpose():
    nchw, nhwc = load_mnist(), load_mnist(channels_last=True)
    assert nhwc.x_train.shape == (4000, 28, 28, 1)
    np.testing.assert_array_equal(nhwc.x_test, nchw.x_test.transpose(0, 2, 3, 1))


# --- the download path, served from 127.0.0.1 -------------------------------------------

def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


@pytest.fixture(scope="module")
def fake_mnist():
    """Small IDX archives shaped like MNIST's: 12 train, 5 test images."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (12, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 12),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 5),
    }
    files = {name: idx_bytes(a) for name, a in arrays.items()}
    sums = {name: hashlib.sha256(blob).hexdigest() for name, blob in files.items()}
    return arrays, files, sums


@pytest.fixture
def server(fake_mnist):
    """An HTTP server on 127.0.0.1; ``server.mode`` "ok" or "truncate" (sends half, then hangs up)."""
    _, files, _ = fake_mnist

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            blob = files.get(self.path.rsplit("/", 1)[-1])
            if blob is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(blob)))
            self.end_headers()
            self.wfile.write(blob if httpd.mode == "ok" else blob[: len(blob) // 2])
            if httpd.mode == "truncate":
                self.close_connection = True

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.mode = "ok"
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/mnist/"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_loads(server, fake_mnist, tmp_path, monkeypatch):
    arrays, _, sums = fake_mnist
    monkeypatch.setenv("CNNBOOK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CNNBOOK_MNIST_URL", server.url)
    monkeypatch.setattr(data, "MNIST_SHA256", sums)
    full = load_mnist(full=True)
    assert full.x_train.shape == (12, 1, 28, 28) and full.x_test.shape == (5, 1, 28, 28)
    np.testing.assert_array_equal(full.y_train, arrays["train-labels-idx1-ubyte.gz"])
    np.testing.assert_allclose(full.x_test[:, 0] * 255, arrays["t10k-images-idx3-ubyte.gz"],
                               atol=1e-4)
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(sums)


def test_wrong_checksum_leaves_nothing(server, fake_mnist, tmp_path):
    _, _, sums = fake_mnist
    wrong = dict(sums, **{"train-labels-idx1-ubyte.gz": "0" * 64})
    with pytest.raises(DownloadError, match="SHA-256"):
        download_mnist(tmp_path, base_url=server.url, checksums=wrong)
    assert "train-labels-idx1-ubyte.gz" not in {p.name for p in tmp_path.iterdir()}
    assert not list(tmp_path.glob("*.part"))


def test_cut_off_download_leaves_nothing(server, fake_mnist, tmp_path):
    _, _, sums = fake_mnist
    server.mode = "truncate"
    # The right checksums: the short body itself must be noticed, not a hash mismatch.
    with pytest.raises(DownloadError, match=r"cut short, \d+ of \d+ bytes"):
        download_mnist(tmp_path, base_url=server.url, checksums=sums)
    assert list(tmp_path.iterdir()) == []


def test_corrupted_cache_file_is_replaced(server, fake_mnist, tmp_path):
    _, files, sums = fake_mnist
    name = "t10k-labels-idx1-ubyte.gz"
    (tmp_path / name).write_bytes(b"garbage")
    download_mnist(tmp_path, base_url=server.url, checksums=sums)
    assert (tmp_path / name).read_bytes() == files[name]


def test_offline_fails_fast_naming_the_bundled_subset(tmp_path):
    # A port nobody listens on: the connection is refused at once, like a machine offline.
    with pytest.raises(DownloadError, match=r"load_mnist\(\)"):
        download_mnist(tmp_path, base_url="http://127.0.0.1:9/", timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_read_idx_round_trip_and_truncation(tmp_path):
    raw = gzip.decompress(idx_bytes(np.arange(6).reshape(2, 3)))
    (tmp_path / "good").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "good"), np.arange(6).reshape(2, 3))
    (tmp_path / "short").write_bytes(raw[:-2])
    with pytest.raises(ValueError, match=r"\(2, 3\) IDX file has"):
        read_idx(tmp_path / "short")


def test_validation_split_is_stratified_fixed_and_disjoint():
    data = load_mnist()
    dev = validation_split(data)
    assert dev.x_train.shape == (3600, 1, 28, 28) and dev.x_test.shape == (400, 1, 28, 28)
    assert (np.bincount(dev.y_test) == 40).all() and (np.bincount(dev.y_train) == 360).all()
    # Together exactly the training digits, none of the test digits.
    together = np.concatenate([dev.x_train, dev.x_test]).reshape(4000, -1)
    assert {r.tobytes() for r in together} == {r.tobytes() for r in data.x_train.reshape(4000, -1)}
    for a, b in zip(dev, validation_split(load_mnist())):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="per_class"):
        validation_split(data, per_class=400)


def test_downsample_is_average_pooling():
    import torch
    import torch.nn.functional as F

    from cnnbook.data import Mnist, downsample

    rng = np.random.default_rng(0)
    data = Mnist(rng.random((5, 1, 28, 28), dtype=np.float32), np.arange(5),
                 rng.random((3, 1, 28, 28), dtype=np.float32), np.arange(3))
    small = downsample(data)
    expected = F.avg_pool2d(torch.from_numpy(data.x_train), 2).numpy()
    assert small.x_train.shape == (5, 1, 14, 14) and small.x_train.dtype == np.float32
    np.testing.assert_allclose(small.x_train, expected, rtol=1e-6)
    assert small.x_test.shape == (3, 1, 14, 14) and small.y_test is data.y_test
    assert downsample(data, 4).x_train.shape == (5, 1, 7, 7)
    with pytest.raises(ValueError, match="does not divide"):
        downsample(data, 3)
    with pytest.raises(ValueError, match="channels-first"):
        downsample(Mnist(data.x_train.transpose(0, 2, 3, 1), data.y_train, data.x_test,
                         data.y_test))
