"""Run the tutorial notebooks and save them with their outputs.

Each notebook is a jupytext percent script, notebooks/NN_name.py, paired with
notebooks/NN_name.ipynb, which holds the outputs. Edit either (the .py in any editor, the
.ipynb in Jupyter) and run ``jupytext --sync notebooks/NAME.py``: the file changed last gives
its cells to the other, and the .ipynb keeps its outputs. This script syncs each pair the same
way, executes the notebook with nbclient and writes the .ipynb with the new outputs:

    python notebooks/build.py              # all six, full data (MNIST for notebook 4)
    python notebooks/build.py --quick      # small data, as CI runs them (about 20 s)
    python notebooks/build.py 04 06        # only the notebooks whose names contain 04 or 06

Small-data mode is the environment variable ``ARRAYGRAD_NOTEBOOK_QUICK=1`` (``--quick`` sets
it for the kernels): notebook 4 then trains on scikit-learn's bundled 8x8 digits for a few
epochs instead of MNIST for 30, and notebook 6 times a small synthetic set. Quick mode never
touches the network; full mode needs MNIST, which ``nn.datasets.load_mnist`` downloads once.

A cell whose metadata has ``"export": "<name>.png"`` (in the script: ``# %% export="<name>.png"``)
has its picture written to docs/images/ after a full-data run (the README shows one of them).
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time
from pathlib import Path

import nbformat
from jupytext.cli import jupytext as jupytext_cli
from nbclient import NotebookClient
from nbformat.notebooknode import NotebookNode

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent / "docs" / "images"
QUICK_ENV = "ARRAYGRAD_NOTEBOOK_QUICK"
KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
# the notebooks: the stems of the scripts NN_name.py (each paired with NN_name.ipynb)
NOTEBOOKS = sorted(path.stem for path in HERE.glob("[0-9][0-9]_*.py"))


def sync(name: str) -> NotebookNode:
    """``jupytext --sync`` the pair ``name``.py / ``name``.ipynb; return the notebook."""
    jupytext_cli(["--sync", "--quiet", str(HERE / f"{name}.py")])
    return nbformat.read(HERE / f"{name}.ipynb", as_version=4)


def execute(nb: NotebookNode, quick: bool, timeout: int = 1200) -> None:
    """Run every cell in a fresh kernel started in notebooks/, storing the outputs; raises
    ``nbclient.exceptions.CellExecutionError`` at the first cell that fails.

    The kernel gets this process's environment, with ``ARRAYGRAD_NOTEBOOK_QUICK`` set from
    ``quick`` and this interpreter's directory first on PATH: the ``python3`` kernel spec
    that ipykernel installs runs ``python``, which must be the one with arraygrad.
    """
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    env = {**os.environ, QUICK_ENV: "1" if quick else "0", "PATH": path}
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL["name"],
        resources={"metadata": {"path": str(HERE)}},
        record_timing=False,
    )
    client.execute(env=env)


def export_pictures(nb: NotebookNode) -> list[Path]:
    """Write the PNG output of each cell marked ``export`` to docs/images/."""
    written = []
    for cell in nb.cells:
        target = cell.metadata.get("export")
        outputs = cell.get("outputs", []) if target else []
        pictures = [o.data["image/png"] for o in outputs if "image/png" in o.get("data", {})]
        if pictures:
            IMAGES.mkdir(parents=True, exist_ok=True)
            path = IMAGES / target
            path.write_bytes(base64.b64decode(pictures[0]))
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="run only notebooks whose names contain one")
    parser.add_argument("--quick", action="store_true", help=f"small data ({QUICK_ENV}=1)")
    args = parser.parse_args(argv)
    names = [n for n in NOTEBOOKS if not args.names or any(part in n for part in args.names)]
    if not names:
        parser.error(f"no notebook matches {args.names}; the notebooks are {NOTEBOOKS}")
    for name in names:
        nb = sync(name)
        path = HERE / f"{name}.ipynb"
        start = time.perf_counter()
        execute(nb, args.quick)
        nbformat.write(nb, path)
        print(f"wrote {path.relative_to(HERE.parent)} ({time.perf_counter() - start:.0f} s)")
        if not args.quick:
            for picture in export_pictures(nb):
                print(f"wrote {picture.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
