"""Data sets for the MSNet demo, all under one protocol (``../shared/SPEC.md`` section 4).

Protocol: grey levels scaled to [0, 1], resized to 20x20 (area average when shrinking, bilinear when
enlarging), binarized at 0.5; per class,
``n_train`` (50) training and ``n_test`` (100) test images chosen by a seeded permutation; labels
re-numbered 0..K-1 in the order of ``classes``.

Sources:

* ``digits`` — scikit-learn's bundled 8x8 digits (``sklearn/datasets/data/digits.csv.gz``, installed
  with the package; never a download), classes 2, 3, 5, 6, 8 by default; one pool split per class.
* ``npz:PATH`` — an MNIST-style ``.npz`` with ``x_train``, ``y_train``, ``x_test``, ``y_test``;
  classes 2, 3, 5, 6, 8 by default.
* ``emnist:FOLDER`` — the standard EMNIST letters files ``emnist-letters-{train,test}-images-idx3-ubyte.gz``
  and ``-labels-idx1-ubyte.gz`` (gzip IDX; images stored transposed; labels 1..26); letters a, e, p, r, s.
* ``emnist-npz:PATH`` — EMNIST letters in an ``.npz`` (x_train, y_train, x_test, y_test; raw IDX
  orientation, labels 1..26), e.g. ``../shared/data/emnist_letters_aeprs.npz``; letters as class names.

``validation=True`` (model selection) never touches the test split: the held-out images are drawn
from the training pool, disjoint from the ``n_train`` training images of the same seed.
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError

SIDE = 20
DEFAULT_DIGITS = (2, 3, 5, 6, 8)
DEFAULT_LETTERS = "aeprs"
MAX_DATASET_BYTES = 4 * 1024 ** 3
"""Largest data-set file read [bytes]."""


@dataclass(frozen=True)
class Dataset:
    """Binary 20x20 images and labels 0..K-1."""

    x_train: np.ndarray
    """Training images, shape (n, 20, 20), values 0 or 1."""
    y_train: np.ndarray
    """Training labels, shape (n,), 0..K-1."""
    x_test: np.ndarray
    """Test images, shape (m, 20, 20)."""
    y_test: np.ndarray
    """Test labels, shape (m,)."""
    classes: tuple
    """Original class names/labels, in label order."""
    source: str
    """Where the images came from."""


def _interp_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) resampling matrix: area average when shrinking, bilinear when enlarging."""
    if n_out < n_in:
        edges = np.arange(n_out + 1) * n_in / n_out
        lo, hi = edges[:-1, None], edges[1:, None]
        pix = np.arange(n_in)[None, :]
        overlap = np.clip(np.minimum(hi, pix + 1) - np.maximum(lo, pix), 0, None)
        return overlap / overlap.sum(axis=1, keepdims=True)
    pos = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = pos - lo
    mat = np.zeros((n_out, n_in))
    mat[np.arange(n_out), lo] += 1 - frac
    mat[np.arange(n_out), hi] += frac
    return mat


def binarize_resize(images: np.ndarray, side: int = SIDE) -> np.ndarray:
    """Grey images (n, h, w), any scale -> binary (n, side, side) float: scale, resize, threshold 0.5."""
    img = np.asarray(images, dtype=float)
    top = img.max()
    img = img / top if top > 0 else img
    a, b = _interp_matrix(img.shape[1], side), _interp_matrix(img.shape[2], side)
    return (np.einsum("ij,njk,lk->nil", a, img, b) >= 0.5).astype(float)


def _pick(labels: np.ndarray, classes, n_per_class: int, rng: np.random.Generator, where: str,
          skip: int = 0) -> np.ndarray:
    """Seeded choice of ``n_per_class`` indices per class (after ``skip`` used ones)."""
    out = []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        if idx.size < skip + n_per_class:
            raise DataError(f"{where}: class {c!r} has {idx.size} images, need {skip + n_per_class} "
                            "(fewer images per class, or another split)")
        out.append(rng.permutation(idx)[skip: skip + n_per_class])
    return np.concatenate(out)


def _relabel(labels: np.ndarray, classes) -> np.ndarray:
    lut = {c: i for i, c in enumerate(classes)}
    return np.array([lut[v] for v in labels.tolist()], dtype=np.int64)


