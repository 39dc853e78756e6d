"""The Tensor API: construction, creation functions, seeding, attributes, conversions, dtype
rules of arithmetic, comparisons and logic, casting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import DTypeError, GraphError
from autograd.tensor import _make


# --------------------------------------------------------------- autograd.tensor
@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.bool_, np.float32, np.int64])
def test_tensor_from_ndarray_keeps_its_dtype(dtype):
    a = np.array([1, 0, 1], dtype=dtype)
    t = ag.tensor(a)
    assert t.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(t.numpy(), a)


def test_tensor_from_numpy_scalar_keeps_its_dtype():
    t = ag.tensor(np.float64(1.5))
    assert t.dtype == np.float64 and t.shape == ()
    assert t.item() == 1.5


@pytest.mark.parametrize(
    ("data", "shape"),
    [(1.5, ()), ([1, 2.5, 3], (3,)), ([[1.0, 2.0], [3.0, 4.5]], (2, 2)), ([], (0,))],
)
def test_python_numbers_and_lists_become_float32(data, shape):
    t = ag.tensor(data)
    assert t.dtype == np.float32
    assert t.shape == shape
    np.testing.assert_array_equal(t.numpy(), np.array(data, dtype=np.float32))


@pytest.mark.parametrize(
    ("data", "shape"), [(3, ()), ([1, 2, 3], (3,)), ([[0, 0, 5]], (1, 3)), ([True, 2], (2,))]
)
def test_python_integers_become_int64(data, shape):
    # as PyTorch infers them: torch.tensor([[0, 0, 5]]).dtype is int64
    t = ag.tensor(data)
    assert t.dtype == np.int64
    assert t.shape == shape
    np.testing.assert_array_equal(t.numpy(), np.array(data, dtype=np.int64))


@pytest.mark.parametrize("data", [True, [True, False], [[False], [True]]])
def test_python_bools_stay_bool(data):
    t = ag.tensor(data)
    assert t.dtype == np.bool_
    np.testing.assert_array_equal(t.numpy(), np.array(data))


def test_dtype_argument_overrides():
    assert ag.tensor([1, 2], dtype=ag.int64).dtype == np.int64
    assert ag.tensor([1.5, 2], dtype=ag.float64).dtype == np.float64
    assert ag.tensor(np.ones(2, np.float32), dtype=ag.float64).dtype == np.float64
    assert ag.tensor(np.ones(2, np.float64), dtype="float32").dtype == np.float32
    t = ag.tensor([1.7, -2.2], dtype=np.int32)
    assert t.dtype == np.int32
    np.testing.assert_array_equal(t.numpy(), [1, -2])


def test_tensor_copies_the_ndarray():
    a = np.array([1.0, 2.0, 3.0])
    t = ag.tensor(a)
    a[0] = 99.0
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0, 3.0])
    assert not np.shares_memory(t.numpy(), a)
    # also when a dtype equal to the array's is given
    b = np.array([1.0, 2.0], dtype=np.float32)
    u = ag.tensor(b, dtype=ag.float32)
    b[1] = -5.0
    np.testing.assert_array_equal(u.numpy(), [1.0, 2.0])


def test_tensor_of_a_tensor_copies():
    s = ag.tensor([1.0, 2.0])
    t = ag.tensor(s)
    assert not np.shares_memory(s.numpy(), t.numpy())
    s.data[0] = 10.0
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])


@pytest.mark.parametrize(
    ("data", "dtype_name"),
    [
        (np.array([1, 2], dtype=np.int64), "int64"),
        (np.array([1, 2], np.int32), "int32"),
        ([True, False], "bool"),
    ],
)
def test_requires_grad_on_non_float_raises_naming_the_dtype(data, dtype_name):
    with pytest.raises(TypeError, match=dtype_name):
        ag.tensor(data, requires_grad=True)
    t = ag.tensor(data)
    with pytest.raises(TypeError, match=dtype_name):
        t.requires_grad_()
    assert not t.requires_grad


def test_tensor_of_a_tensor_requiring_grad_is_a_fresh_leaf():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    t = ag.tensor(x * 2.0)
    assert t.is_leaf and t.grad_fn is None and not t.requires_grad
    np.testing.assert_array_equal(t.numpy(), [2.0, 4.0])
    assert ag.tensor(x, dtype=ag.float64).dtype == np.float64


def test_tensor_name_and_requires_grad():
    t = ag.tensor([1.0, 2.0], requires_grad=True, name="weights")
    assert t.name == "weights"
    assert t.requires_grad and t.is_leaf
    assert ag.tensor(1.0).name is None
    assert not ag.tensor(1.0).requires_grad


def test_tensor_from_unsupported_objects_raises():
    with pytest.raises(TypeError):
        ag.tensor({"a": 1})
    with pytest.raises(TypeError):
        ag.tensor([1 + 2j])
    with pytest.raises(TypeError):
        ag.tensor(None)


@pytest.mark.parametrize("data", ["3", ["1", "2"], [1.0, None]])
def test_tensor_from_strings_or_none_raises(data):
    # as in PyTorch: strings are not parsed as numbers and None is not NaN
    with pytest.raises(TypeError):
        ag.tensor(data)


# --------------------------------------------------------------- default dtype
def test_set_default_dtype_float64():
    assert ag.get_default_dtype() == np.float32
    ag.set_default_dtype(ag.float64)
    assert ag.get_default_dtype() == np.float64
    assert ag.tensor([1.0, 2]).dtype == np.float64
    assert ag.tensor([1, 2]).dtype == np.int64  # integers are int64 whatever the default
    assert ag.tensor(2.5).dtype == np.float64
    assert ag.tensor(True).dtype == np.bool_
    assert ag.tensor(np.ones(2, np.float32)).dtype == np.float32  # arrays keep theirs
    assert ag.zeros(2).dtype == np.float64
    assert ag.arange(0, 1, 0.5).dtype == np.float64
    assert ag.rand(2).dtype == np.float64
    x = ag.tensor([1.0, 2.0])
    assert (x * 2.0 + [1, 1]).dtype == np.float64


@pytest.mark.parametrize("dtype", [ag.int64, ag.int32, ag.bool_, "int8"])
def test_non_float_default_dtype_raises(dtype):
    with pytest.raises(TypeError):
        ag.set_default_dtype(dtype)
    assert ag.get_default_dtype() == np.float32


def test_set_default_dtype_accepts_names():
    ag.set_default_dtype("float64")
    assert ag.get_default_dtype() == np.float64
    assert ag.tensor(1.0).dtype == np.float64


# --------------------------------------------------------------------- creation
@pytest.mark.parametrize(("fn", "np_fn"), [(ag.zeros, np.zeros), (ag.ones, np.ones)])
def test_zeros_ones_shapes_dtypes_values(fn, np_fn):
    for args, shape in [
        ((2, 3), (2, 3)),
        (((2, 3),), (2, 3)),
        (([4],), (4,)),
        ((5,), (5,)),
        ((), ()),
    ]:
        t = fn(*args)
        assert t.shape == shape
        assert t.dtype == np.float32
        np.testing.assert_array_equal(t.numpy(), np_fn(shape, np.float32))
        assert t.is_leaf and not t.requires_grad
    t = fn(2, dtype=ag.int64)
    assert t.dtype == np.int64
    np.testing.assert_array_equal(t.numpy(), np_fn(2, np.int64))
    t = fn(2, 2, requires_grad=True)
    assert t.requires_grad and t.is_leaf
    with pytest.raises(TypeError, match="int64"):
        fn(2, dtype=ag.int64, requires_grad=True)


def test_full():
    t = ag.full((2, 3), 7.5)
    assert t.shape == (2, 3) and t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), 7.5, np.float32))
    t = ag.full(4, 2)
    assert t.shape == (4,) and t.dtype == np.float32  # numbers become the default dtype
    np.testing.assert_array_equal(t.numpy(), [2, 2, 2, 2])
    t = ag.full((2,), True)
    assert t.dtype == np.bool_
    np.testing.assert_array_equal(t.numpy(), [True, True])
    t = ag.full((2,), 3, dtype=ag.int32)
    assert t.dtype == np.int32
    t = ag.full((2, 2), -1.0, dtype=ag.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad


def test_arange():
    t = ag.arange(5)
    assert t.dtype == np.int64
    np.testing.assert_array_equal(t.numpy(), [0, 1, 2, 3, 4])
    t = ag.arange(2, 8, 2)
    assert t.dtype == np.int64
    np.testing.assert_array_equal(t.numpy(), [2, 4, 6])
    t = ag.arange(0, 1, 0.25)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), [0.0, 0.25, 0.5, 0.75])
    t = ag.arange(1.0, 4)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0, 3.0])
    t = ag.arange(3, dtype=ag.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad
    np.testing.assert_array_equal(t.numpy(), [0.0, 1.0, 2.0])
    t = ag.arange(5, 0, -2)
    np.testing.assert_array_equal(t.numpy(), [5, 3, 1])


def test_arange_with_numpy_integers_is_int64():
    # NumPy integers (e.g. from arr.argmax() or np.int64 arithmetic) are integers, as in PyTorch
    t = ag.arange(np.int64(4))
    assert t.dtype == np.int64
    np.testing.assert_array_equal(t.numpy(), [0, 1, 2, 3])
    assert ag.arange(np.int32(1), 4).dtype == np.int64


def test_linspace():
    t = ag.linspace(0, 1, 5)
    assert t.dtype == np.float32 and t.shape == (5,)
    np.testing.assert_allclose(t.numpy(), [0.0, 0.25, 0.5, 0.75, 1.0])
    t = ag.linspace(-1.0, 2.0, 7, dtype=ag.float64)
    assert t.dtype == np.float64
    np.testing.assert_allclose(t.numpy(), np.linspace(-1.0, 2.0, 7), rtol=0, atol=1e-15)
    assert ag.linspace(0, 1, 3, requires_grad=True).requires_grad


def test_eye():
    t = ag.eye(3)
    assert t.dtype == np.float32 and t.shape == (3, 3)
    np.testing.assert_array_equal(t.numpy(), np.eye(3))
    t = ag.eye(2, 4, dtype=ag.float64)
    assert t.dtype == np.float64 and t.shape == (2, 4)
    np.testing.assert_array_equal(t.numpy(), [[1, 0, 0, 0], [0, 1, 0, 0]])
    assert ag.eye(2, requires_grad=True).requires_grad


def test_like_functions():
    src = ag.tensor(np.arange(6.0).reshape(2, 3))  # float64
    z = ag.zeros_like(src)
    assert z.shape == (2, 3) and z.dtype == np.float64
    np.testing.assert_array_equal(z.numpy(), np.zeros((2, 3)))
    o = ag.ones_like(src)
    assert o.shape == (2, 3) and o.dtype == np.float64
    np.testing.assert_array_equal(o.numpy(), np.ones((2, 3)))
    f = ag.full_like(src, 2.5)
    assert f.shape == (2, 3) and f.dtype == np.float64
    np.testing.assert_array_equal(f.numpy(), np.full((2, 3), 2.5))
    assert ag.zeros_like(src, dtype=ag.float32).dtype == np.float32
    assert ag.ones_like(src, dtype=ag.int32).dtype == np.int32
    assert ag.full_like(src, 1, dtype=ag.int64).dtype == np.int64
    i = ag.tensor(np.array([1, 2], np.int32))
    assert ag.zeros_like(i).dtype == np.int32
    assert ag.full_like(i, 7).dtype == np.int32
    np.testing.assert_array_equal(ag.full_like(i, 7).numpy(), [7, 7])
    assert ag.zeros_like(src, requires_grad=True).requires_grad
    assert not ag.ones_like(ag.tensor([1.0], requires_grad=True)).requires_grad
    assert ag.zeros_like(src).device == "cpu"


# ---------------------------------------------------------------------- random
def test_manual_seed_makes_rand_and_randn_repeatable():
    ag.manual_seed(123)
    a, b = ag.rand(3), ag.randn(2, 2)
    ag.manual_seed(123)
    c, d = ag.rand(3), ag.randn(2, 2)
    np.testing.assert_array_equal(a.numpy(), c.numpy())
    np.testing.assert_array_equal(b.numpy(), d.numpy())
    assert a.shape == (3,) and b.shape == (2, 2)
    # the stream moves on
    assert not np.array_equal(ag.rand(3).numpy(), a.numpy())
    ag.manual_seed(124)
    assert not np.array_equal(ag.rand(3).numpy(), a.numpy())


def test_manual_seed_returns_the_cpu_generator():
    g = ag.manual_seed(5)
    assert isinstance(g, ag.Generator)
    assert g.initial_seed() == 5
    assert g is ag.default_generator()


def test_generators_are_independent_and_repeatable():
    g = ag.Generator().manual_seed(0)
    ag.manual_seed(7)
    first = ag.rand(4, generator=g)
    glob = ag.rand(3)  # a global draw in between must not disturb g
    second = ag.randn(4, generator=g)

    h = ag.Generator().manual_seed(0)
    np.testing.assert_array_equal(ag.rand(4, generator=h).numpy(), first.numpy())
    np.testing.assert_array_equal(ag.randn(4, generator=h).numpy(), second.numpy())

    # and draws from a generator do not disturb the global stream
    ag.manual_seed(7)
    ag.rand(10, generator=ag.Generator().manual_seed(99))
    np.testing.assert_array_equal(ag.rand(3).numpy(), glob.numpy())

    # different seeds, different streams
    other = ag.rand(4, generator=ag.Generator().manual_seed(1))
    assert not np.array_equal(other.numpy(), first.numpy())


def test_generator_manual_seed_returns_self():
    g = ag.Generator()
    assert g.manual_seed(3) is g
    assert g.initial_seed() == 3


def test_rand_randn_dtypes_and_distributions():
    ag.manual_seed(0)
    u = ag.rand(20000)
    assert u.dtype == np.float32 and u.shape == (20000,)
    un = u.numpy()
    assert un.min() >= 0.0 and un.max() < 1.0
    assert abs(un.mean() - 0.5) < 0.02
    assert abs(un.var() - 1 / 12) < 0.01
    n = ag.randn(20000)
    assert n.dtype == np.float32
    nn_ = n.numpy().astype(np.float64)
    assert abs(nn_.mean()) < 0.05
    assert abs(nn_.std() - 1.0) < 0.05
    assert ag.rand(2, 3, dtype=ag.float64).dtype == np.float64
    assert ag.randn((2, 3), dtype=ag.float64).dtype == np.float64
    assert ag.randn((2, 3), dtype=ag.float64).shape == (2, 3)
    r = ag.randn(3, requires_grad=True)
    assert r.requires_grad and r.is_leaf


def test_randint():
    ag.manual_seed(0)
    t = ag.randint(0, 10, (2000,))
    assert t.dtype == np.int64 and t.shape == (2000,)
    a = t.numpy()
    assert a.min() == 0 and a.max() == 9
    assert set(np.unique(a)) == set(range(10))
    t2 = ag.randint(-3, -1, (4, 5))
    assert t2.shape == (4, 5)
    assert set(np.unique(t2.numpy())) <= {-3, -2}
    ag.manual_seed(0)
    np.testing.assert_array_equal(ag.randint(0, 10, (2000,)).numpy(), a)


def test_randperm():
    ag.manual_seed(3)
    p = ag.randperm(20)
    assert p.dtype == np.int64 and p.shape == (20,)
    np.testing.assert_array_equal(np.sort(p.numpy()), np.arange(20))
    assert not np.array_equal(p.numpy(), np.arange(20))  # 1 in 20! to fail
    ag.manual_seed(3)
    np.testing.assert_array_equal(ag.randperm(20).numpy(), p.numpy())
    g = ag.Generator().manual_seed(3)
    q = ag.randperm(20, generator=g)
    np.testing.assert_array_equal(np.sort(q.numpy()), np.arange(20))


def test_rand_like_randn_like_keep_shape_and_dtype():
    src = ag.zeros(3, 2, dtype=ag.float64)
    for fn in (ag.rand_like, ag.randn_like):
        t = fn(src)
        assert t.shape == (3, 2) and t.dtype == np.float64
        assert fn(src, dtype=ag.float32).dtype == np.float32
        assert fn(ag.zeros(4)).dtype == np.float32
    u = ag.rand_like(src).numpy()
    assert u.min() >= 0 and u.max() < 1
    g1, g2 = ag.Generator().manual_seed(11), ag.Generator().manual_seed(11)
    np.testing.assert_array_equal(
        ag.randn_like(src, generator=g1).numpy(), ag.randn_like(src, generator=g2).numpy()
    )


# ------------------------------------------------------------------ attributes
def test_basic_attributes():
    t = ag.tensor(np.zeros((2, 3, 4), np.float32))
    assert t.shape == (2, 3, 4)
    assert isinstance(t.shape, tuple)
    assert t.ndim == 3
    assert t.size == 24
    assert t.dtype == np.float32 and t.dtype == ag.float32
    assert t.device == "cpu"
    assert str(t.device) == "cpu"
    s = ag.tensor(1.0)
    assert s.shape == () and s.ndim == 0 and s.size == 1


def test_leaf_and_grad_fn_attributes():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    c = ag.tensor([3.0, 4.0])
    assert x.is_leaf and x.requires_grad and x.grad_fn is None and x.grad is None
    assert c.is_leaf and not c.requires_grad and c.grad_fn is None
    y = x * c
    assert y.grad_fn is not None
    assert not y.is_leaf and y.requires_grad
    z = c * 2.0  # nothing requires grad: a constant of the graph
    assert z.grad_fn is None and z.is_leaf and not z.requires_grad
    with ag.no_grad():
        w = x * c + 1.0
    assert w.grad_fn is None and not w.requires_grad and w.is_leaf


# ----------------------------------------------------------------- conversions
def test_item():
    v = ag.tensor(2.5).item()
    assert type(v) is float and v == 2.5
    v = ag.tensor(np.array([7], np.int64)).item()
    assert type(v) is int and v == 7
    v = ag.tensor(True).item()
    assert type(v) is bool and v is True
    v = ag.tensor([[1.5]]).item()
    assert v == 1.5
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert x.sum().item() == 6.0
    with pytest.raises(ValueError):
        ag.tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError):
        ag.zeros(0).item()


NUMPY_SCALARS = [np.bool_, np.complex64, np.complex128, np.longdouble, np.float16, np.float32]
NUMPY_SCALARS += [np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16]
NUMPY_SCALARS += [np.uint32, np.uint64]


@pytest.mark.parametrize("kind", NUMPY_SCALARS, ids=lambda t: t.__name__)
@given(raw=st.binary(min_size=16, max_size=16))
def test_item_of_a_numpy_scalar_is_what_numpy_item_gives(kind, raw):
    """A tensor holding a NumPy scalar (as an op's 0-d result does): the same type and value as
    NumPy's ``item()`` of it, NaN payloads, infinities, -0.0 and extreme integers included."""
    dtype = np.dtype(kind)
    scalar = np.frombuffer(raw[: dtype.itemsize], dtype)[0]
    got, want = _make(scalar, None).item(), scalar.item()  # _make: how an op makes its result
    assert type(got) is type(want)
    assert np.array_equal(np.array([got]), np.array([want]), equal_nan=kind is not np.bool_)
    assert np.signbit(np.real(got)) == np.signbit(np.real(want)) or kind is np.bool_


def test_tolist():
    t = ag.tensor(np.array([[1.0, 2.5], [3.0, -4.0]]))
    lst = t.tolist()
    assert lst == [[1.0, 2.5], [3.0, -4.0]]
    assert type(lst[0][0]) is float
    assert ag.tensor(np.array([1, 2], np.int32)).tolist() == [1, 2]
    assert ag.tensor(3.0).tolist() == 3.0


def test_numpy():
    t = ag.tensor([1.0, 2.0])
    a = t.numpy()
    assert isinstance(a, np.ndarray)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, [1.0, 2.0])
    assert np.shares_memory(a, t.data)
    s = (t * 2.0).sum().numpy()  # a 0-d result
    assert isinstance(s, np.ndarray) and s.shape == () and s == 6.0
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0])
    # unlike PyTorch (README, conventions), also on a tensor that requires grad: its array,
    # shared, not recorded
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    a = w.numpy()
    assert isinstance(a, np.ndarray) and np.shares_memory(a, w.data)
    a[0] = 5.0
    assert w.tolist() == [5.0, 2.0] and w._version == 0  # a raw write: not counted


