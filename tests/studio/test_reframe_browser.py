"""Reframing in the studio's page (issue 25), in a real headless Chromium against the real server:
pick 9:16, see the crop frame over the original player where the planned window is, drag it on a
kept shot (that shot's fixed window, even pixels, inside the frame), undo/redo, save, render,
reload, and download a summary.mp4 of the 9:16 window whose dragged shot is the source cut there.

The video: :func:`acsumgan.synthetic.media.moving_object_video` at 320x180 (a bright disc going
left and right over a drifting texture), summarized by the CLI as a summarize job does
(tests/studio/conftest.py: ``summarized_moving``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from acsumgan.media.encode import write_summary_video
from acsumgan.summarize.analysis import load_summary
from acsumgan.summarize.edits import edited_summary
from acsumgan.summarize.reframing import reframe_plan, shot_paths
from pages.conftest import driver, screenshot, wait_for  # noqa: F401  (driver: the fixture)

from .test_browser import (
    JOB_TIMEOUT,
    decoded,
    editor_ready,
    frame_hash,
    idle,
    kept,
    local_requests_only,
    no_severe,
    open_studio,
)

FRAME = (320, 180)
WINDOW = (100, 180)  # 9:16 of 320x180


def seek(d, t: float) -> float:
    """Pause the original player at ``t`` (seconds); its currentTime once seeked."""
    return d.execute_async_script(
        "var v=document.getElementById('source'), t=arguments[0], done=arguments[arguments.length-1];"
        "v.pause(); if (Math.abs(v.currentTime-t)<1e-6) { done(v.currentTime); return; }"
        "v.addEventListener('seeked', function () { done(v.currentTime); }, {once: true}); v.currentTime=t;",
        t,
    )


def frame_at(d, shot: int) -> dict:
    """The crop frame as the page shows it, once it shows shot ``shot``."""
    return wait_for(d, "var f=window.studio.cropFrame(); return f && f.shot===arguments[0] && f", shot)


def boxes(d) -> tuple[dict, dict]:
    """(the video's displayed picture: left, top, width, height in CSS pixels, as object-fit
    contain places it in the player; the crop frame's bounding box)."""
    v, f = d.execute_script(
        "var v=document.getElementById('source'), r=v.getBoundingClientRect(),"
        " f=document.getElementById('crop-frame').getBoundingClientRect();"
        "return [[r.left, r.top, r.width, r.height, v.videoWidth, v.videoHeight], [f.left, f.top, f.width, f.height]]"
    )
    left, top, w, h, vw, vh = v
    s = min(w / vw, h / vh)
    dw, dh = vw * s, vh * s
    picture = {"left": left + (w - dw) / 2, "top": top + (h - dh) / 2, "width": dw, "height": dh}
    return picture, dict(zip(("left", "top", "width", "height"), f))


def window_at(keys: list, t: float) -> tuple[float, float]:
    """(x, y) of a planned path at time t: straight between keyframes, held outside them."""
    ts = [k[0] for k in keys]
    return float(np.interp(t, ts, [k[1] for k in keys])), float(np.interp(t, ts, [k[2] for k in keys]))


def assert_frame_over(d, x: float, y: float) -> None:
    """The crop frame is the window (x, y, 100x180 frame pixels) scaled onto the displayed picture."""
    pic, box = boxes(d)
    sx, sy = pic["width"] / FRAME[0], pic["height"] / FRAME[1]
    want = {"left": pic["left"] + x * sx, "top": pic["top"] + y * sy, "width": WINDOW[0] * sx, "height": WINDOW[1] * sy}
    for k in want:
        assert abs(box[k] - want[k]) <= 1.0, (k, box, want)


def window_label(d, shot: int) -> str:
    return d.execute_script(
        "var e=document.querySelector('#kept li[data-shot=\"'+arguments[0]+'\"] .window'); return e && e.textContent",
        shot,
    )


@pytest.mark.slow
def test_pick_9_16_drag_a_window_save_render_reload_download(driver, studio_server, moving_copy, tmp_path):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import Select

    d = driver
    videos, out = moving_copy
    folder = out / "moving"
    summary = load_summary(folder)
    server = studio_server([videos], out=out)
    open_studio(d, server, "#/video/moving")
    editor_ready(d, "moving")
    assert d.execute_script("return document.getElementById('crop-layer').hidden")  # keep: no frame
    assert d.find_element("id", "aspect").get_attribute("value") == "keep"
    model = kept(d)

    # a platform preset sets its aspect (one step: undo takes both back)
    Select(d.find_element("id", "length-preset")).select_by_value("feed-120")
    wait_for(d, "return window.studio.editor().work.aspect === '1:1'")
    idle(d)
    assert d.find_element("id", "aspect").get_attribute("value") == "1:1"
    # a custom length leaves the preset, and its shape with it (as summarize --seconds)
    Select(d.find_element("id", "length-preset")).select_by_value("")
    wait_for(d, "return window.studio.editor().work.length.mode === 'seconds'")
    idle(d)
    assert d.execute_script("return window.studio.editor().work.aspect") == "keep"
    d.find_element("id", "undo").click()
    assert d.execute_script("return window.studio.editor().work.aspect") == "1:1"
    d.find_element("id", "undo").click()
    assert d.execute_script("return window.studio.editor().work.aspect") == "keep" and kept(d) == model

    # 9:16: the frame over the player follows the planned path of the shot under the playhead
    Select(d.find_element("id", "aspect")).select_by_value("9:16")
    wait_for(d, "return document.body.dataset.paths === '9:16|follow'", timeout=60)
    paths = shot_paths(summary, "9:16", "follow")
    assert [k["shot"] for k in kept(d)] == [k["shot"] for k in model]
    first = model[0]
    shot = first["shot"]
    t = seek(d, (first["start_frame"] + 0.5 * (first["end_frame"] - first["start_frame"] + 1)) / 15)
    f = frame_at(d, shot)
    x0, y0 = window_at(paths[shot], t)
    assert (f["x"], f["y"], f["w"], f["h"]) == pytest.approx((x0, y0, *WINDOW))
    assert f["by"] == "follow" and f["kept"] is True
    assert_frame_over(d, x0, y0)
    assert all(window_label(d, k["shot"]) == "window: follow" for k in model)

    # drag it: this kept shot's own window, snapped to even pixels, inside the frame
    pic, _ = boxes(d)
    scale = pic["width"] / FRAME[0]
    room = FRAME[0] - WINDOW[0]
    target = 20.0 if x0 > room / 2 else room - 20.0
    dx = round((target - x0) * scale)
    grab = d.find_element("id", "crop-grab")
    ActionChains(d).move_to_element(grab).click_and_hold().move_by_offset(dx, 0).release().perform()
    wait_for(d, "return window.studio.editor().work.kept.some(k => k.crop)")
    entry = next(k for k in kept(d) if k["shot"] == shot)
    crop = entry["crop"]
    assert crop["x"] % 2 == 0 and 0 <= crop["x"] <= room and crop["y"] == 0
    assert (crop["w"], crop["h"]) == WINDOW
    assert abs(crop["x"] - (x0 + dx / scale)) <= 2.0, (crop, x0, dx / scale)
    assert abs(crop["x"] - x0) > 40
    f = frame_at(d, shot)
    assert f["by"] == "person" and (f["x"], f["y"]) == (crop["x"], 0)
    assert_frame_over(d, crop["x"], 0)
    assert window_label(d, shot) == "window: yours"
    assert all(window_label(d, k["shot"]) == "window: follow" for k in model if k["shot"] != shot)
    # dragged far past the edge: clamped to it; undo gives the first drag back, redo the edge
    centre = d.execute_script("var r=arguments[0].getBoundingClientRect(); return r.left + r.width / 2", grab)
    ActionChains(d).move_to_element(grab).click_and_hold().move_by_offset(-int(centre) + 1, 0).release().perform()
    wait_for(d, "return window.studio.editor().work.kept.some(k => k.crop && k.crop.x === 0)")
    d.find_element("id", "undo").click()
    assert next(k for k in kept(d) if k["shot"] == shot)["crop"] == crop
    d.find_element("id", "redo").click()
    assert next(k for k in kept(d) if k["shot"] == shot)["crop"]["x"] == 0
    d.find_element("id", "undo").click()
    # "follow the action again" drops the window; undo brings it back
    d.find_element("css selector", f"#kept li[data-shot='{shot}'] button.follow-again").click()
    assert "crop" not in next(k for k in kept(d) if k["shot"] == shot)
    assert window_label(d, shot) == "window: follow"
    assert frame_at(d, shot)["by"] == "follow"
    d.find_element("id", "undo").click()
    assert next(k for k in kept(d) if k["shot"] == shot)["crop"] == crop

    # save: edits.json keeps the aspect, the mode and the window
    d.find_element("id", "save").click()
    wait_for(d, "return document.body.dataset.version === '1' && document.body.dataset.dirty === '0'")
    saved = json.loads((folder / "edits.json").read_text())
    assert saved["aspect"] == "9:16" and saved["reframe"] == "follow"
    assert [k.get("crop") for k in saved["kept"]] == [crop] + [None] * (len(saved["kept"]) - 1)

    # render: the summary player shows the 9:16 size
    d.find_element("id", "render").click()
    wait_for(
        d,
        "return document.getElementById('render-job').dataset.state==='done' && document.body.dataset.rendered==='1'",
        timeout=JOB_TIMEOUT,
    )
    size = wait_for(
        d, "var v=document.getElementById('summary'); return v.videoWidth && [v.videoWidth, v.videoHeight]", timeout=30
    )
    assert tuple(size) == WINDOW
    wait_for(d, "return document.getElementById('summary').dataset.size === '100x180'")
    assert "100x180" in d.find_element("id", "summary-size").text

    # reload: the aspect and the window persist
    d.refresh()
    wait_for(d, "return document.body.dataset.ready === '1'")
    editor_ready(d, "moving")
    wait_for(d, "return document.body.dataset.paths === '9:16|follow'", timeout=60)
    assert d.find_element("id", "aspect").get_attribute("value") == "9:16"
    assert next(k for k in kept(d) if k["shot"] == shot)["crop"] == crop
    seek(d, t)
    f = frame_at(d, shot)
    assert f["by"] == "person" and f["x"] == crop["x"]
    assert_frame_over(d, crop["x"], 0)
    d.execute_script("document.getElementById('h-source').scrollIntoView()")
    screenshot(d, "studio-reframe")
    no_severe(d)
    local_requests_only(d, server)

    # the download: the 9:16 window; the dragged shot is the source cut at the dragged window
    with server.client() as c:
        r = c.get("/api/videos/moving/export/summary.mp4")
        assert r.status_code == 200
    got = tmp_path / "downloaded.mp4"
    got.write_bytes(r.content)
    frames = decoded(got)
    assert all(fr.shape[:2] == (WINDOW[1], WINDOW[0]) for fr in frames)
    edited = edited_summary(summary, saved)
    ranges = [(k["start_frame"], k["end_frame"]) for k in saved["kept"]]
    plan = reframe_plan(edited, "9:16", "follow", {shot: crop})
    cut = plan.crop(summary.extracted.times)
    assert all(cut.at(i) == (crop["x"], 0) for i in range(first["start_frame"], first["end_frame"] + 1))
    ref = tmp_path / "reference.mp4"
    write_summary_video(videos / "moving.mp4", ranges, ref, crop=cut)  # as `acsumgan render` writes it
    assert [frame_hash(fr) for fr in frames] == [frame_hash(fr) for fr in decoded(ref)]
    source = decoded(videos / "moving.mp4")
    offset = 0
    for a, b in ranges:
        if a == first["start_frame"]:
            break
        offset += b - a + 1
    planned = int(2 * round(x0 / 2))
    for j, i in enumerate(range(first["start_frame"], first["end_frame"] + 1)):
        ours = frames[offset + j].astype(np.int16)
        at_drag = np.abs(ours - source[i][:, crop["x"] : crop["x"] + WINDOW[0]]).mean()
        at_plan = np.abs(ours - source[i][:, planned : planned + WINDOW[0]]).mean()
        assert at_drag < 4.0 and at_plan > 3 * at_drag, (i, at_drag, at_plan)
