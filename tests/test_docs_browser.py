"""The docs site in a real browser: search lands on a code's card, the filter box
narrows a page, the code pages fit a phone and a laptop, and nothing logs an error.

Builds the site with mkdocs, serves it on 127.0.0.1 and drives headless Chromium
(Debian's ``chromium`` and ``chromium-driver``, which ``.ci/run`` installs) with
selenium. Screenshots go to ``$PAYERR_SCREENSHOT_DIR`` (``.ci/run`` prints it),
else to pytest's temporary folder. Slow tier: a build and a browser take seconds.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

# One worker builds the site and drives the browser for every test here.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("docs_browser")]

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WIDTHS = (390, 1280)


def _missing() -> str | None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return "chromium and chromium-driver are not installed (.ci/run installs them)"
    try:
        import mkdocs  # noqa: F401
        import selenium  # noqa: F401
    except ImportError:
        return "the docs extra is not installed: pip install -e '.[docs]'"
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site, served on a free port of 127.0.0.1."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(target)],
        cwd=ROOT,
        check=True,
        timeout=300,
        # An offline build: with a GitHub repo_url the theme asks api.github.com for
        # the repository's stars, which no test may reach.
        env={
            **os.environ,
            "NO_MKDOCS_2_WARNING": "1",
            "PAYERR_REPO_URL": "http://127.0.0.1/payerr",
        },
    )

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(target)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("PAYERR_SCREENSHOT_DIR")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def browser(site: str, tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium with a fresh profile, its console log kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.add_argument("--window-size=1280,900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _viewport(driver: Any, width: int) -> None:
    """An exact viewport: a phone's at 390 px, a laptop's at 1280 px."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 844 if width < 600 else 900, "deviceScaleFactor": 1,
         "mobile": width < 600},
    )  # fmt: skip


def _errors(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _wait(driver: Any, condition: Any, timeout: float = 30) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def test_search_for_a_code_lands_on_its_card(browser: Any, site: str, shots: Path) -> None:
    """Typing 45009 in the search box and opening the hit shows WeChat's 45009 card."""
    from selenium.webdriver.common.by import By

    browser.get(site + "/")
    _wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    browser.find_element(By.CSS_SELECTOR, "label.md-search__icon, .md-search__input").click()
    box = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "input.md-search__input"))
    box.send_keys("45009")

    def hit(driver: Any) -> Any:
        for link in driver.find_elements(By.CSS_SELECTOR, ".md-search-result a"):
            href = link.get_attribute("href") or ""
            if "/codes/wechat-server/" in href and href.endswith("#45009"):
                return link
        return None

    link = _wait(browser, hit)
    browser.save_screenshot(str(shots / "search-45009-results.png"))
    link.click()
    _wait(browser, lambda d: "/codes/wechat-server/" in d.current_url)
    assert browser.current_url.endswith("#45009")
    card = browser.find_element(By.ID, "45009")
    _wait(
        browser,
        lambda d: d.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "const header = document.querySelector('.md-header').getBoundingClientRect().bottom;"
            "return r.top >= header && r.bottom <= window.innerHeight;",
            card,
        ),
    )
    assert card.is_displayed()
    browser.save_screenshot(str(shots / "search-45009-landed.png"))
    assert _errors(browser) == []


def test_filter_box_narrows_the_page_to_one_card(browser: Any, site: str, shots: Path) -> None:
    """The filter box leaves one card of WeChat's server codes for 45009, all for nothing."""
    from selenium.webdriver.common.by import By

    browser.get(site + "/codes/wechat-server/")
    box = _wait(browser, lambda d: d.find_element(By.ID, "pe-filter"))
    cards = browser.find_elements(By.CSS_SELECTOR, ".pe-code")
    assert len(cards) > 900

    def shown(driver: Any) -> int:
        return int(
            driver.execute_script(
                "return document.querySelectorAll('.pe-code:not([hidden])').length"
            )
        )

    box.send_keys("45009")
    _wait(browser, lambda d: shown(d) == 1)
    visible = browser.find_elements(By.CSS_SELECTOR, ".pe-code:not([hidden]) h3")
    assert [h.get_attribute("id") for h in visible] == ["45009"]
    assert "1 of" in browser.find_element(By.ID, "pe-count").text
    browser.save_screenshot(str(shots / "filter-45009.png"))
    box.clear()
    box.send_keys("rate_limited after_reset")
    _wait(browser, lambda d: 1 < shown(d) < len(cards))
    browser.get(site + "/codes/wechat-server/?filter=45009")  # a filtered page to link to
    _wait(browser, lambda d: shown(d) == 1)
    assert _errors(browser) == []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", ["codes/wechat-server/", "codes/alipay-acq/", "testing/"])
def test_page_fits_without_horizontal_scroll(
    browser: Any, site: str, shots: Path, width: int, page: str
) -> None:
    """At 390 px and 1280 px the page is no wider than the window."""
    _viewport(browser, width)
    browser.get(f"{site}/{page}")
    _wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    name = page.strip("/").replace("/", "-")
    browser.save_screenshot(str(shots / f"{name}-{width}.png"))
    assert overflow <= 0, f"{page} scrolls sideways by {overflow} px at {width} px"
    assert _errors(browser) == []


def test_tools_are_where_ci_installs_them() -> None:
    """.ci/run installs the browser this test drives (the flags above are for this build)."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "chromium-driver" in script and "PAYERR_SCREENSHOT_DIR" in script
    if shutil.which("chromium") is None and os.environ.get("CI"):
        pytest.fail("chromium is missing in CI")
