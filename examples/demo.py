"""A short tour of the engine: the scalar engine, a tensor network trained by hand, gradients
checked by finite differences, and a Hessian.

Run:  python examples/demo.py
"""

from __future__ import annotations

import time

import numpy as np

import autograd as ag
from autograd import functional


def scalars() -> None:
    print("1. Scalars (0-d tensors), micrograd's README example")
    a = ag.tensor(-4.0, dtype=ag.float64, requires_grad=True)
    b = ag.tensor(2.0, dtype=ag.float64, requires_grad=True)
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
    g.backward()
    print(f"   g = {g:.4f}   dg/da = {a.grad:.4f}   dg/db = {b.grad:.4f}")


def tensors() -> None:
    print("2. A one-hidden-layer network on a noisy sine, trained with plain gradient descent")
    ag.manual_seed(0)
    x = ag.linspace(-3, 3, 256).reshape(-1, 1)
    y = x.sin() + 0.1 * ag.randn(256, 1)
    w1 = (ag.randn(1, 32) * 1.0).requires_grad_()
    b1 = ag.zeros(32, requires_grad=True)
    w2 = (ag.randn(32, 1) * 0.2).requires_grad_()
    b2 = ag.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]
    start = time.perf_counter()
    for step in range(2001):
        pred = (x @ w1 + b1).tanh() @ w2 + b2
        loss = ((pred - y) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with ag.no_grad():
            for p in params:
                p.data -= 0.05 * p.grad.data
        if step % 500 == 0:
            print(f"   step {step:4d}   mse {loss.item():.4f}")
    print(f"   {time.perf_counter() - start:.2f} s for 2000 steps (the noise variance is 0.0100)")


def checks() -> None:
    print("3. Gradients checked against central finite differences (float64)")
    x = ag.randn(3, 4, dtype=ag.float64, requires_grad=True)
    w = ag.randn(4, 2, dtype=ag.float64, requires_grad=True)

    def layer(x: ag.Tensor, w: ag.Tensor) -> ag.Tensor:
        return (x @ w).tanh().log_softmax(axis=1)

    print(
        f"   gradcheck: {ag.gradcheck(layer, [x, w])}   "
        f"gradgradcheck: {ag.gradgradcheck(layer, [x, w])}"
    )

    print("4. Higher order: the Hessian of f(v) = sum(v^3) is diag(6 v)")
    v = ag.tensor([1.0, -2.0, 0.5], dtype=ag.float64)
    hessian = functional.hessian(lambda t: (t**3).sum(), v)
    print("  ", np.array2string(hessian.numpy() + 0.0, prefix="   "))  # + 0.0: no -0.


def main() -> None:
    scalars()
    tensors()
    checks()


if __name__ == "__main__":
    main()
