"""index.html of a large folder: every entry in its JSON block, one page of cards at a time
(known answers of the block; a real headless Chromium over 10,000 entries)."""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import pytest

from acsumgan.media.browser import write_thumbnails
from acsumgan.pages.summary import INDEX_COLUMNS, IndexEntry, index_html, write_index_page
from acsumgan.synthetic.media import make_scene_video

from .conftest import assert_offline, open_page, requested_urls, screenshot, severe_console, wait_for

DATA = re.compile(r'<script type="application/json" id="index-data">(.*?)</script>', re.S)
N = 10_000
PAGE = 100


def block_of(text: str) -> dict:
    """The JSON block of an index page's text."""
    found = DATA.findall(text)
    assert len(found) == 1
    return json.loads(found[0])


def cards_in_html(text: str) -> list[str]:
    """The hrefs of the cards written as HTML (the first page)."""
    ol = re.search(r'<ol class="videos" id="videos">(.*?)</ol>', text, re.S).group(1)
    return re.findall(r'<li><a class="video" href="([^"]*)"', ol)


# --- the entries' block: known answers ----------------------------------------------------


def test_block_holds_every_entry_in_order_with_exact_totals():
    entries = [
        IndexEntry("b.mp4", "b/summary.html", 10.0, 1.5, "b/thumbs/shot0001.jpg", 2, 5),
        IndexEntry("a </script><b>&amp;.mp4", "a/summary.html", 20.5, 2.25),
        IndexEntry("c.mp4", "c/summary.html", 3600.25, 180.0, None, 0, 7),
    ]
    text = index_html(entries, page_size=2)
    data = block_of(text)  # a title with "</script>" does not end the block
    assert data["format"] == "acsumgan-index/1" and data["page_size"] == 2
    assert data["columns"] == list(INDEX_COLUMNS)
    assert data["totals"] == {"videos": 3, "duration_seconds": 3630.75, "summary_seconds": 183.75}
    assert data["rows"] == [
        ["b.mp4", "b/summary.html", "b/thumbs/shot0001.jpg", 10.0, 1.5, 2, 5, "0:10.0", "0:01.5"],
        ["a </script><b>&amp;.mp4", "a/summary.html", None, 20.5, 2.25, None, None, "0:20.5", "0:02.2"],
        ["c.mp4", "c/summary.html", None, 3600.25, 180.0, 0, 7, "1:00:00", "3:00.0"],
    ]
    assert "</script><b>" not in text.split('id="index-data">', 1)[1].split("</script>", 1)[0]
    # without JavaScript: the first page as cards, the totals and the page count in the HTML
    assert cards_in_html(text) == ["b/summary.html", "a/summary.html"]
    assert "3 videos · 1.0 hours of video · 3:03.8 of summaries" in text
    assert "Page 1 of 2" in text and "showing 1–2" in text
    assert 'loading="lazy"' in text


def test_block_of_no_entry_and_a_bad_length():
    data = block_of(index_html([]))
    assert data["rows"] == [] and data["totals"] == {"videos": 0, "duration_seconds": 0, "summary_seconds": 0}
    assert cards_in_html(index_html([])) == []
    with pytest.raises(ValueError, match="bad.mp4: not a finite length"):
        index_html([IndexEntry("bad.mp4", "x", float("nan"), 1.0)])
    with pytest.raises(ValueError, match="page_size"):
        index_html([], page_size=0)


# --- 10,000 entries in Chromium -------------------------------------------------------------


def title_of(i: int) -> str:
    return f"clip {i:05d}.mp4"


@pytest.fixture(scope="module")
def big_index(tmp_path_factory) -> tuple[Path, list[IndexEntry]]:
    """index.html of 10,000 entries whose thumbnails are four real JPEGs (shared) and whose
    links name review pages that are not there (the test follows none)."""
    d = tmp_path_factory.mktemp("big_index")
    clip = make_scene_video(d / "src.mp4", [10, 10, 10, 10], fps=10, size=(96, 64), audio=False)
    thumbs = write_thumbnails(clip, [(0, 9), (10, 19), (20, 29), (30, 39)], d / "thumbs")
    entries = [
        IndexEntry(
            title_of(i),
            f"{title_of(i)[:-4]}/summary.html",
            60.0 + i,
            6.0 + i % 7,
            None if i % 10 == 9 else f"thumbs/{thumbs[i % 4].name}",
            i % 5 + 1,
            10,
        )
        for i in range(N)
    ]
    start = time.perf_counter()
    path = write_index_page(d / "index.html", entries)
    print(f"\nindex.html of {N:,} entries: {time.perf_counter() - start:.3f} s, {path.stat().st_size:,} bytes")
    return path, entries


def shown_titles(d) -> list[str]:
    return d.execute_script("return [...document.querySelectorAll('#videos strong')].map(e => e.textContent)")