def test_python_number_conversions():
    t = ag.tensor([3.75])
    assert float(t) == 3.75 and type(float(t)) is float
    assert int(t) == 3 and type(int(t)) is int
    assert int(ag.tensor(-3.75)) == -3
    assert bool(ag.tensor(0.0)) is False
    assert bool(ag.tensor([[2.0]])) is True
    assert bool(ag.tensor(True)) is True
    x = ag.tensor([1.0, 2.0])
    assert bool((x > 0).all())
    assert not bool((x > 1.5).all())


def test_bool_of_multi_element_tensor_is_a_clear_error():
    with pytest.raises(ValueError, match=r"ambiguous.*any\(\).*all\(\)"):
        bool(ag.tensor([1.0, 2.0]))
    with pytest.raises(ValueError):
        if ag.tensor([1.0, 0.0]) > 0.5:
            pass
    with pytest.raises((TypeError, ValueError)):
        float(ag.tensor([1.0, 2.0]))


def test_len_and_iteration():
    a = np.arange(6.0).reshape(3, 2)
    t = ag.tensor(a)
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3
    for r, expected in zip(rows, a):
        assert isinstance(r, ag.Tensor)
        assert r.shape == (2,)
        np.testing.assert_array_equal(r.numpy(), expected)
    assert len(ag.zeros(5)) == 5
    assert [v.item() for v in ag.tensor([1.0, 2.0])] == [1.0, 2.0]
    with pytest.raises(TypeError):
        len(ag.tensor(1.0))
    with pytest.raises(TypeError):
        iter(ag.tensor(1.0))


