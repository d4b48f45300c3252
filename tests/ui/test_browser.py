"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

Every page of the fixture data loads without a console error or a failed request;
screenshots go to ``test-artifacts/ui/``. Skipped without Chromium or Playwright,
except under ``CI=true`` (``.ci/run`` installs Chromium) where that fails.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from servegraph.storage.rundb import get_run_db
from servegraph.ui import make_app
from tests.threaded_server import serve_app
from tests.ui import data
from tests.ui.conftest import artifacts_dir
from tests.ui.test_pagination import RUNS, add_runs

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _need(ok: bool, message: str) -> None:
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: the browser tests must run)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module (closed with it: Playwright's sync API holds an event
    loop while it runs, which the async tests of later modules must not see)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "playwright is not installed (pip install -e '.[dev]')")
    _need(
        os.path.exists(CHROMIUM) or shutil.which("chromium") is not None,
        f"chromium is not installed at {CHROMIUM} (apt-get install chromium)",
    )
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Watched:
    """A page and the problems it reported: console errors, failed or 4xx/5xx requests."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base = page, base
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def open(self, route: str) -> Any:
        """Go to ``#route`` and wait until the page has rendered it."""
        self.page.goto(f"{self.base}/#{route}")
        self.page.wait_for_function(
            "expected => document.querySelector('main').dataset.loaded === expected",
            arg=f"#{route}",
        )
        return self.page

    def shot(self, name: str) -> None:
        self.page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays on top
        self.page.screenshot(path=str(artifacts_dir() / f"{name}.png"), full_page=True)


