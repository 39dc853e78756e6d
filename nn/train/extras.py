"""The optional dependencies of the training layer (progress bars, plots, scikit-learn, BLAS
thread control), all in the ``islr`` extra: import one, or say which extra installs it."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

EXTRA = "islr"
_DISTRIBUTIONS = {"sklearn": "scikit-learn"}  # where the import name is not the project name


def install_hint(feature: str, module: str, version: str = "") -> str:
    """``"<feature> needs <project>[ <version>]: pip install 'arraygrad[islr]'"``."""
    top = module.partition(".")[0]
    project = " ".join(filter(None, [_DISTRIBUTIONS.get(top, top), version]))
    return f"{feature} needs {project}: pip install 'arraygrad[{EXTRA}]'"


def require(module: str, feature: str) -> ModuleType:
    """``module`` imported, or an ImportError saying that ``feature`` needs it and which extra
    installs it. The top-level package is imported first, so that a package hidden or missing
    is reported even when one of its submodules was imported before."""
    try:
        importlib.import_module(module.partition(".")[0])
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(install_hint(feature, module)) from error


def available(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent missing, or a module hidden in sys.modules
        return False
