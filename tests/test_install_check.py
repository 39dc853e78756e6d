"""The import-time check that the package imported as ``autograd`` is arraygrad's.

HIPS autograd (PyPI's ``autograd``) installs into the same ``autograd/`` folder: installing it
beside arraygrad replaces ``autograd/__init__.py`` and keeps arraygrad's other modules, and
uninstalling it afterwards leaves a folder without ``__init__.py``. Each case is rebuilt in a
temporary folder that a fresh interpreter finds first on ``PYTHONPATH``: copies of our
``autograd``, ``nn`` and ``optim``, the first with its ``__init__.py`` replaced (or removed).
The repository itself is not on that path: a regular ``autograd`` package there would win over
an ``autograd`` folder without ``__init__.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import autograd
import nn
import optim
from autograd import _install_check

REPO = Path(__file__).resolve().parents[1]
REPAIR = "pip uninstall -y autograd && pip install --force-reinstall --no-deps arraygrad"
EDITABLE_REPAIR = "pip install --force-reinstall --no-deps -e ."

# Not HIPS's code: a stand-in with the same kind of top-level names (grad, elementwise_grad,
# primitive) and none of arraygrad's.
HIPS_LIKE_INIT = '''"""Stand-in for HIPS autograd's autograd/__init__.py (test only)."""


def primitive(f):
    return f


def grad(fun, argnum=0):
    return fun


def elementwise_grad(fun, argnum=0):
    return fun
'''


def broken_install(tmp_path: Path, init: str | None) -> Path:
    """Copies of autograd, nn and optim; autograd/__init__.py is ``init`` (None: no file)."""
    site = tmp_path / "site"
    for package in ("autograd", "nn", "optim"):
        shutil.copytree(
            REPO / package, site / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    (site / "autograd" / "__init__.py").unlink()
    if init is not None:
        (site / "autograd" / "__init__.py").write_text(init)
    return site


def import_in_fresh_python(site: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(site)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # cwd is the temporary folder: the repository's own autograd must not come first.
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_arraygrads_autograd_passes_the_check():
    assert autograd.__arraygrad__ is True
    assert _install_check.install_problem(autograd) is None
    _install_check.check_autograd()
    assert nn.Linear is not None and optim.SGD is not None


def test_fresh_interpreter_imports_cleanly(tmp_path):
    site = tmp_path / "site"
    for package in ("autograd", "nn", "optim"):
        shutil.copytree(
            REPO / package, site / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    result = import_in_fresh_python(
        site, "import autograd, nn, optim; print(autograd.__file__, autograd.Tensor)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        str(site / "autograd" / "__init__.py"),
        "<class",
        "'autograd.tensor.Tensor'>",
    ]


@pytest.mark.parametrize("package", ["nn", "optim"])
def test_hips_autograd_over_arraygrad_is_named_with_the_repair(tmp_path, package):
    site = broken_install(tmp_path, HIPS_LIKE_INIT)
    result = import_in_fresh_python(site, f"import {package}")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: the package imported as 'autograd' (")
    assert str(site / "autograd" / "__init__.py") in last
    assert "is HIPS autograd (autograd/__init__.py from PyPI's 'autograd'), not arraygrad's" in last
    assert REPAIR in last and EDITABLE_REPAIR in last
    assert "Use separate virtual environments for the two." in last
    assert "cannot import name" not in result.stderr  # the check runs before nn's own imports


def test_autograd_without_init_after_pip_uninstall(tmp_path):
    site = broken_install(tmp_path, None)
    result = import_in_fresh_python(site, "import nn")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ImportError: the package imported as 'autograd' ({site / 'autograd'})")
    assert "has no __init__.py" in last and "'pip uninstall autograd'" in last
    assert "HIPS autograd" in last and REPAIR in last


def test_some_other_autograd_package():
    other = ModuleType("autograd")
    other.__file__ = "/somewhere/autograd/__init__.py"
    other.Tensor = object  # a Tensor alone is not enough: the marker is missing
    problem = _install_check.install_problem(other)
    assert problem is not None
    assert "/somewhere/autograd/__init__.py" in problem and "is not arraygrad's" in problem
    assert "HIPS autograd" in problem and REPAIR in problem
