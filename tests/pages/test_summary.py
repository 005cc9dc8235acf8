"""summary.html and index.html in a real headless Chromium (their media files, thumbnails and
the browser copy, are tested in tests/media/test_browser.py)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from acsumgan.media.browser import playable_href, relative_href, write_thumbnails
from acsumgan.media.encode import write_summary_video
from acsumgan.pages import IndexEntry, ShotView, SummaryView, timecode, write_index_page, write_summary_page
from acsumgan.pages.summary import MANY_SHOTS, TL_BAND, TL_CURVE, clock, summary_html
from acsumgan.synthetic.media import make_scene_video, scene_video, write_video

from .conftest import (
    LAPTOP,
    PHONE,
    assert_offline,
    file_of,
    no_horizontal_overflow,
    open_page,
    requested_urls,
    screenshot,
    severe_console,
    wait_for,
)

FPS = 25
#: Six scenes; 320 frames = 12.8 s (a whole number of 1024-sample AAC blocks at 16 kHz).
SCENES = [40, 64, 32, 72, 56, 56]
KEPT = {2, 4, 5}  # 1-based shot indices in the summary


def scene_ranges(lengths) -> list[tuple[int, int]]:
    starts = np.cumsum([0] + list(lengths))
    return [(int(a), int(b) - 1) for a, b in zip(starts[:-1], starts[1:])]


def build_view(
    video: Path, out: Path, lengths, fps, kept, *, title="clip", summary: bool = True, frame_seconds=None
) -> SummaryView:
    """A SummaryView as the summarizer would give it: real thumbnails, a real summary video."""
    shots = scene_ranges(lengths)
    n = sum(lengths)
    sec = frame_seconds or (lambda f: f / fps)
    thumbs = write_thumbnails(video, shots, out / "thumbs")
    summary_seconds = sum(b - a + 1 for i, (a, b) in enumerate(shots, 1) if i in kept) / fps
    if summary:
        write_summary_video(video, [r for i, r in enumerate(shots, 1) if i in kept], out / "summary.mp4")
    times = [t / 2 for t in range(int(n / fps * 2))]
    scores = [0.2 + 0.6 * (0.5 + 0.5 * np.sin(t)) for t in times]
    views = [
        ShotView(
            i,
            a,
            b,
            sec(a),
            sec(b + 1),
            float(np.mean(scores[int(sec(a) * 2) : int(sec(b + 1) * 2)] or [0])),
            i in kept,
            relative_href(p, out),
        )
        for i, ((a, b), p) in enumerate(zip(shots, thumbs), 1)
    ]
    return SummaryView(
        title=title,
        video_href=playable_href(video, out),
        summary_href="summary.mp4",
        fps=fps,
        n_frames=n,
        duration_seconds=sec(n),
        curve_times=times,
        curve_scores=scores,
        shots=views,
        budget=None,
        seconds_requested=summary_seconds,
        summary_seconds=summary_seconds,
        links={"summary.mp4": "summary.mp4", "thumbnails": "thumbs/"},
    )


# --- without a browser ---------------------------------------------------------------------


def test_timecode_and_clock():
    assert timecode(0) == "00:00:00.000"
    assert timecode(3723.5) == "01:02:03.500"
    assert timecode(59.9996) == "00:01:00.000"  # milliseconds rounded, carried
    assert timecode(1 / 3) == "00:00:00.333"
    assert timecode(36000) == "10:00:00.000"
    assert clock(8) == "0:08.0" and clock(724.5) == "12:04.5" and clock(3723.4) == "1:02:03"


def test_summary_html_escapes_and_refers_only_to_local_files(tmp_path):
    shots = [ShotView(1, 0, 24, 0.0, 1.0, 0.5, True, "thumbs/a&b.jpg")]
    view = SummaryView(
        '<script>alert("x")</script> & co',
        "v.mp4",
        "s.mp4",
        25,
        25,
        1.0,
        [0.0, 0.5],
        [0.1, 0.9],
        shots,
        0.15,
        None,
        1.0,
        {"segments.json": "segments.json"},
    )
    text = summary_html(view)
    assert "<script>alert" not in text and "&lt;script&gt;alert(&quot;x&quot;)" in text
    assert 'src="thumbs/a&amp;b.jpg"' in text and "15% of the video" in text
    assert "http:" not in text and "https:" not in text and "//" not in text.replace("://", "")


# --- in the browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clip_page(tmp_path_factory):
    """summary.html of an H.264 MP4 with six scenes, three kept; the video in a sibling folder."""
    root = tmp_path_factory.mktemp("clip_page")
    video = make_scene_video(root / "videos" / "beach clip.mp4", SCENES, fps=FPS, size=(320, 180))
    out = root / "out"
    view = build_view(video, out, SCENES, FPS, KEPT, title='Beach & "sea" <day 1>')
    return write_summary_page(out / "summary.html", view), view


def _players_ready(d):
    return wait_for(
        d,
        "var o=document.getElementById('original'),s=document.getElementById('summary');"
        "return o.readyState>=1&&s.readyState>=1&&[o.duration,s.duration,o.error,s.error];",
    )


def test_summary_page_plays_both_videos_offline_without_errors(driver, clip_page):
    page, view = clip_page
    open_page(driver, page)
    original, summary, err1, err2 = _players_ready(driver)
    assert err1 is None and err2 is None
    assert abs(original - sum(SCENES) / FPS) <= 1 / FPS, original
    assert abs(summary - view.summary_seconds) <= 1 / FPS, summary
    assert driver.execute_script("return document.getElementById('original').currentSrc").endswith(
        "/videos/beach%20clip.mp4"
    )
    assert driver.title.startswith('Beach & "sea" <day 1>')
    assert severe_console(driver) == []
    assert_offline(requested_urls(driver))
    totals = driver.find_element("id", "totals").text
    assert "3 of 6" in totals and "0:12.8" in totals
    links = driver.execute_script("return [...document.querySelectorAll('#files a')].map(a => a.href)")
    assert [file_of(u).name for u in links] == ["summary.mp4", "thumbs"]
    assert all(file_of(u).exists() for u in links)


def test_one_thumbnail_per_shot_and_every_image_decodes(driver, clip_page):
    page, view = clip_page
    open_page(driver, page)
    imgs = driver.find_elements("css selector", "#shots img")
    assert len(imgs) == len(view.shots) == len(SCENES)
    for img in imgs:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", img)
    wait_for(driver, "return [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert driver.execute_script("return document.images.length") == len(SCENES)
    kept = driver.execute_script("return [...document.querySelectorAll('#shots .shot')].map(b => b.dataset.kept)")
    assert kept == ["1" if i in KEPT else "0" for i in range(1, len(SCENES) + 1)]
    text = driver.find_elements("css selector", "#shots .shot")[1].text
    assert "00:00:01.600" in text and "00:00:04.160" in text and "2.56 s" in text and "kept" in text


def _hook_seeks(d):
    d.execute_script(
        "window.__seeks=[];var v=document.getElementById('original');"
        "v.addEventListener('seeking',function(){window.__seeks.push(v.currentTime)});"
    )


def _last_seek(d):
    return wait_for(
        d,
        "return window.__seeks.length && [window.__seeks[window.__seeks.length-1],"
        "document.getElementById('original').paused]",
    )


def test_clicking_a_kept_shot_seeks_the_original_and_plays(driver, clip_page):
    page, view = clip_page
    open_page(driver, page)
    _players_ready(driver)
    kept = [s for s in view.shots if s.kept]
    for where in ("#timeline", "#shots"):
        elements = driver.find_elements("css selector", f"{where} .shot[data-kept='1']")
        assert len(elements) == len(kept)
        for k in (len(kept) - 1, 0, 1):  # out of order: every click seeks
            _hook_seeks(driver)
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", elements[k])
            elements[k].click()
            t, paused = _last_seek(driver)
            assert abs(t - kept[k].start_seconds) <= 1 / FPS, (where, k, t)
            assert paused is False
            driver.execute_script("document.getElementById('original').pause()")
    assert severe_console(driver) == []


def test_keyboard_tab_focus_is_visible_and_enter_or_space_seeks(driver, clip_page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    page, view = clip_page
    open_page(driver, page)
    _players_ready(driver)
    driver.execute_script("document.getElementById('only-kept').focus()")
    ActionChains(driver).send_keys(Keys.TAB).perform()
    first = driver.switch_to.active_element
    assert first.get_attribute("data-index") == "1" and first.tag_name == "button"
    outline = driver.execute_script(
        "var s=getComputedStyle(document.activeElement);return [s.outlineStyle,parseFloat(s.outlineWidth)]"
    )
    assert outline[0] != "none" and outline[1] >= 2, outline
    ActionChains(driver).send_keys(Keys.TAB).perform()  # to shot 2
    _hook_seeks(driver)
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    t, _ = _last_seek(driver)
    assert abs(t - view.shots[1].start_seconds) <= 1 / FPS
    # a kept shot on the timeline is focusable and Space seeks
    fourth = driver.find_element("css selector", "#timeline .shot[data-index='4']")
    driver.execute_script("arguments[0].focus()", fourth)
    assert driver.switch_to.active_element.get_attribute("data-index") == "4"
    _hook_seeks(driver)
    ActionChains(driver).send_keys(Keys.SPACE).perform()
    t, _ = _last_seek(driver)
    assert abs(t - view.shots[3].start_seconds) <= 1 / FPS
    # the strip shows the shot being played
    wait_for(driver, "return document.querySelector(\"#shots .shot[data-index='4']\").classList.contains('current')")
    assert severe_console(driver) == []


def test_summary_page_fits_a_phone_and_a_laptop(driver, clip_page):
    page, _ = clip_page
    for name, size in (("summary-laptop", LAPTOP), ("summary-phone", PHONE)):
        open_page(driver, page, size)
        _players_ready(driver)
        wait_for(driver, "return [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        doc, view = no_horizontal_overflow(driver)
        assert doc <= view, (name, doc, view)
        assert screenshot(driver, name).stat().st_size > 10_000
    # on the phone the players and the timeline take the width, the strip has two columns
    widths = driver.execute_script(
        "return ['original','summary','timeline'].map(i => document.getElementById(i).getBoundingClientRect().width)"
    )
    assert all(w >= PHONE[0] - 60 for w in widths), widths
    assert severe_console(driver) == []


def test_avi_page_plays_the_h264_copy(driver, tmp_path):
    lengths = [30, 45, 25]
    g = scene_video(
        tmp_path / "clip.avi", lengths, fps=FPS, size=(480, 270), codec="mpeg4", tones=[220.0, 330.0, 440.0]
    )
    with av.open(str(g.path)) as c:  # the summarizer's frame times: relative to the first frame
        ts = [float(f.time) for f in c.decode(c.streams.video[0])]
    times = [t - ts[0] for t in ts] + [ts[-1] - ts[0] + 1 / FPS]
    out = tmp_path / "out"
    view = build_view(g.path, out, lengths, FPS, {2}, title="clip.avi", frame_seconds=lambda f: times[f])
    assert view.video_href == "original.mp4" and (out / "original.mp4").is_file()
    page = write_summary_page(out / "summary.html", view)
    open_page(driver, page)
    original, summary, err1, err2 = _players_ready(driver)
    assert err1 is None and err2 is None
    assert abs(original - times[-1]) <= 1 / FPS, (original, times[-1])
    _hook_seeks(driver)
    driver.find_element("css selector", "#timeline .shot[data-kept='1']").click()
    t, paused = _last_seek(driver)
    assert abs(t - view.shots[1].start_seconds) <= 1 / FPS and paused is False
    assert severe_console(driver) == []
    assert_offline(requested_urls(driver))


def test_an_hour_with_650_shots_keeps_every_kept_shot_visible(driver, tmp_path):
    """The timeline of a long video: 650 shots of about 5.5 s, 30 kept; the media are small
    stand-ins (one thumbnail for all, a short video), the layout is the real one."""
    video = make_scene_video(tmp_path / "v.mp4", [25], fps=FPS, size=(160, 90), audio=False)
    write_video(
        tmp_path / "summary.mp4", (np.zeros((90, 160, 3), np.uint8) for _ in range(25)), fps=FPS, size=(160, 90)
    )
    (thumb,) = write_thumbnails(video, [(0, 24)], tmp_path / "thumbs")
    rng = np.random.default_rng(0)
    lengths = rng.integers(60, 220, 650)
    starts = np.concatenate([[0], np.cumsum(lengths)]) / FPS
    kept = set(rng.choice(np.arange(1, 651), 30, replace=False).tolist())
    shots = [
        ShotView(
            i + 1,
            0,
            0,
            float(starts[i]),
            float(starts[i + 1]),
            float(rng.random()),
            (i + 1) in kept,
            "thumbs/" + thumb.name,
        )
        for i in range(650)
    ]
    duration = float(starts[-1])
    times = list(np.arange(0, duration, 0.5))
    view = SummaryView(
        "an hour",
        "v.mp4",
        "summary.mp4",
        FPS,
        int(duration * FPS),
        duration,
        times,
        list(rng.random(len(times))),
        shots,
        0.15,
        None,
        0.15 * duration,
        {},
    )
    assert len(shots) > MANY_SHOTS
    page = write_summary_page(tmp_path / "summary.html", view)
    open_page(driver, page)
    assert driver.execute_script("return document.getElementById('timeline').classList.contains('many')")
    # boundaries: short light ticks along the axis, not full-height lines (no grey wall over the curve)
    ticks = driver.execute_script(
        "const tl = document.getElementById('timeline').getBoundingClientRect();"
        "return [...document.querySelectorAll('#timeline .tick')].map(t => {"
        "const r = t.getBoundingClientRect(), st = getComputedStyle(t);"
        "return [r.height / tl.height, parseFloat(st.strokeOpacity), r.bottom - tl.top, tl.height]; })"
    )
    assert len(ticks) == 649
    assert max(h for h, *_ in ticks) < 0.12 and max(o for _, o, *_ in ticks) < 1
    assert all(b <= th * TL_CURVE / (TL_CURVE + TL_BAND) + 1 for *_, b, th in ticks)  # above the kept band
    rects = driver.execute_script(
        "return [...document.querySelectorAll(\"#timeline .shot[data-kept='1']\")]"
        ".map(r => r.getBoundingClientRect().width)"
    )
    assert len(rects) == 30 and min(rects) >= 2.0, min(rects)
    assert len(driver.find_elements("css selector", "#shots .shot")) == 650
    # the "only kept shots" switch leaves the 30
    driver.find_element("id", "only-kept").click()
    shown = driver.execute_script(
        "return [...document.querySelectorAll('#shots li')].filter(li => li.offsetParent !== null).length"
    )
    assert shown == 30
    screenshot(driver, "summary-long-laptop", max_height=1600)
    open_page(driver, page, PHONE)
    doc, vw = no_horizontal_overflow(driver)
    assert doc <= vw
    assert severe_console(driver) == []


def test_index_page_links_every_video(driver, clip_page, tmp_path):
    page, view = clip_page
    out = page.parent
    entries = [
        IndexEntry(
            view.title,
            relative_href(page, out.parent),
            view.duration_seconds,
            view.summary_seconds,
            relative_href(out / "thumbs" / "shot0002.jpg", out.parent),
            3,
            6,
        ),
        IndexEntry("second video, no thumbnail", relative_href(page, out.parent), 3725.0, 60.0),
    ]
    index = write_index_page(out.parent / "index.html", entries)
    for name, size in (("index-laptop", LAPTOP), ("index-phone", PHONE)):
        open_page(driver, index, size)
        wait_for(driver, "return [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        doc, vw = no_horizontal_overflow(driver)
        assert doc <= vw
        screenshot(driver, name)
    cards = driver.find_elements("css selector", "#videos a")
    assert [file_of(c.get_attribute("href")) for c in cards] == [page.resolve()] * 2
    assert "video 0:12.8" in cards[0].text and "3 of 6 shots kept" in cards[0].text
    assert "video 1:02:05" in cards[1].text
    assert severe_console(driver) == []
    assert_offline(requested_urls(driver))
    cards[0].click()
    wait_for(driver, "return document.getElementById('original') !== null")
