"""Every ```python block of README.md runs.

The blocks run in README order. The blocks of one section (from one ``#``/``##`` heading to the
next) share one namespace and one working folder (a fresh temporary one per section, so that
blocks may write files), as a reader would type them into one session. A block that cannot
run here says so with an HTML comment on the line before its fence::

    <!-- readme-test: skip (downloads MNIST) -->

and is reported as skipped with that reason; ``<!-- readme-test: gpu -->`` marks a block that
needs a CUDA GPU: it is marked ``gpu`` (``pytest -m gpu``) and skipped, with the reason, where
CuPy or a GPU is missing. Other fences (```bash, ```sh, plain ```) are not executed.
matplotlib draws with the Agg backend, and warnings are errors as in the rest of the suite.
"""

from __future__ import annotations

import linecache
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .devices import cuda_missing

README = Path(__file__).resolve().parents[1] / "README.md"

FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[^\s`]*)\s*$")
HEADING = re.compile(r"^(#{1,2})\s+(?P<title>.+?)\s*$")
MARKER = re.compile(r"^\s*<!--\s*readme-test:\s*(?P<directive>.*?)\s*-->\s*$")
SKIP = re.compile(r"^skip\s*\((?P<reason>.+)\)$")


@dataclass
class Block:
    line: int  # 1-based line of the opening fence
    section: str
    code: str
    skip: str | None = None  # the reason, for a block marked skip
    gpu: bool = False  # marked gpu: runs only with CuPy and a CUDA GPU

    @property
    def id(self) -> str:
        return f"README.md:{self.line}"


@dataclass
class Section:
    folder: Path
    namespace: dict[str, Any] = field(default_factory=dict)
    ran: set[int] = field(default_factory=set)  # lines of the blocks run in it
    failed: dict[int, str] = field(default_factory=dict)


def parse(text: str) -> list[Block]:
    """The ```python blocks of a Markdown text, with their section and skip reason."""
    blocks: list[Block] = []
    lines = text.splitlines()
    section = "(top)"
    previous = ""  # the last non-blank line outside a fence
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence is None:
            heading = HEADING.match(line)
            if heading is not None:
                section = heading["title"]
            if line.strip():
                previous = line
            i += 1
            continue
        start, indent = i, fence["indent"]
        body: list[str] = []
        i += 1
        while i < len(lines) and not (lines[i].strip() == "```" and lines[i].startswith(indent)):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"README.md:{start + 1}: code fence never closed")
        i += 1
        marker = MARKER.match(previous)
        previous = ""
        if fence["lang"] != "python":
            if marker is not None:
                raise ValueError(f"README.md:{start + 1}: readme-test marker on a non-python block")
            continue
        skip, gpu = None, False
        if marker is not None:
            directive = SKIP.match(marker["directive"])
            if marker["directive"] == "gpu":
                gpu = True
            elif directive is not None:
                skip = directive["reason"].strip()
            else:
                raise ValueError(
                    f"README.md:{start + 1}: unknown marker {marker['directive']!r} (expected "
                    "<!-- readme-test: skip (reason) --> or <!-- readme-test: gpu -->)"
                )
        blocks.append(Block(start + 1, section, "\n".join(body) + "\n", skip, gpu))
    return blocks


BLOCKS = parse(README.read_text(encoding="utf-8"))
SECTIONS: dict[str, Section] = {}


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 5


def test_parse_reads_sections_markers_and_fences():
    text = (
        "# T\n\n## One\n\n```python\na = 1\n```\n\n"
        "<!-- readme-test: skip (needs a GPU) -->\n```python\nb = 2\n```\n\n"
        "```bash\nls\n```\n\n## Two\n\n- item\n\n  ```python\n  c = 3\n  ```\n"
    )
    blocks = parse(text.replace("```python\n  c", "<!-- readme-test: gpu -->\n  ```python\n  c"))
    assert [(b.line, b.section, b.code, b.skip, b.gpu) for b in blocks] == [
        (5, "One", "a = 1\n", None, False),
        (10, "One", "b = 2\n", "needs a GPU", False),
        (23, "Two", "c = 3\n", None, True),
    ]
    with pytest.raises(ValueError, match="unknown marker"):
        parse("<!-- readme-test: run later -->\n```python\nx = 1\n```\n")


def _run(block: Block, section: Section) -> None:
    os.chdir(section.folder)
    filename = f"<{block.id}>"  # tracebacks show the README's lines
    linecache.cache[filename] = (len(block.code), None, block.code.splitlines(True), filename)
    exec(compile(block.code, filename, "exec"), section.namespace)


@pytest.mark.parametrize(
    "block",
    [pytest.param(b, id=b.id, marks=[pytest.mark.gpu] if b.gpu else []) for b in BLOCKS],
)
def test_readme_block(block: Block, tmp_path_factory, monkeypatch):
    if block.skip is not None:
        pytest.skip(f"{block.id} ({block.section}): {block.skip}")
    if block.gpu and cuda_missing() is not None:
        pytest.skip(f"{block.id} ({block.section}): {cuda_missing()}")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    try:
        import matplotlib
    except ImportError:
        pass
    else:
        matplotlib.use("Agg")
    monkeypatch.chdir(Path.cwd())  # the blocks run in their section's folder; back afterwards
    section = SECTIONS.get(block.section)
    if section is None:
        folder = tmp_path_factory.mktemp(re.sub(r"\W+", "_", block.section)[:40] or "section")
        section = SECTIONS[block.section] = Section(folder)
    # The section's earlier blocks first (they already ran unless this block was selected alone).
    for earlier in BLOCKS:
        if earlier.line >= block.line:
            break
        if earlier.section != block.section or earlier.skip is not None:
            continue
        if earlier.line in section.failed:
            pytest.fail(
                f"{earlier.id}, which this block builds on, failed: {section.failed[earlier.line]}"
            )
        if earlier.line not in section.ran:
            _run_recorded(earlier, section)
    _run_recorded(block, section)


def _run_recorded(block: Block, section: Section) -> None:
    try:
        _run(block, section)
    except Exception as error:
        section.failed[block.line] = f"{type(error).__name__}: {error}"
        raise
    finally:
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            pass
        else:
            plt.close("all")
    section.ran.add(block.line)
