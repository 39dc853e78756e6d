"""Tensors on devices: creation, explicit moves, host conversion, cross-device errors, dtypes.

Each test runs on the ``accelerator`` fixture: the fake device (fake_device.py, the stand-in for
CuPy, on every machine) and CUDA (marked ``gpu``, skipped with the reason where there is none).
Nothing may be copied between devices behind the user's back: the fake device raises on any
NumPy array that meets a device array, and on any computation outside its device's context.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import autograd as ag
from autograd import functional
from autograd.errors import DeviceError
from nn import functional as F

from .devices import GPU, assert_on


def _second(device: str) -> str | None:
    """A second device of the same kind, if there is one."""
    if device.startswith("cuda"):
        return "cuda:1" if ag.cuda.device_count() > 1 else None
    return "fake:0"


def _other(device: str) -> str:
    """A second device of the same kind (the test is skipped without one)."""
    other = _second(device)
    if other is None:
        pytest.skip("needs a second CUDA device")
    return other


def test_every_creation_function_takes_a_device(accelerator: str) -> None:
    dev = accelerator
    x = ag.ones(2, 3, device=dev)
    made = {
        "tensor(list)": ag.tensor([[1.0, 2.0]], device=dev),
        "tensor(ndarray)": ag.tensor(np.arange(3.0), device=dev),
        "tensor(number)": ag.tensor(2.5, device=dev),
        "tensor(bool list)": ag.tensor([True, False], device=dev),
        "zeros": ag.zeros(2, 3, device=dev),
        "ones": x,
        "full": ag.full((2,), 7.0, device=dev),
        "arange": ag.arange(5, device=dev),
        "linspace": ag.linspace(0, 1, 5, device=dev),
        "eye": ag.eye(3, device=dev),
        "zeros_like": ag.zeros_like(x),
        "ones_like": ag.ones_like(x),
        "full_like": ag.full_like(x, 3.0),
        "rand": ag.rand(2, 3, device=dev),
        "randn": ag.randn(2, 3, device=dev),
        "randint": ag.randint(0, 10, (4,), device=dev),
        "randperm": ag.randperm(6, device=dev),
        "rand_like": ag.rand_like(x),
        "randn_like": ag.randn_like(x),
    }
    for name, t in made.items():
        assert_on(t, dev, name)
    assert made["ones"].dtype == np.float32 and made["randn"].dtype == np.float32
    assert made["tensor(ndarray)"].dtype == np.float64  # arrays keep their dtype
    assert made["arange"].dtype == np.int64
    assert sorted(made["randperm"].tolist()) == list(range(6))
    assert ag.randn(3, device=dev, requires_grad=True).requires_grad


def test_seeded_streams_repeat_on_the_device(accelerator: str) -> None:
    g = ag.Generator(accelerator)
    a = ag.randn(5, generator=g.manual_seed(3)).cpu().numpy()
    b = ag.randn(5, generator=g.manual_seed(3)).cpu().numpy()
    np.testing.assert_array_equal(a, b)
    ag.manual_seed(11)
    c = ag.rand(4, device=accelerator).cpu().numpy()
    ag.manual_seed(11)
    np.testing.assert_array_equal(c, ag.rand(4, device=accelerator).cpu().numpy())


def test_to_and_cpu_move_explicitly_and_gradients_follow(accelerator: str) -> None:
    host = ag.tensor([1.0, -2.0, 3.0], requires_grad=True)
    on_dev = host.to(accelerator)
    assert_on(on_dev, accelerator, "to(device)")
    back = (on_dev * on_dev).cpu()
    assert_on(back, "cpu", "cpu()")
    np.testing.assert_array_equal(back.numpy(), [1.0, 4.0, 9.0])
    back.sum().backward()
    assert_on(host.grad, "cpu", "the gradient of the host leaf")
    np.testing.assert_array_equal(host.grad.numpy(), [2.0, -4.0, 6.0])
    leaf = ag.tensor([1.0, 2.0], device=accelerator, requires_grad=True)
    leaf.cpu().sum().backward()
    assert_on(leaf.grad, accelerator, "the gradient of the device leaf")
    assert host.to(accelerator).to(accelerator).device == accelerator
    assert on_dev.to(accelerator) is on_dev  # nothing to move


def test_tensor_of_a_device_array_stays_on_its_device(accelerator: str) -> None:
    t = ag.arange(3.0, device=accelerator)
    copy = ag.tensor(t)
    assert_on(copy, accelerator, "tensor(device tensor)")
    assert copy.data is not t.data
    assert_on(ag.tensor(t, device="cpu"), "cpu", "tensor(device tensor, device='cpu')")
    assert_on(ag.tensor(t, dtype=ag.float64), accelerator, "tensor(device tensor, dtype=)")


@pytest.mark.parametrize("convert", [lambda t: t.numpy(), np.asarray], ids=["numpy", "asarray"])
def test_numpy_of_a_device_tensor_says_to_copy_first(accelerator: str, convert) -> None:
    t = ag.ones(3, device=accelerator)
    with pytest.raises(TypeError, match=r"\.cpu\(\)\.numpy\(\)"):
        convert(t)


def test_python_numbers_copy_one_element(accelerator: str) -> None:
    t = ag.tensor([2.5], device=accelerator)
    assert t.item() == 2.5 and float(t) == 2.5 and int(t) == 2
    assert bool(ag.tensor(1.0, device=accelerator))
    assert ag.tensor([[1.0, 2.0]], device=accelerator).tolist() == [[1.0, 2.0]]
    assert f"device='{ag.device(accelerator)}'" in repr(t)
    assert f"{ag.tensor(0.125, device=accelerator):.2f}" == "0.12"


@pytest.mark.parametrize(
    "op",
    [
        ("add", lambda a, b: a + b),
        ("mul", lambda a, b: b * a),
        ("matmul", lambda a, b: a @ b),
        ("maximum", ag.maximum),
        ("where", lambda a, b: ag.where(a > 0, a, b)),
        ("concatenate", lambda a, b: ag.concatenate([a, b])),
        ("stack", lambda a, b: ag.stack([a, b])),
        ("eq", lambda a, b: a == b),
    ],
    ids=lambda o: o[0],
)
def test_mixing_devices_is_an_error_naming_the_op_and_both_devices(accelerator, op) -> None:
    name, fn = op
    a = ag.ones(2, 2, device=accelerator)
    for other in ("cpu", _second(accelerator) or "cpu"):
        b = ag.ones(2, 2, device=other)
        with pytest.raises(
            DeviceError,
            match=rf"{name}: .*{a.device}.*{b.device}|{name}: .*"
            rf"{b.device}.*{a.device}",
        ):
            fn(a, b)


def test_backward_gradient_on_another_device_is_an_error(accelerator: str) -> None:
    x = ag.ones(2, device=accelerator, requires_grad=True)
    with pytest.raises(DeviceError, match=r"backward: .*cpu"):
        (x * 2).backward(ag.ones(2))


def test_float32_stays_float32(accelerator: str) -> None:
    x = ag.tensor([0.5, 1.5], device=accelerator, requires_grad=True)
    outs = [x * 2.0, 2.0**x, x / 3, x + 1, x**2.5, (x - 1).abs(), x.mean(), x.softmax(), -x]
    for out in outs:
        assert out.dtype == np.float32
        assert_on(out, accelerator, "a float32 result")
    sum(o.sum() for o in outs).backward()
    assert x.grad.dtype == np.float32
    assert_on(x.grad, accelerator, "a float32 gradient")


def test_where_of_a_device_condition_and_numbers(accelerator: str) -> None:
    x = ag.tensor([-1.0, 2.0], device=accelerator)
    for out in (ag.where(x > 0, 1.0, 0.0), ag.where(x > 0, x, 0.0), ag.where(x > 0, 0.5, x)):
        assert_on(out, accelerator, "where")
        assert out.dtype == np.float32
    np.testing.assert_array_equal(ag.where(x > 0, 1.0, 0.0).cpu().numpy(), [0.0, 1.0])


def test_indexing_with_host_data_and_device_tensors(accelerator: str) -> None:
    x = ag.arange(6.0, device=accelerator).reshape(2, 3).requires_grad_()
    on_device = ag.tensor([2, 2], dtype=ag.int64, device=accelerator)
    parts = [x[[0, 1, 1]], x[np.array([1, 0])], x[:, on_device], x[x > 2]]
    for p in parts:
        assert_on(p, accelerator, "an indexing result")
    sum(p.sum() for p in parts).backward()
    assert_on(x.grad, accelerator, "the gradient of indexing")
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [[2, 2, 4], [4, 4, 6]])
    with pytest.raises(DeviceError, match=rf"getitem: .*{x.device}.*cpu"):
        x[:, ag.tensor([2, 2], dtype=ag.int64)]  # an index tensor is an operand: same device


def test_hooks_and_retained_gradients_live_on_the_device(accelerator: str) -> None:
    x = ag.randn(3, device=accelerator, requires_grad=True)
    seen = []
    y = x * 3
    y.retain_grad()
    y.register_hook(lambda g: seen.append(g) or g * 2)
    (y * y).sum().backward()
    assert_on(seen[0], accelerator, "the gradient a hook sees")
    assert_on(y.grad, accelerator, "a retained gradient")
    assert_on(x.grad, accelerator, "a gradient through a hook")


def test_functional_on_the_device(accelerator: str) -> None:
    x = ag.tensor([0.5, -1.0], dtype=ag.float64, device=accelerator)
    v = ag.tensor([1.0, 2.0], dtype=ag.float64, device=accelerator)

    def f(t):
        return (t**3).sum()

    results = {
        "jacobian": functional.jacobian(lambda t: t.tanh(), x),
        "jacobian of a constant": functional.jacobian(lambda t: ag.zeros(0, device=t.device), x),
        "hessian": functional.hessian(f, x),
        "vjp": functional.vjp(f, x)[1],
        "jvp": functional.jvp(lambda t: t * t, x, v)[1],
        "hvp": functional.hvp(f, x, v)[1],
        "vhp": functional.vhp(f, x, v)[1],
        "unused input": functional.jacobian(lambda a, b: a * 2, (x, v))[1],
    }
    for name, t in results.items():
        assert_on(t, accelerator, name)
    np.testing.assert_allclose(results["hvp"].cpu().numpy(), [3.0, -12.0])


def test_gradcheck_runs_on_the_device(accelerator: str) -> None:
    x = ag.randn(3, dtype=ag.float64, device=accelerator, requires_grad=True)
    assert ag.gradcheck(lambda t: (t.sin() * t).sum(), [x])
    assert ag.gradgradcheck(lambda t: t.exp() * t, [x])
    with pytest.raises(ag.GradcheckError, match="disagrees"):
        ag.gradcheck(lambda t: _WrongSquare()(t), [x])


class _WrongSquare(ag.Function):
    """x^2 with the wrong derivative x (instead of 2x), to see gradcheck fail on a device."""

    save_inputs = True

    def forward(self, x):
        return x * x

    def backward(self, m, g, x):
        return g * x


def test_float32_mlp_step_matches_the_cpu(accelerator: str) -> None:
    """One step of a 784-64-10 MLP in float32: the loss and every gradient on the device agree
    with the CPU's within float32 precision (GPU sums are not bitwise equal to NumPy's)."""
    rng = np.random.default_rng(0)
    arrays = {
        "x": rng.random((32, 784), dtype=np.float32),
        "w1": (rng.standard_normal((784, 64)) * 0.05).astype(np.float32),
        "b1": np.zeros(64, np.float32),
        "w2": (rng.standard_normal((64, 10)) * 0.1).astype(np.float32),
        "b2": np.zeros(10, np.float32),
    }
    labels = rng.integers(0, 10, 32)

    def step(device):
        t = {k: ag.tensor(a, device=device, requires_grad=k != "x") for k, a in arrays.items()}
        logits = (t["x"] @ t["w1"] + t["b1"]).relu() @ t["w2"] + t["b2"]
        rows = ag.arange(32, device=device)
        loss = -logits.log_softmax(axis=1)[rows, ag.tensor(labels, device=device)].mean()
        loss.backward()
        return loss, {k: v.grad for k, v in t.items() if k != "x"}

    loss_cpu, grads_cpu = step("cpu")
    loss_dev, grads_dev = step(accelerator)
    assert_on(loss_dev, accelerator, "the loss")
    assert loss_dev.dtype == np.float32
    np.testing.assert_allclose(loss_dev.item(), loss_cpu.item(), rtol=1e-5)
    for k, g in grads_dev.items():
        assert_on(g, accelerator, f"d loss / d {k}")
        assert g.dtype == np.float32
        np.testing.assert_allclose(
            g.cpu().numpy(), grads_cpu[k].numpy(), rtol=1e-4, atol=1e-6, err_msg=k
        )


def test_devices_of_one_kind_do_not_mix(accelerator: str) -> None:
    other = _other(accelerator)
    a = ag.ones(2, device=accelerator, requires_grad=True)
    b = ag.ones(2, device=other, requires_grad=True)
    assert a.device != b.device
    (a.to(other) * b).sum().backward()  # the explicit move is differentiable
    assert_on(a.grad, accelerator, "the gradient across the move")
    assert_on(b.grad, other, "the gradient on the other device")


# ----------------------------------------------------------------- without a GPU, or with one


def test_a_device_index_past_the_last_is_an_error(accelerator: str) -> None:
    kind = ag.device(accelerator).type
    n = 2 if kind == "fake" else ag.cuda.device_count()
    with pytest.raises(DeviceError, match=rf"'{kind}:{n}' does not exist: .* {kind}:{n - 1}\)"):
        ag.zeros(1, device=f"{kind}:{n}")


def test_cuda_queries_answer_everywhere() -> None:
    assert isinstance(ag.cuda.is_available(), bool)
    assert ag.cuda.device_count() >= 0
    assert ag.device("cuda:1").index == 1 and ag.device("cuda").index == 0


def test_import_without_cupy_and_cuda_says_what_is_missing() -> None:
    """With CuPy hidden (as where it is not installed): importing works, "cuda" explains."""
    script = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('cupy', 'cupyx'):\n"
        "            raise ImportError('no ' + name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "import autograd as ag\n"
        "assert not ag.cuda.is_available() and ag.cuda.device_count() == 0\n"
        "try:\n"
        "    ag.zeros(2, device='cuda:0')\n"
        "except ag.DeviceError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert "needs CuPy, which is not installed" in out.stdout
    assert 'pip install "arraygrad[gpu]"' in out.stdout


@pytest.mark.gpu
@pytest.mark.skipif(*GPU[1].args, **GPU[1].kwargs)
def test_cuda_tensors_hold_cupy_arrays() -> None:
    import cupy

    x = ag.randn(4, 4, device="cuda", requires_grad=True)
    assert isinstance(x.data, cupy.ndarray) and x.device == "cuda:0"
    y = x.cuda()
    assert y is x and x.cpu().cuda(0).device == "cuda:0"
    (x @ x).sum().backward()
    assert isinstance(x.grad.data, cupy.ndarray)


LOSSES = {
    "cross_entropy": lambda x, y, t, w: F.cross_entropy(x, y),
    "weighted, smoothed": lambda x, y, t, w: F.cross_entropy(x, y, weight=w, label_smoothing=0.1),
    "ignore_index": lambda x, y, t, w: F.cross_entropy(x, y, ignore_index=1),
    "probabilities": lambda x, y, t, w: F.cross_entropy(x, t / t.sum(axis=1, keepdims=True)),
    "nll_loss": lambda x, y, t, w: F.nll_loss(x.log_softmax(axis=1), y, weight=w),
    "binary_cross_entropy": lambda x, y, t, w: F.binary_cross_entropy(x.sigmoid(), t, weight=w),
    "with logits": lambda x, y, t, w: F.binary_cross_entropy_with_logits(x, t, pos_weight=w),
    "mse_loss": lambda x, y, t, w: F.mse_loss(x, t),
}


@pytest.mark.parametrize("loss", list(LOSSES))
def test_every_loss_runs_on_the_device_with_the_hosts_numbers(accelerator: str, loss) -> None:
    """Each loss of nn.functional (its checks of the targets included) computes on the
    device, in its context, with the host's value and gradient."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(6, 3)), rng.integers(0, 3, 6), rng.random((6, 3))
    results = {}
    for device in ("cpu", accelerator):
        x = ag.tensor(data[0], device=device, requires_grad=True)
        y, t = ag.tensor(data[1], device=device), ag.tensor(data[2], device=device)
        value = LOSSES[loss](x, y, t, ag.tensor(np.array([0.2, 1.0, 3.0]), device=device))
        value.backward()
        assert_on(value, device, loss)
        assert_on(x.grad, device, f"the gradient of {loss}")
        results[device] = value.item(), x.grad.cpu().numpy()
    np.testing.assert_allclose(results[accelerator][0], results["cpu"][0], rtol=1e-12)
    np.testing.assert_allclose(results[accelerator][1], results["cpu"][1], rtol=1e-12, atol=1e-15)


