"""PyTorch's spellings next to NumPy's: ``dim=``/``keepdim=`` on every reduction and shape op,
``numel()``, ``dim()``, ``size()``, ``t()``, ``cat``, ``clamp``, ``long()``, ``from_numpy``,
``log10``, ``multinomial``, ``histogram``; var/std's two conventions. Where PyTorch is
installed, results are compared with it."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import autograd as ag
import nn

X = np.array([[1.0, -2.0, 3.5, 0.25], [4.0, 0.5, -1.0, 2.0], [0.0, 2.5, 2.5, -3.0]])


def t(data=X, **kwargs):
    return ag.tensor(data, dtype=ag.float64, **kwargs)


REDUCTIONS = ["sum", "mean", "max", "min", "logsumexp", "any", "all", "argmax", "argmin"]


# ------------------------------------------------------------------- dim / keepdim
@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("keep", [False, True])
def test_reductions_take_dim_and_keepdim(name, keep):
    x = t()
    fn = getattr(ag, name)
    expected = fn(x, 1, keep)
    method = getattr(x, name)
    for got in [
        fn(x, axis=1, keepdims=keep),
        fn(x, 1, keepdim=keep),
        method(axis=1, keepdim=keep),
    ]:
        assert got.shape == expected.shape
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    if name not in ("max", "min"):  # max/min with dim= return (values, indices): see below
        for got in [fn(x, dim=1, keepdim=keep), method(dim=1, keepdim=keep)]:
            assert got.shape == ((3, 1) if keep else (3,))
            np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_dim_values_are_those_of_numpy():
    x = t()
    np.testing.assert_allclose(x.sum(dim=(0, 1)).item(), X.sum())
    np.testing.assert_allclose(x.mean(dim=0).numpy(), X.mean(axis=0))
    assert x.argmax(dim=1).tolist() == [2, 0, 1]
    assert x.any(dim=0, keepdim=True).shape == (1, 4)
    np.testing.assert_allclose(
        x.logsumexp(dim=1).numpy(), np.log(np.exp(X).sum(axis=1)), rtol=1e-12
    )


@pytest.mark.parametrize("name", [*REDUCTIONS, "var", "std"])
def test_both_spellings_at_once_is_a_type_error(name):
    x = t()
    with pytest.raises(TypeError, match=rf"{name}: got both axis=1 and dim=0"):
        getattr(ag, name)(x, axis=1, dim=0)
    with pytest.raises(TypeError, match="got both keepdims=True and keepdim=True"):
        getattr(x, name)(keepdims=True, keepdim=True)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x: ag.softmax(x, axis=0, dim=1), "softmax: got both axis=0 and dim=1"),
        (lambda x: ag.stack([x, x], axis=1, dim=0), "stack: got both axis=1 and dim=0"),
        (lambda x: ag.cat([x, x], axis=1, dim=0), "concatenate: got both axis=1 and dim=0"),
        (lambda x: x.flatten(start_axis=1, start_dim=0), "got both start_axis=1 and start_dim=0"),
        (lambda x: x.unsqueeze(0, dim=1), "unsqueeze: got both axis=0 and dim=1"),
        (lambda x: x.transpose(axis0=0, dim0=1), "got both axis0=0 and dim0=1"),
        (lambda x: x.var(ddof=0, correction=1), "var: got both ddof=0 and correction=1"),
        (lambda x: x.std(correction=1, unbiased=True), "got both correction= and unbiased="),
        (lambda x: x.max(dim=(0, 1)), r"max: dim must be an int, got \(0, 1\)"),
        (lambda x: x.unsqueeze(), r"unsqueeze: missing the axis \(axis= or dim=\)"),
    ],
)
def test_conflicting_or_missing_arguments(call, message):
    with pytest.raises(TypeError, match=message):
        call(t())


def test_softmax_family_takes_dim():
    x = t()
    e = np.exp(X - X.max(axis=0))
    expected = e / e.sum(axis=0)
    for got in [
        ag.softmax(x, dim=0),
        x.softmax(dim=0),
        nn.functional.softmax(x, dim=0),
        nn.Softmax(dim=0)(x),
    ]:
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    for got in [ag.log_softmax(x, dim=0), x.log_softmax(dim=0), nn.LogSoftmax(dim=0)(x)]:
        np.testing.assert_allclose(got.numpy(), np.log(expected), rtol=1e-12)
    assert nn.Softmax(dim=1).axis == 1


def test_stack_cat_and_shape_ops_take_dim():
    x = t()
    assert ag.stack([x, x], dim=1).shape == (3, 2, 4)
    assert ag.cat is ag.concatenate
    joined = ag.cat([x, x[:1]], dim=0)
    assert joined.shape == (4, 4)
    np.testing.assert_array_equal(joined.numpy()[3], X[0])
    assert ag.concatenate([x, x], dim=-1).shape == (3, 8)
    assert x.unsqueeze(dim=1).shape == (3, 1, 4) and ag.unsqueeze(x, dim=0).shape == (1, 3, 4)
    assert x.reshape(3, 1, 4, 1).squeeze(dim=1).shape == (3, 4, 1)
    assert ag.squeeze(x.reshape(1, 3, 4, 1), dim=(0, 3)).shape == (3, 4)
    assert x.reshape(3, 2, 2).flatten(start_dim=1).shape == (3, 4)
    assert x.reshape(3, 2, 2).flatten(end_dim=1).shape == (6, 2)
    assert nn.Flatten(start_dim=0)(x.reshape(3, 2, 2)).shape == (12,)
    assert x.transpose(dim0=0, dim1=1).shape == (4, 3)


def test_squeeze_with_dim_follows_torch_and_with_axis_numpy():
    x = t().reshape(3, 1, 4)
    assert x.squeeze(dim=0).shape == (3, 1, 4)  # torch: a dim whose size is not 1 is kept
    assert x.squeeze(dim=(0, 1)).shape == (3, 4)
    with pytest.raises(ag.ShapeError, match="squeeze: axis 0 has size 3, not 1"):
        x.squeeze(axis=0)  # NumPy: an error


def test_gradients_flow_through_the_dim_spellings():
    x = t(requires_grad=True)
    (x.sum(dim=1) * ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.repeat([[1.0], [2.0], [3.0]], 4, axis=1))


# -------------------------------------------------------------------------- var/std
def test_var_std_numpy_convention_with_axis_or_no_keyword():
    x = t()
    np.testing.assert_allclose(x.var().item(), X.var(), rtol=1e-12)
    np.testing.assert_allclose(x.var(1).numpy(), X.var(axis=1), rtol=1e-12)
    np.testing.assert_allclose(x.var(axis=1).numpy(), X.var(axis=1), rtol=1e-12)
    np.testing.assert_allclose(x.std(axis=0, ddof=1).numpy(), X.std(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(ag.std(x, 0).numpy(), X.std(axis=0), rtol=1e-12)


def test_var_std_torch_convention_with_dim_correction_or_unbiased():
    x = t()
    unbiased = X.var(axis=1, ddof=1)
    np.testing.assert_allclose(x.var(dim=1).numpy(), unbiased, rtol=1e-12)
    np.testing.assert_allclose(ag.var(x, dim=1).numpy(), unbiased, rtol=1e-12)
    np.testing.assert_allclose(x.var(1, unbiased=True).numpy(), unbiased, rtol=1e-12)
    np.testing.assert_allclose(x.var(correction=1).item(), X.var(ddof=1), rtol=1e-12)
    np.testing.assert_allclose(x.var(keepdim=True).item(), X.var(ddof=1), rtol=1e-12)
    np.testing.assert_allclose(x.var(dim=1, unbiased=False).numpy(), X.var(axis=1), rtol=1e-12)
    np.testing.assert_allclose(x.var(dim=1, correction=0).numpy(), X.var(axis=1), rtol=1e-12)
    np.testing.assert_allclose(x.var(dim=1, ddof=0).numpy(), X.var(axis=1), rtol=1e-12)
    np.testing.assert_allclose(x.std(dim=0).numpy(), X.std(axis=0, ddof=1), rtol=1e-12)
    assert x.std(dim=0, keepdim=True).shape == (1, 4)
    # the value: variance of [1, -2, 3.5, 0.25] with n - 1 = 3
    row = np.array([1.0, -2.0, 3.5, 0.25])
    assert x.var(dim=1).numpy()[0] == pytest.approx(((row - row.mean()) ** 2).sum() / 3)


def test_var_std_match_torch():
    torch = pytest.importorskip("torch")
    x, tx = t(), torch.tensor(X)
    for ours, theirs in [
        (x.var(dim=1), tx.var(dim=1)),
        (x.std(dim=0, keepdim=True), tx.std(dim=0, keepdim=True)),
        (x.var(dim=1, correction=0), tx.var(dim=1, correction=0)),
        (x.std(unbiased=False), tx.std(unbiased=False)),
        (ag.var(x, dim=(0, 1)), torch.var(tx, dim=(0, 1))),
    ]:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


# ------------------------------------------------------------------- max/min with dim
def test_max_min_with_dim_return_values_and_indices():
    m = ag.tensor([[1.0, 3.0, 3.0], [5.0, 2.0, 5.0]], dtype=ag.float64, requires_grad=True)
    values, indices = m.max(dim=1)
    assert values.tolist() == [3.0, 5.0] and indices.tolist() == [1, 0]
    assert indices.dtype == ag.int64
    result = ag.max(m, dim=1)
    assert result.values.tolist() == [3.0, 5.0] and result.indices.tolist() == [1, 0]
    values.sum().backward()
    # the gradient goes to the first maximum only (PyTorch), not split among ties
    np.testing.assert_array_equal(m.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    low = m.min(dim=0, keepdim=True)
    assert low.values.shape == (1, 3) and low.values.tolist() == [[1.0, 2.0, 3.0]]
    assert low.indices.tolist() == [[0, 1, 0]]
    # with axis=: NumPy's amax, one tensor, ties share the gradient
    m.grad = None
    m.max(axis=1).sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    s = ag.tensor(2.0).max(dim=0)
    assert s.values.item() == 2.0 and s.indices.item() == 0


def test_max_min_with_dim_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, size=(3, 4, 5)).astype(np.float64)  # many ties
    for op in ("max", "min"):
        for dim in (0, 1, -1):
            x = ag.tensor(a, requires_grad=True)
            tx = torch.tensor(a, requires_grad=True)
            ours = getattr(x, op)(dim=dim)
            theirs = getattr(tx, op)(dim=dim)
            np.testing.assert_array_equal(ours.values.detach().numpy(), theirs.values.detach())
            np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
            weights = rng.normal(size=ours.values.shape)
            (ours.values * ag.tensor(weights)).sum().backward()
            (theirs.values * torch.tensor(weights)).sum().backward()
            np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- size, numel, dim, t
def test_size_is_numpys_int_and_torchs_call():
    x = t()
    assert isinstance(x.size, int) and x.size == 12 and x.size // 4 == 3
    assert x.size() == (3, 4) and x.size(0) == 3 and x.size(-1) == 4 and x.size(1) == 4
    assert str(x.size) == "12" and repr(x.size) == "12"
    assert sum(p.size for p in [x, x]) == 24
    assert x.numel() == 12 and x.nelement() == 12 and type(x.numel()) is int
    assert x.dim() == 2 and ag.tensor(1.0).dim() == 0 and ag.tensor(1.0).size() == ()
    with pytest.raises(IndexError, match=r"size: axis 2 is out of range .* \(valid: -2 to 1\)"):
        x.size(2)
    restored = pickle.loads(pickle.dumps(x.size))
    assert restored == 12 and restored(1) == 4


def test_size_matches_torch():
    torch = pytest.importorskip("torch")
    x, tx = t(), torch.tensor(X)
    assert x.size() == tuple(tx.size()) and x.size(0) == tx.size(0) and x.numel() == tx.numel()
    assert x.dim() == tx.dim()


def test_t_transposes_matrices_and_returns_vectors():
    x = t()
    np.testing.assert_array_equal(x.t().numpy(), X.T)
    v = ag.tensor([1.0, 2.0])
    assert v.t() is v
    with pytest.raises(ag.ShapeError, match=r"t: expects a tensor with at most 2 axes"):
        ag.zeros(2, 2, 2).t()


# ---------------------------------------------------------------------- conversions
def test_clamp_is_clip():
    x = t(requires_grad=True)
    y = x.clamp(min=0.0, max=2.5)
    np.testing.assert_array_equal(y.detach().numpy(), np.clip(X, 0.0, 2.5))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), ((X >= 0) & (X <= 2.5)).astype(float))
    assert ag.clamp is ag.clip and ag.clamp(x, max=0.0).detach().numpy().max() == 0.0


def test_long_int_half_bool():
    x = ag.tensor([1.7, -2.2, 0.0])
    assert x.long().dtype == ag.int64 and x.long().tolist() == [1, -2, 0]
    assert x.int().dtype == ag.int32 and x.int().tolist() == [1, -2, 0]
    assert x.half().dtype == ag.float16 and x.bool().tolist() == [True, True, False]
    assert int(ag.tensor(3.9)) == 3 and bool(ag.tensor(0.0)) is False  # dunders unchanged


def test_from_numpy_shares_memory():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = ag.from_numpy(a)
    assert x.dtype == ag.float32 and x.shape == (2, 3) and not x.requires_grad
    a[0, 1] = 10.0
    assert x.tolist()[0][1] == 10.0
    x.data[1, 2] = -1.0
    assert a[1, 2] == -1.0
    assert np.shares_memory(x.numpy(), a)
    assert ag.from_numpy(np.array([1, 2], dtype=np.int16)).dtype == np.int16
    with pytest.raises(TypeError, match=r"from_numpy: expected a numpy\.ndarray, got list"):
        ag.from_numpy([1.0, 2.0])
    with pytest.raises(ag.DTypeError, match="from_numpy: arrays of complex128 cannot be"):
        ag.from_numpy(np.zeros(2, dtype=complex))
    with pytest.raises(ValueError, match=r"byte order \(>f8\) is not the machine's"):
        ag.from_numpy(np.zeros(2, dtype=">f8"))


def test_log10_values_and_gradient():
    x = ag.tensor([0.1, 1.0, 100.0], dtype=ag.float64, requires_grad=True)
    y = x.log10()
    np.testing.assert_allclose(y.detach().numpy(), [-1.0, 0.0, 2.0], rtol=1e-15, atol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / (np.array([0.1, 1.0, 100.0]) * np.log(10)))
    assert ag.gradcheck(
        ag.log10, [ag.tensor([0.5, 2.0, 3.0], dtype=ag.float64, requires_grad=True)]
    )
    assert ag.log10(ag.tensor([1000.0])).dtype == ag.float32


# ---------------------------------------------------------------------- multinomial
def test_multinomial_with_replacement_follows_the_weights():
    g = ag.Generator().manual_seed(0)
    weights = ag.tensor([1.0, 0.0, 3.0, 6.0])
    draws = ag.multinomial(weights, 20000, replacement=True, generator=g)
    assert draws.shape == (20000,) and draws.dtype == ag.int64
    counts = np.bincount(draws.numpy(), minlength=4) / 20000
    assert counts[1] == 0  # weight 0: never drawn
    np.testing.assert_allclose(counts, [0.1, 0.0, 0.3, 0.6], atol=0.015)
    again = ag.multinomial(weights, 20000, True, generator=ag.Generator().manual_seed(0))
    np.testing.assert_array_equal(again.numpy(), draws.numpy())  # same seed, same draws


def test_multinomial_without_replacement():
    g = ag.Generator().manual_seed(1)
    rows = ag.tensor([[0.2, 0.0, 0.3, 0.5], [1.0, 1.0, 1.0, 1.0]])
    draws = rows.multinomial(3, generator=g)
    assert draws.shape == (2, 3)
    for row in draws.tolist():
        assert len(set(row)) == 3
    assert 1 not in draws.tolist()[0]  # weight 0 never drawn
    # the first draw follows the weights; over many rows, all 4 of 4 come out in some order
    many = ag.multinomial(ag.tensor([[1.0, 2.0, 7.0]] * 20000), 1, generator=g).numpy()[:, 0]
    np.testing.assert_allclose(np.bincount(many) / 20000, [0.1, 0.2, 0.7], atol=0.015)
    # the second draw is from what is left: P(second = 0 | first = 2) = 1 / 3
    pairs = ag.multinomial(ag.tensor([[1.0, 2.0, 7.0]] * 20000), 2, generator=g).numpy()
    second = pairs[pairs[:, 0] == 2, 1]
    assert abs(np.mean(second == 0) - 1 / 3) < 0.02
    full = ag.multinomial(ag.tensor([5.0, 1.0, 1.0, 1.0]), 4, generator=g).tolist()
    assert sorted(full) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "weights, n, replacement, error, message",
    [
        ([0.5, 0.0, 0.5], 3, False, ValueError, "cannot draw 3 samples without replacement"),
        ([0.5, -0.1], 1, True, ValueError, "must be finite and >= 0"),
        ([0.5, np.nan], 1, True, ValueError, "must be finite and >= 0"),
        ([0.0, 0.0], 1, True, ValueError, "sum to 0"),
        ([1.0], 0, True, ValueError, "cannot draw 0 samples"),
        ([[[1.0]]], 1, True, ag.ShapeError, "must be 1-d .* or 2-d"),
    ],
)
def test_multinomial_errors(weights, n, replacement, error, message):
    with pytest.raises(error, match=message):
        ag.multinomial(ag.tensor(weights), n, replacement)
    with pytest.raises(ag.DTypeError, match="must be floating"):
        ag.multinomial(ag.tensor([1, 2], dtype=ag.int64), 1)


def test_multinomial_refuses_what_torch_refuses():
    torch = pytest.importorskip("torch")
    for weights, n in [([0.5, -0.1], 1), ([0.5, np.inf], 1), ([0.0, 0.0], 1), ([1.0], 0)]:
        with pytest.raises(RuntimeError):
            torch.multinomial(torch.tensor(weights), n, True)
        with pytest.raises(ValueError, match="multinomial: "):
            ag.multinomial(ag.tensor(weights), n, True)
    # without replacement, more samples than nonzero weights: torch documents it as invalid
    # (and, on the CPU, draws zero-weight categories); arraygrad refuses it
    with pytest.raises(ValueError, match="from 2 categories of nonzero weight"):
        ag.multinomial(ag.tensor([0.5, 0.0, 0.5]), 3)


# ------------------------------------------------------------------------ histogram
def test_histogram_counts_and_edges():
    x = ag.tensor([1.0, 2.0, 1.0, 4.0, 2.5, 3.0])
    hist, edges = ag.histogram(x, bins=4)
    assert hist.tolist() == [2.0, 1.0, 2.0, 1.0] and hist.dtype == ag.float32
    assert edges.tolist() == [1.0, 1.75, 2.5, 3.25, 4.0] and edges.dtype == ag.float32
    result = x.histogram(bins=ag.tensor([0.0, 2.0, 5.0]), weight=ag.full((6,), 2.0))
    assert result.hist.tolist() == [4.0, 8.0]
    dense = ag.histogram(x, bins=ag.tensor([0.0, 2.0, 5.0]), density=True)
    np.testing.assert_allclose(dense.hist.numpy(), [2 / 6 / 2, 4 / 6 / 3], rtol=1e-6)
    assert ag.histogram(x, 2, range=(0.0, 10.0)).hist.tolist() == [6.0, 0.0]
    assert ag.histogram(x, 2, weights=ag.ones(6)).hist.tolist() == [3.0, 3.0]  # NumPy's name
    assert ag.histogram(ag.tensor([1, 2, 2], dtype=ag.int64), 2).hist.tolist() == [1.0, 2.0]
    y = ag.tensor([1.0, 2.0], requires_grad=True)
    assert not ag.histogram(y, 2).hist.requires_grad
    with pytest.raises(ValueError, match="histogram: "):
        ag.histogram(ag.tensor([1.0, np.nan]), 3)


def test_histogram_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).normal(size=500).astype(np.float32)
    for kwargs in [{"bins": 10}, {"bins": 7, "range": (-1.0, 2.0)}, {"bins": 5, "density": True}]:
        ours = ag.histogram(ag.tensor(a), **kwargs)
        theirs = torch.histogram(torch.tensor(a), **kwargs)
        np.testing.assert_allclose(ours.hist.numpy(), theirs.hist.numpy(), rtol=1e-5)
        np.testing.assert_allclose(ours.bin_edges.numpy(), theirs.bin_edges.numpy(), rtol=1e-6)


# ----------------------------------------------------------- DataLoader of samples
def test_dataloader_takes_a_list_of_samples():
    from nn.train.data import DataLoader

    rng = np.random.default_rng(0)
    xs = [rng.normal(size=3).astype(np.float32) for _ in range(5)]
    pairs = [(x, i % 2) for i, x in enumerate(xs)]
    batches = list(DataLoader(pairs, batch_size=2))
    assert len(batches) == 3
    xb, yb = batches[0]
    assert xb.shape == (2, 3) and xb.dtype == ag.float32
    np.testing.assert_array_equal(xb.numpy(), np.stack(xs[:2]))
    assert yb.dtype == ag.int64 and yb.tolist() == [0, 1]
    assert batches[2][0].shape == (1, 3) and batches[2][1].tolist() == [0]
    # Python floats become float64 and Tensors are taken by their data, as in PyTorch's collate
    (fb, tb), *_ = DataLoader([(0.5, ag.tensor([1.0, 2.0])), (1.5, ag.tensor([3.0, 4.0]))], 2)
    assert fb.dtype == ag.float64 and fb.tolist() == [0.5, 1.5]
    assert tb.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    # seeded shuffling keeps each x with its y
    for xb, yb in DataLoader(pairs, 2, shuffle=True, seed=0):
        for row, label in zip(xb.numpy(), yb.tolist()):
            i = next(k for k, x in enumerate(xs) if np.array_equal(x, row))
            assert label == i % 2
    # a tuple of arrays is still columns, not samples
    (cx, cy), *_ = DataLoader((np.stack(xs), np.arange(5)), 5)
    assert cx.shape == (5, 3) and cy.tolist() == [0, 1, 2, 3, 4]


def test_dataloader_samples_that_do_not_fit():
    from nn.train.data import DataLoader

    with pytest.raises(ag.ShapeError, match="sample 1 has 1 fields, sample 0 has 2"):
        DataLoader([(np.zeros(2), 0), (np.zeros(2),)], 1)
    with pytest.raises(ag.ShapeError, match=r"field 0 of sample 1 has shape \(3,\), that of"):
        DataLoader([(np.zeros(2), 0), (np.zeros(3), 1)], 1)


def test_dataloader_samples_match_torch_default_collate():
    torch = pytest.importorskip("torch")
    from nn.train.data import DataLoader

    rng = np.random.default_rng(1)
    pairs = [(rng.normal(size=(2, 2)), int(rng.integers(10)), float(i)) for i in range(7)]
    ours = list(DataLoader(pairs, 3))
    theirs = list(torch.utils.data.DataLoader(pairs, batch_size=3))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        for field, ref in zip(a, b):
            assert str(field.dtype) == str(ref.dtype).removeprefix("torch.")
            np.testing.assert_array_equal(field.numpy(), ref.numpy())


# ---------------------------------------------------------------------------- devices
def test_new_functions_stay_on_the_device(accelerator):
    from .devices import assert_on

    m = ag.tensor([[1.0, 3.0, 3.0], [5.0, 2.0, 5.0]], device=accelerator, requires_grad=True)
    values, indices = m.max(dim=1)
    assert_on(values, accelerator, "max values")
    assert_on(indices, accelerator, "max indices")
    assert values.cpu().tolist() == [3.0, 5.0] and indices.cpu().tolist() == [1, 0]
    values.sum().backward()
    np.testing.assert_array_equal(m.grad.cpu().numpy(), [[0, 1, 0], [1, 0, 0]])
    hist, edges = ag.histogram(m.detach(), bins=2)
    assert_on(hist, accelerator, "hist")
    assert hist.cpu().tolist() == [2.0, 4.0] and edges.cpu().tolist() == [1.0, 3.0, 5.0]
    g = ag.Generator(accelerator).manual_seed(0)
    w = ag.tensor([[0.0, 1.0, 1.0]] * 3, device=accelerator)
    for replacement in (False, True):
        draws = ag.multinomial(w, 2, replacement, generator=g)
        assert_on(draws, accelerator, "multinomial")
        assert 0 not in draws.cpu().numpy()
    y = ag.log10(ag.tensor([10.0, 100.0], device=accelerator))
    assert_on(y, accelerator, "log10")
    np.testing.assert_allclose(y.cpu().numpy(), [1.0, 2.0], rtol=1e-6)