def page_of(d) -> tuple[int, int, str]:
    """(page, pages, the status text) once the script ran."""
    wait_for(d, "return document.body.dataset.ready === '1'")
    page, pages, status = d.execute_script(
        "return [+document.body.dataset.page, +document.body.dataset.pages,"
        "document.querySelector('#pager-top .status').textContent]"
    )
    return page, pages, status


def go(d, where: str) -> None:
    d.find_element("css selector", f"#pager-top button[data-go='{where}']").click()


def test_ten_thousand_entries_page_filter_and_keep_the_page(driver, big_index):
    path, entries = big_index
    d = driver
    open_page(d, path)
    ready, fcp = d.execute_script(
        "var r=performance.getEntriesByName('index-ready')[0],"
        "p=performance.getEntriesByName('first-contentful-paint')[0];"
        "return [r?r.startTime:null,p?p.startTime:null]"
    )
    print(f"\nindex.html of {N:,} entries in Chromium: script ready at {ready:.0f} ms, first paint at {fcp:.0f} ms")
    pages = math.ceil(N / PAGE)
    assert page_of(d) == (1, pages, f"Page 1 of {pages:,}")
    assert shown_titles(d) == [title_of(i) for i in range(PAGE)]
    assert d.find_element("id", "shown").text == f"{N:,} videos · showing 1–{PAGE}"
    assert d.find_element("id", "totals").text.startswith(f"{N:,} videos · ")
    # thumbnails are lazy; the ones in view load
    wait_for(
        d,
        "return [...document.querySelectorAll('#videos img')].filter(i => i.getBoundingClientRect().top"
        " < innerHeight).every(i => i.complete && i.naturalWidth > 0)",
    )
    assert d.execute_script("return [...document.querySelectorAll('#videos img')].every(i => i.loading === 'lazy')")
    screenshot(d, "index-10000-first")

    go(d, "last")
    wait_for(d, "return document.body.dataset.page === arguments[0]", str(pages))
    assert page_of(d) == (pages, pages, f"Page {pages} of {pages}")
    assert shown_titles(d) == [title_of(i) for i in range(N - PAGE, N)]
    assert d.execute_script("return location.hash") == f"#page={pages}"
    hrefs = d.execute_script("return [...document.querySelectorAll('#videos a')].map(a => a.getAttribute('href'))")
    assert hrefs == [e.href for e in entries[N - PAGE :]]
    assert d.find_element("css selector", "#pager-top button[data-go='next']").get_attribute("disabled")
    screenshot(d, "index-10000-last")

    d.back()  # the page is in the history
    wait_for(d, "return document.body.dataset.page === '1'")
    assert shown_titles(d)[0] == title_of(0)
    go(d, "next")
    go(d, "next")
    wait_for(d, "return document.body.dataset.page === '3'")
    assert shown_titles(d) == [title_of(i) for i in range(2 * PAGE, 3 * PAGE)]
    d.refresh()  # a reload keeps the page
    assert page_of(d) == (3, pages, f"Page 3 of {pages}")
    assert shown_titles(d)[0] == title_of(2 * PAGE)
    go(d, "prev")
    wait_for(d, "return document.body.dataset.page === '2'")

    # the filter: by name, from the first page of the matches; a reload keeps it
    box = d.find_element("id", "filter")
    box.send_keys("0999")
    expected = [e.title for e in entries if "0999" in e.title]
    assert len(expected) == 11
    wait_for(d, "return document.body.dataset.matches === arguments[0]", str(len(expected)))
    assert page_of(d) == (1, 1, "Page 1 of 1")
    assert shown_titles(d) == expected
    assert d.find_element("id", "shown").text == f"11 of {N:,} videos match “0999” · showing 1–11"
    d.refresh()
    assert page_of(d) == (1, 1, "Page 1 of 1")
    assert shown_titles(d) == expected and d.find_element("id", "filter").get_attribute("value") == "0999"
    d.find_element("id", "filter").send_keys("x")
    wait_for(d, "return document.body.dataset.matches === '0'")
    assert d.find_element("id", "none").is_displayed() and shown_titles(d) == []
    d.execute_script("var f=document.getElementById('filter');f.value='';f.dispatchEvent(new Event('input'))")
    wait_for(d, "return document.body.dataset.matches === arguments[0]", str(N))
    assert page_of(d) == (1, pages, f"Page 1 of {pages:,}")

    assert severe_console(d) == []
    assert_offline(requested_urls(d))


def test_a_page_past_the_last_shows_the_last(driver, big_index):
    path, _ = big_index
    open_page(driver, path)
    driver.execute_script("location.hash = '#page=999'")
    wait_for(driver, "return document.body.dataset.page === '100'")
    assert driver.execute_script("return location.hash") == "#page=100"
    assert shown_titles(driver)[-1] == title_of(N - 1)
    assert severe_console(driver) == []