def test_iteration_is_differentiable():
    x = ag.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    total = sum((row * float(i + 1)).sum() for i, row in enumerate(x))
    total.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 1.0], [2.0, 2.0]])


def test_detach():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    assert np.shares_memory(d.numpy(), y.numpy())
    np.testing.assert_array_equal(d.numpy(), [3.0, 6.0])
    dx = x.detach()
    assert not dx.requires_grad
    assert np.shares_memory(dx.numpy(), x.numpy())
    dx.data[0] = 5.0  # shared: visible through x
    assert x.numpy()[0] == 5.0
    assert x.requires_grad  # the original is untouched


def test_repr():
    r = repr(ag.tensor([1.0, 2.5]))
    assert r.startswith("tensor(")
    assert "1." in r and "2.5" in r
    assert "requires_grad" not in r and "grad_fn" not in r and "dtype" not in r
    x = ag.tensor([1.0, 2.5], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    y = x * 2.0
    ry = repr(y)
    assert "grad_fn=<" in ry and "5." in ry
    assert "requires_grad=True" not in ry
    r64 = repr(ag.tensor(np.array([0.5, 1.25])))
    assert "dtype=float64" in r64 and "1.25" in r64
    assert "dtype=int32" in repr(ag.tensor(np.array([1, 2], np.int32)))
    assert "name='w'" in repr(ag.tensor([1.0], name="w"))


def test_format_of_one_element_tensors():
    t = ag.tensor(3.14159)
    assert f"{t:.4f}" == "3.1416"
    assert f"{ag.tensor(np.float64(2.0)):.2e}" == "2.00e+00"
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    assert f"{(x * x).sum():.3f}" == "5.000"
    assert f"{t}" == repr(t)


# ------------------------------------------------------------------ dtype rules
@pytest.mark.parametrize(
    "op",
    [
        lambda x: x * 2.0,
        lambda x: 2.0 * x,
        lambda x: x + 1,
        lambda x: 1 + x,
        lambda x: x / 3,
        lambda x: 3 / x,
        lambda x: x**2,
        lambda x: x**0.5,
        lambda x: 2.0**x,
        lambda x: x - np.float64(1.5),
        lambda x: np.float64(1.5) - x,
        lambda x: x * np.int64(3),
        lambda x: x + True,
        lambda x: -x,
    ],
)
def test_python_scalars_never_upcast_float32(op):
    x = ag.tensor([1.0, 2.0, 4.0], requires_grad=True)
    y = op(x)
    assert isinstance(y, ag.Tensor)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_scalar_arithmetic_values_and_float32_gradient():
    xv = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    x = ag.tensor(xv, requires_grad=True)
    y = ((x * 2.0 + x**2) / 3 - np.float64(1.5)).sum()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.item(), ((2 * xv + xv**2) / 3 - 1.5).sum(), rtol=1e-6)
    y.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), (2 + 2 * xv) / 3, rtol=1e-6)


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: b + a,
        lambda a, b: a * b,
        lambda a, b: a - b,
        lambda a, b: b / a,
        lambda a, b: a @ b,
    ],
)
def test_float32_with_float64_tensor_raises_naming_both(op):
    a = ag.tensor(np.ones(3, np.float32))
    b = ag.tensor(np.ones(3, np.float64))
    with pytest.raises(TypeError) as info:
        op(a, b)
    assert isinstance(info.value, DTypeError)
    msg = str(info.value)
    assert "float32" in msg and "float64" in msg


