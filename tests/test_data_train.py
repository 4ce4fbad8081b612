"""Data loaders: EMNIST gzip IDX (written here), the shared MNIST .npz, the embedded digits."""
import gzip

import numpy as np
import pytest

from fefet_spice.errors import DataError
from fefet_spice.train import data


def _write_idx(path, arr):
    arr = np.asarray(arr, dtype=np.uint8)
    head = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(head + arr.tobytes())


@pytest.fixture()
def emnist_dir(tmp_path):
    rng = np.random.default_rng(0)
    for split, per in (("train", 60), ("test", 110)):
        labels = np.repeat([1, 5, 16, 18, 19, 2], per)             # a e p r s, plus b (ignored)
        imgs = np.zeros((labels.size, 28, 28), np.uint8)
        imgs[:, 4:24, 10:14] = 255                                  # stored transposed: a vertical bar
        imgs[labels == 5] = 0                                       # 'e': stored horizontal bar
        imgs[labels == 5, 10:14, 4:24] = 255
        order = rng.permutation(labels.size)
        _write_idx(tmp_path / f"emnist-letters-{split}-images-idx3-ubyte.gz", imgs[order])
        _write_idx(tmp_path / f"emnist-letters-{split}-labels-idx1-ubyte.gz", labels[order])
    return tmp_path


def test_emnist_idx_loader(emnist_dir):
    ds = data.load(f"emnist:{emnist_dir}", seed=3)
    assert ds.x_train.shape == (250, 20, 20) and ds.x_test.shape == (500, 20, 20)
    assert ds.classes == tuple("aeprs")
    assert np.bincount(ds.y_train).tolist() == [50] * 5 and np.bincount(ds.y_test).tolist() == [100] * 5
    assert set(np.unique(ds.x_train)) == {0.0, 1.0}
    a = ds.x_train[ds.y_train == 0][0]
    e = ds.x_train[ds.y_train == 1][0]
    # transposed on load: the stored vertical bar of 'a' is horizontal, the horizontal one of 'e' vertical
    assert a.sum(axis=1).max() > 3 * a.sum(axis=0).max() / 2
    assert e.sum(axis=0).max() > 3 * e.sum(axis=1).max() / 2


def test_emnist_bad_file_names_the_file(emnist_dir):
    bad = emnist_dir / "emnist-letters-test-labels-idx1-ubyte.gz"
    with gzip.open(bad, "wb") as f:
        f.write(b"\x00\x00\x0c\x01" + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(DataError, match="labels-idx1"):
        data.load(f"emnist:{emnist_dir}")
    (emnist_dir / "emnist-letters-train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match="no such file"):
        data.load(f"emnist:{emnist_dir}")


def test_npz_stand_in(shared_dir):
    ds = data.load(f"npz:{shared_dir / 'data' / 'mnist.npz'}", seed=0)
    assert ds.x_train.shape == (250, 20, 20) and ds.x_test.shape == (500, 20, 20)
    assert ds.classes == (2, 3, 5, 6, 8)
    assert np.bincount(ds.y_test).tolist() == [100] * 5
    assert 0.05 < ds.x_train.mean() < 0.4
    again = data.load(f"npz:{shared_dir / 'data' / 'mnist.npz'}", seed=0)
    other = data.load(f"npz:{shared_dir / 'data' / 'mnist.npz'}", seed=1)
    np.testing.assert_array_equal(ds.x_train, again.x_train)
    assert not np.array_equal(ds.x_train, other.x_train)


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "x.npz", x_train=np.zeros((2, 28, 28)))
    with pytest.raises(DataError, match="missing array"):
        data.load(f"npz:{tmp_path / 'x.npz'}")
    with pytest.raises(DataError, match="no such file"):
        data.load(f"npz:{tmp_path / 'none.npz'}")
    with pytest.raises(DataError, match="use digits"):
        data.load("mnist")


def test_embedded_digits_are_split_disjointly():
    ds = data.load("digits", seed=0)
    assert ds.x_train.shape == (250, 20, 20) and ds.x_test.shape == (500, 20, 20)
    assert np.bincount(ds.y_train).tolist() == [50] * 5
    train = {x.tobytes() for x in ds.x_train}
    assert sum(x.tobytes() in train for x in ds.x_test) < 25   # only coincidental binary duplicates
