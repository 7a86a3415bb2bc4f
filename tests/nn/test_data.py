"""nn.data: toy datasets are deterministic and shaped as documented; splits, scaling, batches."""

import math

import pytest

from nn import data

GENERATORS = {
    "moons": (lambda seed: data.make_moons(50, noise=0.1, seed=seed), 2, {0, 1}),
    "circles": (lambda seed: data.make_circles(50, noise=0.05, seed=seed), 2, {0, 1}),
    "blobs": (lambda seed: data.make_blobs(50, centers=4, seed=seed), 2, {0, 1, 2, 3}),
    "spiral": (lambda seed: data.make_spiral(50, n_classes=3, seed=seed), 2, {0, 1, 2}),
    "xor": (lambda seed: data.make_xor(50, noise=0.1, seed=seed), 2, {0, 1}),
}


# --- datasets --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GENERATORS)
def test_dataset_is_deterministic_per_seed(name):
    make = GENERATORS[name][0]
    assert make(3) == make(3), f"{name}: two calls with seed=3 differ"


@pytest.mark.parametrize("name", GENERATORS)
def test_dataset_differs_between_seeds(name):
    make = GENERATORS[name][0]
    assert make(3)[0] != make(4)[0], f"{name}: seeds 3 and 4 gave the same points"


@pytest.mark.parametrize("name", GENERATORS)
def test_dataset_has_documented_shape_and_classes(name):
    make, dim, classes = GENERATORS[name]
    X, y = make(0)
    assert len(X) == len(y) == 50, f"{name}: expected 50 rows and labels, got {len(X)} and {len(y)}"
    assert all(len(row) == dim and all(isinstance(v, float) for v in row) for row in X), \
        f"{name}: rows must be lists of {dim} floats, first row {X[0]!r}"
    assert all(type(t) is int for t in y), f"{name}: labels must be ints, got {y[:5]!r}"
    assert set(y) == classes, f"{name}: expected classes {classes}, got {set(y)}"


def test_make_moons_without_noise_lies_on_the_two_half_circles():
    X, y = data.make_moons(20, noise=0.0, seed=0)
    for (a, b), label in zip(X, y):
        cx, cy = (0.0, 0.0) if label == 0 else (1.0, 0.5)
        radius = math.hypot(a - cx, b - cy)
        assert math.isclose(radius, 1.0), f"point {(a, b)} of class {label}: radius {radius}, expected 1"


def test_make_blobs_splits_samples_evenly_between_classes():
    _, y = data.make_blobs(10, centers=3, seed=0)
    counts = sorted(y.count(k) for k in range(3))
    assert counts == [3, 3, 4], f"expected 3/3/4 points per class, got {counts}"


def test_make_xor_labels_are_the_xor_of_the_signs_without_noise():
    X, y = data.make_xor(40, noise=0.0, seed=1)
    expected = [int((a > 0) != (b > 0)) for a, b in X]
    assert y == expected, f"expected {expected}, got {y}"


def test_make_sine_is_one_dimensional_regression():
    X, y = data.make_sine(30, noise=0.0, seed=0)
    assert all(len(row) == 1 for row in X), f"rows must have one feature, got {X[0]!r}"
    assert all(math.isclose(t, math.sin(row[0])) for row, t in zip(X, y)), "y must be sin(x) without noise"


def test_make_moons_rejects_bad_noise_with_message():
    with pytest.raises(ValueError, match=r"noise must be in \[0, inf\], got -1"):
        data.make_moons(10, noise=-1)


def test_to_pm1_maps_0_to_minus_1_and_1_to_plus_1():
    assert data.to_pm1([0, 1, 1, 0]) == [-1.0, 1.0, 1.0, -1.0]


def test_to_pm1_rejects_a_third_class():
    with pytest.raises(ValueError, match="labels must be 0 or 1, got 2"):
        data.to_pm1([0, 1, 2])


# --- splits ----------------------------------------------------------------------------------------


def test_train_test_split_partitions_the_rows():
    X = [[float(i)] for i in range(20)]
    y = list(range(20))
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, test_size=0.25, seed=0)
    assert (len(X_tr), len(X_te)) == (15, 5), f"expected 15/5 rows, got {len(X_tr)}/{len(X_te)}"
    assert sorted(y_tr + y_te) == y, "every row must land in exactly one part"
    assert all(row == [float(t)] for row, t in zip(X_tr + X_te, y_tr + y_te)), "rows lost their labels"


def test_train_test_split_is_deterministic_per_seed():
    X, y = data.make_moons(30, seed=0)
    assert data.train_test_split(X, y, seed=5) == data.train_test_split(X, y, seed=5)


def test_train_val_test_split_partitions_the_rows_three_ways():
    X = [[float(i)] for i in range(10)]
    y = list(range(10))
    X_tr, X_va, X_te, y_tr, y_va, y_te = data.train_val_test_split(X, y, val_size=0.2, test_size=3, seed=0)
    assert (len(y_tr), len(y_va), len(y_te)) == (5, 2, 3), f"got {len(y_tr)}/{len(y_va)}/{len(y_te)}"
    assert sorted(y_tr + y_va + y_te) == y, "every row must land in exactly one part"


def test_train_test_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="y has 2 targets but X has 3 rows"):
        data.train_test_split([[0.0]] * 3, [0, 1])


# --- standardize -----------------------------------------------------------------------------------