def test_float32_with_int64_tensor_gives_float32():
    x = ag.tensor([1.5, 2.5], requires_grad=True)
    i = ag.tensor(np.array([2, 3], np.int64))
    for y, expected in [
        (x * i, [3.0, 7.5]),
        (i * x, [3.0, 7.5]),
        (x + i, [3.5, 5.5]),
        (i - x, [0.5, 0.5]),
        (x / i, [0.75, 2.5 / 3]),
    ]:
        assert y.dtype == np.float32
        np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)
    (x * i).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 3.0])


def test_bool_tensor_with_float32_gives_float32():
    x = ag.tensor([1.5, 2.5])
    m = ag.tensor([True, False])
    y = x * m
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), [1.5, 0.0])


def test_true_division_of_integer_tensors_gives_the_default_float_dtype():
    # As in PyTorch: integer true division is floating, in the default dtype (no silent
    # float64 that would then refuse to mix with float32 tensors).
    i = ag.tensor(np.array([1, 2, 3], np.int64))
    y = i / 2
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), [0.5, 1.0, 1.5])
    assert (i / ag.tensor(np.array([2, 4, 6], np.int64))).dtype == np.float32
    assert (i * 2.5).dtype == np.float32
    assert (i * 2).dtype == np.int64


@pytest.mark.parametrize(
    "op",
    [
        lambda a, x: a + x,
        lambda a, x: x + a,
        lambda a, x: a * x,
        lambda a, x: x - a,
        lambda a, x: a - x,
        lambda a, x: a / x,
        lambda a, x: a @ x,
        lambda a, x: a > x,
        lambda a, x: a == x,
    ],
)
def test_ndarray_and_tensor_give_a_tensor(op):
    a = np.array([1.0, 2.0], dtype=np.float32)
    x = ag.tensor([3.0, 4.0])
    y = op(a, x)
    assert isinstance(y, ag.Tensor)
    assert not isinstance(y, np.ndarray)
    expected = op(a, np.array([3.0, 4.0], np.float32))
    assert y.dtype == expected.dtype
    np.testing.assert_allclose(y.numpy(), expected)


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x + None,
        lambda x: None * x,
        lambda x: x * "3",
        lambda x: "1" + x,
        lambda x: x + [1.0, None],  # noqa: RUF005 (Tensor + list, not list concatenation)
        lambda x: x < None,
        lambda x: x - ["1", "2"],
    ],
)
def test_none_and_strings_are_not_operands(op):
    # arithmetic with None or a string is a TypeError (PyTorch, NumPy numeric arrays), never a
    # silent NaN (None) or a string parsed as a number
    x = ag.tensor([1.0, 2.0])
    with pytest.raises(TypeError):
        op(x)


