"""The layers of the packages: ``nn`` (the network library) imports neither ``optim`` nor the
training layer ``nn.train``, which sits above both; ``nn.train``, ``nn.utils`` and the old
names of the training modules (``nn.data``, ``nn.datasets``, ``nn.training``,
``nn.estimators``) are attributes of ``nn`` imported on first use, and the old names still
import everything they held."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import nn

REPO = Path(__file__).resolve().parents[1]
NN = REPO / "nn"
ALIASES = ("data", "datasets", "estimators", "training")  # nn/<old>.py, thin re-exports
NEW = {"data": "data", "datasets": "datasets", "estimators": "estimators", "training": "fit"}
OPTIONAL = ("sklearn", "tqdm", "matplotlib", "threadpoolctl", "ipywidgets")


def fresh_interpreter(code: str) -> dict:
    """The JSON that ``code`` prints, run by a new interpreter (nothing imported yet)."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_import_nn_imports_neither_optim_nor_the_training_layer():
    loaded = fresh_interpreter(
        "import json, sys\n"
        "import nn\n"
        "before = sorted(m for m in sys.modules if m.split('.')[0] in ('optim', 'nn'))\n"
        "nn.data, nn.train, nn.training, nn.datasets, nn.utils\n"
        "after = sorted(m for m in sys.modules if m.split('.')[0] in ('optim', 'nn'))\n"
        f"optional = [m for m in {OPTIONAL!r} if m in sys.modules]\n"
        "print(json.dumps({'before': before, 'after': after, 'optional': optional}))\n"
    )
    assert not any(m == "optim" or m.startswith("nn.train") for m in loaded["before"])
    assert not any(m in loaded["before"] for m in ("nn.data", "nn.utils", "nn.datasets"))
    # the attributes import the training layer (not the estimators: they need scikit-learn)
    assert {"nn.train", "nn.train.data", "nn.train.fit", "nn.utils"} <= set(loaded["after"])
    assert "optim" not in loaded["after"] and "nn.train.estimators" not in loaded["after"]
    assert loaded["optional"] == []  # nn.train imports its optional dependencies on use


def test_dir_lists_the_lazy_submodules():
    assert {"data", "datasets", "estimators", "train", "training", "utils"} <= set(dir(nn))
    assert {"MLP", "functional", "Module"} <= set(dir(nn))
    with pytest.raises(AttributeError, match="has no attribute 'nonexistent'"):
        nn.nonexistent  # noqa: B018


@pytest.mark.parametrize("old", ["data", "training", "estimators"])
def test_old_module_names_are_the_moved_modules(old: str):
    if old == "estimators":
        pytest.importorskip("sklearn", reason="nn.train.estimators needs scikit-learn")
    new = importlib.import_module(f"nn.train.{NEW[old]}")
    assert getattr(nn, old) is importlib.import_module(f"nn.{old}") is new


def test_old_names_are_the_new_objects():
    import nn.train.data
    import nn.train.datasets

    fit_module = importlib.import_module("nn.train.fit")  # nn.train.fit is the function
    assert nn.data.DataLoader is nn.train.data.DataLoader is nn.train.DataLoader
    assert nn.data.train_val_split is nn.train.data.train_val_split
    assert nn.training.fit is fit_module.fit is nn.train.fit
    assert nn.training.History is fit_module.History is nn.train.History
    assert nn.training.plot_history is fit_module.plot_history
    assert nn.datasets.load_mnist is nn.train.datasets.load_mnist is nn.train.load_mnist
    assert nn.datasets.Release is nn.train.datasets.Release
    assert nn.datasets.MNIST is nn.train.datasets.MNIST
    assert nn.datasets._read_pickle is importlib.import_module("nn.train.formats")._read_pickle
    assert nn.datasets._atomic_file is importlib.import_module("nn.train.download")._atomic_file
    pytest.importorskip("sklearn", reason="nn.train.estimators needs scikit-learn")
    import nn.train.estimators

    assert nn.estimators.MLPClassifier is nn.train.estimators.MLPClassifier


OLD_IMPORTS = {  # what the tests, examples and notebooks imported from the old names
    "nn.data": ["DataLoader", "TensorDataset", "train_val_split"],
    "nn.datasets": [
        "load_mnist",
        "load_digits",
        "read_idx",
        "data_home",
        "Release",
        "MNIST",
        "SPLITS",
        "IDX_FILES",
        "MNIST_MIRRORS",
        "PACKAGE_INDEX",
        "ChecksumError",
        "DatasetNotFoundError",
        "_idx_sha256",
        "_read_pickle",
        "_ArrayUnpickler",
        "_atomic_file",
    ],
    "nn.training": [
        "fit",
        "predict",
        "evaluate",
        "error_rate",
        "confusion_matrix",
        "plot_history",
        "History",
    ],
    "nn.estimators": ["MLPClassifier", "MLPRegressor", "markdown_table", "search_table"],
}


@pytest.mark.parametrize("module", list(OLD_IMPORTS))
def test_every_old_import_path_still_works(module: str):
    if module == "nn.estimators":
        pytest.importorskip("sklearn", reason="nn.train.estimators needs scikit-learn")
    names = OLD_IMPORTS[module]
    namespace: dict = {}
    exec(f"from {module} import {', '.join(names)}", namespace)
    assert all(namespace[name] is not None for name in names)


def _imports(path: Path) -> set[str]:
    """The modules that the file's import statements name, relative ones resolved."""
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}  # from . import train
    return found


def test_the_network_library_imports_neither_optim_nor_the_training_layer():
    """Parsed, not imported: every module of nn/ outside nn/train/ and the thin aliases."""
    checked = []
    for path in sorted(NN.rglob("*.py")):
        relative = path.relative_to(NN)
        if relative.parts[0] == "train" or (len(relative.parts) == 1 and path.stem in ALIASES):
            continue
        imports = _imports(path)
        assert not {m for m in imports if m.split(".")[0] == "optim"}, f"{relative} imports optim"
        above = {m for m in imports if m == "nn.train" or m.startswith("nn.train.")}
        assert not above, f"{relative} imports the training layer: {sorted(above)}"
        checked.append(relative.name)
    assert {"__init__.py", "module.py", "mlp.py", "utils.py"} <= set(checked)
    # and the parser does see such imports
    assert "optim" in _imports(NN / "train" / "estimators.py")
    assert "nn.train.datasets.load_mnist" in _imports(NN / "datasets.py")
