"""Is the package imported as ``autograd`` arraygrad's, or HIPS autograd's?

Both distributions, ``arraygrad`` and PyPI's ``autograd`` (HIPS autograd), install an import
package named ``autograd`` into the same ``site-packages/autograd/`` folder, and pip installs
one over the other without a word: ``pip install autograd`` beside arraygrad replaces
``autograd/__init__.py`` with HIPS's and leaves arraygrad's other modules in place, and
``pip uninstall autograd`` afterwards deletes that shared ``__init__.py``. (Beside an editable
arraygrad, HIPS's ``site-packages/autograd/__init__.py`` is found first; the submodules, this
one included, still come from the checkout.) ``nn`` and ``optim`` import this module before
anything else, and importing it runs :func:`check_autograd`, so a wrong ``autograd`` fails
with this module's message rather than an unrelated ``cannot import name``.
"""

from __future__ import annotations

import sys
from types import ModuleType

REPAIR = (
    "Repair: pip uninstall -y autograd && pip install --force-reinstall --no-deps arraygrad "
    "(arraygrad there being the wheel or folder arraygrad was installed from; from a checkout: "
    "pip install --force-reinstall --no-deps -e .). "
    "Use separate virtual environments for the two."
)


def _location(module: ModuleType) -> str:
    if getattr(module, "__file__", None):
        return str(module.__file__)
    folders = dict.fromkeys(str(p) for p in getattr(module, "__path__", ()))  # once each
    return ", ".join(folders) or "unknown location"


def install_problem(module: ModuleType) -> str | None:
    """What is wrong with ``module`` as arraygrad's ``autograd`` package; None if nothing."""
    if getattr(module, "__arraygrad__", False) is True and hasattr(module, "Tensor"):
        return None
    where = _location(module)
    if getattr(module, "__file__", None) is None:
        problem = (
            f"the package imported as 'autograd' ({where}) has no __init__.py: arraygrad's "
            "autograd/__init__.py is missing, as 'pip uninstall autograd' leaves it after "
            "HIPS autograd (PyPI's 'autograd') was installed over arraygrad; both install into "
            "the same folder."
        )
    elif hasattr(module, "elementwise_grad") or hasattr(module, "primitive"):
        problem = (
            f"the package imported as 'autograd' ({where}) is HIPS autograd "
            "(autograd/__init__.py from PyPI's 'autograd'), not arraygrad's: both install "
            "into the same folder, and installing one overwrites or hides the other."
        )
    else:
        problem = (
            f"the package imported as 'autograd' ({where}) is not arraygrad's (it has no "
            "autograd.__arraygrad__ marker); HIPS autograd (PyPI's 'autograd') and arraygrad "
            "both install into the same folder."
        )
    return f"{problem} {REPAIR}"


def check_autograd() -> None:
    """Raise ImportError, with the repair command, unless ``autograd`` is arraygrad's."""
    problem = install_problem(sys.modules["autograd"])  # the parent package, imported first
    if problem is not None:
        raise ImportError(problem)


check_autograd()
