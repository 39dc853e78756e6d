"""The tutorial notebooks: each runs top to bottom in small-data mode without an error or a
warning, and the committed notebooks hold exactly the cells that notebooks/build.py writes.

Small-data mode (``ARRAYGRAD_NOTEBOOK_QUICK=1``) trains notebook 4 on scikit-learn's bundled
8x8 digits, so nothing is downloaded. The whole file takes about 20 seconds on 2 cores.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CELL_TIMEOUT = 120  # seconds; quick mode needs a few


def _load_build():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


def test_the_committed_notebooks_are_the_built_ones():
    """Edit build.py and run it, never the .ipynb files: they must hold its cells."""
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(build.NOTEBOOKS)
    for name in build.NOTEBOOKS:
        committed = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        built = build.notebook(name)
        assert [(c.cell_type, c.source) for c in committed.cells] == [
            (c.cell_type, c.source) for c in built.cells
        ], f"{name}.ipynb differs from notebooks/build.py: run python notebooks/build.py {name}"


@pytest.mark.parametrize("name", list(build.NOTEBOOKS))
def test_notebook_runs_in_quick_mode(name, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # small products; BLAS threads only contend
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    build.execute(nb, quick=True, timeout=CELL_TIMEOUT)  # raises at the first failing cell
    stderr = [
        f"cell {i}: {output.text.strip()}"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream" and output.name == "stderr"
    ]
    assert not stderr, f"{name} wrote to stderr (a warning?):\n" + "\n".join(stderr)
