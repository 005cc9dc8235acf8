"""The studio's library at 10,000 videos: the library a page at a time (:meth:`Library.page`,
``/api/library?offset=&limit=&q=`` over HTTP against the real server) and the page's pager
and filter in a real headless Chromium. The 10,000 videos are hard links of one real clip
(every card's duration is read from a real file)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from acsumgan.studio.library import Library
from pages.conftest import (  # the page tests' headless Chromium and helpers
    driver,  # noqa: F401  (the fixture)
    screenshot,
    wait_for,
)

from .test_browser import idle, local_requests_only, no_severe, open_studio

N = 10_000
PAGE = 100


def name_of(i: int) -> str:
    return f"clip {i:05d}.mp4"


def linked(folder: Path, clip: Path, n: int) -> Path:
    """``folder`` with ``n`` hard links of ``clip`` (``clip 00000.mp4``, ...)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        os.link(clip, folder / name_of(i))
    return folder


# --- the library, a page at a time ----------------------------------------------------------


def test_pages_and_filter_of_the_library(tmp_path, studio_clip):
    videos = linked(tmp_path / "videos", studio_clip, 250)
    (videos / "notes.txt").write_text("not a video")
    lib = Library([videos], tmp_path / "out")
    (tmp_path / "out" / "uploads").mkdir(parents=True)
    shutil.copy2(studio_clip, tmp_path / "out" / "uploads" / "Upload One.mp4")
    first = lib.page(0, PAGE)
    assert (first.total, first.library_total) == (251, 251)
    assert [v.path.name for v in first.videos] == [name_of(i) for i in range(PAGE)]
    assert [v.name for v in first.videos[:2]] == ["clip_00000", "clip_00001"]
    last = lib.page(200, PAGE)
    assert [v.path.name for v in last.videos] == [name_of(i) for i in range(200, 250)] + ["Upload One.mp4"]
    assert lib.page(251, PAGE).videos == [] and lib.page(0, None).total == 251
    # the filter: in the name or the file name, case ignored
    assert [v.path.name for v in lib.page(0, PAGE, "P_0010").videos] == [name_of(i) for i in range(100, 110)]
    assert [v.path.name for v in lib.page(0, PAGE, "CLIP 0024").videos] == [name_of(i) for i in range(240, 250)]
    one = lib.page(0, PAGE, "upload one")
    assert (one.total, one.library_total, [v.name for v in one.videos]) == (1, 251, ["Upload_One"])
    assert lib.page(0, PAGE, "nothing like it").total == 0


def test_a_scan_is_reused_until_a_folder_changes(tmp_path, studio_clip):
    videos = linked(tmp_path / "videos", studio_clip, 3)
    lib = Library([videos], tmp_path / "out")
    scanned = lib.scan()
    assert len(scanned) == 3
    os.link(studio_clip, videos / "added at once.mp4")  # in the same second as the scan: seen
    assert sorted(lib.scan()) == ["added_at_once", "clip_00000", "clip_00001", "clip_00002"]
    old = time.time_ns() - 60 * 10**9  # the folders quiet for a minute: the scan is reused
    for folder in (videos, lib.uploads):
        folder.mkdir(exist_ok=True)
        os.utime(folder, ns=(old, old))
    again = lib.scan()
    assert lib.scan() is again and len(again) == 4
    (videos / name_of(1)).unlink()  # a change: the folder's time moves on
    assert sorted(lib.scan()) == ["added_at_once", "clip_00000", "clip_00002"]
    assert len(lib.scan(fresh=True)) == 3


# --- /api/library of 10,000 videos over HTTP ------------------------------------------------


@pytest.fixture
def big_studio(tmp_path, studio_copy):
    """(a folder of 10,000 links of the clip plus the clip summarized, the studio DIR)."""
    videos, out = studio_copy
    linked(videos, videos / "clip.mp4", N)
    return videos, out


def timed_get(c, url: str):
    start = time.perf_counter()
    r = c.get(url)
    return r, time.perf_counter() - start


def test_api_library_of_ten_thousand_videos(studio_server, big_studio):
    videos, out = big_studio
    server = studio_server([videos], out=out)
    with server.client() as c:
        r, cold = timed_get(c, "/api/library")
        _, warm = timed_get(c, "/api/library")
        print(f"\n/api/library of {N + 1:,} videos: first {cold * 1000:.0f} ms, again {warm * 1000:.0f} ms")
        data = r.json()
        assert r.status_code == 200
        assert (data["total"], data["library_total"], data["offset"], data["limit"]) == (N + 1, N + 1, 0, PAGE)
        assert [v["file"] for v in data["videos"]] == [name_of(i) for i in range(PAGE)]
        first = data["videos"][0]
        assert (first["name"], first["state"], first["thumb"]) == ("clip_00000", "new", None)
        assert first["duration"] == pytest.approx(12.0, abs=0.1) and first["job"] is None
        assert data["presets"] and data["max_upload_mb"] == 4096
        # the last page: the 9,901st link to the summarized clip (its name sorts last)
        last = c.get(f"/api/library?offset={N}&limit={PAGE}").json()
        assert [(v["name"], v["state"]) for v in last["videos"]] == [("clip", "summarized")]
        assert last["videos"][0]["thumb"].startswith("/files/clip/thumbs/shot")
        assert c.get(last["videos"][0]["thumb"]).status_code == 200
        assert c.get(f"/api/library?offset={N + 5}").json()["videos"] == []
        # a filter: by name or file name, a page of the matches
        found = c.get("/api/library", params={"q": "0999", "limit": 5}).json()
        assert found["total"] == 11 and found["library_total"] == N + 1
        assert [v["file"] for v in found["videos"]] == [name_of(999)] + [name_of(i) for i in range(9990, 9994)]
        assert c.get("/api/library", params={"q": "0999", "offset": 10}).json()["videos"][0]["file"] == name_of(9999)
        assert c.get("/api/library", params={"limit": 1000}).json()["videos"][-1]["file"] == name_of(999)
        # bad paging: one line, 400
        for query, problem in (
            ("limit=0", "limit must be a whole number from 1 to 1000, not '0'"),
            ("limit=1001", "limit must be a whole number from 1 to 1000"),
            ("offset=-1", "offset must be a whole number from 0"),
            ("offset=abc", "offset must be a whole number from 0 to 1000000000000, not 'abc'"),
        ):
            bad = c.get(f"/api/library?{query}")
            assert bad.status_code == 400 and problem in bad.json()["error"], (query, bad.text)
            assert "\n" not in bad.json()["error"]
        assert c.get("/api/library", params={"q": "x" * 201}).status_code == 400