def test_fit_trains_on_the_device_eager_and_compiled_alike(accelerator: str) -> None:
    """nn.train.fit with a DataLoader on the device: its per-batch accuracy, the validation
    and early stopping run in the device's context; compiled steps give eager's history."""
    from nn import MLP
    from nn.train import DataLoader, fit
    from optim import Adam

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 5)).astype(np.float32), rng.integers(0, 3, 40)
    histories = []
    for compiled in (False, True):
        model = MLP(
            5, [6], 3, device=accelerator, generator=ag.Generator(accelerator).manual_seed(0)
        )
        loader = DataLoader((x, y), batch_size=8, shuffle=True, seed=1, device=accelerator)
        history = fit(
            model,
            Adam(model.parameters(), lr=0.01),
            loader,
            epochs=3,
            validation=(x[:10], y[:10]),
            early_stopping=2,
            progress=False,
            compiled=compiled,
        )
        assert all(p.device == ag.device(accelerator) for p in model.parameters())
        histories.append([(r["loss"], r["accuracy"], r["val_loss"]) for r in history.rows])
    assert histories[0] == histories[1] and len(histories[0]) == 3


def test_manual_seed_also_seeds_a_device_first_used_after_it(accelerator, monkeypatch) -> None:
    """As torch.manual_seed seeds a CUDA device first used later: `ag.manual_seed(s)` then a
    model made on the device draws the same weights in every run (its default generator,
    made after the call, starts from s, as one seeded again does)."""
    from autograd import random

    monkeypatch.setattr(random, "_defaults", {})  # no generator made yet on any device
    ag.manual_seed(7)
    first = ag.rand(4, device=accelerator).cpu().numpy()
    ag.manual_seed(7)  # the generator exists now: seeded again
    np.testing.assert_array_equal(ag.rand(4, device=accelerator).cpu().numpy(), first)
