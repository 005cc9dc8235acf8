"""index.html and the studio's library at catalogue sizes (issue 26): 1,000 and 10,000 videos.

==================  ==================================================================
measure             what
==================  ==================================================================
index_<n>           ``write_index_page`` of ``n`` entries (what ``summarize`` of ``n``
                    videos writes last): time (median of ``--reps``), the peak of
                    Python's allocations while writing (tracemalloc, one more run),
                    the file's size; with Chromium, when the page's script was ready
                    and the first paint (a fresh load of the file)
library_<n>         ``GET /api/library`` of a real ``acsumgan serve`` over ``n`` videos
                    (hard links of one generated 2-s clip, so every card's duration is
                    read from a real file): the first call (the folder scanned, the
                    names recorded, the page's 100 videos probed), the same page at
                    once (a folder changed within the second: scanned again) and once
                    the folders are quiet (median), the last page, a filter; the
                    server's resident memory
==================  ==================================================================

Nothing is asserted: the figures are printed and saved (``--out``).

Usage::

    .venv/bin/python benchmarks/catalogue_index.py [--sizes 1000,10000] [--reps 5]
        [--out benchmarks/results/catalogue_index.json]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from acsumgan.fileio import write_json  # noqa: E402
from acsumgan.media.browser import write_thumbnails  # noqa: E402
from acsumgan.pages.summary import IndexEntry, write_index_page  # noqa: E402
from acsumgan.studio.library import QUIET_NS  # noqa: E402
from acsumgan.synthetic.media import make_scene_video  # noqa: E402
from studio import Server, timed_ms  # noqa: E402  (benchmarks/studio.py: the real server)

PAGE = 100


def entries(n: int, thumbs: list[Path]) -> list[IndexEntry]:
    """``n`` entries as a summarize run of ``n`` videos gives them (every tenth without a thumbnail)."""
    return [
        IndexEntry(
            f"video {i:05d}.mp4",
            f"video {i:05d}/summary.html",
            600.0 + i % 3000,
            30.0 + i % 60,
            None if i % 10 == 9 else f"thumbs/{thumbs[i % len(thumbs)].name}",
            i % 12 + 1,
            40,
        )
        for i in range(n)
    ]


def first_render(path: Path) -> dict | None:
    """When Chromium (headless) had the index's script ready and first painted, in ms from
    the navigation; None without Selenium or a browser."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None
    chrome = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").is_file() else None
    )
    if chrome is None or driver is None:
        return None
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800"):
        opts.add_argument(arg)
    d = webdriver.Chrome(options=opts, service=Service(driver))
    try:
        runs = []
        for _ in range(3):
            d.get("about:blank")
            d.get(path.resolve().as_uri())
            end = time.monotonic() + 30
            while time.monotonic() < end and d.execute_script("return document.body.dataset.ready") != "1":
                time.sleep(0.02)
            runs.append(
                d.execute_script(
                    "var r=performance.getEntriesByName('index-ready')[0],"
                    "p=performance.getEntriesByName('first-contentful-paint')[0];"
                    "return [r?r.startTime:null,p?p.startTime:null]"
                )
            )
        return {
            "script_ready_ms": statistics.median(r[0] for r in runs),
            "first_paint_ms": statistics.median(r[1] for r in runs if r[1] is not None),
            "runs": len(runs),
        }
    finally:
        d.quit()


def bench_index(work: Path, n: int, reps: int, thumbs: list[Path]) -> dict:
    lines = entries(n, thumbs)
    path = work / f"index_{n}" / "index.html"
    path.parent.mkdir()
    shutil.copytree(thumbs[0].parent, path.parent / "thumbs")
    times = [timed_ms(lambda: write_index_page(path, lines))[0] for _ in range(reps)]
    tracemalloc.start()
    write_index_page(path, lines)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "entries": n,
        "write_ms_median": statistics.median(times),
        "write_ms_min": min(times),
        "peak_alloc_mib": peak / 2**20,
        "bytes": path.stat().st_size,
        "chromium": first_render(path),
    }