def test_equality_with_unrelated_objects_is_false():
    # as in PyTorch: ``t == None`` is False and ``t != None`` is True (not a tensor of NaN
    # comparisons), so ``if t == None`` does not silently broadcast
    x = ag.tensor([1.0, 2.0])
    assert (x == None) is False  # noqa: E711
    assert (x != None) is True  # noqa: E711
    assert (x == "a") is False
    assert (x != "a") is True


def test_ndarray_float64_with_float32_tensor_raises():
    a = np.array([1.0, 2.0])  # float64
    x = ag.tensor([3.0, 4.0])
    for op in (lambda: a + x, lambda: x + a, lambda: a * x, lambda: x @ a):
        with pytest.raises(DTypeError, match="float64"):
            op()


def test_int_ndarray_with_float32_tensor_gives_float32():
    x = ag.tensor([3.0, 4.0], requires_grad=True)
    y = np.array([1, 2]) * x
    assert isinstance(y, ag.Tensor) and y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), [3.0, 8.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0])


def test_lists_take_the_tensors_dtype():
    x = ag.tensor([3.0, 4.0])
    ints, floats = [1, 2], [0.5, 2]
    for y in (x + ints, ints + x, x * floats, floats * x, x - [1.5, 0.25]):
        assert isinstance(y, ag.Tensor) and y.dtype == np.float32
    np.testing.assert_array_equal((x + ints).numpy(), [4.0, 6.0])
    np.testing.assert_array_equal(([1, 2] - x).numpy(), [-2.0, -2.0])
    x64 = ag.tensor(np.array([3.0, 4.0]))
    y = x64 * [0.1, 0.2]
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y.numpy(), np.array([3.0, 4.0]) * np.array([0.1, 0.2]))
    assert (floats + x64).dtype == np.float64


