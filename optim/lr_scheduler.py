"""Learning-rate schedules, with PyTorch's names and meanings.

A scheduler sets the ``lr`` of every parameter group of an optimizer. Construct it after the
optimizer (that sets epoch 0's rate) and call ``scheduler.step()`` once per epoch, after the
epoch's ``optimizer.step()`` calls::

    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, optimizer)
        scheduler.step()

Each schedule is a closed form of the epoch t and of each group's base rate lr₀ (its ``lr``
when the first scheduler was made, kept in the group as ``"initial_lr"``). A scheduler alone
on its optimizer sets exactly that closed form. Schedulers compose as PyTorch's do: when a
group's ``lr`` is not what the scheduler set last (another scheduler on the same optimizer,
or a change by hand), it switches, for that group, to PyTorch's chainable form, which moves
the current rate by the schedule's own step (``StepLR`` multiplies it by ``gamma`` at each
step boundary, ``LinearLR`` by the ratio of consecutive factors, ``CosineAnnealingLR`` follows
PyTorch's recursion); so ``LinearLR`` then ``StepLR`` on one optimizer multiply their factors,
exactly as in PyTorch. ``LambdaLR`` is a closed form in PyTorch too: it overwrites ``lr``. To
run schedules one after another (a linear warm-up, then a decay) use ``SequentialLR``.
``ReduceLROnPlateau`` instead reacts to a measured metric (it scales the current rate).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Any

from autograd.compiler import replayed_whole

from .optimizer import Optimizer, check_number


class _Scheduler:
    """What every scheduler shares: its optimizer, the last rates it set, saving and loading."""

    _last_lr: list[float]

    def __init__(self, optimizer: Optimizer) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer

    def get_last_lr(self) -> list[float]:
        """The learning rates after the last ``step()``, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state (everything but the optimizer), for ``load_state_dict``."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by ``state_dict()``."""
        self.__dict__.update(state_dict)


