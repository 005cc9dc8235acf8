"""The review pages `acsumgan summarize` itself writes, opened in a real headless Chromium."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from acsumgan.synthetic.media import make_scene_video

from .conftest import LAPTOP, PHONE, assert_offline, open_page, requested_urls, severe_console, wait_for

pytestmark = pytest.mark.slow
FPS = 10


@pytest.fixture(scope="module")
def summarized(tmp_path_factory):
    """Two generated videos summarized by the command without a model (a tiny one is trained)."""
    d = tmp_path_factory.mktemp("summarize_page")
    videos = [
        make_scene_video(d / "first clip.mp4", [30, 50, 20, 40], fps=FPS, size=(96, 72)),
        make_scene_video(d / "second.mp4", [25, 35, 45], fps=FPS, size=(96, 72)),
    ]
    cfg = d / "small.yaml"
    cfg.write_text("hidden_size: 16\n")
    out = d / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "acsumgan",
            "summarize",
            *map(str, videos),
            "--out",
            str(out),
            "--epochs",
            "1",
            "--train-config",
            str(cfg),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "index of the review pages:" in proc.stdout and (out / "index.html").is_file()
    return out


def test_each_page_plays_its_videos_and_has_a_thumbnail_per_shot(driver, summarized):
    for name in ("first clip", "second"):
        page = summarized / name / "summary.html"
        seg = json.loads((summarized / name / "segments.json").read_text())
        open_page(driver, page)
        o, s = wait_for(
            driver,
            "var o=document.getElementById('original'),s=document.getElementById('summary');"
            "return o.readyState>=1&&s.readyState>=1&&[o.duration,s.duration];",
        )
        assert abs(o - seg["duration_seconds"]) <= 1 / FPS
        assert abs(s - seg["summary_seconds"]) <= 1 / FPS
        shots = driver.find_elements("css selector", "#shots .shot")
        assert len(shots) == seg["n_shots"]
        for img in driver.find_elements("css selector", "#shots img"):
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", img)
        wait_for(driver, "return [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        kept = driver.execute_script(
            "return [...document.querySelectorAll('#shots .shot')]"
            ".filter(b => b.dataset.kept === '1').map(b => +b.dataset.start)"
        )
        assert kept == pytest.approx([k["start_seconds"] for k in seg["shots"]], abs=1e-3)
        # the k-th kept shot seeks the original to its start
        driver.execute_script(
            "window.__t=null;var v=document.getElementById('original');"
            "v.addEventListener('seeking',function(){window.__t=v.currentTime});"
        )
        last = driver.find_elements("css selector", "#timeline .shot[data-kept='1']")[-1]
        last.click()
        t = wait_for(driver, "return window.__t !== null && [window.__t]")[0]
        assert abs(t - seg["shots"][-1]["start_seconds"]) <= 1 / FPS
        assert severe_console(driver) == []
        assert_offline(requested_urls(driver))


def test_the_index_links_every_page(driver, summarized):
    open_page(driver, summarized / "index.html", PHONE)
    links = driver.execute_script("return [...document.querySelectorAll('a')].map(a => decodeURI(a.href))")
    assert any(u.endswith("first clip/summary.html") for u in links)
    assert any(u.endswith("second/summary.html") for u in links)
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    wait_for(driver, "return [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    open_page(driver, summarized / "index.html", LAPTOP)
    assert severe_console(driver) == []