# --------------------------------------------------------- comparisons and logic
COMPARISONS = [
    (lambda a, b: a == b, np.equal),
    (lambda a, b: a != b, np.not_equal),
    (lambda a, b: a < b, np.less),
    (lambda a, b: a <= b, np.less_equal),
    (lambda a, b: a > b, np.greater),
    (lambda a, b: a >= b, np.greater_equal),
]


@pytest.mark.parametrize(("op", "np_op"), COMPARISONS)
def test_comparisons_return_bool_tensors_without_grad_fn(op, np_op):
    av = np.array([1.0, 2.0, 3.0, -1.0], np.float32)
    bv = np.array([1.0, 3.0, 2.0, -1.0], np.float32)
    a = ag.tensor(av, requires_grad=True)
    b = ag.tensor(bv)
    for y, expected in [
        (op(a, b), np_op(av, bv)),
        (op(a, 2.0), np_op(av, 2.0)),
        (op(a * 1.0, 2), np_op(av, 2)),
    ]:
        assert isinstance(y, ag.Tensor)
        assert y.dtype == np.bool_
        assert y.grad_fn is None and not y.requires_grad
        np.testing.assert_array_equal(y.numpy(), expected)


def test_tensors_are_hashable_by_identity():
    a = ag.tensor([1.0, 2.0])
    b = ag.tensor([1.0, 2.0])  # equal values
    d = {a: "a", b: "b"}
    assert len(d) == 2
    assert d[a] == "a" and d[b] == "b"
    s = {a, b, a}
    assert len(s) == 2
    assert a in s and b in s
    assert ag.tensor([1.0, 2.0]) not in s
    assert hash(a) == hash(a) and hash(a) != hash(b)
    x = ag.tensor([1.0], requires_grad=True)
    y = x * 2.0
    assert {x: 1, y: 2}[y] == 2


