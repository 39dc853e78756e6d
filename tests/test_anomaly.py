"""Anomaly mode: ``detect_anomaly()`` names the op and the line of code behind the first NaN or
infinity, in forward or in backward; ``check_nan=False`` only records where nodes were made.
Off by default, thread-local, a context manager and a decorator."""

from __future__ import annotations

import inspect
import threading

import numpy as np
import pytest

import autograd as ag


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with np.errstate(divide="ignore", invalid="ignore"):  # the NaNs here are on purpose
        yield


def line_of(marker: str) -> int:
    """The line number of the caller's source line that contains ``marker``."""
    frame = inspect.currentframe().f_back
    lines, start = inspect.getsourcelines(frame.f_code)
    return start + next(i for i, text in enumerate(lines) if marker in text)


def assert_names_line(message: str, line: int) -> None:
    assert f'File "{__file__}", line {line}' in message


def test_off_by_default_and_nan_passes_silently():
    assert not ag.is_anomaly_enabled()
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    y = ag.log(x)
    assert y.tolist()[0] == -np.inf
    assert getattr(y.grad_fn, "anomaly", None) is None  # nothing recorded when off


def test_log_of_zero_in_forward():
    x = ag.tensor([0.0, 1.0, 2.0], requires_grad=True)
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError) as info:
        ag.log(x)  # the line: log(0)
    message = str(info.value)
    assert message.startswith("log: produced infinity (1 of 3 values) in forward")
    assert "from finite inputs (input 0: shape (3,), float32; output: shape (3,), float32)" in (
        message
    )
    assert_names_line(message, line_of("# the line: log(0)"))
    assert issubclass(ag.AnomalyError, ag.ArraygradError)


def test_sqrt_of_zero_in_backward():
    x = ag.tensor([0.0, 4.0], dtype=ag.float64, requires_grad=True)
    with ag.detect_anomaly():
        y = x.sqrt()  # the line: sqrt
        loss = y.sum()  # forward is finite: sqrt(0) = 0
        assert loss.item() == 2.0
        with pytest.raises(ag.AnomalyError) as info:
            loss.backward()
    message = str(info.value)
    assert message.startswith(
        "sqrt: its backward rule produced infinity (1 of 2 values) in the gradient of input 0 "
        "(shape (2,), float64) from a finite incoming gradient."
    )
    assert "The sqrt node (input 0: shape (2,), float64) was created at:" in message
    assert_names_line(message, line_of("# the line: sqrt"))


def test_the_where_gradient_trap():
    # where(x > 0, sqrt(x), 0) is finite at x = 0, but sqrt's backward gets 0 there and
    # sends back 0 / (2 sqrt(0)) = NaN: the gradient of x is NaN
    x = ag.tensor([0.0, 1.0], dtype=ag.float64, requires_grad=True)
    y = ag.where(x > 0, ag.sqrt(x), 0.0).sum()
    y.backward()
    assert np.isnan(x.grad.numpy()[0])  # without anomaly mode: a silent NaN
    x.grad = None
    with ag.detect_anomaly():
        y = ag.where(x > 0, ag.sqrt(x), 0.0).sum()  # the line: where trap
        with pytest.raises(ag.AnomalyError, match=r"^sqrt: its backward rule produced NaN") as e:
            y.backward()
    assert_names_line(str(e.value), line_of("# the line: where trap"))
    assert x.grad is None  # raised before reaching the leaf


def test_division_by_zero_under_where_is_caught_in_forward():
    x = ag.tensor([0.0, 2.0], requires_grad=True)
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError) as info:
        ag.where(x != 0, 1 / x, 0.0)  # the line: 1 / x
    message = str(info.value)
    assert message.startswith("div: produced infinity (1 of 2 values) in forward")
    assert "input 0: 1; input 1: shape (2,), float32" in message
    assert_names_line(message, line_of("# the line: 1 / x"))


def test_zero_over_zero_gives_nan_in_forward():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError, match=r"div: produced NaN \(1 of"):
        ag.where(x != 0, x / x, 1.0)


def test_non_finite_data_is_not_an_anomaly():
    mask = ag.tensor([0.0, -np.inf, 0.0])  # an attention mask, say
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with ag.detect_anomaly():
        p = ag.softmax(x + mask, axis=0)  # -inf came in as data, no op made it
        p.sum().backward()
    assert p.tolist()[1] == 0.0
    assert np.isfinite(x.grad.numpy()).all()


