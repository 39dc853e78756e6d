"""The tutorial notebooks: each jupytext script notebooks/NN_name.py and its paired
notebooks/NN_name.ipynb hold the same cells, and each notebook runs top to bottom in
small-data mode without an error or a warning.

Small-data mode (``ARRAYGRAD_NOTEBOOK_QUICK=1``) trains notebook 4 on scikit-learn's bundled
8x8 digits, so nothing is downloaded. The whole file takes about 20 seconds on 2 cores.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CELL_TIMEOUT = 120  # seconds; quick mode needs a few
FORMATS = "ipynb,py:percent"


def _load_build():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


def _cells(nb) -> list[tuple[str, str, str | None]]:
    return [(c.cell_type, c.source, c.metadata.get("export")) for c in nb.cells]


def test_every_notebook_is_a_paired_script():
    scripts = {p.stem for p in NOTEBOOKS.glob("*.py")} - {"build"}
    notebooks = {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    assert notebooks - scripts == set(), "no script: jupytext --set-formats ipynb,py:percent"
    assert scripts - notebooks == set(), "no .ipynb: jupytext --sync notebooks/NAME.py"
    assert sorted(scripts) == build.NOTEBOOKS
    for name in build.NOTEBOOKS:
        script = jupytext.read(NOTEBOOKS / f"{name}.py")
        notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        for path, nb in ((f"{name}.py", script), (f"{name}.ipynb", notebook)):
            formats = nb.metadata.get("jupytext", {}).get("formats")
            assert formats == FORMATS, f"{path} is not paired: its jupytext formats are {formats}"


@pytest.mark.parametrize("name", build.NOTEBOOKS)
def test_script_and_notebook_are_in_sync(name):
    """Edit either file, then sync the other: both must hold the same cells."""
    script = jupytext.read(NOTEBOOKS / f"{name}.py")
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert _cells(script) == _cells(notebook), (
        f"notebooks/{name}.py and {name}.ipynb differ: run jupytext --sync notebooks/{name}.py"
    )


@pytest.mark.parametrize("name", build.NOTEBOOKS)
def test_notebook_runs_in_quick_mode(name, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # small products; BLAS threads only contend
    nb = jupytext.read(NOTEBOOKS / f"{name}.py")  # the cells as written, no old outputs
    build.execute(nb, quick=True, timeout=CELL_TIMEOUT)  # raises at the first failing cell
    stderr = [
        f"cell {i}: {output.text.strip()}"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream" and output.name == "stderr"
    ]
    assert not stderr, f"{name} wrote to stderr (a warning?):\n" + "\n".join(stderr)