def test_logical_operators_on_bool_tensors():
    pv = np.array([True, True, False, False])
    qv = np.array([True, False, True, False])
    p, q = ag.tensor(pv), ag.tensor(qv)
    for y, expected in [
        (p & q, pv & qv),
        (p | q, pv | qv),
        (p ^ q, pv ^ qv),
        (~p, ~pv),
        (p & True, pv & True),
        (False | q, False | qv),
    ]:
        assert y.dtype == np.bool_
        assert y.grad_fn is None
        np.testing.assert_array_equal(y.numpy(), expected)
    x = ag.tensor([0.5, 1.5, 2.5])
    both = (x > 1) & (x < 2)
    np.testing.assert_array_equal(both.numpy(), [False, True, False])


@pytest.mark.parametrize(
    "op", [lambda a, b: a & b, lambda a, b: a | b, lambda a, b: a ^ b, lambda a, b: ~a]
)
def test_logical_operators_on_float_tensors_raise(op):
    a = ag.tensor([1.0, 0.0])
    b = ag.tensor([True, False])
    with pytest.raises(TypeError, match="bool"):
        op(a, b)
    with pytest.raises(TypeError, match="float32"):
        op(a, a)


def test_item_assignment_raises_with_a_suggestion():
    t = ag.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="where"):
        t[0] = 1
    with pytest.raises(TypeError):
        t[:] = ag.zeros(2)
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])


