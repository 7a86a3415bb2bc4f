"""Reproduce micrograd's reference demo (demo.ipynb) to 1e-9: same data, weights, loss and schedule.

Published numbers: step 0 loss 0.8958441028683222, step 99 loss 0.010978370135492717, accuracy 100%.
The data is generated here with scikit-learn's make_moons algorithm (sklearn itself is not imported):
on numpy's global RandomState, seeded with 1337: two half circles from linspace, a shuffle of the row
order, then Gaussian noise of scale 0.1 added to every coordinate.
"""

import math
import random

import pytest

import nn

STEP0_LOSS = 0.8958441028683222
FINAL_LOSS = 0.010978370135492717


def make_moons(np, n_samples=100, noise=0.1):
    """sklearn.datasets.make_moons(n_samples, noise=noise, random_state=None), step for step."""
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer_x = np.cos(np.linspace(0, np.pi, n_out))
    outer_y = np.sin(np.linspace(0, np.pi, n_out))
    inner_x = 1 - np.cos(np.linspace(0, np.pi, n_in))
    inner_y = 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5
    X = np.vstack([np.append(outer_x, inner_x), np.append(outer_y, inner_y)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    # sklearn.utils.shuffle -> resample(replace=False): permute an index array on the RandomState
    indices = np.arange(n_samples)
    np.random.shuffle(indices)  # random_state=None means numpy's global RandomState
    X, y = X[indices], y[indices]
    X += np.random.normal(scale=noise, size=X.shape)
    return X, y


@pytest.fixture(scope="module")
def data():
    np = pytest.importorskip("numpy")
    np.random.seed(1337)
    X, y = make_moons(np)
    return X.tolist(), [float(2 * label - 1) for label in y]  # labels -> -1 / +1


def peer_model():
    """MLP(2, [16, 16, 1]) with micrograd's weights: random.seed(1337), then per weight (in
    parameters() order) random.uniform(-1, 1), and zero biases."""
    model = nn.MLP(2, [16, 16, 1], init="uniform", seed=0)
    random.seed(1337)
    for name, p in model.named_parameters():
        p.data = 0.0 if name.endswith(".b") else random.uniform(-1, 1)
    return model


def train(model, X, y, steps=100):
    params = model.parameters()
    opt = nn.optim.SGD(params, lr=1.0)
    history = []
    for k in range(steps):
        scores = [model(x) for x in X]
        loss = nn.hinge_loss(scores, y) + 1e-4 * nn.l2_penalty(params)
        accuracy = sum((yi > 0) == (s.data > 0) for yi, s in zip(y, scores)) / len(y)
        opt.zero_grad()
        loss.backward()
        opt.lr = 1.0 - 0.9 * k / 100
        opt.step()
        history.append((loss.data, accuracy))
    return history


def test_reference_demo_data_is_two_moons(data):
    X, y = data
    assert len(X) == 100 and sorted(set(y)) == [-1.0, 1.0] and y.count(1.0) == 50
    assert all(-1.5 < a < 2.5 and -1.0 < b < 1.5 for a, b in X)


def test_reference_demo_step0_and_final_loss_match_micrograd(data):
    X, y = data
    history = train(peer_model(), X, y)
    step0, final = history[0][0], history[-1][0]
    assert math.isclose(step0, STEP0_LOSS, rel_tol=1e-9), f"step 0 loss {step0!r} != {STEP0_LOSS!r}"
    assert math.isclose(final, FINAL_LOSS, rel_tol=1e-9), f"step 99 loss {final!r} != {FINAL_LOSS!r}"
    assert history[0][1] == 0.5, "micrograd's demo starts at 50% accuracy"
    assert history[-1][1] == 1.0, f"final accuracy {history[-1][1]:.0%}, expected 100%"


def test_reference_demo_uniform_init_draws_the_same_weights_directly():
    overwritten = peer_model()
    random.seed(1337)
    drawn = nn.MLP(2, [16, 16, 1], init="uniform")  # global random, as micrograd's Neuron
    assert drawn.state_dict() == overwritten.state_dict()
