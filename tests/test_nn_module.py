"""``nn.Module`` and its containers: registration, traversal, qualified names and graph scopes,
modes, devices and dtypes, state dicts (round trip through a file, loading errors), repr."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import autograd as ag
import nn

from .devices import assert_on


class Block(nn.Module):
    """A small custom module: a parameter, a buffer and two submodules."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(ag.ones(3))
        self.register_buffer("count", ag.zeros((), dtype=ag.int64))
        self.register_buffer("cache", ag.zeros(3), persistent=False)
        self.inner = nn.Linear(3, 3)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(3, 2))

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        return self.head(self.inner(x) * self.scale)


def graph_nodes(t: ag.Tensor) -> list[ag.Function]:
    """Every op node of the graph that made ``t``."""
    nodes, stack = [], [t.grad_fn]
    while stack:
        node = stack.pop()
        if isinstance(node, ag.Function) and node not in nodes:
            nodes.append(node)
            stack.extend(node.edges)
    return nodes


# ----------------------------------------------------------------------- registration
def test_registration_and_traversal() -> None:
    b = Block()
    assert [n for n, _ in b.named_parameters()] == [
        "scale",
        "inner.weight",
        "inner.bias",
        "head.1.weight",
        "head.1.bias",
    ]
    assert [n for n, _ in b.named_buffers()] == ["count", "cache"]
    assert [n for n, _ in b.named_children()] == ["inner", "head"]
    assert [n for n, _ in b.named_modules()] == ["", "inner", "head", "head.0", "head.1"]
    assert next(b.modules()) is b and len(list(b.modules())) == 5
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in b.parameters())
    assert b.num_parameters() == 3 + 12 + 8
    assert list(b.parameters(recurse=False)) == [b.scale]
    del b.head
    assert [n for n, _ in b.named_children()] == ["inner"]


def test_assignment_rules() -> None:
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"expected an nn\.Parameter or None"):
        lin.weight = ag.zeros(2, 2)
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    lin.note = "plain attributes stay plain"
    assert "note" not in dict(lin.named_parameters())

    class NoInit(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(ag.zeros(1))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        NoInit()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_assigning_a_registered_name_again_keeps_its_place() -> None:
    """As in PyTorch: a replaced parameter, buffer or submodule keeps its position in
    parameters(), state_dict() and a Sequential's order of layers."""
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    setattr(seq, "1", nn.Tanh())
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear"]
    x = ag.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), dtype=ag.float32)
    expected = seq[2](seq[1](seq[0](x)))
    assert np.array_equal(seq(x).data, expected.data)
    seq[0].weight = nn.Parameter(ag.zeros(4, 3))
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    bn = nn.BatchNorm1d(3)
    bn.register_buffer("running_mean", ag.ones(3))
    assert list(bn.state_dict()) == list(nn.BatchNorm1d(3).state_dict())


def test_shared_parameters_and_modules_count_once() -> None:
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert model.num_parameters() == 6
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert shared.weight.name == "0.weight"  # named by its first parent


# ------------------------------------------------------------------------ names, scopes
def test_parameters_carry_their_qualified_names() -> None:
    model = nn.MLP(4, [3], 2, batch_norm=True)
    names = {n: p.name for n, p in model.named_parameters()}
    assert names == {n: n for n in names}
    assert model.layers[1].running_mean.name == "layers.1.running_mean"
    outer = nn.Sequential(nn.Flatten(), model)  # built into a bigger model: renamed
    assert model.layers[0].weight.name == "1.layers.0.weight"
    assert outer[1] is model
    outer[:1]  # a slice shares the modules without renaming them
    assert model.layers[0].weight.name == "1.layers.0.weight"
    lst = nn.ModuleList([nn.Linear(1, 1)])
    holder = nn.Sequential()
    holder.blocks = lst
    lst.append(nn.Linear(1, 1))
    assert [p.name for p in holder.parameters()] == [
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.1.weight",
        "blocks.1.bias",
    ]