def test_standardize_gives_train_zero_mean_unit_std():
    (X_s,) = data.standardize([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    for j in range(2):
        column = [row[j] for row in X_s]
        mean = sum(column) / 3
        assert abs(mean) < 1e-12, f"feature {j}: mean {mean}, expected 0"
    std = math.sqrt(sum(row[0] ** 2 for row in X_s) / 3)
    assert math.isclose(std, 1.0), f"feature 0: std {std}, expected 1"


def test_standardize_uses_train_statistics_only():
    X_train = [[0.0], [2.0]]  # mean 1, std 1
    X_test = [[100.0], [102.0]]
    X_train_s, X_test_s = data.standardize(X_train, X_test)
    assert X_test_s == [[99.0], [101.0]], f"test set must use the train mean/std, got {X_test_s}"


def test_standard_scaler_inverse_transform_round_trips():
    X = [[1.0, -2.0], [4.0, 0.5], [2.5, 3.0]]
    scaler = data.StandardScaler().fit(X)
    back = scaler.inverse_transform(scaler.transform(X))
    assert all(math.isclose(a, b) for r1, r2 in zip(back, X) for a, b in zip(r1, r2)), f"got {back}"


def test_standard_scaler_transform_before_fit_says_what_to_do():
    with pytest.raises(RuntimeError, match="call fit"):
        data.StandardScaler().transform([[1.0]])


# --- DataLoader ------------------------------------------------------------------------------------


def test_dataloader_yields_every_row_once_per_epoch():
    X = [[float(i)] for i in range(10)]
    loader = data.DataLoader(X, list(range(10)), batch_size=3, seed=0)
    batches = list(loader)
    assert [len(yb) for _, yb in batches] == [3, 3, 3, 1], f"got sizes {[len(yb) for _, yb in batches]}"
    assert sorted(t for _, yb in batches for t in yb) == list(range(10)), "a row is missing or repeated"
    assert len(loader) == 4, f"len(loader) should be 4 batches, got {len(loader)}"


def test_dataloader_reshuffles_each_epoch():
    loader = data.DataLoader([[float(i)] for i in range(20)], list(range(20)), batch_size=20, seed=0)
    first, second = next(iter(loader))[1], next(iter(loader))[1]
    assert first != second, "two epochs came out in the same order"


def test_dataloader_without_batch_size_is_full_batch_in_order():
    loader = data.DataLoader([[1.0], [2.0]], [0, 1], shuffle=False)
    assert list(loader) == [([[1.0], [2.0]], [0, 1])]


def test_dataloader_drop_last_drops_the_short_batch():
    loader = data.DataLoader([[0.0]] * 7, [0] * 7, batch_size=3, drop_last=True)
    assert [len(yb) for _, yb in loader] == [3, 3], f"got {[len(yb) for _, yb in loader]}"


def test_dataloader_rejects_zero_batch_size():
    with pytest.raises(ValueError, match="batch_size .* must be at least 1, got 0"):
        data.DataLoader([[0.0]], [0], batch_size=0)


# --- numpy arrays and bad numbers (issue 11, item 4) -----------------------------------------------


def test_dataloader_accepts_numpy_arrays():
    numpy = pytest.importorskip("numpy")
    loader = data.DataLoader(numpy.array([[1.0], [2.0]]), numpy.array([0, 1]), shuffle=False)
    X_batch, y_batch = next(iter(loader))
    assert (X_batch, y_batch) == ([[1.0], [2.0]], [0, 1]), f"got {X_batch}, {y_batch}"
    assert type(y_batch[0]) is int, f"numpy labels should come out as ints, got {type(y_batch[0])}"


def test_standardize_accepts_numpy_arrays_like_lists():
    numpy = pytest.importorskip("numpy")
    rows = [[1.0, 10.0], [3.0, 12.0], [5.0, 17.0]]
    assert data.standardize(numpy.array(rows)) == data.standardize(rows)


def test_standard_scaler_refuses_nan_naming_the_entry():
    with pytest.raises(ValueError, match=r"StandardScaler.fit: X\[1\]\[0\] is nan"):
        data.StandardScaler().fit([[1.0], [float("nan")]])


def test_standard_scaler_handles_huge_numbers_without_overflow():
    scaler = data.StandardScaler().fit([[1e200], [3e200]])
    assert math.isclose(scaler.mean_[0], 2e200) and math.isclose(scaler.scale_[0], 1e200), \
        f"mean {scaler.mean_}, std {scaler.scale_}: expected 2e200 and 1e200"
    assert scaler.transform([[1e200], [3e200]]) == [[-1.0], [1.0]]


def test_standard_scaler_statistics_are_unchanged_for_ordinary_numbers():
    X = [[0.1, -3.0], [0.7, 2.5], [1.3, 9.0], [-2.2, 0.0]]
    scaler = data.StandardScaler().fit(X)
    for j in range(2):
        column = [row[j] for row in X]
        mean = sum(column) / 4
        std = math.sqrt(sum((v - mean) ** 2 for v in column) / 4)
        assert (scaler.mean_[j], scaler.scale_[j]) == (mean, std), f"feature {j}: round-off changed"


def test_standard_scaler_inverse_transform_refuses_the_wrong_width():
    scaler = data.StandardScaler().fit([[1.0, 2.0], [3.0, 5.0]])
    with pytest.raises(ValueError, match="rows must have 2 features .* got 1"):
        scaler.inverse_transform([[0.5]])


def test_make_moons_refuses_infinite_noise():
    with pytest.raises(ValueError, match="make_moons: noise must be a finite number"):
        data.make_moons(10, noise=float("inf"))
