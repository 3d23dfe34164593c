"""The HTML reports rendered in a real browser: Debian's headless Chromium, driven through chromium-driver.

``make test`` installs both (apt) where they are missing, so CI runs this; it is skipped only where they cannot be
had. Selenium is pointed at the Debian binaries: its driver manager, which would download a driver, never runs.
"""

import io
import shutil

import numpy as np
import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (make test installs them: apt-get install chromium chromium-driver)",
)

IMAGES = """return [...document.images].map(img => {
    const box = img.getBoundingClientRect();
    return {src: img.src.slice(0, 22), complete: img.complete, naturalWidth: img.naturalWidth, width: box.width};
});"""
TABLE_ROWS = "return [...document.querySelectorAll('table')].map(t => t.querySelectorAll('tbody tr').length);"
REMOTE = "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith('data:'));"


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SE_MANAGER_PATH", "/nonexistent/selenium-manager")  # fail rather than fetch a driver
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def variance(png: bytes) -> float:
    """Pixel variance of a screenshot: 0 for a blank (uniform) picture."""
    return float(np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64).var())


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory):
    """A grid's report (``ganaug run``), from an aggregated table of two groups."""
    from ganaug.report.grid import write_grid_report

    out = tmp_path_factory.mktemp("grid")
    stats = {m: {"mean": v, "std": 0.01, "n": 3} for m, v in (("accuracy", 0.9), ("macro_f1", 0.89))}
    data = {"run_dir": str(out), "task": "ssl", "axes": ["algorithms"], "baseline": {"algorithms": "supervised"},
            "cells_finished": 6, "table": [
                {"axes": {"algorithms": "supervised"}, "arm": "", "repeats": [0, 1, 2], "metrics": stats},
                {"axes": {"algorithms": "semi-cnn"}, "arm": "", "repeats": [0, 1, 2],
                 "metrics": {m: {**s, "mean": s["mean"] + 0.02} for m, s in stats.items()},
                 "vs_baseline": {"accuracy": {"mean": 0.02, "low": 0.01, "high": 0.03, "n": 3, "confidence": 0.95}}}]}
    write_grid_report(data, out, "ganaug run grid.yaml")
    return out


FIGURES_AT_LEAST = {"demo_run": 5, "augment_run": 5, "ssl_run": 5, "grid_run": 2}


@pytest.fixture(params=list(FIGURES_AT_LEAST))
def out(request):
    """The run folder of the demo, of two studies and of a grid, and the fewest figures its report has."""
    run = request.getfixturevalue(request.param)
    return (run[0] if isinstance(run, tuple) else run), FIGURES_AT_LEAST[request.param]


def test_report_renders_with_every_image_and_table(browser, out):
    out, at_least = out
    browser.get((out / "report.html").as_uri())
    assert browser.execute_script("return document.readyState") == "complete"

    images = browser.execute_script(IMAGES)
    figures = (out / "report.md").read_text().count("![")
    assert len(images) == figures >= at_least  # every figure of report.md is an <img> in the page
    for img in images:
        assert img["src"] == "data:image/png;base64,", img
        assert img["complete"] and img["naturalWidth"] > 0 and img["width"] > 0, img  # decoded and laid out
    assert browser.execute_script(REMOTE) == []  # nothing fetched from a file or the network

    rows = browser.execute_script(TABLE_ROWS)
    assert rows and all(n > 0 for n in rows), rows

    assert variance(browser.get_screenshot_as_png()) > 100  # the top of the page is not blank
    for element in browser.find_elements("css selector", "img"):  # each figure, scrolled into view, shows something
        assert variance(element.screenshot_as_png) > 100
