"""Toy datasets and the plumbing around them: splits, standardisation, mini-batches.

Standard library only: every generator takes a `seed` and draws from its own `random.Random(seed)`.
`X` is a list of rows (each a list of floats), `y` a list of class indices (ints) or floats (regression).
Notebook 05 (training) uses all of it.
"""

from __future__ import annotations

import math
import random
from typing import Iterator, Sequence

from .validation import integer, non_negative, positive_int, real, rows, targets

__all__ = [
    "DataLoader",
    "StandardScaler",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_sine",
    "make_spiral",
    "make_xor",
    "standardize",
    "to_pm1",
    "train_test_split",
    "train_val_test_split",
]


# --- helpers -------------------------------------------------------------------------------------


def _linspace(start: float, stop: float, n: int, endpoint: bool = True) -> list[float]:
    if n == 1:
        return [float(start)]
    step = (stop - start) / (n - 1 if endpoint else n)
    return [start + i * step for i in range(n)]


def _jitter_and_shuffle(X: list, y: list, noise: float, rng: random.Random) -> tuple[list, list]:
    """Add N(0, noise^2) to every coordinate, then shuffle the rows (labels follow their rows)."""
    if noise > 0.0:
        X = [[v + rng.gauss(0.0, noise) for v in row] for row in X]
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


def _split_sizes(n_classes: int, n_samples: int) -> list[int]:
    """n_samples shared out as evenly as possible, the first classes getting the extra points."""
    return [n_samples // n_classes + (1 if k < n_samples % n_classes else 0) for k in range(n_classes)]


# --- datasets ------------------------------------------------------------------------------------


def make_moons(n_samples: int = 100, noise: float = 0.0, seed: int | None = None) -> tuple[list, list]:
    """Two interleaving half circles: X (n_samples, 2), y in {0, 1} (0 = upper moon)."""
    n_samples = integer("make_moons: n_samples", n_samples, minimum=2)
    noise = non_negative("make_moons: noise", noise)
    rng = random.Random(seed)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    X = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, math.pi, n_upper)]
    X += [[1.0 - math.cos(t), 0.5 - math.sin(t)] for t in _linspace(0.0, math.pi, n_lower)]
    y = [0] * n_upper + [1] * n_lower
    return _jitter_and_shuffle(X, y, noise, rng)


def make_circles(n_samples: int = 100, noise: float = 0.0, factor: float = 0.5,
                 seed: int | None = None) -> tuple[list, list]:
    """A small circle inside a big one: X (n_samples, 2), y in {0, 1} (1 = inner circle)."""
    n_samples = integer("make_circles: n_samples", n_samples, minimum=2)
    noise = non_negative("make_circles: noise", noise)
    factor = real("make_circles: factor (inner radius / outer radius)", factor, low=0.0, high=1.0,
                  low_open=True, high_open=True)
    rng = random.Random(seed)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    X = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, 2 * math.pi, n_outer, endpoint=False)]
    X += [[factor * math.cos(t), factor * math.sin(t)]
          for t in _linspace(0.0, 2 * math.pi, n_inner, endpoint=False)]
    y = [0] * n_outer + [1] * n_inner
    return _jitter_and_shuffle(X, y, noise, rng)


def make_blobs(n_samples: int = 100, centers: int | Sequence[Sequence[float]] = 3,
               cluster_std: float = 0.5, seed: int | None = None) -> tuple[list, list]:
    """Gaussian blobs, one per class: X (n_samples, dim), y in {0, ..., k-1}.

    `centers` is a number of classes k (centres evenly spaced on a circle of radius 2, so X is 2-D)
    or an explicit list of centre points.
    """
    n_samples = positive_int("make_blobs: n_samples", n_samples)
    cluster_std = non_negative("make_blobs: cluster_std", cluster_std)
    if isinstance(centers, int) and not isinstance(centers, bool):
        centers = positive_int("make_blobs: centers", centers)
        centres = [[2.0 * math.cos(2 * math.pi * k / centers + math.pi / 2),
                    2.0 * math.sin(2 * math.pi * k / centers + math.pi / 2)] for k in range(centers)]
    else:
        centres = [[float(c) for c in point] for point in centers]
        if not centres or len({len(c) for c in centres}) != 1:
            raise ValueError("make_blobs: centers must be an int or a non-empty list of points "
                             "of equal length, e.g. [[0, 0], [3, 3]]")
    rng = random.Random(seed)
    X, y = [], []
    for label, (centre, count) in enumerate(zip(centres, _split_sizes(len(centres), n_samples))):
        X += [[c + rng.gauss(0.0, cluster_std) for c in centre] for _ in range(count)]
        y += [label] * count
    return _jitter_and_shuffle(X, y, 0.0, rng)