class LRScheduler(_Scheduler):
    """Base class of the closed-form schedules: a subclass gives ``lr_at(epoch)``, and
    ``chained(i, lr, epoch)`` if its chainable form is not the ratio of consecutive closed
    forms (see the module docstring)."""

    # Whether the schedule composes with other changes of lr (PyTorch's chainable form);
    # False: it overwrites lr with its closed form (PyTorch's LambdaLR).
    chainable: bool = True

    def __init__(self, optimizer: Optimizer) -> None:
        super().__init__(optimizer)
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self._set_lrs: list[float] = list(self.base_lrs)  # the rates as this scheduler left them
        self._chained = [False] * len(self.base_lrs)  # groups whose lr was changed elsewhere
        self.step()

    def lr_at(self, epoch: int) -> list[float]:
        """The learning rate of each parameter group at ``epoch`` (0, 1, ...)."""
        raise NotImplementedError

    def chained(self, i: int, lr: float, epoch: int) -> float:
        """PyTorch's chainable form: group ``i``'s rate at ``epoch`` from its current ``lr``
        (the rate at ``epoch - 1``, as changed by others): ``lr`` times the schedule's factor
        from ``epoch - 1`` to ``epoch``."""
        now = self.lr_at(epoch)[i]
        before = self.lr_at(epoch - 1)[i] if epoch else self.base_lrs[i]
        return now if before == 0 else lr * (now / before)

    @replayed_whole
    def step(self) -> None:
        """Advance one epoch and set each group's ``lr`` to the schedule's value (the closed
        form, or the chainable form for a group whose ``lr`` was changed elsewhere)."""
        self.last_epoch += 1
        lrs = self.lr_at(self.last_epoch)
        if self.chainable:
            for i, (group, last) in enumerate(zip(self.optimizer.param_groups, self._set_lrs)):
                if group["lr"] != last:
                    self._chained[i] = True
                if self._chained[i]:
                    lrs[i] = self.chained(i, group["lr"], self.last_epoch)
        self._last_lr = lrs
        self._set_lrs = list(lrs)
        self._apply()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by ``state_dict()``, and the learning rates it had set."""
        super().load_state_dict(state_dict)
        if "_set_lrs" not in state_dict:  # saved before schedulers composed
            self._set_lrs = list(self._last_lr)
            self._chained = [False] * len(self._last_lr)
        self._apply()

    def _apply(self) -> None:
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr


class StepLR(LRScheduler):
    """lr = lr₀ · gamma^⌊t / step_size⌋: decay by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        check_number("StepLR", "step_size", step_size, 1, integer=True)
        check_number("StepLR", "gamma", gamma, low_open=True)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> list[float]:
        return [base * self.gamma ** (epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = lr₀ · gamma^k, k = how many of ``milestones`` are <= t (decay at each milestone)."""

    def __init__(self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1) -> None:
        milestones = list(milestones)
        for i, m in enumerate(milestones):
            check_number("MultiStepLR", f"milestones[{i}]", m, integer=True)
        check_number("MultiStepLR", "gamma", gamma, low_open=True)
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> list[float]:
        k = bisect.bisect_right(self.milestones, epoch)
        return [base * self.gamma**k for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = lr₀ · gamma^t."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        check_number("ExponentialLR", "gamma", gamma, low_open=True)
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> list[float]:
        return [base * self.gamma**epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (lr₀ − eta_min) · (1 + cos(π t / T_max)) / 2 (SGDR without restarts).

    It reaches ``eta_min`` at t = T_max and, past it, rises again along the same cosine.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        check_number("CosineAnnealingLR", "T_max", T_max, 1, integer=True)
        check_number("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> list[float]:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]

    def chained(self, i: int, lr: float, epoch: int) -> float:
        """PyTorch's recursion: the distance to ``eta_min`` scaled by the ratio of
        consecutive cosines, and a fixed rise where the cosine turns at its minimum."""
        if epoch == 0:
            return lr
        t, eta = self.T_max, self.eta_min
        if (epoch - 1 - t) % (2 * t) == 0:
            return lr + (self.base_lrs[i] - eta) * (1 - math.cos(math.pi / t)) / 2
        ratio = (1 + math.cos(math.pi * epoch / t)) / (1 + math.cos(math.pi * (epoch - 1) / t))
        return ratio * (lr - eta) + eta


class LambdaLR(LRScheduler):
    """lr = lr₀ · lr_lambda(t); ``lr_lambda`` is one function, or a list of one per group."""

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
    ) -> None:
        lambdas = _per_group("LambdaLR", "lr_lambda", lr_lambda, optimizer)
        if not all(callable(f) for f in lambdas):
            raise TypeError("LambdaLR: lr_lambda must be a function of the epoch (or a list)")
        self.lr_lambdas = lambdas
        super().__init__(optimizer)

    chainable = False  # PyTorch's LambdaLR sets its closed form too

    def lr_at(self, epoch: int) -> list[float]:
        return [base * f(epoch) for base, f in zip(self.base_lrs, self.lr_lambdas)]

    def state_dict(self) -> dict[str, Any]:
        """The state without the functions (often lambdas, which cannot be pickled)."""
        return {k: v for k, v in super().state_dict().items() if k != "lr_lambdas"}


class LinearLR(LRScheduler):
    """Linear warm-up (or decay) of the factor: lr = lr₀ · (start_factor + (end_factor −
    start_factor) · min(t, total_iters) / total_iters), then constant at lr₀ · end_factor.

    A warm-up from lr₀/100 over 5 epochs, then a cosine decay over 95::

        warmup = LinearLR(optimizer, start_factor=0.01, total_iters=5)
        decay = CosineAnnealingLR(optimizer, T_max=95)
        scheduler = SequentialLR(optimizer, [warmup, decay], milestones=[5])
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        check_number("LinearLR", "start_factor", start_factor, high=1.0, low_open=True)
        check_number("LinearLR", "end_factor", end_factor, high=1.0)
        check_number("LinearLR", "total_iters", total_iters, 1, integer=True)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> list[float]:
        progress = min(epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base * factor for base in self.base_lrs]


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another: the k-th takes over at epoch ``milestones[k-1]``
    and counts its own epochs from 0 there. The schedulers must drive ``optimizer``; they are
    stepped through this one, never on their own."""

    def __init__(
        self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int]
    ) -> None:
        schedulers, milestones = list(schedulers), list(milestones)
        if not schedulers:
            raise ValueError("SequentialLR: expected at least one scheduler")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler) or s.optimizer is not optimizer:
                raise ValueError(
                    f"SequentialLR: schedulers[{i}] must be a closed-form scheduler "
                    f"(LRScheduler) of the same optimizer, got {type(s).__name__}"
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: expected {len(schedulers) - 1} milestones for "
                f"{len(schedulers)} schedulers, got {len(milestones)}"
            )
        for i, m in enumerate(milestones):
            check_number("SequentialLR", f"milestones[{i}]", m, 1, integer=True)
        if milestones != sorted(set(milestones)):
            raise ValueError(f"SequentialLR: milestones must increase, got {milestones}")
        self.schedulers, self.milestones = schedulers, milestones
        for group in optimizer.param_groups:  # as PyTorch: start again from the base rates
            group["lr"] = group["initial_lr"]
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> list[float]:
        k = bisect.bisect_right(self.milestones, epoch)
        start = self.milestones[k - 1] if k else 0
        return self.schedulers[k].lr_at(epoch - start)

    def chained(self, i: int, lr: float, epoch: int) -> float:
        """The running scheduler's chainable form; at a milestone the next one starts from
        its closed form (PyTorch's SequentialLR)."""
        k = bisect.bisect_right(self.milestones, epoch)
        local = epoch - (self.milestones[k - 1] if k else 0)
        child = self.schedulers[k]
        if local == 0 or not child.chainable:
            return child.lr_at(local)[i]
        return child.chained(i, lr, local)

    def state_dict(self) -> dict[str, Any]:
        """The state, with each scheduler's own state dict in place of the scheduler."""
        state = super().state_dict()
        state["schedulers"] = [s.state_dict() for s in self.schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        for s, saved in zip(self.schedulers, state.pop("schedulers")):
            s.load_state_dict(saved)
        super().load_state_dict(state)


class ReduceLROnPlateau(_Scheduler):
    """Divide the learning rate when a metric stops improving (PyTorch's rules).

    Call ``step(metric)`` once per epoch with the value watched (a validation loss with
    ``mode="min"``, an accuracy with ``mode="max"``). A value improves on the best so far when
    it beats it by more than ``threshold`` (relative: best · (1 ∓ threshold); absolute:
    best ∓ threshold). After more than ``patience`` epochs in a row without improvement, each
    group's ``lr`` becomes max(lr · factor, min_lr) (changes smaller than ``eps`` are skipped),
    then ``cooldown`` epochs pass before bad epochs are counted again.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(optimizer)
        name = "ReduceLROnPlateau"
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        check_number(name, "factor", factor, high=1.0, high_open=True)
        check_number(name, "patience", patience, integer=True)
        check_number(name, "threshold", threshold)
        check_number(name, "cooldown", cooldown, integer=True)
        check_number(name, "eps", eps)
        min_lrs = _per_group(name, "min_lr", min_lr, optimizer)
        for i, m in enumerate(min_lrs):
            check_number(name, f"min_lr[{i}]", m)
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lrs, self.eps = cooldown, min_lrs, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, value: float, best: float) -> bool:
        """Whether ``value`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return value < best * (1 - self.threshold)
            return value < best - self.threshold
        if self.threshold_mode == "rel":
            return value > best * (1 + self.threshold)
        return value > best + self.threshold

    @replayed_whole
    def step(self, metrics: float) -> None:
        """Record one epoch's value of the watched metric, and reduce the rates if it is time."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


def _per_group(owner: str, what: str, value: Any, optimizer: Any) -> list[Any]:
    """``value`` for each parameter group: a list or tuple of one per group, or one for all."""
    _check_optimizer(owner, optimizer)
    n = len(optimizer.param_groups)
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n
    if len(values) != n:
        raise ValueError(
            f"{owner}: expected {n} {what}s (one per parameter group), got {len(values)}"
        )
    return values


def _check_optimizer(owner: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner}: expected an optim.Optimizer, got {type(optimizer).__name__}")
