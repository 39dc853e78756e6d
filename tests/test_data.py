"""nn.data: TensorDataset, DataLoader (batching invariants, seeded shuffling, devices) and
train_val_split."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from nn.data import DataLoader, TensorDataset, train_val_split

from .devices import assert_on

sizes = st.integers(1, 50)
batch_sizes = st.integers(1, 60)
seeds = st.integers(0, 2**63)


def samples(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows that name themselves: x[i] = (i, i + 0.5, -i), y[i] = i."""
    i = np.arange(n)
    return np.stack([i, i + 0.5, -i], axis=1).astype(np.float32), i


def epoch(loader: DataLoader) -> np.ndarray:
    """The sample ids of one pass, in the order the loader gave them (the ids are ``y``, or
    the batches themselves for a loader of one array)."""
    return np.concatenate([(b[1] if isinstance(b, tuple) else b).numpy() for b in loader])


# ---------------------------------------------------------------------- batching invariants
@given(n=sizes, batch_size=batch_sizes, shuffle=st.booleans(), drop_last=st.booleans(), seed=seeds)
def test_every_sample_once_per_epoch_in_full_batches(n, batch_size, shuffle, drop_last, seed):
    x, y = samples(n)
    loader = DataLoader((x, y), batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    kept = n - n % batch_size if drop_last else n
    assert len(loader) == (n // batch_size if drop_last else math.ceil(n / batch_size))
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader)
        ids = []
        for k, (xb, yb) in enumerate(batches):
            assert isinstance(xb, ag.Tensor) and isinstance(yb, ag.Tensor)
            assert xb.dtype == np.float32 and yb.dtype == np.int64
            assert xb.device == "cpu" and not xb.requires_grad
            last = k == len(batches) - 1
            size = batch_size if not last or n % batch_size == 0 or drop_last else n % batch_size
            assert xb.shape == (size, 3) and yb.shape == (size,)
            np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])  # rows stay together
            ids.extend(yb.numpy().tolist())
        assert len(ids) == kept and len(set(ids)) == kept
        if not drop_last:
            assert sorted(ids) == list(range(n))
        if not shuffle:
            assert ids == list(range(kept))


@given(n=st.integers(20, 80), batch_size=batch_sizes, seed=seeds)
def test_a_seed_fixes_the_order_of_every_epoch(n, batch_size, seed):
    x, y = samples(n)
    first = DataLoader((x, y), batch_size, shuffle=True, seed=seed)
    second = DataLoader((x, y), batch_size, shuffle=True, seed=seed)
    orders = [epoch(first) for _ in range(3)]
    assert all(np.array_equal(a, epoch(second)) for a in orders)  # the same run, twice
    assert not np.array_equal(orders[0], orders[1])  # a new order each epoch
    resumed = DataLoader((x, y), batch_size, shuffle=True, seed=seed)
    resumed.set_epoch(2)
    np.testing.assert_array_equal(epoch(resumed), orders[2])  # epoch 2 without epochs 0, 1
    other = DataLoader((x, y), batch_size, shuffle=True, seed=seed + 1)
    assert not np.array_equal(epoch(other), orders[0])


def test_an_early_break_does_not_change_later_epochs():
    _, y = samples(30)
    full, broken = (DataLoader(y, 4, shuffle=True, seed=7) for _ in range(2))
    list(full)
    next(iter(broken))
    np.testing.assert_array_equal(epoch(full), epoch(broken))


def test_without_a_seed_the_order_follows_autograd_seeding():
    _, y = samples(40)
    ag.manual_seed(3)
    a = [epoch(DataLoader(y, 8, shuffle=True)) for _ in range(2)]
    ag.manual_seed(3)
    b = [epoch(DataLoader(y, 8, shuffle=True)) for _ in range(2)]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], a[1])
    generator = ag.Generator().manual_seed(5)
    c = epoch(DataLoader(y, 8, shuffle=True, generator=generator))
    generator.manual_seed(5)
    np.testing.assert_array_equal(c, epoch(DataLoader(y, 8, shuffle=True, generator=generator)))
    assert sorted(c) == list(range(40))


def test_forms_of_data():
    x, y = samples(10)
    single = list(DataLoader(x, 4))
    assert [b.shape for b in single] == [(4, 3), (4, 3), (2, 3)]
    assert all(isinstance(b, ag.Tensor) for b in single)
    (_, yb), *_ = DataLoader([x, y], 4)  # a list works like a tuple
    np.testing.assert_array_equal(yb.numpy(), [0, 1, 2, 3])
    (only,), *_ = DataLoader(TensorDataset(y), 4)  # a dataset of one array gives 1-tuples
    assert only.shape == (4,)
    (tb, lb), *_ = DataLoader((ag.tensor(x), [[0], [1]] * 5), 3)  # Tensors and lists
    assert tb.dtype == np.float32 and lb.dtype == np.int64 and lb.shape == (3, 1)


def test_batches_are_copies():
    x, _ = samples(6)
    original = x.copy()
    for batch in DataLoader(x, 2):
        batch.data[0] = -1.0  # writing to a batch must not write to the dataset
    np.testing.assert_array_equal(x, original)


def test_tensor_dataset():
    x, y = samples(5)
    data = TensorDataset(x, ag.tensor(y))
    assert len(data) == 5
    xi, yi = data[2]
    np.testing.assert_array_equal(xi, x[2])
    assert yi == 2
    _, ys = data[np.array([4, 0])]
    np.testing.assert_array_equal(ys, [4, 0])
    assert repr(data) == "TensorDataset((5, 3) float32, (5,) int64)"