# --- the page, driven ---------------------------------------------------------------------


def shown_files(d) -> list[str]:
    return d.execute_script(
        "return [...document.querySelectorAll('#videos > li')].map(li => li.querySelector('.facts').textContent"
        ".split(' · ')[0])"
    )


def page_state(d) -> tuple[int, int, int, str]:
    """(page, pages, matches, the top pager's text) once the library is drawn and idle."""
    idle(d)
    return tuple(
        d.execute_script(
            "var b=document.body.dataset;return [+b.libraryPage,+b.libraryPages,+b.libraryTotal,"
            "document.querySelector('#pager-top .status').textContent]"
        )
    )


def go(d, where: str) -> None:
    d.find_element("css selector", f"#pager-top button[data-go='{where}']").click()


@pytest.mark.slow
def test_library_page_of_ten_thousand_videos(driver, studio_server, big_studio):  # noqa: F811
    videos, out = big_studio
    server = studio_server([videos], out=out)
    d = driver
    start = time.perf_counter()
    open_studio(d, server)
    print(f"\nstudio library of {N + 1:,} videos: ready in {(time.perf_counter() - start) * 1000:.0f} ms")
    pages = (N + 1 + PAGE - 1) // PAGE
    assert page_state(d) == (1, pages, N + 1, f"Page 1 of {pages}")
    assert shown_files(d) == [name_of(i) for i in range(PAGE)]
    assert d.find_element("id", "library-shown").text == f"{N + 1:,} videos · showing 1–{PAGE}"
    assert not d.find_element("id", "library-empty").is_displayed()

    go(d, "last")
    wait_for(d, "return document.body.dataset.libraryPage === arguments[0]", str(pages))
    assert page_state(d) == (pages, pages, N + 1, f"Page {pages} of {pages}")
    assert d.execute_script("return location.hash") == f"#/?page={pages}"
    assert d.execute_script("return [...document.querySelectorAll('#videos > li')].map(li => li.dataset.state)") == [
        "summarized"
    ]
    wait_for(d, "return [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert d.find_element("css selector", "#pager-top button[data-go='next']").get_attribute("disabled")

    d.back()  # Back: the first page again
    wait_for(d, "return document.body.dataset.libraryPage === '1'")
    go(d, "next")
    wait_for(d, "return document.body.dataset.libraryPage === '2'")
    assert shown_files(d) == [name_of(i) for i in range(PAGE, 2 * PAGE)]
    d.refresh()  # a reload keeps the page
    wait_for(d, "return document.body.dataset.ready === '1'")
    assert page_state(d)[:2] == (2, pages)
    assert shown_files(d)[0] == name_of(PAGE)

    # the filter: from the first page of the matches, kept in the hash
    d.find_element("id", "library-filter").send_keys("0999")
    wait_for(d, "return document.body.dataset.libraryTotal === '11'")
    assert page_state(d) == (1, 1, 11, "Page 1 of 1")
    assert shown_files(d) == [name_of(999)] + [name_of(i) for i in range(9990, N)]
    assert d.execute_script("return location.hash") == "#/?q=0999"
    d.refresh()
    wait_for(d, "return document.body.dataset.ready === '1'")
    assert page_state(d) == (1, 1, 11, "Page 1 of 1")
    assert d.find_element("id", "library-filter").get_attribute("value") == "0999"
    d.find_element("id", "library-filter").send_keys("zz")
    wait_for(d, "return document.body.dataset.libraryTotal === '0'")
    assert d.find_element("id", "library-none").is_displayed()
    screenshot(d, "studio-library-10000-filter")

    # the editor and back: the library's page is where it was
    d.get(server.url + "#/?page=3")
    wait_for(d, "return document.body.dataset.libraryPage === '3' && document.body.dataset.busy === '0'")
    d.execute_script("location.hash = '#/video/clip'")
    wait_for(d, "return document.body.dataset.view === 'editor'")
    idle(d)
    d.back()
    wait_for(d, "return document.body.dataset.view === 'library' && document.body.dataset.libraryPage === '3'")
    assert shown_files(d)[0] == name_of(2 * PAGE)
    screenshot(d, "studio-library-10000")
    no_severe(d)
    local_requests_only(d, server)
