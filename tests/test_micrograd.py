"""micrograd's README example and its two engine tests, written with 0-d float64 tensors.

The expected numbers are computed independently: forward-mode dual numbers over exact
rationals (``fractions.Fraction``), a different method from reverse mode, with no rounding.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

import autograd as ag

from .graphs import expression


class Dual:
    """value + derivative * eps with eps^2 = 0, over exact rationals."""

    def __init__(self, value, derivative=0):
        self.v, self.d = Fraction(value), Fraction(derivative)

    @staticmethod
    def of(x):
        return x if isinstance(x, Dual) else Dual(x)

    def __add__(self, o):
        o = Dual.of(o)
        return Dual(self.v + o.v, self.d + o.d)

    __radd__ = __add__

    def __neg__(self):
        return Dual(-self.v, -self.d)

    def __sub__(self, o):
        return self + -Dual.of(o)

    def __rsub__(self, o):
        return Dual.of(o) - self

    def __mul__(self, o):
        o = Dual.of(o)
        return Dual(self.v * o.v, self.d * o.v + self.v * o.d)

    __rmul__ = __mul__

    def __truediv__(self, o):
        o = Dual.of(o)
        return Dual(self.v / o.v, (self.d * o.v - self.v * o.d) / (o.v * o.v))

    def __rtruediv__(self, o):
        return Dual.of(o) / self

    def __pow__(self, n: int):
        return Dual(self.v**n, n * self.v ** (n - 1) * self.d)

    def relu(self):
        assert self.v != 0  # the examples never sit on the kink
        return self if self.v > 0 else Dual(0, 0)


def sanity_check(x):
    """micrograd's test_sanity_check."""
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def scalar(v: float) -> ag.Tensor:
    return ag.tensor(v, dtype=ag.float64, requires_grad=True)


def test_sanity_check():
    x = scalar(-4.0)
    y = sanity_check(x)
    y.backward()
    exact = sanity_check(Dual(-4, 1))
    assert y.item() == pytest.approx(float(exact.v), rel=1e-12)
    assert x.grad.item() == pytest.approx(float(exact.d), rel=1e-12)
    assert (y.item(), x.grad.item()) == (-20.0, 46.0)


def test_more_ops_and_readme_example():
    a, b = scalar(-4.0), scalar(2.0)
    g = expression(a, b)
    g.backward()
    by_a = expression(Dual(-4, 1), Dual(2, 0))
    by_b = expression(Dual(-4, 0), Dual(2, 1))
    assert g.item() == pytest.approx(float(by_a.v), rel=1e-12)
    assert a.grad.item() == pytest.approx(float(by_a.d), rel=1e-12)
    assert b.grad.item() == pytest.approx(float(by_b.d), rel=1e-12)
    # what micrograd's README prints
    assert (f"{g.data:.4f}", f"{a.grad:.4f}", f"{b.grad:.4f}") == (
        "24.7041",
        "138.8338",
        "645.5773",
    )