def bench_library(work: Path, n: int, reps: int, clip: Path) -> dict:
    videos = work / f"videos_{n}"
    videos.mkdir()
    for i in range(n):
        os.link(clip, videos / f"clip {i:05d}.mp4")
    time.sleep(QUIET_NS / 1e9 + 0.2)  # the folder quiet: its scan can be reused
    server = Server([videos], work / f"studio_{n}", work / f"serve_{n}.log")
    try:
        with server.client() as c:
            first, r = timed_ms(lambda: c.get("/api/library"))
            data = r.json()
            assert data["total"] == n and len(data["videos"]) == PAGE, data.get("error")
            # within a second of a change to a folder (here: uploads/, made at the start) every
            # call scans again; then the scan is reused
            rescan, _ = timed_ms(lambda: c.get("/api/library"))
            time.sleep(QUIET_NS / 1e9 + 0.2)
            again = [timed_ms(lambda: c.get("/api/library"))[0] for _ in range(reps)]
            last_offset = (n - 1) // PAGE * PAGE
            last_first, _ = timed_ms(lambda: c.get(f"/api/library?offset={last_offset}"))
            last = [timed_ms(lambda: c.get(f"/api/library?offset={last_offset}"))[0] for _ in range(reps)]
            found = [timed_ms(lambda: c.get("/api/library", params={"q": "0999"}))[0] for _ in range(reps)]
            rss = server.rss_mib()
    finally:
        server.stop()
    return {
        "videos": n,
        "first_ms": first,
        "rescan_ms": rescan,
        "again_ms_median": statistics.median(again),
        "last_page_first_ms": last_first,
        "last_page_again_ms_median": statistics.median(last),
        "filter_ms_median": statistics.median(found),
        "server": rss,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of videos")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "catalogue_index.json"))
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results: dict = {
        "benchmark": "catalogue_index",
        "machine": {
            "platform": platform.platform(),
            "cpus": len(os.sched_getaffinity(0)),
            "load_average_1min": os.getloadavg()[0],
        },
        "command": "python benchmarks/catalogue_index.py " + " ".join(sys.argv[1:]),
    }
    work = Path(tempfile.mkdtemp(prefix="catalogue_index_"))
    try:
        clip = make_scene_video(work / "clip.mp4", [10, 10], fps=10, size=(96, 64), audio=False)
        thumbs = write_thumbnails(clip, [(0, 9), (10, 19)], work / "thumbs")
        for n in sizes:
            results[f"index_{n}"] = r = bench_index(work, n, args.reps, thumbs)
            browser = r["chromium"]
            print(
                f"index.html of {n:,} entries: {r['write_ms_median']:.0f} ms, {r['bytes']:,} bytes, "
                f"peak {r['peak_alloc_mib']:.1f} MiB allocated"
                + (
                    f"; Chromium: script ready {browser['script_ready_ms']:.0f} ms, first paint "
                    f"{browser['first_paint_ms']:.0f} ms"
                    if browser
                    else ""
                ),
                flush=True,
            )
        for n in sizes:
            results[f"library_{n}"] = r = bench_library(work, n, args.reps, clip)
            print(
                f"/api/library of {n:,} videos: first {r['first_ms']:.0f} ms, scanned again {r['rescan_ms']:.0f} ms, "
                f"again {r['again_ms_median']:.0f} ms, "
                f"last page {r['last_page_first_ms']:.0f} ms first / {r['last_page_again_ms_median']:.0f} ms again, "
                f"filter {r['filter_ms_median']:.0f} ms; server {r['server']['rss_mib']:.0f} MiB",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_json(args.out, results)
    print(f"saved {os.path.relpath(args.out, ROOT)}")


if __name__ == "__main__":
    main()
