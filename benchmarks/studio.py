"""The summary studio's speed and memory (``acsumgan serve``), against a real server.

Three measures, each against the real command (``python -m acsumgan serve`` on a free
loopback port, driven over HTTP with httpx, as a browser would):

==================  ===================================================  ==================
measure             what                                                 goal
==================  ===================================================  ==================
select_2h           a preset change (``POST /api/videos/<v>/select``)    median < 50 ms
                    to the new selection, a 2-hour video: 14,400 steps
                    (2 steps/s, 30 fps, 216,000 frames), shots of 3-8 s
render_60s_720p     ``acsumgan render`` of a 60-s summary (short-60) of  (recorded)
                    a 10-minute 720p clip: the whole command, a fresh
                    process each time
rss_100_videos      the server's resident memory with 100 videos in the  (recorded)
                    library, each summarized: after start, after the
                    library was listed, after every editor was opened
==================  ===================================================  ==================

The 2-hour video's analysis is made, not computed: ``analysis.h5`` written by
:func:`acsumgan.summarize.analysis.write_analysis` of a
:class:`~acsumgan.summarize.summary.Summary` of generated step scores over generated
shots (what a summarize run would leave; no 2-hour file is decoded). The select times
are per length asked: the four presets, then lengths in seconds never asked before, each
``--reps`` times (median, and the 95th percentile); each answer is checked against
:func:`~acsumgan.summarize.summary.reselect` of :func:`~acsumgan.summarize.analysis.load_summary`.

The 720p clip is ``benchmarks/video_speed.py``'s (a 60-s generated clip, looped to 10
minutes by copying packets); its analysis is made the same way (shots of 3-8 s, seeded
scores) at the short-60 preset, so the render keeps 60 s of it.

Usage::

    .venv/bin/python benchmarks/studio.py [--reps 20] [--render-reps 2] [--videos 100]
        [--out benchmarks/results/studio.json] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402

from acsumgan.fileio import write_json  # noqa: E402
from acsumgan.summarize.analysis import load_summary, write_analysis  # noqa: E402
from acsumgan.summarize.edits import length_options  # noqa: E402
from acsumgan.summarize.features import ExtractedFeatures  # noqa: E402
from acsumgan.summarize.options import SummarizeOptions  # noqa: E402
from acsumgan.summarize.ownership import Manifest  # noqa: E402
from acsumgan.summarize.summary import compute_summary, reselect  # noqa: E402

FPS = 30.0
RATE = 2.0
SELECT_GOAL_MS = 50.0
URL_LINE = re.compile(r"^acsumgan studio: (http://\S+?:(\d+)/)\?token=(\S+)$")


# ----------------------------------------------------------------------------- analyses


def generated_summary(video: Path, n_frames: int, fps: float, size: tuple[int, int], options, seed: int = 0):
    """A Summary of ``video`` (``n_frames`` at ``fps``) from generated shots of 3-8 s and
    smooth seeded step scores, sampled at 2 steps per second (every 15th frame at 30 fps)."""
    rng = np.random.default_rng(seed)
    step = int(round(fps / RATE))
    picks = np.arange(0, n_frames, step, dtype=np.int64)
    T = picks.shape[0]
    bounds = [0]
    while bounds[-1] < n_frames:
        bounds.append(bounds[-1] + int(rng.integers(int(3 * fps), int(8 * fps) + 1)))
    bounds[-1] = n_frames
    if bounds[-1] - bounds[-2] < fps:  # no sliver of a last shot
        bounds.pop(-2)
    cps = np.array([(bounds[i], bounds[i + 1] - 1) for i in range(len(bounds) - 1)], dtype=np.int64)
    raw = rng.random(T + 20)
    scores = np.convolve(raw, np.ones(21) / 21, mode="valid")[:T]
    ex = ExtractedFeatures(
        features=np.zeros((T, 1), dtype=np.float32),
        picks=picks,
        timestamps=picks / fps,
        n_frames=n_frames,
        fps=fps,
        width=size[0],
        height=size[1],
        has_audio=False,
        backbone="efficientnet-lite0",
        rate=RATE,
    )
    return compute_summary(ex, lambda f: scores, options, cps, video=video)


def write_summary_folder(folder: Path, summary) -> None:
    """What the studio reads of a summarized video: analysis.h5 and segments.json, entered
    in the folder's manifest as acsumgan's (so that ``render`` may replace them)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_analysis(folder / "analysis.h5", summary)
    write_json(folder / "segments.json", summary.segments)
    Manifest(folder).settle(["analysis.h5", "segments.json"])


