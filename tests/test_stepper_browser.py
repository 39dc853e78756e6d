"""The backward stepper in a real browser (headless Chromium through Playwright): the saved HTML
file and a notebook exported with ``jupyter nbconvert --to html`` run without console errors,
next walks every step, the panel and the records show the engine's numbers, play reaches the
end. Screenshots of the first, middle and last step are saved (to pytest's tmp_path, and also
to $ARRAYGRAD_SCREENSHOTS when it is set).

Needs ``pip install playwright`` and a Chromium: $ARRAYGRAD_CHROMIUM, or ``chromium`` /
``chromium-browser`` / ``google-chrome`` on PATH (browsers are not downloaded).
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
from pathlib import Path

import pytest

import autograd as ag

from .graphs import expression, micrograd

pytest.importorskip("graphviz", reason="the graphviz Python package: pip install -e .")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need Playwright: pip install playwright"
)

CHROMIUM = os.environ.get("ARRAYGRAD_CHROMIUM") or next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium found: install it (apt-get install chromium) or set ARRAYGRAD_CHROMIUM",
)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def console(m):
        # a notebook's page template may ask a CDN for MathJax: offline that fails, harmlessly
        if m.type == "error" and "net::ERR_" not in m.text and "Failed to load" not in m.text:
            errors.append(m.text)

    page.on("console", console)
    page.goto(url)
    page.wait_for_selector(".agstep[data-ready]")
    return page, errors


def shoot(page, tmp_path, name):
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("ARRAYGRAD_SCREENSHOTS"):
        out = Path(os.environ["ARRAYGRAD_SCREENSHOTS"])
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, out / path.name)


def record_text(page, name):
    """The texts of the drawn record whose first line is ``name``."""
    return page.evaluate(
        """name => {
            for (const g of document.querySelectorAll('.agstep g.node')) {
                const t = [...g.querySelectorAll('text')].map(x => x.textContent);
                if (t[0] === name) return t;
            }
            return null;
        }""",
        name,
    )


def walk(page, steps, tmp_path, prefix):
    """Press next through every step, checking the counter and the panel on each."""
    n = len(steps)
    assert page.inner_text(".ag-count") == f"1 / {n}"
    root = page.locator(".agstep").first
    root.focus()
    for i in range(1, n):
        if i % 2:
            page.keyboard.press("ArrowRight")
        else:
            page.click(".ag-next")
        assert page.inner_text(".ag-count") == f"{i + 1} / {n}"
        panel = page.inner_text(".ag-step")
        assert steps[i].lines[0][1] in panel  # the step's title, as recorded
        if i == n // 2:
            shoot(page, tmp_path, f"{prefix}_middle")
    shoot(page, tmp_path, f"{prefix}_last")


def test_saved_html_walks_every_step_and_shows_the_engines_numbers(browser, tmp_path):
    *_, g = micrograd()
    steps = ag.backward_steps(g)
    path = steps.save(tmp_path / "backprop.html")
    page, errors = open_page(browser, Path(path).as_uri())
    assert record_text(page, "a")[1:] == ["data -4.0", "grad not computed yet"]
    assert record_text(page, "g")[1:] == ["data not computed yet", "grad not computed yet"]
    shoot(page, tmp_path, "html_first")
    walk(page, steps, tmp_path, "html")
    assert record_text(page, "a")[1:] == ["data -4.0", "grad 138.8338"]
    assert record_text(page, "b")[1:] == ["data 2.0", "grad 645.5773"]
    assert "dL/da = 138.8338" in page.inner_text(".ag-step")
    page.keyboard.press("ArrowLeft")  # dL/db became final one step earlier
    assert "dL/db = 645.5773" in page.inner_text(".ag-step")
    done = page.evaluate("document.querySelectorAll('.agstep g.node.ag-done').length")
    assert done >= len(steps.nodes) - 1
    page.keyboard.press("Home")
    assert page.inner_text(".ag-count") == f"1 / {len(steps)}"
    assert record_text(page, "a")[-1] == "grad not computed yet"  # the slider goes back
    page.evaluate(
        "s => { const r = document.querySelector('.ag-slider'); r.value = s;"
        " r.dispatchEvent(new Event('input')); }",
        30,
    )
    assert page.inner_text(".ag-count") == f"31 / {len(steps)}"
    page.select_option(".ag-speed", "10")
    page.click(".ag-play")
    page.wait_for_function(
        f"document.querySelector('.ag-count').textContent === '{len(steps)} / {len(steps)}'",
        timeout=20_000,
    )
    page.wait_for_function("!document.querySelector('.agstep').hasAttribute('data-playing')")
    page.select_option(".ag-choose", label="a")
    assert "Why is this gradient zero or missing?" in page.inner_text(".ag-about")
    assert errors == []


def test_notebook_exported_with_nbconvert_runs_the_stepper(browser, tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="pip install nbformat")
    nbconvert = pytest.importorskip("nbconvert", reason="pip install nbconvert")
    nbclient = pytest.importorskip("nbclient", reason="pip install nbclient ipykernel")
    pytest.importorskip("ipykernel", reason="pip install ipykernel")
    header = "from __future__ import annotations\n\nfrom typing import Any\n\nimport autograd as ag"
    source = "\n\n".join([header, inspect.getsource(expression), inspect.getsource(micrograd)])
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(source),
        nbformat.v4.new_code_cell("ag.backward_steps(micrograd()[2])"),
        nbformat.v4.new_code_cell("ag.backward_steps(micrograd()[2] * 2)  # a second stepper"),
    ]
    root = Path(__file__).resolve().parent.parent
    nbclient.NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(root)}}).execute()
    html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    path = tmp_path / "notebook.html"
    path.write_text(html, encoding="utf-8")
    page, errors = open_page(browser, path.as_uri())
    assert page.evaluate("document.querySelectorAll('.agstep[data-ready]').length") == 2
    steps = ag.backward_steps(micrograd()[2])
    shoot(page, tmp_path, "notebook_first")
    walk(page, steps, tmp_path, "notebook")  # the first stepper; keys go to the focused one
    counts = page.evaluate("[...document.querySelectorAll('.ag-count')].map(c => c.textContent)")
    assert counts == [
        f"{len(steps)} / {len(steps)}",
        f"1 / {len(steps) + 2}",
    ]  # one more op: forward and backward
    assert "dL/da = 138.8338" in page.inner_text(".ag-step")
    assert errors == []
    assert re.search(r"<script>\s*/\* arraygrad's backward stepper", html)
