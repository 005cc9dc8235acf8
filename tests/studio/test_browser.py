"""The studio's page in a real headless Chromium against the real server (``acsumgan serve`` on a
free loopback port, tests/studio/conftest.py): upload, summarize, edit, preview, save, render,
reload, download; a stale second tab; names that look like HTML.

The test video's frames tell their source index: each frame carries its index in binary, as
black and white blocks in a grey strip at the bottom left (:func:`indexed_frame`), over scenes
of different looks (so KTS finds shots). A decoded summary.mp4 therefore says which source
frames it holds, frame by frame.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from pathlib import Path

import av
import numpy as np
import pytest

from acsumgan.media.encode import write_summary_video
from acsumgan.synthetic.media import counter_video, scene_frame, scene_video, write_video
from pages.conftest import (  # the page tests' headless Chromium and helpers
    LAPTOP,
    PHONE,
    driver,  # noqa: F401  (the fixture)
    no_horizontal_overflow,
    requested_urls,
    screenshot,
    set_viewport,
    severe_console,
    wait_for,
)

FPS = 25
#: Ten scenes of 1.6 to 3.6 s: 600 frames, 24 s.
SCENES = [50, 75, 40, 90, 60, 45, 80, 60, 50, 50]
#: The index code: BITS blocks of BLOCK pixels, bit k (1 = white) at column BLOCK * (k + 1).
BITS, BLOCK = 10, 12
SIZE = (320, 180)
#: How long a summarize or render job may take on a slow, shared machine.
JOB_TIMEOUT = 300.0
PHONE_TOLERANCE = 1


def indexed_frame(scene: int, j: int, w: int, h: int, start: int) -> np.ndarray:
    """Scene ``scene``'s frame ``j`` (the demo's look) with its source index ``start + j`` in binary."""
    img = scene_frame(scene, j, w, h)
    i = start + j
    img[h - 2 * BLOCK :, : (BITS + 2) * BLOCK] = 128
    for k in range(BITS):
        img[h - 3 * BLOCK // 2 : h - BLOCK // 2, BLOCK * (k + 1) : BLOCK * (k + 2)] = 255 if (i >> k) & 1 else 0
    return img


def read_index(img: np.ndarray) -> int:
    """The source index a decoded frame (H x W x 3) carries (the middle of each block)."""
    h = img.shape[0]
    row = img[h - BLOCK - 3 : h - BLOCK + 3]
    bits = [row[:, BLOCK * (k + 1) + 3 : BLOCK * (k + 2) - 3].mean() > 128 for k in range(BITS)]
    return sum(1 << k for k, b in enumerate(bits) if b)


def make_indexed_video(path: Path) -> Path:
    starts = np.cumsum([0] + SCENES)

    def painter(scene, j, w, h):
        return indexed_frame(scene, j, w, h, int(starts[scene]))

    scene_video(path, SCENES, fps=FPS, size=SIZE, painter=painter, fmt="mp4", options={"preset": "veryfast"})
    return path


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]


def frame_hash(img: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(img).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def indexed_clip(tmp_path_factory) -> Path:
    return make_indexed_video(tmp_path_factory.mktemp("indexed") / "scenes.mp4")


def test_indexed_video_frames_tell_their_index(indexed_clip):
    """Known answer for the code itself: every decoded frame reads back as its own index."""
    frames = decoded(indexed_clip)
    assert len(frames) == sum(SCENES)
    assert [read_index(f) for f in frames] == list(range(sum(SCENES)))


# --- the page's files, as they are ----------------------------------------------------------

STATIC = Path(__file__).resolve().parents[2] / "src" / "acsumgan" / "studio" / "static"


def test_the_page_has_no_inline_script_or_style_and_names_no_other_origin():
    html = (STATIC / "studio.html").read_text()
    js = (STATIC / "studio.js").read_text()
    css = (STATIC / "studio.css").read_text()
    assert "<style" not in html and " style=" not in html and "<script>" not in html
    assert html.count("<script ") == 1 and 'src="/static/studio.js"' in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    for text in (html, js, css):
        assert not re.search(r"(https?:)?//[a-z0-9]", text, re.I), "a URL of another origin"
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js
    assert 'id="upload-input"' in html and 'id="message"' in html and 'role="alert"' in html


# --- the page, driven ---------------------------------------------------------------------


def open_studio(d, server, path: str = "", size=LAPTOP) -> None:
    """Open the studio with the token URL (the cookie), then ``path`` (e.g. ``#/video/x``);
    fresh logs; wait until the page has loaded its data."""
    set_viewport(d, size)
    d.get("about:blank")
    d.get_log("browser")
    d.get_log("performance")
    d.get(server.token_url)
    wait_for(d, "return document.body && document.body.dataset.ready === '1'")
    if path:
        d.get(server.url + path)
        d.refresh()
        wait_for(d, "return document.body.dataset.ready === '1'")


def idle(d, timeout: float = 30.0) -> None:
    """No request of the page in flight."""
    wait_for(d, "return document.body.dataset.busy === '0'", timeout=timeout)


def editor_ready(d, name: str, timeout: float = 30.0) -> None:
    wait_for(
        d,
        "var e=window.studio.editor(), v=document.getElementById('source');"
        "return e && e.name===arguments[0] && document.querySelectorAll('#timeline .shot').length>0"
        " && v.readyState>=1",
        name,
        timeout=timeout,
    )
    idle(d)


def kept(d) -> list[dict]:
    return d.execute_script("return window.studio.editor().work.kept")


def totals(d) -> tuple[float, float, str]:
    """(kept seconds, target seconds, status) as the totals show them."""
    return tuple(
        d.execute_script(
            "var t=document.getElementById('totals'), k=document.getElementById('kept-total');"
            "return [parseFloat(t.dataset.keptSeconds), parseFloat(t.dataset.targetSeconds), k.dataset.status]"
        )
    )


def shot_button(d, shot: int):
    return d.find_element("css selector", f"#timeline .shot[data-shot='{shot}']")


def type_into(d, element, text: str) -> None:
    """Replace an input's value as a person does, then leave it (Tab fires ``change``)."""
    from selenium.webdriver.common.keys import Keys

    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(text, Keys.TAB)


def upload_file(d, path: Path) -> None:
    d.find_element("id", "upload-input").send_keys(str(Path(path).resolve()))


def local_requests_only(d, server) -> list[str]:
    """Every URL the page requested is the server's own or data:/blob:; the list."""
    urls = requested_urls(d)
    assert urls, "the performance log saw no request at all (is it on?)"
    others = [u for u in urls if not (u.startswith(server.url) or u.startswith(("data:", "blob:")))]
    assert not others, f"the page requested other origins: {others}"
    return urls


def no_severe(d, allowed: tuple[str, ...] = ()) -> None:
    """No console error, except the failed loads named in ``allowed`` (expected 4xx answers)."""
    bad = [e for e in severe_console(d) if not any(a in e.get("message", "") for a in allowed)]
    assert bad == [], bad


def shown_message(d, timeout: float = 60.0) -> str:
    """The text of ``#message`` once it shows."""
    script = "return !document.getElementById('message').hidden && document.getElementById('message-text').textContent"
    return wait_for(d, script, timeout=timeout)


#: Script prefix: ``li``, the library card of the video named ``arguments[0]``.
CARD = "var li=[...document.querySelectorAll('#videos > li')].find(e => e.dataset.name === arguments[0]);"


def on_card(d, name: str, expression: str):
    """``expression`` (JavaScript, over ``li``) on the card of video ``name``."""
    return d.execute_script(CARD + "return " + expression, name)


def ranges_of(edits: dict) -> list[tuple[int, int]]:
    return [(k["start_frame"], k["end_frame"]) for k in edits["kept"]]


# --- the whole path -----------------------------------------------------------------------


@pytest.mark.slow
def test_upload_summarize_edit_preview_save_render_reload_download(driver, studio_server, indexed_clip, tmp_path):  # noqa: F811
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    d = driver
    server = studio_server([], epochs=1, threads=1)
    open_studio(d, server)
    assert d.find_element("id", "library-empty").is_displayed()

    # upload through the file input
    upload_file(d, indexed_clip)
    wait_for(d, "return document.querySelectorAll('#videos > li').length === 1", timeout=60)
    idle(d)
    name = d.execute_script("return document.querySelector('#videos > li').dataset.name")
    card = f"#videos > li[data-name='{name}']"
    assert on_card(d, name, "li.dataset.state") == "new"
    assert d.find_element("css selector", f"{card} .name").text == name

    # summarize: live progress with stages; a reload re-attaches to the running job
    d.find_element("css selector", f"{card} button.summarize").click()
    seen = set()
    end = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < end:
        text, state = on_card(d, name, "[li.querySelector('.job').textContent, li.dataset.jobState]")
        seen.add(text)
        if state == "running" and " · " in text:  # a stage with its percent
            break
        time.sleep(0.05)
    assert any("Summarize: running · " in t for t in seen), seen
    d.refresh()
    wait_for(d, "return document.body.dataset.ready === '1'")
    wait_for(d, CARD + "return li && li.dataset.jobState", name, timeout=10)
    wait_for(
        d, CARD + "return li.dataset.jobState==='done' && li.dataset.state==='summarized'", name, timeout=JOB_TIMEOUT
    )
    assert "Summarize: done" in d.find_element("css selector", f"{card} .job").text
    wait_for(d, "return [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    screenshot(d, "studio-library")

    # the editor: the model's choice at the summary's own length
    d.find_element("css selector", f"{card} button.open").click()
    editor_ready(d, name)
    assert d.execute_script("return location.hash") == f"#/video/{name}"
    shots = d.execute_script("return window.studio.editor().info.shots")
    n_shots = len(shots)
    assert n_shots >= 6, shots
    widths = d.execute_script(
        "return [...document.querySelectorAll('#timeline .shot')].map(b => b.getBoundingClientRect().width)"
    )
    durations = [s["end_seconds"] - s["start_seconds"] for s in shots]
    ratio = [w / t for w, t in zip(widths, durations)]  # width proportional to duration
    assert max(ratio) / min(ratio) < 1.25, ratio
    first = kept(d)
    assert first and all(k["start_frame"] == shots[k["shot"]]["start_frame"] for k in first)

    # a preset: the target, the totals and the kept shots change at once
    Select(d.find_element("id", "length-preset")).select_by_value("story-15")
    wait_for(d, "return window.studio.editor().work.length.preset === 'story-15'")
    idle(d)
    at15 = kept(d)
    k15, target, _ = totals(d)
    assert target == 15.0 and at15 != first and k15 <= 15.0 + 1e-6 and len(at15) > len(first)
    assert d.find_element("id", "target-total").text.startswith("0:15.0")
    assert len(d.find_elements("css selector", "#timeline .shot.kept")) == len(at15)
    assert len(d.find_elements("css selector", "#kept > li[data-shot]")) == len(at15)
    # seconds: 8 s
    type_into(d, d.find_element("id", "length-seconds"), "8")
    wait_for(d, "return window.studio.editor().work.length.mode === 'seconds'")
    idle(d)
    model8 = kept(d)
    k8, target, status = totals(d)
    assert target == 8.0 and model8 != at15 and k8 <= 8.0 + 1e-6 and status in ("within", "under")
    assert d.find_element("id", "length-preset").get_attribute("value") == ""
    assert abs(float(d.find_element("id", "length-percent").get_attribute("value")) - 8 / 24 * 100) < 0.01

    # toggle one shot off and another on
    off = model8[0]["shot"]
    on = next(
        s["shot"]
        for s in shots
        if s["shot"] not in {k["shot"] for k in model8} and s["shot"] > off and s["end_frame"] - s["start_frame"] >= 20
    )
    shot_button(d, off).click()
    shot_button(d, on).click()
    now = kept(d)
    assert off not in [k["shot"] for k in now] and on in [k["shot"] for k in now]
    assert shot_button(d, off).get_attribute("aria-pressed") == "false"
    assert "person" in shot_button(d, on).get_attribute("class").split()
    assert [k["shot"] for k in now] == sorted(k["shot"] for k in now)

    # trim the added shot: end in frames, start in seconds (snapped to a frame), clamped to the shot
    s_on = shots[on]
    Select(d.find_element("id", "trim-unit")).select_by_value("frames")
    type_into(d, d.find_element("id", f"trim-end-{on}"), str(s_on["end_frame"] - 7))
    Select(d.find_element("id", "trim-unit")).select_by_value("seconds")
    start_t = s_on["start_seconds"] + 5.3 / FPS  # 5.3 frames in: snaps to frame + 5
    type_into(d, d.find_element("id", f"trim-start-{on}"), f"{start_t:.4f}")
    entry = next(k for k in kept(d) if k["shot"] == on)
    assert (entry["start_frame"], entry["end_frame"]) == (s_on["start_frame"] + 5, s_on["end_frame"] - 7)
    assert d.find_element("id", f"trim-start-{on}").get_attribute("value") == f"{(s_on['start_frame'] + 5) / FPS:.3f}"
    other = next(k for k in kept(d) if k["shot"] != on)
    type_into(d, d.find_element("id", f"trim-start-{other['shot']}"), "0")  # before the shot: its first frame
    assert next(k for k in kept(d) if k["shot"] == other["shot"]) == other
    edited = kept(d)

    # undo / redo by keyboard and buttons; back to the model's choice
    body = d.find_element("css selector", "body")
    d.execute_script("document.activeElement.blur()")
    body.send_keys(Keys.CONTROL, "z")
    assert next(k for k in kept(d) if k["shot"] == on)["start_frame"] == s_on["start_frame"]
    body.send_keys(Keys.CONTROL, Keys.SHIFT, "z")
    assert kept(d) == edited
    d.find_element("id", "reset").click()
    assert kept(d) == model8
    d.find_element("id", "undo").click()
    assert kept(d) == edited
    d.find_element("id", "redo").click()
    d.find_element("id", "undo").click()
    assert kept(d) == edited and d.find_element("id", "redo").is_enabled()

    # preview: the player's currentTime only visits the kept ranges, in order, every one of them
    ranges = d.execute_script("return window.studio.keptRanges()")
    d.find_element("id", "preview").click()
    wait_for(d, "return window.studio.previewDone", timeout=60 + sum(b - a for a, b in ranges) * 3)
    log = d.execute_script("return window.studio.previewLog")
    assert len(log) > 20, log
    frame = 1 / FPS
    outside = [t for t in log if not any(a - 1e-3 <= t <= b + frame for a, b in ranges)]
    assert outside == [], (outside, ranges)
    visited = [next(i for i, (a, b) in enumerate(ranges) if a - 1e-3 <= t <= b + frame) for t in log]
    assert visited == sorted(visited) and set(visited) == set(range(len(ranges))), visited

    # save: version 1 on disk, as shown
    d.find_element("id", "save").click()
    wait_for(d, "return document.body.dataset.version === '1' && document.body.dataset.dirty === '0'")
    saved = json.loads((server.out / name / "edits.json").read_text())
    assert saved["version"] == 1 and saved["kept"] == edited and saved["length"]["mode"] == "seconds"

    # render: the job's progress, then the new summary in the player (cache-busted)
    d.find_element("id", "render").click()
    wait_for(d, "var b=document.getElementById('render-job');return !b.hidden && b.dataset.state", timeout=30)
    wait_for(
        d,
        "return document.getElementById('render-job').dataset.state==='done' && document.body.dataset.rendered==='1'",
        timeout=JOB_TIMEOUT,
    )
    src = d.find_element("id", "summary").get_attribute("src")
    assert "summary.mp4?" in src and "v=1" in src
    duration = wait_for(d, "var v=document.getElementById('summary');return v.readyState>=1 && !v.error && v.duration")
    kept_frames = sum(b - a + 1 for a, b in ranges_of(saved))
    assert abs(duration - kept_frames / FPS) <= 1.5 * frame, (duration, kept_frames)
    links = d.execute_script("return [...document.querySelectorAll('#exports a')].map(a => a.dataset.format)")
    assert {"summary.mp4", "segments.json", "otio", "edl", "fcpxml", "gif", "contact-sheet"} <= set(links)
    screenshot(d, "studio-editor")

    # a reload restores the saved edits
    d.refresh()
    wait_for(d, "return document.body.dataset.ready === '1'")
    editor_ready(d, name)
    assert kept(d) == saved["kept"]
    assert d.execute_script("return window.studio.keptRanges()") == ranges
    assert d.find_element("id", "length-seconds").get_attribute("value") == "8"
    assert d.execute_script("return document.body.dataset.version") == "1"
    no_severe(d)
    local_requests_only(d, server)

    # a phone: no horizontal overflow
    set_viewport(d, PHONE)
    time.sleep(0.3)
    doc, view = no_horizontal_overflow(d)
    assert doc <= view + PHONE_TOLERANCE, (doc, view)
    screenshot(d, "studio-editor-phone")
    set_viewport(d, LAPTOP)

    # the download: summary.mp4 holds exactly the kept (trimmed) frames, as the writer makes them
    with server.client() as c:
        r = c.get(f"/api/videos/{name}/export/summary.mp4")
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        card_data = next(v for v in c.get("/api/library").json()["videos"] if v["name"] == name)
        assert card_data["state"] == "edited"
    got = tmp_path / "downloaded.mp4"
    got.write_bytes(r.content)
    frames = decoded(got)
    expected = [i for a, b in ranges_of(saved) for i in range(a, b + 1)]
    assert [read_index(f) for f in frames] == expected
    source = server.out / "uploads" / card_data["file"]
    ref = tmp_path / "reference.mp4"
    write_summary_video(source, ranges_of(saved), ref)  # as `acsumgan render` writes it: its defaults
    assert [frame_hash(f) for f in frames] == [frame_hash(f) for f in decoded(ref)]
    segments = json.loads((server.out / name / "segments.json").read_text())
    assert segments["edits_version"] == 1
    assert [(s["start_frame"], s["end_frame"]) for s in segments["shots"]] == ranges_of(saved)
    chosen = {s["shot"]: s["chosen_by"] for s in segments["shots"]}
    assert chosen[on] == "person" and all(chosen[k["shot"]] == "model" for k in saved["kept"] if k["shot"] != on)


# --- two tabs -----------------------------------------------------------------------------


def test_second_tab_saving_on_a_stale_version_gets_the_409_message(driver, studio_server, studio_copy):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    d = driver
    videos, out = studio_copy
    server = studio_server([videos], out=out)
    open_studio(d, server, "#/video/clip")
    editor_ready(d, "clip")
    first = d.current_window_handle
    shots = d.execute_script("return window.studio.editor().info.shots")
    # keyboard: a shot is a button (focus shown); Space toggles it, Ctrl+Z takes it back
    before = kept(d)
    button = shot_button(d, shots[1]["shot"])
    d.execute_script("arguments[0].focus()", button)
    outline = d.execute_script(
        "var s=getComputedStyle(document.activeElement);return [s.outlineStyle, parseFloat(s.outlineWidth)]"
    )
    assert outline[0] != "none" and outline[1] >= 2, outline
    ActionChains(d).send_keys(Keys.SPACE).perform()
    was_kept = any(k["shot"] == shots[1]["shot"] for k in before)
    assert kept(d) != before and button.get_attribute("aria-pressed") == ("false" if was_kept else "true")
    ActionChains(d).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
    assert kept(d) == before
    try:
        d.switch_to.new_window("tab")
        d.get(server.url + "#/video/clip")
        editor_ready(d, "clip")
        second = d.current_window_handle
        shot_button(d, shots[0]["shot"]).click()
        d.find_element("id", "save").click()
        wait_for(d, "return document.body.dataset.version === '1' && document.body.dataset.dirty === '0'")
        theirs = kept(d)

        d.switch_to.window(first)
        shot_button(d, shots[-1]["shot"]).click()
        d.find_element("id", "save").click()
        message = shown_message(d)
        assert d.execute_script("return document.body.dataset.conflict") == "1"
        on_disk = json.loads((out / "clip" / "edits.json").read_text())
        assert on_disk["version"] == 1 and on_disk["kept"] == theirs  # never a mixed edits.json
        with server.client() as c:
            stale = c.put("/api/videos/clip/edits", json=dict(on_disk, version=0))
        assert stale.status_code == 409
        assert stale.json()["error"] in message  # the server's one line, as it is
        assert "version 1" in message
        action = d.find_element("id", "message-action")
        assert action.is_displayed() and action.text == "Reload"
        action.click()
        editor_ready(d, "clip")
        assert kept(d) == theirs and d.execute_script("return document.body.dataset.version") == "1"
        no_severe(d, allowed=("409",))
        local_requests_only(d, server)
        d.switch_to.window(second)
        d.close()
    finally:
        d.switch_to.window(first)


# --- names as text; errors in the page ----------------------------------------------------

XSS = "<img src=x onerror=alert(1)>"


def test_names_that_look_like_html_show_as_text_and_upload_errors_show_in_the_page(driver, studio_server, tmp_path):  # noqa: F811
    from selenium.common.exceptions import NoAlertPresentException

    d = driver
    folder = tmp_path / "videos"
    folder.mkdir()
    counter_video(folder / f"{XSS}.mp4", 25, fps=FPS)
    (tmp_path / "up").mkdir()
    small = counter_video(tmp_path / "up" / f"{XSS}.mp4", 25, fps=FPS).path
    noise = np.random.default_rng(0).integers(0, 256, (8, 240, 320, 3), dtype=np.uint8)
    big = write_video(tmp_path / "big.mp4", noise, fps=FPS, size=(320, 240))
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video at all\n" * 100)
    limit_mb = 0.05
    assert small.stat().st_size < limit_mb * 2**20 < big.stat().st_size
    server = studio_server([folder], max_upload_mb=limit_mb)
    open_studio(d, server)
    wait_for(d, "return document.querySelectorAll('#videos > li').length === 1")
    folder_video = d.execute_script("return document.querySelector('#videos > li').dataset.name")

    # a job's Cancel button
    on_card(d, folder_video, "li.querySelector('button.summarize').click()")
    wait_for(d, CARD + "return li.dataset.jobState === 'running' || li.dataset.jobState === 'queued'", folder_video)
    on_card(d, folder_video, "li.querySelector('.job button.cancel').click()")
    wait_for(d, CARD + "return li.dataset.jobState === 'cancelled'", folder_video, timeout=60)
    assert "cancelled" in on_card(d, folder_video, "li.querySelector('.job').textContent")
    assert on_card(d, folder_video, "li.querySelector('.job button.cancel').hidden")

    upload_file(d, small)
    wait_for(d, "return document.querySelectorAll('#videos > li').length === 2", timeout=60)
    idle(d)
    with server.client() as c:
        cards = c.get("/api/library").json()["videos"]
    assert len(cards) == 2
    shown = d.find_element("id", "videos").text
    for v in cards:
        assert v["name"] in shown and v["file"] in shown  # as text, whatever the characters
    assert XSS + ".mp4" in shown  # the folder's video keeps its name: shown literally
    assert d.execute_script("return document.querySelectorAll('img:not(.thumb)').length") == 0
    assert d.execute_script("return [...document.images].filter(i => i.getAttribute('src') === 'x').length") == 0
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text  # noqa: B018
    names = d.execute_script("return [...document.querySelectorAll('#videos .name')].map(e => e.textContent)")
    assert sorted(names) == sorted(v["name"] for v in cards)
    set_viewport(d, PHONE)  # long names wrap: the library fits a phone
    doc, view = no_horizontal_overflow(d)
    assert doc <= view + PHONE_TOLERANCE, (doc, view)
    screenshot(d, "studio-library-phone")
    set_viewport(d, LAPTOP)

    # a file PyAV cannot read: the server's one line in #message, and the page goes on
    upload_file(d, notes)
    message = shown_message(d)
    assert "notes.mp4" in message and len(message.strip().splitlines()) == 1
    idle(d)
    # over --max-upload-mb: refused before sending, with the limit
    d.find_element("id", "message-close").click()
    upload_file(d, big)
    message = shown_message(d)
    assert "big.mp4" in message and "0.05 MB" in message
    assert len(d.find_elements("css selector", "#videos > li")) == 2
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text  # noqa: B018
    # drag and drop: a file dropped on the page is uploaded as the input's are
    d.find_element("id", "message-close").click()
    dropped = counter_video(tmp_path / "dropped.mp4", 25, fps=FPS).path
    d.execute_script(
        "var bytes=Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));"
        "var dt=new DataTransfer(); dt.items.add(new File([bytes], 'dropped.mp4', {type: 'video/mp4'}));"
        "var zone=document.getElementById('dropzone');"
        "['dragenter','dragover','drop'].forEach(t => zone.dispatchEvent("
        "new DragEvent(t, {dataTransfer: dt, bubbles: true, cancelable: true})));",
        base64.b64encode(dropped.read_bytes()).decode(),
    )
    wait_for(d, "return document.querySelectorAll('#videos > li').length === 3", timeout=60)
    assert (server.out / "uploads" / "dropped.mp4").read_bytes() == dropped.read_bytes()
    assert d.find_element("id", "message").get_attribute("hidden") is not None
    no_severe(d, allowed=("400",))
    local_requests_only(d, server)