# ----------------------------------------------------------------------------- the server


class Server:
    def __init__(self, folders: list[Path], out: Path, log: Path):
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        argv = [sys.executable, "-m", "acsumgan", "serve", *map(str, folders), "--out", str(out), "--port", "0"]
        self.log = open(log, "wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        self.url = self.token = None
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                m = URL_LINE.match(line.strip())
                if m and self.url is None:
                    self.url, self.token = m.group(1).rstrip("/"), m.group(3)
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(120) or self.url is None:
            self.proc.kill()
            raise SystemExit(f"acsumgan serve did not start: {log.read_text()}")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=120)

    def rss_mib(self) -> dict:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kib = {
            k: int(v.split()[0])
            for k, v in (line.split(":", 1) for line in status.splitlines())
            if k in ("VmRSS", "VmHWM")
        }
        return {"rss_mib": kib["VmRSS"] / 1024, "peak_rss_mib": kib["VmHWM"] / 1024}

    def stop(self) -> None:
        self.proc.send_signal(2)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def timed_ms(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000.0, out


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


# ----------------------------------------------------------------------------- the measures


def bench_select(work: Path, reps: int) -> dict:
    from acsumgan.synthetic.media import counter_video

    folder = work / "select_videos"
    folder.mkdir(parents=True, exist_ok=True)
    video = counter_video(folder / "long.mp4", 30, fps=30).path  # the library's file; the analysis is of 2 h
    n_frames = int(2 * 3600 * FPS)
    summary = generated_summary(video, n_frames, FPS, (1280, 720), SummarizeOptions(length_preset="short-60"))
    out = work / "select_studio"
    write_summary_folder(out / "long", summary)
    loaded = load_summary(out / "long")
    server = Server([folder], out, work / "select_serve.log")
    try:
        with server.client() as c:
            first_ms, r = timed_ms(lambda: c.get("/api/videos/long"))
            r.raise_for_status()
            open_bytes = len(r.content)
            again_ms, _ = timed_ms(lambda: c.get("/api/videos/long"))
            lengths = [
                {"mode": "preset", "value": None, "preset": p} for p in ("story-15", "short-60", "reel-90", "feed-120")
            ]
            lengths += [{"mode": "seconds", "value": float(s), "preset": None} for s in (45, 75, 100, 150)]
            per_length = {}
            every = []
            for length in lengths:
                key = length["preset"] or f"{length['value']:g} s"
                times = []
                for _ in range(reps):
                    ms, r = timed_ms(lambda length=length: c.post("/api/videos/long/select", json={"length": length}))
                    r.raise_for_status()
                    times.append(ms)
                got = r.json()
                want = reselect(loaded, length_options(length))
                assert got["model_selected"] == want.selected, key
                assert got["summary_seconds"] == want.summary_seconds, key
                per_length[key] = {
                    "median_ms": statistics.median(times),
                    "p95_ms": p95(times),
                    "shots_kept": len(got["model_selected"]),
                    "summary_seconds": got["summary_seconds"],
                }
                every += times
                print(
                    f"  select {key:9s}: median {statistics.median(times):6.1f} ms, p95 {p95(times):6.1f} ms",
                    flush=True,
                )
            in_process = []
            for length in lengths:
                for _ in range(max(3, reps // 4)):
                    in_process.append(timed_ms(lambda length=length: reselect(loaded, length_options(length)))[0])
    finally:
        server.stop()
    med = statistics.median(every)
    return {
        "video": {
            "hours": 2,
            "fps": FPS,
            "n_frames": n_frames,
            "steps": int(summary.picks.shape[0]),
            "shots": int(summary.change_points.shape[0]),
        },
        "reps_per_length": reps,
        "median_ms": med,
        "p95_ms": p95(every),
        "goal_ms": SELECT_GOAL_MS,
        "meets_goal": med < SELECT_GOAL_MS,
        "per_length": per_length,
        "open_editor_first_ms": first_ms,
        "open_editor_again_ms": again_ms,
        "open_editor_bytes": open_bytes,
        "reselect_in_process_median_ms": statistics.median(in_process),
    }


def clip_720p(work: Path, keep: Path | None) -> Path:
    """video_speed.py's 720p clip looped to 10 minutes (made once; kept in ``keep``)."""
    from video_speed import loop_clip, write_clip

    where = keep or work
    where.mkdir(parents=True, exist_ok=True)
    clip = where / "clip_1280x720.mp4"
    if not clip.exists():
        write_clip(clip, (1280, 720))
    long = where / "720p-10m.mp4"
    if not long.exists():
        loop_clip(clip, long, 600)
    return long


def bench_render(work: Path, keep: Path | None, reps: int) -> dict:
    from acsumgan.media.decode import probe

    video = clip_720p(work, keep)
    info = probe(video)
    n_frames = int(round(info.duration * info.fps))
    summary = generated_summary(
        video, n_frames, float(info.fps), (info.width, info.height), SummarizeOptions(length_preset="short-60"), seed=1
    )
    folder = work / "render_studio" / "clip720"
    write_summary_folder(folder, summary)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    seconds = []
    stages: dict[str, float] = {}
    for rep in range(reps):
        cmd = [sys.executable, "-m", "acsumgan", "render", str(folder), "--progress", "json"]
        t = time.perf_counter()
        seen: dict[str, list[float]] = {}
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as p:
            for line in p.stdout:  # each stage's span: its first to its last progress event
                try:
                    stage = json.loads(line)["stage"]
                except (ValueError, KeyError, TypeError):
                    continue
                now = time.perf_counter() - t
                seen.setdefault(stage, [now, now])[1] = now
            err = p.stderr.read()
        seconds.append(time.perf_counter() - t)
        if p.returncode != 0:
            raise SystemExit(f"render failed: {err}")
        stages = {k: round(v[1] - v[0], 3) for k, v in seen.items()}
        print(f"  render run {rep + 1}: {seconds[-1]:.1f} s (stages {stages})", flush=True)
    seg = json.loads((folder / "segments.json").read_text())
    return {
        "video": {"width": info.width, "height": info.height, "fps": float(info.fps), "seconds": info.duration},
        "summary_seconds": seg["summary_seconds"],
        "shots_kept": len(seg["shots"]),
        "seconds": seconds,
        "median_s": statistics.median(seconds),
        "x_real_time_of_summary": seg["summary_seconds"] / statistics.median(seconds),
        "stage_spans_last_run_s": stages,
        "load_average_1min_after": os.getloadavg()[0],
    }


def bench_memory(work: Path, n_videos: int) -> dict:
    from acsumgan.synthetic.media import make_scene_video

    folder = work / "library_videos"
    folder.mkdir(parents=True, exist_ok=True)
    first = make_scene_video(folder / "v000.mp4", [50, 75, 50, 75], size=(160, 120))
    out = work / "library_studio"
    # one real analysis (a 10-s video), copied for each video: each server load is a file of its own
    base = generated_summary(first, 250, 25.0, (160, 120), SummarizeOptions(budget=0.3))
    for i in range(n_videos):
        v = folder / f"v{i:03d}.mp4"
        if i:
            shutil.copy2(first, v)
        write_summary_folder(out / v.stem, base)
    server = Server([folder], out, work / "memory_serve.log")
    try:
        time.sleep(1.0)
        started = server.rss_mib()
        with server.client() as c:
            list_ms, r = timed_ms(lambda: c.get("/api/library"))
            videos = r.json()["videos"]
            assert len(videos) == n_videos and all(v["state"] == "summarized" for v in videos)
            list_again_ms, _ = timed_ms(lambda: c.get("/api/library"))
            listed = server.rss_mib()
            for v in videos:
                c.get(f"/api/videos/{v['name']}").raise_for_status()
            opened = server.rss_mib()
    finally:
        server.stop()
    print(
        f"  memory: {started['rss_mib']:.0f} MiB at start, {listed['rss_mib']:.0f} MiB listed, "
        f"{opened['rss_mib']:.0f} MiB with every editor opened (peak {opened['peak_rss_mib']:.0f} MiB)",
        flush=True,
    )
    return {
        "videos": n_videos,
        "at_start": started,
        "after_library": listed,
        "after_opening_every_editor": opened,
        "library_first_ms": list_ms,
        "library_again_ms": list_again_ms,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=20, help="select requests per length")
    ap.add_argument("--render-reps", type=int, default=2)
    ap.add_argument("--videos", type=int, default=100, help="videos in the library for the memory measure")
    ap.add_argument("--skip", default="", help="comma-separated measures to leave out: select, render, memory")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "studio.json"))
    ap.add_argument("--keep", type=Path, default=None, help="keep (and reuse) the generated 720p videos here")
    args = ap.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    results: dict = {
        "benchmark": "studio",
        "machine": {
            "platform": platform.platform(),
            "cpus": len(os.sched_getaffinity(0)),
            "load_average_1min": os.getloadavg()[0],
        },
        # the command as given, a --keep folder shown by name only (no machine's path)
        "command": "python benchmarks/studio.py "
        + " ".join("KEEP_DIR" if a == str(args.keep) else a for a in sys.argv[1:]),
    }
    work = Path(tempfile.mkdtemp(prefix="studio_bench_"))
    try:
        if "select" not in skip:
            print("select on a 2-hour video's cached scores (POST /select over HTTP)", flush=True)
            results["select_2h"] = r = bench_select(work, args.reps)
            print(
                f"select_2h: median {r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms over {len(r['per_length'])} "
                f"lengths x {args.reps} (goal < {SELECT_GOAL_MS:g} ms: {'met' if r['meets_goal'] else 'NOT met'}); "
                f"{r['video']['steps']} steps, {r['video']['shots']} shots; opening the editor "
                f"{r['open_editor_first_ms']:.0f} ms (first), {r['open_editor_again_ms']:.0f} ms (again)",
                flush=True,
            )
        if "render" not in skip:
            print("acsumgan render: a 60-s summary of a 10-minute 720p clip", flush=True)
            results["render_60s_720p"] = r = bench_render(work, args.keep, args.render_reps)
            print(
                f"render_60s_720p: median {r['median_s']:.1f} s for {r['summary_seconds']:.1f} s of summary "
                f"({r['shots_kept']} shots; {r['x_real_time_of_summary']:.2f}x real time)",
                flush=True,
            )
        if "memory" not in skip:
            print(f"server memory with {args.videos} summarized videos", flush=True)
            results["rss_100_videos"] = r = bench_memory(work, args.videos)
            print(
                f"rss_{args.videos}_videos: {r['after_opening_every_editor']['rss_mib']:.0f} MiB "
                f"(library listed in {r['library_first_ms']:.0f} ms first, {r['library_again_ms']:.0f} ms again)",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_json(args.out, results)
    print(f"saved {os.path.relpath(args.out, ROOT)}")


if __name__ == "__main__":
    main()