# --------------------------------------------------------------------- casting
def test_to_astype_float_double():
    xv = np.array([1.25, -2.5, 3.0], np.float32)
    x = ag.tensor(xv)
    for y, dt in [
        (x.to(ag.float64), np.float64),
        (x.astype("float64"), np.float64),
        (x.double(), np.float64),
        (x.to(ag.float16), np.float16),
        (x.double().float(), np.float32),
        (x.astype(np.float64), np.float64),
    ]:
        assert y.dtype == dt
        np.testing.assert_array_equal(y.numpy(), xv.astype(dt))
    assert x.to(ag.float32) is x
    assert x.float() is x
    assert x.to() is x
    i = ag.tensor(np.array([1, -2], np.int64))
    f = i.float()
    assert f.dtype == np.float32
    np.testing.assert_array_equal(f.numpy(), [1.0, -2.0])
    assert i.double().dtype == np.float64


def test_cast_between_floats_is_differentiable():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.double()
    assert y.grad_fn is not None and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])

    x64 = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    z = (x64.float() * ag.tensor([3.0, 4.0])).sum()
    z.backward()
    assert x64.grad.dtype == np.float64
    np.testing.assert_array_equal(x64.grad.numpy(), [3.0, 4.0])


def test_cast_to_int_or_bool_is_a_constant():
    x = ag.tensor([1.7, -2.2, 0.0], requires_grad=True)
    i = x.to(ag.int64)
    assert i.dtype == np.int64
    assert i.grad_fn is None and not i.requires_grad
    np.testing.assert_array_equal(i.numpy(), [1, -2, 0])
    b = x.astype(ag.bool_)
    assert b.dtype == np.bool_ and b.grad_fn is None
    np.testing.assert_array_equal(b.numpy(), [True, True, False])


def test_to_accepts_a_device_positionally():
    # as in PyTorch: x.to("cpu") and x.to(device) move (here: stay), x.to(dtype) casts
    x = ag.tensor([1.0, 2.0])
    assert x.to("cpu") is x
    assert x.to(ag.device("cpu")) is x
    assert x.to(device="cpu") is x
    y = x.to(ag.float64, "cpu")
    assert y.dtype == np.float64 and y.device == "cpu"


# ------------------------------------------------------------------ requires_grad_
def test_requires_grad_underscore_returns_self():
    t = ag.tensor([1.0, 2.0])
    assert t.requires_grad_() is t
    assert t.requires_grad
    assert t.requires_grad_(False) is t
    assert not t.requires_grad
    t.requires_grad = True
    assert t.requires_grad


def test_requires_grad_false_on_non_leaf_raises():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    with pytest.raises(GraphError, match="detach"):
        y.requires_grad_(False)
    assert y.requires_grad
    assert y.requires_grad_(True) is y
    assert y.requires_grad_() is y


def test_full_with_a_numpy_bool_gives_a_bool_tensor():
    assert ag.full((2,), np.True_).dtype == np.bool_
    assert ag.full((2,), 3).dtype == ag.get_default_dtype()


@pytest.mark.parametrize("dtype", [np.float16, np.int64, np.bool_])
def test_random_floats_reject_other_dtypes_by_name(dtype):
    with pytest.raises(ag.DTypeError, match=r"float32 or float64, not "):
        ag.rand(2, dtype=dtype)
    with pytest.raises(ag.DTypeError, match=r"float32 or float64, not "):
        ag.randn(2, dtype=dtype)


def test_randint_takes_high_and_shape_alone():
    ag.manual_seed(0)
    a = ag.randint(3, (1000,))
    assert a.dtype == np.int64 and a.shape == (1000,)
    assert set(np.unique(a.numpy())) == {0, 1, 2}
    b = ag.randint(5, 7, (200,))
    assert set(np.unique(b.numpy())) == {5, 6}
