"""autograd.functional: vjp, jvp, jacobian, hessian, hvp, vhp against closed forms (NumPy)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd import functional as F

RNG = np.random.default_rng(1234)
X3 = np.array([0.3, -1.2, 0.7])
Y3 = np.array([1.1, 0.4, -0.5])
A23 = np.array([[1.0, -2.0, 0.5], [0.3, 4.0, -1.5]])
A33 = np.array([[2.0, -1.0, 0.5], [3.0, 1.0, -4.0], [0.25, 1.5, -2.0]])  # not symmetric
V3 = np.array([0.5, -2.0, 1.5])


def t64(values, requires_grad=False):
    return ag.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def close(t, expected, atol=1e-12):
    """``t`` is a float64 Tensor with the shape and values of ``expected``."""
    assert isinstance(t, ag.Tensor)
    expected = np.asarray(expected, dtype=np.float64)
    assert t.shape == expected.shape
    assert t.dtype == np.float64
    np.testing.assert_allclose(t.numpy(), expected, rtol=1e-10, atol=atol)


# ------------------------------------------------------------------------ jacobian
def test_jacobian_of_exp_is_diagonal():
    x = t64(X3)
    J = F.jacobian(lambda x: x.exp(), x)
    close(J, np.diag(np.exp(X3)))


def test_jacobian_of_matrix_vector_product_is_the_matrix():
    A = t64(A23)
    J = F.jacobian(lambda x: A @ x, t64(X3))
    close(J, A23)


def test_jacobian_of_a_scalar_output_is_the_gradient():
    J = F.jacobian(lambda x: (x**3).sum(), t64(X3))
    close(J, 3 * X3**2)


def test_jacobian_shape_is_output_shape_plus_input_shape():
    x = t64(RNG.standard_normal((2, 3)))
    # out[i, j, k] = x[i, j] * w[k]; d out[i,j,k] / d x[a,b] = delta_ia delta_jb w[k]
    w = np.array([1.0, -2.0, 3.0, 0.5])
    J = F.jacobian(lambda x: x.reshape(2, 3, 1) * t64(w), x)
    expected = np.einsum("ia,jb,k->ijkab", np.eye(2), np.eye(3), w)
    close(J, expected)


def test_jacobian_two_inputs_two_outputs_every_block():
    xv = np.array([0.5, -1.5])
    yv = np.array([0.2, 1.0, -0.7])

    def f(x, y):
        o1 = x.reshape(2, 1) * y.reshape(1, 3)  # (2, 3): x_i y_j
        o2 = y.exp() * x.sum()  # (3,)
        return o1, o2

    J = F.jacobian(f, (t64(xv), t64(yv)))
    assert isinstance(J, tuple) and len(J) == 2
    assert all(isinstance(row, tuple) and len(row) == 2 for row in J)
    # d o1[i,j] / d x[k] = delta_ik y_j
    close(J[0][0], np.einsum("ik,j->ijk", np.eye(2), yv))
    # d o1[i,j] / d y[k] = x_i delta_jk
    close(J[0][1], np.einsum("i,jk->ijk", xv, np.eye(3)))
    # d o2[j] / d x[k] = exp(y_j)
    close(J[1][0], np.outer(np.exp(yv), np.ones(2)))
    # d o2[j] / d y[k] = delta_jk exp(y_j) sum(x)
    close(J[1][1], np.diag(np.exp(yv) * xv.sum()))
    assert [[b.shape for b in row] for row in J] == [[(2, 3, 2), (2, 3, 3)], [(3, 2), (3, 3)]]


def test_jacobian_structure_mirrors_inputs_and_outputs():
    x = t64(X3)
    # one output, inputs as a 1-tuple: a tuple of one Tensor
    J = F.jacobian(lambda x: x * 2.0, (x,))
    assert isinstance(J, tuple) and len(J) == 1
    close(J[0], 2 * np.eye(3))
    # tuple of outputs, single input: a tuple of Tensors (one per output)
    J = F.jacobian(lambda x: (x * 2.0, x.sum()), x)
    assert isinstance(J, tuple) and len(J) == 2
    close(J[0], 2 * np.eye(3))
    close(J[1], np.ones(3))
    # one output, two inputs: a tuple of Tensors (one per input)
    J = F.jacobian(lambda x, y: x * y, (x, t64(Y3)))
    assert isinstance(J, tuple) and len(J) == 2
    close(J[0], np.diag(Y3))
    close(J[1], np.diag(X3))


def test_jacobian_unused_input_strict_and_not():
    x, y = t64(X3), t64([1.0, 2.0])
    J = F.jacobian(lambda x, y: x.sin(), (x, y))
    close(J[0], np.diag(np.cos(X3)))
    close(J[1], np.zeros((3, 2)))
    with pytest.raises(RuntimeError, match="input 1"):
        F.jacobian(lambda x, y: x.sin(), (x, y), strict=True)


def test_jacobian_create_graph():
    x = t64(X3, requires_grad=True)
    J = F.jacobian(lambda x: x**3, x, create_graph=True)
    assert J.requires_grad
    close(J.detach(), np.diag(3 * X3**2))
    (g,) = ag.grad(J.sum(), x)
    close(g, 6 * X3)
    assert x.grad is None


def test_jacobian_without_create_graph_is_detached():
    x = t64(X3, requires_grad=True)
    J = F.jacobian(lambda x: x**3, x)
    assert not J.requires_grad
    assert J.grad_fn is None


# ------------------------------------------------------------------------- hessian
def test_hessian_of_sum_of_cubes_is_diag_6x():
    H = F.hessian(lambda x: (x**3).sum(), t64(X3))
    close(H, np.diag(6 * X3))


def test_hessian_of_quadratic_form_is_symmetrised_matrix():
    A = t64(A33)
    H = F.hessian(lambda x: 0.5 * x @ A @ x, t64(X3))
    close(H, (A33 + A33.T) / 2)


def test_hessian_of_a_2d_input_has_shape_i_plus_i():
    xv = RNG.standard_normal((2, 2))
    H = F.hessian(lambda x: (x**3).sum(), t64(xv))
    # d^2/dx[a,i] dx[b,j] of sum x^3 = 6 x[a,i] delta_ab delta_ij
    expected = np.zeros((2, 2, 2, 2))
    for a in range(2):
        for i in range(2):
            expected[a, i, a, i] = 6 * xv[a, i]
    close(H, expected)


def test_hessian_two_inputs_product_has_identity_off_diagonal_blocks():
    H = F.hessian(lambda x, y: (x * y).sum(), (t64(X3), t64(Y3)))
    assert isinstance(H, tuple) and len(H) == 2
    assert all(isinstance(row, tuple) and len(row) == 2 for row in H)
    close(H[0][0], np.zeros((3, 3)))
    close(H[0][1], np.eye(3))
    close(H[1][0], np.eye(3))
    close(H[1][1], np.zeros((3, 3)))


def test_hessian_two_inputs_of_different_shapes():
    B = np.array([[1.0, 2.0, -1.0], [0.5, -3.0, 4.0]])
    xv = np.array([0.4, -0.9])

    def f(x, y):
        return x @ t64(B) @ y + (x**3).sum()

    H = F.hessian(f, (t64(xv), t64(Y3)))
    close(H[0][0], np.diag(6 * xv))
    close(H[0][1], B)
    close(H[1][0], B.T)
    close(H[1][1], np.zeros((3, 3)))


def test_hessian_of_a_linear_function_is_zero():
    H = F.hessian(lambda x: (x * 2.0).sum(), t64(X3))
    close(H, np.zeros((3, 3)))


def test_hessian_needs_a_single_element_output():
    with pytest.raises(RuntimeError):
        F.hessian(lambda x: x**2, t64(X3))


def test_hessian_create_graph_can_be_differentiated_again():
    x = t64(X3, requires_grad=True)
    H = F.hessian(lambda x: (x**4).sum(), x, create_graph=True)
    assert H.requires_grad
    close(H.detach(), np.diag(12 * X3**2))
    (g,) = ag.grad(H.sum(), x)
    close(g, 24 * X3)
    assert x.grad is None


def test_hessian_without_create_graph_does_not_require_grad():
    x = t64(X3, requires_grad=True)
    H = F.hessian(lambda x: (x**4).sum(), x)
    assert not H.requires_grad
    assert H.grad_fn is None


def test_hessian_strict_unused_input():
    x, y = t64(X3), t64([1.0, 2.0])
    H = F.hessian(lambda x, y: (x**3).sum(), (x, y))
    close(H[0][0], np.diag(6 * X3))
    close(H[0][1], np.zeros((3, 2)))
    close(H[1][0], np.zeros((2, 3)))
    close(H[1][1], np.zeros((2, 2)))
    with pytest.raises(RuntimeError):
        F.hessian(lambda x, y: (x**3).sum(), (x, y), strict=True)


# -------------------------------------------------------------------- hvp and vhp
def _f_nonsym(A):
    def f(x):
        return 0.5 * x @ A @ x + x.sin().sum()

    return f


def _h_nonsym(x):
    return (A33 + A33.T) / 2 - np.diag(np.sin(x))


@pytest.mark.parametrize("fn", [F.hvp, F.vhp])
def test_hvp_and_vhp_equal_hessian_times_v(fn):
    f = _f_nonsym(t64(A33))
    out, res = fn(f, t64(X3), t64(V3))
    close(out, 0.5 * X3 @ A33 @ X3 + np.sin(X3).sum())
    H = _h_nonsym(X3)
    close(res, H @ V3 if fn is F.hvp else V3 @ H)


@pytest.mark.parametrize("fn", [F.hvp, F.vhp])
def test_hvp_vhp_two_inputs(fn):
    # f = sum(x^2 * y): H_xx = diag(2y), H_xy = H_yx = diag(2x), H_yy = 0
    vx, vy = np.array([1.0, -1.0, 2.0]), np.array([0.5, 3.0, -1.0])
    out, (rx, ry) = fn(lambda x, y: (x**2 * y).sum(), (t64(X3), t64(Y3)), (t64(vx), t64(vy)))
    close(out, (X3**2 * Y3).sum())
    close(rx, 2 * Y3 * vx + 2 * X3 * vy)
    close(ry, 2 * X3 * vx)


@pytest.mark.parametrize("fn", [F.hvp, F.vhp])
def test_hvp_vhp_v_omitted_for_single_element_input(fn):
    x = t64(0.7)
    out, res = fn(lambda x: x**3, x)
    close(out, 0.7**3)
    close(res, 6 * 0.7)


@pytest.mark.parametrize("fn", [F.hvp, F.vhp])
def test_hvp_vhp_v_required_for_multi_element_input(fn):
    with pytest.raises(RuntimeError, match="v"):
        fn(lambda x: (x**3).sum(), t64(X3))


@pytest.mark.parametrize("fn", [F.hvp, F.vhp])
def test_hvp_vhp_unused_input(fn):
    x, y = t64(X3), t64([1.0, 2.0])
    v = (t64(V3), t64([1.0, 1.0]))
    _, (rx, ry) = fn(lambda x, y: (x**3).sum(), (x, y), v)
    close(rx, 6 * X3 * V3)
    close(ry, np.zeros(2))
    with pytest.raises(RuntimeError):
        fn(lambda x, y: (x**3).sum(), (x, y), v, strict=True)


@pytest.mark.parametrize("fn", [F.hvp, F.vhp])
def test_hvp_vhp_create_graph(fn):
    x = t64(X3, requires_grad=True)
    out, res = fn(lambda x: (x**4).sum(), x, t64(V3), create_graph=True)
    assert res.requires_grad
    assert out.requires_grad
    close(res.detach(), 12 * X3**2 * V3)
    (g,) = ag.grad(res.sum(), x)
    close(g, 24 * X3 * V3)
    assert x.grad is None


@pytest.mark.parametrize("fn", [F.hvp, F.vhp])
def test_hvp_vhp_without_create_graph_are_detached(fn):
    x = t64(X3, requires_grad=True)
    out, res = fn(lambda x: (x**4).sum(), x, t64(V3))
    assert not res.requires_grad and res.grad_fn is None
    assert not out.requires_grad and out.grad_fn is None


# -------------------------------------------------------------------- vjp and jvp
def _f_r3_to_r2(x):
    # x in R^3 -> R^2:  A sin(x) ;  J = A diag(cos x)
    return t64(A23) @ x.sin()


J_R3_R2 = A23 @ np.diag(np.cos(X3))


def test_vjp_is_v_times_jacobian_non_square():
    u = np.array([1.5, -0.5])
    out, res = F.vjp(_f_r3_to_r2, t64(X3), t64(u))
    close(out, A23 @ np.sin(X3))
    close(res, u @ J_R3_R2)


def test_jvp_is_jacobian_times_v_non_square():
    out, res = F.jvp(_f_r3_to_r2, t64(X3), t64(V3))
    close(out, A23 @ np.sin(X3))
    close(res, J_R3_R2 @ V3)
    assert res.shape == (2,)


def test_jvp_and_vjp_agree_with_jacobian():
    J = F.jacobian(_f_r3_to_r2, t64(X3))
    close(J, J_R3_R2)


def test_vjp_two_inputs_two_outputs():
    def f(x, y):
        return x * y, (x.exp() * 2.0).sum() + y.sum()

    u1, u2 = np.array([1.0, 2.0, -1.0]), np.array(3.0)
    (o1, o2), (gx, gy) = F.vjp(f, (t64(X3), t64(Y3)), (t64(u1), t64(u2)))
    close(o1, X3 * Y3)
    close(o2, 2 * np.exp(X3).sum() + Y3.sum())
    close(gx, u1 * Y3 + u2 * 2 * np.exp(X3))
    close(gy, u1 * X3 + u2)


def test_jvp_two_inputs_two_outputs():
    def f(x, y):
        return x * y, (x.exp() * 2.0).sum() + y.sum()

    vx, vy = np.array([1.0, 2.0, -1.0]), np.array([0.5, -1.0, 0.25])
    (o1, o2), (j1, j2) = F.jvp(f, (t64(X3), t64(Y3)), (t64(vx), t64(vy)))
    close(o1, X3 * Y3)
    close(o2, 2 * np.exp(X3).sum() + Y3.sum())
    close(j1, Y3 * vx + X3 * vy)
    close(j2, (2 * np.exp(X3) * vx).sum() + vy.sum())


def test_vjp_v_omitted_for_single_element_output():
    out, g = F.vjp(lambda x: (x**2).sum(), t64(X3))
    close(out, (X3**2).sum())
    close(g, 2 * X3)


def test_vjp_v_required_for_multi_element_output():
    with pytest.raises(RuntimeError, match="v"):
        F.vjp(lambda x: x**2, t64(X3))


def test_jvp_v_omitted_for_single_element_input():
    w = np.array([1.0, -2.0, 3.0])
    out, jv = F.jvp(lambda x: x * t64(w), t64([0.5]))
    close(out, 0.5 * w)
    close(jv, w)


def test_jvp_v_required_for_multi_element_input():
    with pytest.raises(RuntimeError, match="v"):
        F.jvp(lambda x: x.sum(), t64(X3))


def test_v_with_the_wrong_shape_is_an_error():
    with pytest.raises(ValueError):
        F.vjp(lambda x: x * 2.0, t64(X3), t64([1.0, 2.0]))
    with pytest.raises(ValueError):
        F.jvp(lambda x: x * 2.0, t64(X3), t64([1.0, 2.0]))
    with pytest.raises(ValueError):
        F.hvp(lambda x: (x**3).sum(), t64(X3), t64([1.0, 2.0]))


def test_vjp_jvp_unused_input():
    x, y = t64(X3), t64([1.0, 2.0])
    _, (gx, gy) = F.vjp(lambda x, y: x * 3.0, (x, y), t64(V3))
    close(gx, 3 * V3)
    close(gy, np.zeros(2))
    with pytest.raises(RuntimeError):
        F.vjp(lambda x, y: x * 3.0, (x, y), t64(V3), strict=True)

    _, jv = F.jvp(lambda x, y: x * 3.0, (x, y), (t64(V3), t64([5.0, 6.0])))
    close(jv, 3 * V3)
    with pytest.raises(RuntimeError):
        F.jvp(lambda x, y: x * 3.0, (x, y), (t64(V3), t64([5.0, 6.0])), strict=True)


def test_output_independent_of_all_inputs_gives_zeros():
    _, g = F.vjp(lambda x: t64([1.0, 2.0]), t64(X3), t64([1.0, 1.0]))
    close(g, np.zeros(3))
    _, jv = F.jvp(lambda x: t64([1.0, 2.0]), t64(X3), t64(V3))
    close(jv, np.zeros(2))
    close(F.jacobian(lambda x: t64([1.0, 2.0]), t64(X3)), np.zeros((2, 3)))


def test_vjp_create_graph():
    x = t64(X3, requires_grad=True)
    out, g = F.vjp(lambda x: x**3, x, t64(V3), create_graph=True)
    assert g.requires_grad and out.requires_grad
    close(g.detach(), 3 * X3**2 * V3)
    (gg,) = ag.grad(g.sum(), x)
    close(gg, 6 * X3 * V3)


def test_jvp_create_graph():
    x = t64(X3, requires_grad=True)
    out, jv = F.jvp(lambda x: x**3, x, t64(V3), create_graph=True)
    assert jv.requires_grad and out.requires_grad
    close(jv.detach(), 3 * X3**2 * V3)
    (gg,) = ag.grad(jv.sum(), x)
    close(gg, 6 * X3 * V3)


@pytest.mark.parametrize("fn", [F.vjp, F.jvp])
def test_vjp_jvp_without_create_graph_are_detached(fn):
    x = t64(X3, requires_grad=True)
    out, res = fn(lambda x: x**3, x, t64(V3))
    assert not res.requires_grad and res.grad_fn is None
    assert not out.requires_grad and out.grad_fn is None


def test_non_tensor_inputs_are_an_error():
    with pytest.raises(TypeError):
        F.jacobian(lambda x: x, [1.0, 2.0])


# --------------------------------------------------- the caller's tensors untouched
@pytest.mark.parametrize("create_graph", [False, True])
def test_callers_grad_is_not_modified(create_graph):
    x = t64(X3, requires_grad=True)
    y = t64(Y3, requires_grad=True)
    y.grad = t64([7.0, 8.0, 9.0])
    sentinel = y.grad

    def f(x, y):
        return (x**2 * y).sum()

    v = (t64(V3), t64(V3))
    F.vjp(f, (x, y), create_graph=create_graph)
    F.jvp(f, (x, y), v, create_graph=create_graph)
    F.jacobian(f, (x, y), create_graph=create_graph)
    F.hessian(f, (x, y), create_graph=create_graph)
    F.hvp(f, (x, y), v, create_graph=create_graph)
    F.vhp(f, (x, y), v, create_graph=create_graph)
    assert x.grad is None
    assert y.grad is sentinel
    np.testing.assert_array_equal(y.grad.numpy(), [7.0, 8.0, 9.0])
    np.testing.assert_array_equal(x.numpy(), X3)
    np.testing.assert_array_equal(y.numpy(), Y3)


def test_inputs_that_do_not_require_grad_stay_so():
    x = t64(X3)
    F.jacobian(lambda x: x.exp(), x)
    F.hessian(lambda x: (x**3).sum(), x, create_graph=True)
    F.hvp(lambda x: (x**3).sum(), x, t64(V3))
    assert not x.requires_grad
    assert x.grad is None


# ------------------------------------------------------------------- edge cases
def test_identity_and_swapping_functions():
    x, y = t64(X3), t64([1.0, 2.0])
    close(F.jacobian(lambda x: x, x), np.eye(3))
    _, g = F.vjp(lambda x: x, x, t64(V3))
    close(g, V3)
    _, jv = F.jvp(lambda x: x, x, t64(V3))
    close(jv, V3)
    J = F.jacobian(lambda x, y: (y, x), (x, y))
    close(J[0][0], np.zeros((2, 3)))
    close(J[0][1], np.eye(2))
    close(J[1][0], np.eye(3))
    close(J[1][1], np.zeros((3, 2)))


def test_zero_dimensional_input_and_output():
    x = t64(0.7)
    J = F.jacobian(lambda x: x**3, x)
    close(J, 3 * 0.7**2)
    H = F.hessian(lambda x: x**3, x)
    close(H, 6 * 0.7)


def test_create_graph_results_require_grad_even_for_plain_inputs():
    # as in PyTorch: with create_graph the inputs are differentiated as fresh leaves
    J = F.jacobian(lambda x: x**3, t64(X3), create_graph=True)
    assert J.requires_grad
    close(J.detach(), np.diag(3 * X3**2))


def test_create_graph_connects_to_a_non_leaf_input():
    w = t64(X3, requires_grad=True)
    x = w * 2.0  # a non-leaf input
    H = F.hessian(lambda x: (x**4).sum(), x, create_graph=True)
    close(H.detach(), np.diag(12 * (2 * X3) ** 2))
    (g,) = ag.grad(H.sum(), w)  # d/dw sum 12 (2w)^2 = 96 w
    close(g, 96 * X3, atol=1e-10)
    assert w.grad is None


def test_float32_inputs_give_float32_results():
    x = ag.tensor(X3.astype(np.float32))
    J = F.jacobian(lambda x: x.exp(), x)
    assert J.dtype == np.float32
    np.testing.assert_allclose(J.numpy(), np.diag(np.exp(X3)), rtol=1e-6)
    _, hv = F.hvp(lambda x: (x**3).sum(), x, ag.tensor(V3.astype(np.float32)))
    assert hv.dtype == np.float32
    np.testing.assert_allclose(hv.numpy(), 6 * X3 * V3, rtol=1e-5)


def test_jacobian_of_an_empty_output():
    J = F.jacobian(lambda x: x[:0] * 2.0, t64(X3))
    close(J, np.zeros((0, 3)))
