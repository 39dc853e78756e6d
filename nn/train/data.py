"""Mini-batches for training: ``TensorDataset``, ``DataLoader`` and ``train_val_split``.

The data stay where they are (NumPy arrays on the host, or arrays already on a GPU). A
``DataLoader`` gathers each mini-batch with one integer index and hands it out as autograd
Tensors on the device it was asked for:

    loader = DataLoader((x_train, y_train), batch_size=128, shuffle=True, seed=0)
    for epoch in range(30):
        for x, y in loader:  # a new order every epoch, the same orders on every run
            ...
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

import autograd
from autograd.backend import Device, backend_for, backend_of, is_array
from autograd.errors import DeviceError, ShapeError
from autograd.tensor import Tensor

__all__ = ["DataLoader", "TensorDataset", "train_val_split"]


class TensorDataset:
    """Arrays that share their first axis, indexed together: ``TensorDataset(x, y)[i]`` is
    ``(x[i], y[i])``, and an integer array ``i`` selects a batch of rows.

    Takes NumPy (or CuPy) arrays as they are, Tensors by their data (no copy, no graph), and
    anything else through ``numpy.asarray`` (so lists of ints stay ints).
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = tuple(_as_array(a) for a in arrays)
        lengths = {a.shape[0] if a.ndim else None for a in self.arrays}
        if len(lengths) != 1 or None in lengths:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ShapeError(
                f"TensorDataset: the arrays must have the same length along their first axis "
                f"(one row per sample), got shapes {shapes}"
            )

    def __len__(self) -> int:
        return int(self.arrays[0].shape[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        return tuple(_take(a, index) for a in self.arrays)

    def __repr__(self) -> str:
        parts = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"TensorDataset({parts})"


class DataLoader:
    """The samples of ``data`` in mini-batches of ``batch_size``, as Tensors on ``device``.

    ``data`` is a :class:`TensorDataset` or a tuple of arrays (each batch is then a tuple of
    Tensors, ``for x, y in loader``), or a single array (each batch is a Tensor), or, as in
    PyTorch, a list of samples that are tuples (``[(x0, y0), (x1, y1), ...]``, the fields
    arrays, numbers or Tensors): each field is stacked, as PyTorch's default collate does
    (Python floats become float64, ints int64), and each batch is a tuple of Tensors. One pass over
    the loader is one epoch: every sample exactly once, the last batch smaller unless
    ``drop_last`` drops it. ``len(loader)`` is the number of batches per epoch.

    Shuffling (``shuffle=True``) draws a new order for every epoch:

    - with ``seed``, epoch ``e`` (counted from 0, one per pass; :meth:`set_epoch` jumps) is
      ordered by a permutation that depends only on ``(seed, e)``: runs repeat exactly, and a
      run resumed at epoch ``e`` sees the orders it would have seen;
    - with ``generator`` (a CPU :class:`autograd.Generator`), the orders are drawn from it in
      turn; with neither, from autograd's default CPU generator (``autograd.manual_seed``).

    ``device``: where the batches go. Data on the host are copied there batch by batch (the
    copy this argument asks for); data already on a device must be on ``device``: the loader
    never moves them anywhere else.
    """

    def __init__(
        self,
        data: Any,
        batch_size: int,
        *,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        generator: autograd.Generator | None = None,
        device: str | Device = "cpu",
    ) -> None:
        if _is_sample_sequence(data):  # [(x0, y0), (x1, y1), ...]: PyTorch's form
            data = _collate(data)
        self.single = not isinstance(data, (TensorDataset, tuple, list))
        if isinstance(data, TensorDataset):
            self.dataset = data
        else:
            self.dataset = TensorDataset(*((data,) if self.single else data))
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give either seed or generator, not both")
        if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"DataLoader: seed must be an int >= 0, got {seed!r}")
        if generator is not None and generator.device != "cpu":
            raise DeviceError(
                f"DataLoader: the sample order is drawn on the host; pass a CPU generator, "
                f"not one for {generator.device}"
            )
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.generator = generator
        self.device = Device(device)
        self.epoch = 0
        backend_for(self.device)  # a DeviceError now if that device is not available
        for a in self.dataset.arrays:
            where = backend_of(a).device_of(a)
            if where != self.device and where != "cpu":
                raise DeviceError(
                    f"DataLoader(device='{self.device}'): the data are on {where}. The loader "
                    f"copies host data to the device it is given but never moves data off a "
                    f"device: pass device='{where}', or copy the data to the host first"
                )

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass epoch ``epoch`` (for the order of ``seed``-ed shuffling)."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[Any]:
        order = self._order()
        self.epoch += 1
        stop = len(self) * self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            rows = order[start : start + self.batch_size]
            batch = tuple(self._tensor(a) for a in self.dataset[rows])
            yield batch[0] if self.single else batch

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        if self.seed is not None:
            return np.random.default_rng([self.seed, self.epoch]).permutation(n)
        generator = self.generator or autograd.default_generator("cpu")
        return autograd.randperm(n, generator=generator).numpy()

    def _tensor(self, array: Any) -> Tensor:
        t = Tensor(array)
        return t if t.device == self.device else t.to(device=self.device)

    def __repr__(self) -> str:
        return (
            f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, seed={self.seed}, device='{self.device}')"
        )