@pytest.mark.parametrize(
    "arrays, error, message",
    [
        ((), ValueError, "at least one array"),
        ((np.zeros(3), np.zeros(4)), ag.ShapeError, r"shapes \(3,\), \(4,\)"),
        ((np.float32(1.0),), ag.ShapeError, "first axis"),
    ],
)
def test_tensor_dataset_errors(arrays, error, message):
    with pytest.raises(error, match=message):
        TensorDataset(*arrays)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"batch_size": 0}, ValueError, "at least 1"),
        ({"batch_size": 2.0}, TypeError, "must be an int"),
        ({"batch_size": True}, TypeError, "must be an int"),
        ({"batch_size": 2, "seed": 1, "generator": ag.Generator()}, ValueError, "not both"),
        ({"batch_size": 2, "seed": -1}, ValueError, "seed must be an int >= 0"),
    ],
)
def test_loader_argument_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(np.zeros(4), **kwargs)


# ---------------------------------------------------------------------------------- devices
# ``accelerator`` (conftest.py): the fake device of fake_device.py, which refuses NumPy arrays
# and computes only on its current device as CuPy does, and CUDA where there is a GPU.
def test_host_data_are_copied_to_the_device_asked_for(accelerator):
    x, y = samples(5)
    ids = []
    for xb, yb in DataLoader((x, y), 2, shuffle=True, seed=0, device=accelerator):
        assert_on(xb, accelerator, "x batch")
        assert_on(yb, accelerator, "y batch")
        assert xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.cpu().numpy(), x[yb.cpu().numpy()])
        ids.extend(yb.cpu().numpy().tolist())
    assert sorted(ids) == list(range(5))


def test_device_data_stay_on_their_device_and_are_never_moved_off_it(accelerator):
    x, y = samples(6)
    on_device = (ag.tensor(x).to(accelerator), ag.tensor(y).to(accelerator).data)  # Tensor, array
    ids = []
    for xb, yb in DataLoader(on_device, 4, shuffle=True, seed=1, device=accelerator):
        assert_on(xb, accelerator, "x batch")
        assert_on(yb, accelerator, "y batch")
        np.testing.assert_array_equal(xb.cpu().numpy()[:, 0], yb.cpu().numpy())
        ids.extend(yb.cpu().numpy().tolist())
    assert sorted(ids) == list(range(6))
    where = ag.tensor(y).to(accelerator).device
    with pytest.raises(ag.DeviceError, match=rf"the data are on {where}.*pass device='{where}'"):
        DataLoader(on_device, 4)  # device="cpu" by default: no silent copy back to the host
    with pytest.raises(ag.DeviceError, match="CPU generator"):
        DataLoader(on_device, 4, shuffle=True, generator=ag.Generator(accelerator))


def test_train_val_split_of_device_data_stays_on_the_device(accelerator):
    x, y = samples(10)
    parts = train_val_split(
        ag.tensor(x).to(accelerator), ag.tensor(y).to(accelerator).data, 0.3, seed=4
    )
    host = train_val_split(x, y, 0.3, seed=4)
    for got, want in zip(parts, host, strict=True):
        got = got if isinstance(got, ag.Tensor) else ag.Tensor(got)  # x: Tensors, y: arrays
        assert_on(got, accelerator, "a part")
        np.testing.assert_array_equal(got.cpu().numpy(), want)


@pytest.mark.skipif(ag.cuda.is_available(), reason="a real GPU is there")
def test_an_unavailable_device_is_an_error_up_front():
    with pytest.raises(ag.DeviceError):
        DataLoader(np.zeros(4), 2, device="cuda")


# --------------------------------------------------------------------------- train_val_split
@given(n=st.integers(2, 200), fraction=st.floats(0.01, 0.99), seed=seeds)
def test_train_val_split_partitions_the_rows(n, fraction, seed):
    x, y = samples(n)
    if math.ceil(fraction * n) >= n:
        with pytest.raises(ValueError, match="no training data"):
            train_val_split(x, y, fraction, seed)
        return
    x_train, x_val, y_train, y_val = train_val_split(x, y, fraction, seed)
    assert len(y_val) == math.ceil(fraction * n) and len(y_train) == n - len(y_val)
    assert sorted([*y_train, *y_val]) == list(range(n))
    assert list(y_train) == sorted(y_train) and list(y_val) == sorted(y_val)  # order kept
    np.testing.assert_array_equal(x_train, x[y_train])
    np.testing.assert_array_equal(x_val, x[y_val])
    again = train_val_split(x, y, fraction, seed)
    np.testing.assert_array_equal(again[3], y_val)


def test_train_val_split_holds_out_islr_s_20_percent():
    x, y = samples(60_000)
    x_train, x_val, _, y_val = train_val_split(x, y)
    assert (len(x_train), len(x_val)) == (48_000, 12_000)
    assert not np.array_equal(train_val_split(x, y, seed=1)[3], y_val)


def test_train_val_split_keeps_the_kind_of_its_inputs():
    x, y = samples(10)
    parts = train_val_split(ag.tensor(x), [int(v) for v in y], 0.3, seed=2)
    assert isinstance(parts[0], ag.Tensor) and parts[0].shape == (7, 3)
    assert isinstance(parts[1], ag.Tensor) and parts[1].shape == (3, 3)
    assert isinstance(parts[2], np.ndarray) and parts[2].dtype == np.int64


@pytest.mark.parametrize(
    "args, message",
    [
        ((np.zeros(3), np.zeros(4)), "x has 3 rows but y has 4"),
        ((np.zeros(3), np.zeros(3), 0.0), r"must be in \(0, 1\)"),
        ((np.zeros(3), np.zeros(3), 1.0), r"must be in \(0, 1\)"),
    ],
)
def test_train_val_split_errors(args, message):
    with pytest.raises(ValueError, match=message):
        train_val_split(*args)