def test_check_nan_false_records_creation_lines_only():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    with ag.detect_anomaly(check_nan=False):
        assert ag.is_anomaly_enabled() and not ag.is_anomaly_check_nan_enabled()
        y = ag.log(x)  # no error: values are not checked
        loss = (x * 3.0).sum()  # the line: mul
        loss.backward()
        with pytest.raises(ag.GraphError, match="a second time") as info:
            loss.backward()  # an error raised in backward names where the node was made
    assert y.tolist()[0] == -np.inf
    notes = "\n".join(getattr(info.value, "__notes__", [])) or str(info.value)
    assert "The failing node (sum) was created at:" in notes
    assert_names_line(notes, line_of("# the line: mul"))


def test_backward_outside_anomaly_mode_is_not_checked():
    x = ag.tensor([0.0], requires_grad=True)
    with ag.detect_anomaly():
        y = x.sqrt().sum()
    y.backward()  # anomaly mode is off now: inf passes, as in PyTorch
    assert x.grad.tolist() == [np.inf]


def test_nodes_made_outside_anomaly_mode_say_so():
    x = ag.tensor([0.0], requires_grad=True)
    y = x.sqrt().sum()
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError, match="created outside"):
        y.backward()


def test_create_graph_gradients_are_checked():
    x = ag.tensor([0.0, 1.0], dtype=ag.float64, requires_grad=True)
    with ag.detect_anomaly():
        y = (x**1.5).sum()  # dy/dx = 1.5 sqrt(x), finite; d2y/dx2 = 0.75 / sqrt(x): inf at 0
        (g,) = ag.grad(y, x, create_graph=True)
        assert g.tolist() == [0.0, 1.5]
        with pytest.raises(ag.AnomalyError, match="produced infinity"):
            g.sum().backward()


def test_decorator_and_nesting_restore_the_mode():
    @ag.detect_anomaly()
    def inside() -> tuple[bool, bool]:
        return ag.is_anomaly_enabled(), ag.is_anomaly_check_nan_enabled()

    assert inside() == (True, True)
    assert not ag.is_anomaly_enabled()
    mode = ag.detect_anomaly(check_nan=False)
    with mode:
        with ag.detect_anomaly():
            assert ag.is_anomaly_check_nan_enabled()
        assert not ag.is_anomaly_check_nan_enabled()
        with mode:  # the same object, re-entered
            assert ag.is_anomaly_enabled()
        assert ag.is_anomaly_enabled()
    assert not ag.is_anomaly_enabled() and ag.is_anomaly_check_nan_enabled()
    with ag.set_detect_anomaly(True):
        assert ag.is_anomaly_enabled()
    assert not ag.is_anomaly_enabled()
    with ag.detect_anomaly():
        with ag.set_detect_anomaly(False):
            assert not ag.is_anomaly_enabled()
        assert ag.is_anomaly_enabled()


def test_anomaly_mode_is_thread_local():
    seen = []
    with ag.detect_anomaly():
        thread = threading.Thread(target=lambda: seen.append(ag.is_anomaly_enabled()))
        thread.start()
        thread.join()
        assert ag.is_anomaly_enabled()
    assert seen == [False]


def test_results_are_unchanged_in_anomaly_mode():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(3,))

    def run():
        x = ag.tensor(a, requires_grad=True)
        w = ag.tensor(b, requires_grad=True)
        loss = ag.log_softmax(x * w, axis=1).sum()
        loss.backward()
        return loss.item(), x.grad.numpy(), w.grad.numpy()

    plain = run()
    with ag.detect_anomaly():
        checked = run()
    assert plain[0] == checked[0]
    np.testing.assert_array_equal(plain[1], checked[1])
    np.testing.assert_array_equal(plain[2], checked[2])


def test_nn_training_step_in_anomaly_mode():
    import nn

    ag.manual_seed(0)
    model = nn.MLP(3, [4], 2)
    x, y = ag.randn(5, 3), ag.tensor([0, 1, 0, 1, 1], dtype=ag.int64)
    with ag.detect_anomaly():
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
    assert all(np.isfinite(p.grad.numpy()).all() for p in model.parameters())
