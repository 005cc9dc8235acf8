"""A reframed summary in a real headless Chromium (issue 25): summary.mp4 plays at the asked
size with its audio in sync, and the review page draws the crop as a frame over the original
player, following the kept shot's path at the player's time, hidden between kept shots."""

from __future__ import annotations

import json

import numpy as np
import pytest

from acsumgan.pages.summary import summary_html
from acsumgan.summarize.features import extract_features
from acsumgan.summarize.options import SummarizeOptions
from acsumgan.summarize.outputs import write_review_page, write_summary
from acsumgan.summarize.summary import compute_summary
from acsumgan.synthetic.media import moving_object_video
from media.test_encode import decode_audio, tone_at

from .conftest import assert_offline, open_page, requested_urls, screenshot, severe_console, wait_for

FPS = 15
TONES = [300.0, 450.0, 600.0, 750.0, 900.0]  # one per 2 s of the 10 s video


@pytest.fixture(scope="module")
def reframed_page(tmp_path_factory):
    root = tmp_path_factory.mktemp("reframed_page")
    tones = [TONES[i // (2 * FPS)] for i in range(10 * FPS)]
    video = moving_object_video(root / "moving.mp4", frame_tones=tones)
    ex = extract_features(video.path, "efficientnet-lite0")
    options = SummarizeOptions(aspect="9:16", budget=0.5, max_shot_seconds=2.0)
    summary = compute_summary(ex, lambda f: np.linspace(0, 1, len(f)), options, video=video.path)
    out = root / "out"
    out.mkdir()
    files = write_summary(summary, out, options)
    page = write_review_page(files, out)
    return page.path, files, video


def test_the_reframed_summary_plays_at_the_asked_size_with_audio_in_sync(driver, reframed_page):
    page, files, _video = reframed_page
    open_page(driver, page)
    w, h, err = wait_for(
        driver,
        "var s=document.getElementById('summary');return s.readyState>=1&&[s.videoWidth,s.videoHeight,s.error];",
    )
    assert (w, h, err) == (404, 720, None)
    assert severe_console(driver) == []
    assert_offline(requested_urls(driver))
    # audio: each kept frame's tone where the frame is (the writer tests' check, on summarize's output)
    seg = files.segments
    assert seg["audio"] is True
    audio, rate = decode_audio(files.summary_path)
    t = 0.0
    for shot in seg["shots"]:
        for a in range(shot["start_frame"], shot["end_frame"] + 1, 2 * FPS):
            b = min(shot["end_frame"], (a // (2 * FPS) + 1) * 2 * FPS - 1)
            t0, t1 = t + (a - shot["start_frame"]) / FPS, t + (b + 1 - shot["start_frame"]) / FPS
            if t1 - t0 > 0.2:
                assert tone_at(audio, rate, t0 + 0.05, t1 - 0.05) == pytest.approx(TONES[a // (2 * FPS)], abs=25)
        t += shot["n_frames"] / FPS


def _crop_at(d, t: float):
    d.execute_script("var v=document.getElementById('original');v.pause();v.currentTime=arguments[0];", t)
    return wait_for(
        d,
        "var v=document.getElementById('original'),f=document.getElementById('crop-frame'),"
        "p=document.getElementById('player');"
        "if(Math.abs(v.currentTime-arguments[0])>1e-3||v.seeking)return null;"
        "var r=f.getBoundingClientRect(),q=v.getBoundingClientRect();"
        "return [f.hidden,p.getAttribute('data-crop'),r.left-q.left,r.top-q.top,r.width,r.height,q.width,q.height];",
        t,
    )


def test_the_page_draws_the_crop_over_the_original_following_the_path(driver, reframed_page):
    page, files, _video = reframed_page
    open_page(driver, page)
    wait_for(driver, "var v=document.getElementById('original');return v.readyState>=1;")
    seg = files.segments
    shot = max(seg["shots"], key=lambda s: s["n_frames"])
    keys = np.asarray(shot["crop"]["keyframes"])
    for t in np.linspace(shot["start_seconds"] + 0.05, shot["end_seconds"] - 0.1, 4):
        hidden, crop, left, top, width, height, vw, vh = _crop_at(driver, float(t))
        assert hidden is False
        x = float(np.interp(t, keys[:, 0], keys[:, 1]))
        cx, cy, cw, ch = (float(v) for v in crop.split(","))
        assert cx == pytest.approx(x, abs=0.5) and (cy, cw, ch) == (0, 404, 720)
        s = min(vw / 1280, vh / 720)  # the picture in the player (contain)
        assert left == pytest.approx((vw - 1280 * s) / 2 + x * s, abs=1.5)
        assert width == pytest.approx(404 * s, abs=1.5) and height == pytest.approx(720 * s, abs=1.5)
    screenshot(driver, "reframe-review-page")
    # between kept shots (or before the first): no frame
    kept = [(s["start_seconds"], s["end_seconds"]) for s in seg["shots"]]
    gaps = [t for t in np.arange(0.05, 10.0, 0.25) if not any(a <= t < b for a, b in kept)]
    assert gaps
    assert _crop_at(driver, float(gaps[0]))[0] is True


def test_a_page_of_a_summary_not_reframed_has_no_frame(reframed_page):
    _page, files, _video = reframed_page
    from acsumgan.pages.summary import SummaryView

    view = SummaryView("v", "v.mp4", "s.mp4", 15.0, 150, 10.0, [], [], [], 0.5, None, 5.0)
    text = summary_html(view)
    assert "crop-frame" not in text and "data-reframe" not in text and "REFRAME" not in text
    data = json.loads(
        summary_html(
            SummaryView(
                "v", "v.mp4", "s.mp4", 15.0, 150, 10.0, [], [], [], 0.5, None, 5.0, reframe={"aspect": "1:1", "a": 1}
            )
        )
        .split('data-reframe="')[1]
        .split('"')[0]
        .replace("&quot;", '"')
    )
    assert data == {"aspect": "1:1", "a": 1}