def test_module_calls_label_their_ops_with_scopes() -> None:
    model = nn.MLP(4, [3], 2)
    out = model(ag.randn(5, 4))
    scopes = {type(n).__name__: n.scope for n in graph_nodes(out)}
    assert scopes["Linear"] in {("MLP", "layers", "layers.0"), ("MLP", "layers", "layers.2")}
    assert scopes["ReLU"] == ("MLP", "layers", "layers.1")
    assert ag.current_scope() == ()
    with ag.scope("outer"):
        out = nn.Linear(4, 2)(ag.randn(1, 4))
    assert out.grad_fn.scope == ("outer", "Linear")  # a root module: its class name
    assert ag.current_scope() == ()

    class Boom(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        Boom()(1)
    assert ag.current_scope() == ()  # restored after an error


# ------------------------------------------------------------------------------ modes
def test_train_eval_zero_grad_requires_grad() -> None:
    model = nn.MLP(4, [3], 2, dropout=0.5, batch_norm=True)
    assert all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    nn.functional.cross_entropy(model(ag.randn(6, 4)), [0, 1, 0, 1, 1, 0]).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    assert model.num_parameters(trainable_only=True) == 0
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "MLP" and seen.count("Linear") == 2


def test_to_dtype_keeps_the_parameter_objects() -> None:
    model = nn.MLP(3, [4], 2, batch_norm=True)
    params = list(model.parameters())
    model(ag.randn(5, 3)).sum().backward()
    assert model.double() is model
    assert list(model.parameters()) == params
    assert all(p.dtype == ag.float64 and p.grad.dtype == ag.float64 for p in params)
    bn = model.layers[1]
    assert bn.running_var.dtype == ag.float64 and bn.num_batches_tracked.dtype == ag.int64
    assert model(ag.randn(5, 3, dtype=ag.float64)).dtype == ag.float64
    model.to(ag.float32)
    assert all(p.dtype == ag.float32 for p in params)


def test_to_device_moves_everything_and_never_implicitly(accelerator: str) -> None:
    ag.manual_seed(0)
    model = nn.MLP(3, [4], 2, dropout=0.5, batch_norm=True)
    x = ag.randn(6, 3)
    model.to(accelerator)
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        assert_on(t, accelerator, name)
    with pytest.raises(ag.DeviceError):
        model(x)  # a CPU input is not moved behind the user's back
    target = ag.tensor([0, 1, 0, 1, 1, 0], dtype=ag.int64, device=accelerator)
    loss = nn.functional.cross_entropy(model(x.to(accelerator)), target)
    assert_on(loss, accelerator, "the loss")
    loss.backward()
    for name, p in model.named_parameters():
        assert_on(p.grad, accelerator, f"the gradient of {name}")
    assert_on(model.layers[1].running_mean, accelerator, "the running mean after training")
    model.eval()
    assert_on(model(x.to(accelerator)), accelerator, "an eval output")
    model.layers[1].reset_running_stats()
    nn.init.kaiming_normal_(model.layers[0].weight)
    assert_on(model.layers[0].weight, accelerator, "a re-initialized weight")
    model.to("cpu")
    assert model(x).device == "cpu"


def test_linear_and_batchnorm_created_on_a_device(accelerator: str) -> None:
    gen = ag.Generator(accelerator).manual_seed(0)
    lin = nn.Linear(3, 2, device=accelerator, generator=gen)
    bn = nn.BatchNorm1d(2, device=accelerator)
    for name, t in [*lin.named_parameters(), *bn.named_parameters(), *bn.named_buffers()]:
        assert_on(t, accelerator, name)
    out = bn(lin(ag.randn(4, 3, device=accelerator)))
    assert_on(out, accelerator, "the output")


# ------------------------------------------------------------------------ state dicts
def test_state_dict_round_trip_through_a_file(tmp_path) -> None:
    ag.manual_seed(0)
    model = nn.MLP(4, [5, 3], 2, batch_norm=True)
    for _ in range(2):
        model(ag.randn(8, 4))  # moves the running statistics
    path = tmp_path / "model.weights"  # saved exactly there, whatever the suffix
    nn.save(model, path)
    assert path.exists()
    loaded = nn.load(path)
    assert list(loaded) == list(model.state_dict())
    assert all(isinstance(v, ag.Tensor) for v in loaded.values())
    assert loaded["layers.1.num_batches_tracked"].shape == ()
    other = nn.MLP(4, [5, 3], 2, batch_norm=True)
    assert other.load_state_dict(loaded) == ([], [])
    x = ag.randn(3, 4)
    model.eval(), other.eval()
    np.testing.assert_array_equal(other(x).numpy(), model(x).numpy())
    # the loaded values are copies: changing the dict does not change the model
    loaded["layers.0.weight"].data[...] = 0
    assert np.abs(other.layers[0].weight.numpy()).max() > 0
    with np.load(path) as raw:  # a plain NumPy archive
        np.testing.assert_array_equal(raw["layers.0.bias"], model.layers[0].bias.numpy())


def test_state_dict_shares_data_and_skips_non_persistent_buffers() -> None:
    b = Block()
    state = b.state_dict()
    assert list(state) == [
        "scale",
        "count",
        "inner.weight",
        "inner.bias",
        "head.1.weight",
        "head.1.bias",
    ]
    assert not state["scale"].requires_grad and state["scale"].data is b.scale.data


def _snapshot(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_load_errors_list_every_problem_and_change_nothing() -> None:
    model = nn.MLP(4, [3], 2)
    before = _snapshot(model)
    state = {k: v.numpy() * 0 for k, v in model.state_dict().items()}
    del state["layers.2.bias"]
    state["layers.0.weight"] = np.zeros((3, 5), np.float32)
    state["layers.0.bias"] = np.zeros(3, np.float64)
    state["extra.weight"] = np.zeros(1, np.float32)
    with pytest.raises(nn.StateDictError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    for part in [
        "the model is unchanged",
        "layers.0.weight: (3, 5) float32 in the state dict, (3, 4) float32 in the model",
        "layers.0.bias: (3,) float64 in the state dict, (3,) float32 in the model",
        "missing keys: layers.2.bias",
        "unexpected keys: extra.weight",
    ]:
        assert part in message
    assert info.value.missing_keys == ["layers.2.bias"]
    assert info.value.unexpected_keys == ["extra.weight"]
    assert len(info.value.mismatched) == 2
    after = _snapshot(model)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    # not strict: missing and unexpected keys are reported, mismatches still refused
    with pytest.raises(nn.StateDictError, match="mismatched"):
        model.load_state_dict(state, strict=False)
    del state["layers.0.weight"], state["layers.0.bias"]
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["layers.0.weight", "layers.0.bias", "layers.2.bias"]
    assert result.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(model.layers[2].weight.numpy(), 0)
    np.testing.assert_array_equal(model.layers[2].bias.numpy(), before["layers.2.bias"])


def test_load_refuses_files_that_are_not_state_dicts(tmp_path) -> None:
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, w=np.array([{"code": "runs"}], dtype=object))
    with pytest.raises(ValueError, match=r"not a state dict saved by nn\.save"):
        nn.load(pickled)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a state dict"):
        nn.load(text)
    with pytest.raises(TypeError, match="tensors or arrays only"):
        nn.save({"lr": 0.1}, tmp_path / "bad.npz")


def test_save_from_a_device_and_load_onto_another(tmp_path, accelerator: str) -> None:
    ag.manual_seed(0)
    model = nn.MLP(3, [4], 2, batch_norm=True).to(accelerator)
    model(ag.randn(5, 3, device=accelerator))
    nn.save(model, tmp_path / "m.npz")
    cpu_model = nn.MLP(3, [4], 2, batch_norm=True)
    cpu_model.load_state_dict(nn.load(tmp_path / "m.npz"))
    device_model = nn.MLP(3, [4], 2, batch_norm=True).to(accelerator)
    device_model.load_state_dict(cpu_model.state_dict())  # copied onto the model's device
    for name, t in device_model.state_dict().items():
        assert_on(t, accelerator, name)
    x = ag.randn(2, 3)
    cpu_model.eval(), device_model.eval(), model.eval()
    np.testing.assert_allclose(
        device_model(x.to(accelerator)).cpu().numpy(), cpu_model(x).numpy(), rtol=1e-6
    )


def test_deepcopy_gives_an_independent_model() -> None:
    model = nn.MLP(3, [4], 2)
    clone = copy.deepcopy(model)
    clone.layers[0].weight.data[...] = 0
    assert np.abs(model.layers[0].weight.numpy()).max() > 0
    assert clone.layers[0].weight.name == "layers.0.weight"


# ------------------------------------------------------------------------------- repr
def test_repr_like_pytorch() -> None:
    model = nn.MLP(784, [256, 128], 10, dropout=[0.4, 0.3], batch_norm=True)
    assert repr(model) == (
        "MLP(\n"
        "  (layers): Sequential(\n"
        "    (0): Linear(in_features=784, out_features=256, bias=True)\n"
        "    (1): BatchNorm1d(256, eps=1e-05, momentum=0.1, affine=True, "
        "track_running_stats=True)\n"
        "    (2): ReLU()\n"
        "    (3): Dropout(p=0.4)\n"
        "    (4): Linear(in_features=256, out_features=128, bias=True)\n"
        "    (5): BatchNorm1d(128, eps=1e-05, momentum=0.1, affine=True, "
        "track_running_stats=True)\n"
        "    (6): ReLU()\n"
        "    (7): Dropout(p=0.3)\n"
        "    (8): Linear(in_features=128, out_features=10, bias=True)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.MSELoss("sum")) == "MSELoss(reduction='sum')"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Flatten()) == "Flatten(start_axis=1, end_axis=-1)"
    assert repr(nn.Parameter(ag.zeros(2))).startswith("Parameter containing:\ntensor([0., 0.]")


def test_containers() -> None:
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b)
    seq.append(c)
    assert len(seq) == 3 and list(seq) == [a, b, c] and seq[-1] is c
    assert list(seq[1:]) == [b, c]
    named = nn.Sequential(OrderedDict([("hidden", a), ("act", b)]))
    assert [n for n, _ in named.named_children()] == ["hidden", "act"]
    x = ag.randn(4, 2)
    np.testing.assert_array_equal(seq(x).numpy(), c(b(a(x))).numpy())
    lst = nn.ModuleList([a, b])
    lst[1] = c
    assert list(lst) == [a, c] and len(lst) == 2
    with pytest.raises(IndexError):
        lst[2] = b
    assert lst.extend([b]) is lst and lst[-1] is b