@pytest.fixture
def watched(browser: Any, ui_url: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    w = Watched(page, ui_url)
    yield w
    context.close()
    assert w.problems == []


def pages(fx: data.Fixture) -> dict[str, str]:
    p = data.PROJECT
    return {
        "overview": "/",
        "runs": "/runs",
        "run": f"/run/{p}/{fx.train_uid}",
        "run-hyper": f"/run/{p}/{fx.hyper_uid}",
        "run-child": f"/run/{p}/{fx.hyper_uid}?iter=3",
        "run-running": f"/run/{p}/{fx.running_uid}",
        "run-error": f"/run/{p}/{fx.error_uid}",
        "artifacts": "/artifacts",
        "model": f"/artifact/{p}/fraud-model",
        "functions": "/functions",
        "function": f"/function/{p}/fraud-serving",
        "endpoints": "/endpoints",
        "endpoint": f"/endpoint/{data.ENDPOINT}",
        "features": "/features",
        "feature-set": f"/feature-set/{p}/transactions",
        "schedules": "/schedules",
    }


def test_every_page_loads_cleanly(watched: Watched, fx: data.Fixture) -> None:
    for name, route in pages(fx).items():
        page = watched.open(route)
        assert page.locator(".error-box").count() == 0, f"{name}: {page.inner_text('main')}"
        assert page.locator("main h1").inner_text().strip(), name
        watched.shot(name)
    assert watched.problems == []


def test_run_list_filters(watched: Watched) -> None:
    page = watched.open("/runs")
    assert page.locator("main tbody tr").count() == 5
    page.select_option("select[name=state]", "error")
    page.click("#run-filters button[type=submit]")
    page.wait_for_function("location.hash.includes('state=error')")
    page.wait_for_function("document.querySelector('main').dataset.loaded.includes('state=')")
    rows = page.locator("main tbody tr")
    assert rows.count() == 1 and "broken" in rows.first.inner_text()
    page = watched.open("/runs?label=stage%3Dprod")
    assert page.locator("main tbody tr").count() == 1
    assert "stage=prod" in page.locator("main tbody tr").first.inner_text()
    watched.shot("runs-filtered")


def test_run_page_shows_params_and_metric_chart(watched: Watched, fx: data.Fixture) -> None:
    page = watched.open(f"/run/{data.PROJECT}/{fx.train_uid}")
    params = page.locator("#params").inner_text()
    assert "lr" in params and "0.3" in params and "epochs" in params
    charts = page.locator("svg.metric-chart")
    assert charts.count() == 2  # loss and accuracy
    assert charts.first.locator("circle").count() == 8
    assert charts.first.bounding_box()["width"] > 300
    assert "trained with lr=0.3" in page.locator("#log").inner_text()


def test_endpoint_drift_chart_shows_shifted_features_above_threshold(watched: Watched) -> None:
    page = watched.open(f"/endpoint/{data.ENDPOINT}")
    chart = page.locator("svg.drift-chart")
    detected = chart.locator("line.threshold[data-threshold=detected]")
    threshold_y = float(detected.get_attribute("y1"))
    for feature in data.FEATURES:
        points = chart.locator(f"g.series[data-series={feature}] circle")
        assert points.count() == data.WINDOWS
        last_y = float(points.nth(data.WINDOWS - 1).get_attribute("cy"))
        first_y = float(points.nth(0).get_attribute("cy"))
        assert first_y > threshold_y, f"{feature} starts above the threshold"
        if feature in data.SHIFTED:  # smaller y is higher on screen
            assert last_y < threshold_y, f"{feature} is drawn below the threshold"
        else:
            assert last_y > threshold_y, f"{feature} is drawn above the threshold"
    page.wait_for_function(
        "document.getElementById('live').textContent.includes('requests, the last')"
    )
    shown = int(page.locator("#live p.small").inner_text().split()[0])
    assert 0 < shown <= data.LIVE_REQUESTS  # those still in the last 5 minutes
    drifted = page.locator(".hist-grid figure.drifted")
    assert sorted(drifted.evaluate_all("els => els.map(e => e.dataset.feature)")) == sorted(
        data.SHIFTED
    )
    assert page.locator("svg.performance-chart g.series").count() == 2  # accuracy, auc
    history = page.locator("section.card", has_text="Retraining and promotion history")
    assert "production" in history.inner_text() and "registered" in history.inner_text()
    page.fill("#lineage-form input[name=ref]", data.REQUEST_ID)
    page.click("#lineage-form button[type=submit]")
    page.wait_for_selector("#lineage-box svg g.node")
    assert page.locator("#lineage-box g.node").count() >= 3
    watched.shot("endpoint-drift")


def test_model_page_shows_versions_history_and_lineage(watched: Watched) -> None:
    page = watched.open(f"/artifact/{data.PROJECT}/fraud-model")
    assert page.locator("button.promote").count() == 2
    history = page.locator("section.card", has_text="History").inner_text()
    assert "production" in history and "ops" in history
    assert page.locator("#lineage g.node").count() >= 3


def test_function_page_draws_every_step(watched: Watched) -> None:
    page = watched.open(f"/function/{data.PROJECT}/fraud-serving")
    for step in data.STEPS:
        node = page.locator(f"#graph g.node[data-step='{step}']")
        assert node.count() == 1, step
        box = node.bounding_box()
        assert box is not None and box["width"] > 20 and box["height"] > 20, step
    assert page.locator("#graph path.edge-error").count() == 1
    children = page.locator("section.card", has_text="Child functions").inner_text()
    assert "scoring" in children and "trainer.py" in children and "decide" in children


def test_running_run_log_is_followed(watched: Watched, ui_config: Any, fx: data.Fixture) -> None:
    from servegraph.storage.rundb import get_run_db

    page = watched.open(f"/run/{data.PROJECT}/{fx.running_uid}")
    assert "epoch 2/100" in page.locator("#log").inner_text()
    assert page.locator("#stop").is_visible()
    get_run_db(ui_config[0].dbpath).store_log(fx.running_uid, data.PROJECT, b"epoch 3/100\n")
    page.wait_for_function("document.getElementById('log').textContent.includes('epoch 3/100')")
    assert page.locator("#log").inner_text().count("epoch 2/100") == 1  # appended, not reloaded
    watched.open("/runs")  # leaving the page stops following


@pytest.fixture(scope="module")
def big_url(ui_config: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dashboard over a database holding one project of 10,000 runs."""
    path = Path(tmp_path_factory.mktemp("ui-big")) / "big.db"
    config = replace(ui_config[0], dbpath=f"sqlite:///{path}")
    add_runs("big", RUNS, get_run_db(config.dbpath))
    with serve_app(make_app(config)) as url:
        yield url


def test_ten_thousand_runs_page(browser: Any, big_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    w = Watched(context.new_page(), big_url)
    began = time.perf_counter()
    page = w.open("/runs?project=big")
    took = time.perf_counter() - began
    assert page.locator("main tbody tr").count() == 50
    assert page.locator("#run-count").inner_text() == f"{RUNS} runs"
    page.click("#next")
    page.wait_for_function("document.querySelector('main').dataset.loaded.includes('page=1')")
    assert page.locator("main tbody tr").first.inner_text().startswith("train-")
    w.shot("runs-10000")
    context.close()
    assert w.problems == []
    print(f"\nrun list of a {RUNS}-run project rendered in the browser in {took * 1000:.0f} ms")
