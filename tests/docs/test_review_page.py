"""The README's picture: a review page of a sample video, made by the real command and taken
in headless Chromium. The test writes tests/artifacts/review-page.png (the whole first
screen) and review-page-small.png (the committed size: docs/img/review-page.png is a copy of
it, made again by copying that file)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pages.conftest import (  # the page tests' headless Chromium and helpers
    ARTIFACTS,
    driver,  # noqa: F401  (the fixture)
    open_page,
    screenshot,
    severe_console,
    wait_for,
)

from .conftest import ROOT, sample_videos

pytestmark = pytest.mark.slow

COMMITTED = ROOT / "docs" / "img" / "review-page.png"
#: What "small" means for the README's picture.
MAX_BYTES = 300_000
WIDTH = 960


def small_png(src, dst, width: int = WIDTH):
    """``src`` scaled to ``width`` pixels and reduced to 128 colours (a screenshot of flat
    colours and a video frame stays readable)."""
    from PIL import Image

    with Image.open(src) as im:
        im = im.convert("RGB")
        im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
        im.quantize(colors=128, method=Image.MEDIANCUT, dither=Image.FLOYDSTEINBERG).save(dst, optimize=True)
    return dst


def test_review_page_screenshot(driver, tmp_path):  # noqa: F811
    videos = sample_videos(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "acsumgan", "summarize", str(videos / "bikes.mp4"), "--out", str(out)]
        + ["--seconds", "4", "--epochs", "1"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    open_page(driver, out / "summary.html")
    wait_for(
        driver,
        "var o=document.getElementById('original'),s=document.getElementById('summary');"
        "return o.readyState>=2&&s.readyState>=2;",
    )
    wait_for(driver, "return [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert severe_console(driver) == []
    full = screenshot(driver, "review-page", max_height=900)
    small = small_png(full, ARTIFACTS / "review-page-small.png")
    assert small.stat().st_size < MAX_BYTES

    from PIL import Image

    with Image.open(small) as made, Image.open(COMMITTED) as committed:
        assert committed.format == "PNG"
        assert committed.width == made.width == WIDTH
    assert COMMITTED.stat().st_size < MAX_BYTES
