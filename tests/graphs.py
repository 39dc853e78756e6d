"""Graphs several test files build: micrograd's README expression."""

from __future__ import annotations

from typing import Any

import autograd as ag


def expression(a: Any, b: Any) -> Any:
    """micrograd's README expression (its test_more_ops) on any numbers with + - * / ** and
    relu: tensors, or the dual numbers of test_micrograd.py."""
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
    return g


def micrograd() -> tuple[ag.Tensor, ag.Tensor, ag.Tensor]:
    """micrograd's README expression on float64 scalars; returns (a, b, g)."""
    a = ag.tensor(-4.0, dtype=ag.float64, requires_grad=True, name="a")
    b = ag.tensor(2.0, dtype=ag.float64, requires_grad=True, name="b")
    g = expression(a, b)
    g.name = "g"
    return a, b, g
