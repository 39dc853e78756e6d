"""Graphs several test files build: micrograd's README expression."""

from __future__ import annotations

import autograd as ag


def micrograd() -> tuple[ag.Tensor, ag.Tensor, ag.Tensor]:
    """micrograd's README expression on float64 scalars; returns (a, b, g)."""

    def value(x: float, name: str) -> ag.Tensor:
        return ag.tensor(x, dtype=ag.float64, requires_grad=True, name=name)

    a, b = value(-4.0, "a"), value(2.0, "b")
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.name = "g"
    return a, b, g