def make_spiral(n_samples: int = 100, n_classes: int = 3, noise: float = 0.2,
                seed: int | None = None) -> tuple[list, list]:
    """Interleaved spiral arms, one per class (CS231n's): X (n_samples, 2), y in {0, ..., k-1}.

    `noise` is the standard deviation of the jitter on each point's angle (radians).
    """
    n_samples = positive_int("make_spiral: n_samples", n_samples)
    noise = non_negative("make_spiral: noise", noise)
    n_classes = integer("make_spiral: n_classes", n_classes, minimum=2)
    rng = random.Random(seed)
    X, y = [], []
    for label, count in enumerate(_split_sizes(n_classes, n_samples)):
        radii = _linspace(0.0, 1.0, count)
        angles = _linspace(label * 4.0, (label + 1) * 4.0, count)
        for r, t in zip(radii, angles):
            t += rng.gauss(0.0, noise) if noise > 0.0 else 0.0
            X.append([r * math.sin(t), r * math.cos(t)])
            y.append(label)
    return _jitter_and_shuffle(X, y, 0.0, rng)


def make_xor(n_samples: int = 100, noise: float = 0.0, seed: int | None = None) -> tuple[list, list]:
    """Points in the four quadrants of [-1, 1]^2: y = 1 where x1 and x2 have different signs.

    Points stay 0.1 away from the axes; `noise` (std of a Gaussian jitter added after labelling)
    lets some of them wander into the wrong quadrant.
    """
    n_samples = positive_int("make_xor: n_samples", n_samples)
    noise = non_negative("make_xor: noise", noise)
    rng = random.Random(seed)
    X, y = [], []
    for _ in range(n_samples):
        row = [rng.choice((-1.0, 1.0)) * rng.uniform(0.1, 1.0) for _ in range(2)]
        X.append(row)
        y.append(int((row[0] > 0) != (row[1] > 0)))
    return _jitter_and_shuffle(X, y, noise, rng)


def make_sine(n_samples: int = 100, noise: float = 0.1, seed: int | None = None) -> tuple[list, list]:
    """A noisy sine wave for regression: X (n_samples, 1) uniform in [-3, 3], y = sin(x) + noise."""
    n_samples = positive_int("make_sine: n_samples", n_samples)
    noise = non_negative("make_sine: noise", noise)
    rng = random.Random(seed)
    xs = [rng.uniform(-3.0, 3.0) for _ in range(n_samples)]
    y = [math.sin(x) + (rng.gauss(0.0, noise) if noise > 0.0 else 0.0) for x in xs]
    return [[x] for x in xs], y


def to_pm1(y: Sequence[int]) -> list[float]:
    """Labels {0, 1} as {-1.0, +1.0}, the convention of `hinge_loss` (0 -> -1, 1 -> +1)."""
    out = []
    for label in y:
        if label not in (0, 1):
            raise ValueError(f"to_pm1: labels must be 0 or 1, got {label!r}; "
                             f"hinge loss is for two classes (use cross_entropy for more)")
        out.append(1.0 if label == 1 else -1.0)
    return out


# --- splits ----------------------------------------------------------------------------------------


def _check_xy(name: str, X, y) -> tuple[list, list]:
    """X and y as lists (numpy arrays converted), checked: rows of finite numbers, one target each."""
    X = rows(f"{name}: X", X)
    return X, targets(f"{name}: y", y, len(X))


def _shuffled_indices(n: int, shuffle: bool, seed: int | None) -> list[int]:
    order = list(range(n))
    if shuffle:
        random.Random(seed).shuffle(order)
    return order


def _count(name: str, what: str, size: float | int, n: int) -> int:
    """A split size given as a fraction (0 <= f < 1) or a count, as a count of rows."""
    if isinstance(size, bool) or not isinstance(size, (int, float)):
        raise TypeError(f"{name}: {what} must be a fraction or a count, got {type(size).__name__}")
    if isinstance(size, float) and 0.0 <= size < 1.0:
        return round(size * n)
    if isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= n:
        return size
    raise ValueError(f"{name}: {what} must be a fraction in [0, 1) or a count in [0, {n}], got {size!r}")


def train_test_split(X: Sequence, y: Sequence, test_size: float | int = 0.25, *,
                     shuffle: bool = True, seed: int | None = None) -> tuple[list, list, list, list]:
    """Shuffle and split into (X_train, X_test, y_train, y_test), as scikit-learn's function."""
    X, y = _check_xy("train_test_split", X, y)
    n = len(X)
    n_test = _count("train_test_split", "test_size", test_size, n)
    order = _shuffled_indices(n, shuffle, seed)
    test, train = order[:n_test], order[n_test:]
    return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]


