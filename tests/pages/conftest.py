"""A real headless Chromium (Selenium + chromedriver) for the page tests, and what they share.

Without a browser (or without Selenium) the browser tests are skipped with the reason,
except under CI (``CI=true``), where a missing browser fails them: CI must run them.
``make browser`` installs Debian's ``chromium`` and ``chromium-driver``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
LAPTOP = (1280, 800)
PHONE = (390, 844)
#: Schemes a page may load from: nothing from the network.
LOCAL_SCHEMES = ("file:", "data:", "blob:")


def _find(names, env):
    if os.environ.get(env):
        return os.environ[env] if Path(os.environ[env]).is_file() else None
    for n in names:
        found = shutil.which(n)
        if found:
            return found
    return None


def browser_paths() -> tuple[str | None, str | None]:
    """(chromium binary, chromedriver), each None when not found (``CHROMIUM`` /
    ``CHROMEDRIVER`` override the search)."""
    chrome = _find(["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"], "CHROMIUM")
    driver = _find(["chromedriver"], "CHROMEDRIVER")
    if driver is None and Path("/usr/bin/chromedriver").is_file():
        driver = "/usr/bin/chromedriver"
    return chrome, driver


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and no browser for the page tests: {reason} (run `make browser`)", pytrace=False)
    pytest.skip(f"no browser for the page tests: {reason} (`make browser` installs chromium and chromium-driver)")


@pytest.fixture(scope="session")
def driver():
    """One headless Chromium for the session, with the browser and performance logs on."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("the selenium package is not installed (pip install -r requirements.txt)")
    chrome, chromedriver = browser_paths()
    if chrome is None or chromedriver is None:
        _unavailable("chromium not found" if chrome is None else "chromedriver not found")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--mute-audio",
        "--autoplay-policy=no-user-gesture-required",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--window-size={LAPTOP[0]},{LAPTOP[1]}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    d = webdriver.Chrome(options=opts, service=Service(chromedriver))
    d.set_page_load_timeout(30)
    yield d
    d.quit()


# --- what the tests do with it ------------------------------------------------------------


def set_viewport(d, size: tuple[int, int]) -> None:
    """The page's viewport (not the window) is exactly ``size``."""
    d.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": size[0] < 600},
    )


def open_page(d, path: Path, size: tuple[int, int] = LAPTOP) -> None:
    """Load ``path`` at viewport ``size`` with fresh logs; wait for the load to finish."""
    set_viewport(d, size)
    d.get("about:blank")
    d.get_log("browser")
    d.get_log("performance")
    d.get(Path(path).resolve().as_uri())
    wait_for(d, "return document.readyState === 'complete'")


def wait_for(d, script: str, *args, timeout: float = 15.0):
    """Run ``script`` until it returns something truthy; that value (else a timeout failure)."""
    end = time.monotonic() + timeout
    value = None
    while time.monotonic() < end:
        value = d.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for: {script} (last value {value!r})")


def severe_console(d) -> list[dict]:
    """Console entries of level SEVERE since the page was opened (JavaScript errors, failed loads)."""
    return [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]


def requested_urls(d) -> list[str]:
    """Every URL the page asked for since it was opened (Network events of the performance log)."""
    urls = []
    for entry in d.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def assert_offline(urls: list[str]) -> None:
    assert urls, "the performance log saw no request at all (is it on?)"
    remote = [u for u in urls if not u.startswith(LOCAL_SCHEMES)]
    assert not remote, f"the page requested network addresses: {remote}"


def file_of(url: str) -> Path:
    """The local path of a ``file:`` URL."""
    parsed = urlparse(url)
    assert parsed.scheme == "file", url
    return Path(unquote(parsed.path))


def no_horizontal_overflow(d) -> tuple[int, int]:
    """(document width, viewport width) once laid out."""
    return tuple(d.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]"))


def screenshot(d, name: str, max_height: int = 6000) -> Path:
    """A PNG of the whole page (at most ``max_height`` CSS pixels tall) under tests/artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    w, h = d.execute_script(
        "return [window.innerWidth, Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)]"
    )
    shot = d.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": w, "height": min(h, max_height), "scale": 1},
        },
    )
    out = ARTIFACTS / f"{name}.png"
    out.write_bytes(base64.b64decode(shot["data"]))
    return out