def train_val_split(x: Any, y: Any, val_fraction: float = 0.2, seed: int = 0) -> tuple[Any, ...]:
    """Hold out a random part of the samples for validation: ``x_train, x_val, y_train,
    y_val = train_val_split(x, y)``, in the order of scikit-learn's ``train_test_split``.

    ``ceil(val_fraction * n)`` rows (scikit-learn's rounding; ISLR's lab holds out 20%) are
    chosen by a permutation seeded with ``seed``; both parts keep the original order of their
    rows. Arrays stay arrays and Tensors stay Tensors; lists become NumPy arrays.
    """
    x, y = (a if isinstance(a, Tensor) else _as_array(a) for a in (x, y))
    n = len(x)
    if len(y) != n:
        raise ShapeError(f"train_val_split: x has {n} rows but y has {len(y)}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"train_val_split: val_fraction must be in (0, 1), got {val_fraction}")
    n_val = math.ceil(val_fraction * n)
    if n_val >= n:
        raise ValueError(
            f"train_val_split: val_fraction={val_fraction} of {n} samples leaves no training data"
        )
    order = np.random.default_rng(seed).permutation(n)
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    return _take(x, train), _take(x, val), _take(y, train), _take(y, val)


def _is_sample_sequence(data: Any) -> bool:
    """Whether ``data`` is a list (or tuple) of samples, each a tuple of fields, rather than
    a tuple of arrays that share their first axis."""
    return (
        isinstance(data, (list, tuple))
        and len(data) > 0
        and all(isinstance(sample, tuple) for sample in data)
    )


def _collate(samples: Any) -> tuple[Any, ...]:
    """The samples' fields stacked: ``[(x0, y0), (x1, y1)]`` -> ``(stack([x0, x1]),
    stack([y0, y1]))``, with an error naming the first sample that does not fit."""
    width = len(samples[0])
    for i, sample in enumerate(samples):
        if len(sample) != width:
            raise ShapeError(
                f"DataLoader: sample {i} has {len(sample)} fields, sample 0 has {width}; every "
                f"sample must be a tuple of the same fields (x, y, ...)"
            )
    fields = []
    for j in range(width):
        values = [_as_array(sample[j]) for sample in samples]
        shape = values[0].shape
        for i, v in enumerate(values):
            if v.shape != shape:
                raise ShapeError(
                    f"DataLoader: field {j} of sample {i} has shape {v.shape}, that of sample "
                    f"0 has shape {shape}; samples are stacked, so each field needs one shape"
                )
        backend = backend_of(values[0])
        if any(backend_of(v) is not backend for v in values):
            raise DeviceError(
                f"DataLoader: field {j} of the samples mixes arrays of different devices"
            )
        with backend.guard(values[0]):
            fields.append(backend.xp.stack(values))
    return tuple(fields)


def _as_array(data: Any) -> Any:
    if isinstance(data, Tensor):
        return data.data
    return data if is_array(data) else np.asarray(data)


def _take(array: Any, index: Any) -> Any:
    """``array[index]``; for an array on a device, the NumPy ``index`` is copied there first
    and the gather runs on that device."""
    if isinstance(array, Tensor) or not isinstance(index, np.ndarray):
        return array[index]
    backend = backend_of(array)
    if backend.device_type == "cpu":
        return array[index]
    device = backend.device_of(array)
    with backend.device_context(device):
        return array[backend.asarray(index, device=device)]