def train_val_test_split(X: Sequence, y: Sequence, val_size: float | int = 0.2,
                         test_size: float | int = 0.2, *, shuffle: bool = True,
                         seed: int | None = None) -> tuple[list, list, list, list, list, list]:
    """Split three ways: (X_train, X_val, X_test, y_train, y_val, y_test)."""
    X, y = _check_xy("train_val_test_split", X, y)
    n = len(X)
    n_val = _count("train_val_test_split", "val_size", val_size, n)
    n_test = _count("train_val_test_split", "test_size", test_size, n)
    if n_val + n_test > n:
        raise ValueError(f"train_val_test_split: val ({n_val}) + test ({n_test}) rows exceed the "
                         f"{n} rows there are; make the sizes smaller")
    order = _shuffled_indices(n, shuffle, seed)
    parts = order[:n_val], order[n_val:n_val + n_test], order[n_val + n_test:]
    val, test, train = ([X[i] for i in part] for part in parts)
    y_val, y_test, y_train = ([y[i] for i in part] for part in parts)
    return train, val, test, y_train, y_val, y_test


# --- preprocessing ---------------------------------------------------------------------------------


def _mean_and_std(column: Sequence[float]) -> tuple[float, float]:
    """Mean and standard deviation of one feature. The numbers are first divided by a power of two
    near the largest one (exact), so squaring 1e200 cannot overflow; the results are unchanged."""
    _, exponent = math.frexp(max(abs(v) for v in column))
    unit = math.ldexp(1.0, exponent - 1)  # every |v| / unit < 2
    scaled = [v / unit for v in column]
    mean = sum(scaled) / len(scaled)
    std = math.sqrt(sum((v - mean) ** 2 for v in scaled) / len(scaled))
    return mean * unit, std * unit


class StandardScaler:
    """Per-feature (x - mean) / std, with mean and std learned by `fit` (scikit-learn's name)."""

    def __init__(self) -> None:
        self.mean_: list[float] | None = None
        self.scale_: list[float] | None = None

    def fit(self, X: Sequence[Sequence[float]]) -> "StandardScaler":
        """Learn each feature's mean and standard deviation from X (the training set only)."""
        stats = [_mean_and_std(column) for column in zip(*rows("StandardScaler.fit: X", X))]
        self.mean_ = [mean for mean, _ in stats]
        self.scale_ = [std if std > 0.0 else 1.0 for _, std in stats]  # a constant feature stays
        return self

    def _rows(self, where: str, X) -> list[list[float]]:
        """X checked: fitted first, finite numbers, as many features as when fitted."""
        if self.mean_ is None:
            raise RuntimeError(f"StandardScaler.{where}: call fit(X_train) first")
        X = rows(f"StandardScaler.{where}: X", X)
        if len(X[0]) != len(self.mean_):
            raise ValueError(f"StandardScaler.{where}: rows must have {len(self.mean_)} features "
                             f"(as when fitted), got {len(X[0])}")
        return X

    def transform(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        """Standardise X with the statistics learned by `fit`."""
        X = self._rows("transform", X)
        return [[(v - m) / s for v, m, s in zip(row, self.mean_, self.scale_)] for row in X]

    def fit_transform(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        """`fit(X)` then `transform(X)`."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        """Undo `transform`: back to the original units."""
        X = self._rows("inverse_transform", X)
        return [[v * s + m for v, m, s in zip(row, self.mean_, self.scale_)] for row in X]

    def __repr__(self) -> str:
        return f"StandardScaler(mean_={self.mean_}, scale_={self.scale_})"


def standardize(X_train: Sequence[Sequence[float]], *others: Sequence[Sequence[float]]) -> tuple:
    """Fit a StandardScaler on X_train and apply it to X_train and each of `others`, in order."""
    scaler = StandardScaler().fit(X_train)
    return tuple(scaler.transform(X) for X in (X_train, *others))


# --- mini-batches ----------------------------------------------------------------------------------


class DataLoader:
    """Mini-batches (X_batch, y_batch) of `batch_size` rows; reshuffled each pass when `shuffle`.

    `batch_size=None` gives the whole dataset as one batch (full-batch gradient descent). The last
    batch may be smaller unless `drop_last=True`. `len(loader)` is the number of batches per epoch.
    """

    def __init__(self, X: Sequence, y: Sequence, batch_size: int | None = None, *,
                 shuffle: bool = True, drop_last: bool = False, seed: int | None = None) -> None:
        X, y = _check_xy("DataLoader", X, y)
        batch_size = len(X) if batch_size is None else positive_int("DataLoader: batch_size "
                                                                     "(None: the whole dataset)",
                                                                     batch_size)
        if drop_last and batch_size > len(X):
            raise ValueError(f"DataLoader: batch_size {batch_size} > {len(X)} rows with drop_last=True "
                             f"would give no batches; use a smaller batch_size")
        self.X, self.y = X, y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self._rng = random.Random(seed)

    def __len__(self) -> int:
        n, b = len(self.X), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[tuple[list, list]]:
        order = list(range(len(self.X)))
        if self.shuffle:
            self._rng.shuffle(order)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            rows = order[start:start + self.batch_size]
            yield [self.X[i] for i in rows], [self.y[i] for i in rows]