def from_arrays(x_train, y_train, x_test, y_test, classes, seed: int, source: str,
                n_train: int = 50, n_test: int | None = None, validation: bool = False) -> Dataset:
    """Apply the protocol to separate train/test pools (``x_test is None``: split one pool).
    ``validation``: the "test" images are held-out images of the training pool (test split unused).
    ``n_test`` None: 100 per class, or with ``validation`` as many as every class has left (<= 100)."""
    if n_test is None:
        n_test = 100
        if validation:
            left = min(int((y_train == c).sum()) for c in classes) - n_train
            n_test = min(100, left) if left >= 1 else 1
    for name, val in (("n_train", n_train), ("n_test", n_test)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise DataError(f"{source}: {name} must be a whole number >= 1 per class, got {val!r}")
    if validation:
        x_test = y_test = None
        source = f"{source} (validation: held-out training images)"
    rng = np.random.default_rng(seed)
    tr = _pick(y_train, classes, n_train, rng, source)
    if x_test is None:
        x_test, y_test = x_train, y_train
        te = _pick(y_train, classes, n_test, np.random.default_rng(seed), source, skip=n_train)
    else:
        te = _pick(y_test, classes, n_test, rng, source)
    return Dataset(binarize_resize(x_train[tr]), _relabel(y_train[tr], classes),
                   binarize_resize(x_test[te]), _relabel(y_test[te], classes), tuple(classes), source)


def load_digits(seed: int = 0, classes=DEFAULT_DIGITS, **kw) -> Dataset:
    """scikit-learn's bundled 8x8 digits (read from the installed package, no download)."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz" if spec else None
    if path is None or not path.is_file():
        raise DataError("the embedded digits need scikit-learn (sklearn/datasets/data/digits.csv.gz not found)")
    raw = np.loadtxt(path, delimiter=",")
    x, y = raw[:, :64].reshape(-1, 8, 8), raw[:, 64].astype(np.int64)
    return from_arrays(x, y, None, None, tuple(classes), seed, "digits (scikit-learn)", **kw)


def load_npz(path: str | os.PathLike, seed: int = 0, classes=DEFAULT_DIGITS, **kw) -> Dataset:
    """An MNIST-style ``.npz`` (x_train, y_train, x_test, y_test)."""
    path = Path(path)
    arr = _read_npz(path)
    return from_arrays(arr["x_train"], arr["y_train"], arr["x_test"], arr["y_test"], tuple(classes), seed,
                       f"npz:{path}", **kw)


MAX_IMAGES = 1_000_000
"""Most images of one split of an image ``.npz`` (MNIST has 60,000 training images)."""
MAX_IMAGE_SIDE = 256
"""Largest height/width of an image in an ``.npz`` [pixels] (MNIST/EMNIST 28, the digits 8)."""
MAX_ARRAY_BYTES = 512 * 1024 ** 2
"""Largest decompressed member of an image ``.npz`` [bytes] (MNIST's x_train is 47 MB)."""
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _check_npz_headers(path: Path) -> None:
    """Members, shapes, dtypes and sizes of an image ``.npz`` from its ``.npy`` headers, before any array is
    decompressed (a small compressed file can hold gigabytes of images)."""
    from ..errors import LimitError
    from ..io.npz_headers import npz_headers

    heads = npz_headers(path, str(path))
    missing = [k for k in NPZ_KEYS if k not in heads]
    if missing:
        raise DataError(f"{path}: missing array(s) {', '.join(missing)}")
    for x, y in (("x_train", "y_train"), ("x_test", "y_test")):
        (xs, xd), (ys, yd) = heads[x], heads[y]
        if len(xs) != 3:
            raise DataError(f"{path}: {x} must be (n, h, w) images, got shape {xs}")
        if xd.kind not in "biuf":
            raise DataError(f"{path}: {x} must hold numbers, got dtype {xd}")
        if yd.kind not in "biuf":
            raise DataError(f"{path}: {y} must hold whole-number labels, got dtype {yd}")
        if xs[0] > MAX_IMAGES:
            raise LimitError(f"{path}: {x}: {xs[0]:,} images; at most {MAX_IMAGES:,} per split are read")
        if max(xs[1:]) > MAX_IMAGE_SIDE:
            raise LimitError(f"{path}: {x}: images of {xs[1]} x {xs[2]} pixels; at most {MAX_IMAGE_SIDE} "
                             "per side are read")
        for name, shape, dtype in ((x, xs, xd), (y, ys, yd)):
            size = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if size > MAX_ARRAY_BYTES:
                raise LimitError(f"{path}: {name}: {size / 2**20:.0f} MiB decompressed; at most "
                                 f"{MAX_ARRAY_BYTES / 2**20:.0f} MiB per array are read")
        if ys != (xs[0],):
            raise DataError(f"{path}: {y}: shape {ys} does not match {x} {xs} (one label per image)")


def _read_npz(path: Path) -> dict:
    """The four arrays of an image ``.npz``; labels as int64; images checked to be (n, h, w)."""
    from ..io.inputs import check_input_file

    check_input_file(path, MAX_DATASET_BYTES)  # a FIFO or device is named, never opened
    _check_npz_headers(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arr = {k: z[k] for k in NPZ_KEYS}
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz ({exc})") from None
    for k in ("x_train", "x_test"):
        if arr[k].dtype.kind == "f" and not np.all(np.isfinite(arr[k])):
            raise DataError(f"{path}: {k} contains NaN or infinite pixel values")
    for k in ("y_train", "y_test"):
        y = arr[k]
        if y.dtype.kind == "f" and not (np.all(np.isfinite(y)) and np.all(y == np.round(y))):
            bad = y[~(np.isfinite(y) & (y == np.round(y)))][0]
            raise DataError(f"{path}: {k}: label {float(bad)!r} is not a whole number")
        arr[k] = y.astype(np.int64)
    return arr


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one gzip IDX file (unsigned-byte data, magic 0x0000080N) into an array of N dimensions."""
    from ..io.inputs import check_input_file

    path = Path(path)
    check_input_file(path, MAX_DATASET_BYTES)  # a FIFO or device is named, never opened
    from ..errors import LimitError

    try:
        with gzip.open(path, "rb") as f:
            head = f.read(4)
            if len(head) < 4 or head[0:2] != b"\0\0" or head[2] != 0x08:
                raise DataError(f"{path}: not an unsigned-byte IDX file (bad magic {head[:4].hex()})")
            raw_dims = f.read(4 * head[3])
            dims = tuple(int.from_bytes(raw_dims[4 * i: 4 * i + 4], "big") for i in range(len(raw_dims) // 4))
            size = int(np.prod(dims, dtype=object)) if dims else 0
            if size > MAX_ARRAY_BYTES:  # from the header, before anything is decompressed
                raise LimitError(f"{path}: header says {dims} ({size / 2**20:.0f} MiB); at most "
                                 f"{MAX_ARRAY_BYTES / 2**20:.0f} MiB per array are read")
            blob = f.read(size + 1)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: not a gzip file ({exc})") from None
    if len(raw_dims) != 4 * head[3] or len(blob) != size:
        got = f"{len(blob) if len(blob) <= size else 'more'}"
        raise DataError(f"{path}: header says {dims} ({size} bytes) but {got} data bytes follow")
    return np.frombuffer(blob, dtype=np.uint8).reshape(dims)


def load_emnist(folder: str | os.PathLike, seed: int = 0, letters: str = DEFAULT_LETTERS, **kw) -> Dataset:
    """EMNIST letters from ``folder`` (standard gzip IDX files; images transposed, labels 1..26)."""
    folder = Path(folder)
    parts = {}
    for split in ("train", "test"):
        x = read_idx(folder / f"emnist-letters-{split}-images-idx3-ubyte.gz")
        y = read_idx(folder / f"emnist-letters-{split}-labels-idx1-ubyte.gz").astype(np.int64)
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DataError(f"{folder}: {split} images {x.shape} and labels {y.shape} do not match")
        parts[split] = (np.ascontiguousarray(x.transpose(0, 2, 1)), y)
    classes = tuple(ord(ch) - ord("a") + 1 for ch in letters.lower())
    ds = from_arrays(*parts["train"], *parts["test"], classes, seed, f"emnist:{folder}", **kw)
    return Dataset(ds.x_train, ds.y_train, ds.x_test, ds.y_test, tuple(letters.lower()), ds.source)


def load_emnist_npz(path: str | os.PathLike, seed: int = 0, letters: str = DEFAULT_LETTERS, **kw) -> Dataset:
    """EMNIST letters in an ``.npz`` (raw IDX orientation, labels 1..26); classes are letters."""
    arr = _read_npz(Path(path))
    for k in ("x_train", "x_test"):
        arr[k] = np.ascontiguousarray(arr[k].transpose(0, 2, 1))
    classes = tuple(ord(ch) - ord("a") + 1 for ch in letters.lower())
    ds = from_arrays(arr["x_train"], arr["y_train"], arr["x_test"], arr["y_test"], classes, seed,
                     f"emnist-npz:{path}", **kw)
    return Dataset(ds.x_train, ds.y_train, ds.x_test, ds.y_test, tuple(letters.lower()), ds.source)


SHARED_EMNIST = Path("..") / "shared" / "data" / "emnist_letters_aeprs.npz"
"""The shared EMNIST letters file, relative to the repository root."""


def default_dataset(root: str | os.PathLike = ".") -> str:
    """``emnist-npz:../shared/data/emnist_letters_aeprs.npz`` when that file exists (seen from
    ``root``, else from this package's checkout), else the embedded ``digits``."""
    for base in (Path(root), Path(__file__).resolve().parents[2]):
        if (base / SHARED_EMNIST).is_file():
            return f"emnist-npz:{base / SHARED_EMNIST}"
    return "digits"


def check_classes(classes, letters: bool, name: str = "classes") -> tuple:
    """Validate a class choice: MSNet's number of outputs, no duplicates, integer labels (digits/npz) or
    letters a..z (emnist). Raises :class:`ParamError` naming ``name``; returns the classes as a tuple."""
    from ..errors import ParamError
    from .msnet import N_CLASSES

    classes = tuple(classes)
    if letters:
        bad = [c for c in classes if not (isinstance(c, str) and len(c) == 1 and "a" <= c.lower() <= "z")]
        if bad:
            raise ParamError(f"{name}: {', '.join(map(repr, bad))} not a letter a..z (EMNIST letters)")
        classes = tuple(c.lower() for c in classes)
    else:
        bad = [c for c in classes if isinstance(c, bool) or not isinstance(c, (int, np.integer))]
        if bad:
            raise ParamError(f"{name}: {', '.join(map(repr, bad))} not an integer label (digits/npz classes are labels)")
        classes = tuple(int(c) for c in classes)
    dup = sorted({c for c in classes if classes.count(c) > 1}, key=str)
    if dup:
        raise ParamError(f"{name}: duplicate class(es) {', '.join(map(str, dup))}")
    if len(classes) != N_CLASSES:
        raise ParamError(f"{name}: {len(classes)} classes given; MSNet has {N_CLASSES} outputs, give exactly {N_CLASSES}")
    return classes


def load(spec: str, seed: int = 0, classes=None, **kw) -> Dataset:
    """``digits``, ``npz:PATH``, ``emnist:FOLDER`` or ``emnist-npz:PATH``; ``classes`` overrides the
    default classes; ``kw``: ``n_train``, ``n_test`` (per class), ``validation``."""
    kind, _, path = spec.partition(":")
    if classes is not None:
        classes = check_classes(classes, kind.startswith("emnist"))
    if kind == "digits" and not path:
        return load_digits(seed, classes or DEFAULT_DIGITS, **kw)
    if kind == "npz" and path:
        return load_npz(path, seed, classes or DEFAULT_DIGITS, **kw)
    if kind == "emnist" and path:
        return load_emnist(path, seed, "".join(classes) if classes else DEFAULT_LETTERS, **kw)
    if kind == "emnist-npz" and path:
        return load_emnist_npz(path, seed, "".join(classes) if classes else DEFAULT_LETTERS, **kw)
    raise DataError(f"dataset {spec!r}: use digits, npz:PATH, emnist:FOLDER or emnist-npz:PATH")
