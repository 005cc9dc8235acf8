"""Jobs through the API of the real server: summarize end to end with live progress over
server-sent events, cancel, the queue of ``--workers 1``, and a restarted server that finds
everything done."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from acsumgan.summarize.analysis import load_summary

from .conftest import wait_job


def read_events(server, until, timeout: float = 300.0) -> list[dict]:
    """The JOB values of ``/api/events`` until ``until(job)`` is true for one (or the timeout)."""
    seen: list[dict] = []
    with server.client(timeout=httpx.Timeout(timeout, read=30.0)) as c:
        with c.stream("GET", "/api/events") as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            event = None
            end = time.monotonic() + timeout
            for line in r.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "job":
                    job = json.loads(line[6:])
                    seen.append(job)
                    if until(job):
                        break
                if time.monotonic() > end:
                    break
    return seen


def library_video(c, name: str) -> dict:
    return {v["name"]: v for v in c.get("/api/library").json()["videos"]}[name]


def test_summarize_end_to_end_with_events(studio_server, videos):
    s = studio_server([videos])
    with s.client() as c:
        assert library_video(c, "clip")["state"] == "new"
        events: list[dict] = []
        done = threading.Event()

        def listen():
            events.extend(read_events(s, lambda j: j["state"] in ("done", "failed", "cancelled")))
            done.set()

        t = threading.Thread(target=listen, daemon=True)
        t.start()
        time.sleep(0.5)  # the stream is open before the job starts
        r = c.post("/api/videos/clip/summarize")
        assert r.status_code == 202, r.text
        job = r.json()["job"]
        assert job["kind"] == "summarize" and job["video"] == "clip"
        assert job["state"] in ("queued", "running")
        assert c.post("/api/videos/clip/summarize").status_code == 409  # one job per video at a time
        final = wait_job(c, job["id"])
        assert final["state"] == "done", (final, s.stderr())
        assert done.wait(60)
        card = library_video(c, "clip")
        assert card["state"] == "summarized"
        assert card["summary_seconds"] > 0
        assert card["thumb"] is not None and c.get(card["thumb"]).status_code == 200
        assert card["job"]["id"] == job["id"]
    mine = [e for e in events if e["id"] == job["id"]]
    assert mine[-1]["state"] == "done"
    stages = [e["stage"] for e in mine if e["stage"]]
    assert "features" in stages and "training" in stages
    # within a stage, progress only grows
    for stage in set(stages):
        dones = [e["done"] for e in mine if e["stage"] == stage and e["state"] == "running"]
        assert dones == sorted(dones), (stage, dones)
    assert any(e["total"] and e["done"] == e["total"] for e in mine if e["stage"] == "features")
    summary = load_summary(s.out / "clip")
    assert summary.n_frames == 300
    assert (s.out / "clip" / "summary.mp4").is_file()
    # a restarted server (a new process, the same DIR) finds it summarized and starts nothing
    assert s.stop() == 0
    files = {p: p.stat().st_mtime_ns for p in (s.out / "clip").rglob("*")}
    s2 = studio_server([videos], out=s.out)
    with s2.client() as c:
        assert library_video(c, "clip")["state"] == "summarized"
        assert c.get("/api/jobs").json() == {"jobs": []}
        assert library_video(c, "clip")["job"] is None
        time.sleep(1.0)
        assert c.get("/api/jobs").json() == {"jobs": []}
    assert {p: p.stat().st_mtime_ns for p in (s.out / "clip").rglob("*")} == files


def test_cancel_keeps_previous_summary(studio_server, studio_copy):
    videos, out = studio_copy
    folder = out / "clip"
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    # a longer training so the job is still running when it is cancelled
    s = studio_server([videos], out=out, epochs=200, seed=1)
    with s.client() as c:
        assert library_video(c, "clip")["state"] == "summarized"
        # the model is reused by `summarize`: remove it from this copy so the job trains
        shutil.rmtree(folder / "model")
        (folder / "model.json").unlink()
        job = c.post("/api/videos/clip/summarize").json()["job"]
        end = time.monotonic() + 120
        while time.monotonic() < end:
            j = {x["id"]: x for x in c.get("/api/jobs").json()["jobs"]}[job["id"]]
            if j["state"] == "running" and j["stage"] == "training":
                break
            assert j["state"] in ("queued", "running"), (j, s.stderr())
            time.sleep(0.1)
        r = c.post(f"/api/jobs/{job['id']}/cancel")
        assert r.status_code == 200
        final = wait_job(c, job["id"], timeout=60)
        assert final["state"] == "cancelled"
        assert final["finished"] is not None
        card = library_video(c, "clip")
        assert card["state"] == "summarized"
    # the summary is the one before, byte for byte; no staging folder left
    for name in ("summary.mp4", "segments.json", "analysis.h5", "scores.png", "summary.html"):
        assert (folder / name).read_bytes() == before[name], name
    assert not [p for p in folder.iterdir() if p.name.endswith((".new", ".old", ".tmp"))]


def test_one_worker_queues_the_second_job(studio_server, tmp_path, studio_clip):
    folder = tmp_path / "two"
    folder.mkdir()
    for n in ("a", "b"):
        (folder / f"{n}.mp4").write_bytes(studio_clip.read_bytes())
    s = studio_server([folder], workers=1)
    with s.client() as c:
        a = c.post("/api/videos/a/summarize").json()["job"]
        b = c.post("/api/videos/b/summarize").json()["job"]
        assert b["state"] == "queued"
        jobs = {j["id"]: j for j in c.get("/api/jobs").json()["jobs"]}
        assert jobs[a["id"]]["state"] == "running"
        assert jobs[b["id"]]["state"] == "queued"
        assert library_video(c, "b")["job"]["state"] == "queued"
        # a queued job is cancelled at once; the running one goes on
        assert c.post(f"/api/jobs/{b['id']}/cancel").json()["job"]["state"] == "cancelled"
        b2 = c.post("/api/videos/b/summarize").json()["job"]
        end = time.monotonic() + 300
        while time.monotonic() < end:  # never two running at once
            jobs = {j["id"]: j for j in c.get("/api/jobs").json()["jobs"]}
            states = (jobs[a["id"]]["state"], jobs[b2["id"]]["state"])
            assert states != ("running", "running")
            if states[0] == "running":
                assert states[1] == "queued"
            if states == ("done", "done"):
                break
            assert "failed" not in states, (jobs, s.stderr())
            time.sleep(0.1)
        assert states == ("done", "done")
        assert library_video(c, "a")["state"] == library_video(c, "b")["state"] == "summarized"


def test_restarted_server_finds_summaries(studio_server, studio_copy):
    videos, out = studio_copy
    s1 = studio_server([videos], out=out)
    with s1.client() as c:
        first = library_video(c, "clip")
    assert s1.stop() == 0, s1.stderr()
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "clip").rglob("*")}
    s2 = studio_server([videos], out=out)
    with s2.client() as c:
        card = library_video(c, "clip")
        assert card["state"] == "summarized"
        assert card == first
        assert c.get("/api/jobs").json()["jobs"] == []
        assert c.get("/api/videos/clip").status_code == 200
    assert {p: p.stat().st_mtime_ns for p in (out / "clip").rglob("*")} == mtimes


def _render_children(folder) -> list[int]:
    """Pids of live ``acsumgan render`` processes of ``folder`` (read from /proc)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            argv = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"render" in argv and os.fsencode(str(folder)) in argv:
            pids.append(int(d.name))
    return pids


@pytest.mark.slow
def test_server_killed_during_render_leaves_the_previous_summary_whole(studio_server, tmp_path):
    """SIGKILL of the server while a render job encodes: the render subprocess ends with it
    (it watches its parent), the previous summary is whole byte for byte, nothing is left
    staged, and a new server on the same DIR finds the video and renders it."""
    from acsumgan.summarize.edits import model_edits, save_edits
    from acsumgan.synthetic.media import make_scene_video

    videos = tmp_path / "long"
    videos.mkdir()
    # long enough that the render of every frame is still encoding when the server dies
    make_scene_video(videos / "long.mp4", [250] * 8, size=(480, 272), audio=True)
    out = tmp_path / "studio"
    s = studio_server([videos], out=out, epochs=1, seed=0)
    with s.client() as c:
        job = c.post("/api/videos/long/summarize").json()["job"]
        assert wait_job(c, job["id"])["state"] == "done", s.stderr()
    folder = out / "long"
    summary = load_summary(folder)
    edits = model_edits(summary, {"mode": "percent", "value": 100, "preset": None})
    save_edits(folder, edits, base_version=0)
    members = ("summary.mp4", "segments.json", "analysis.h5", "scores.png", "summary.html")
    before = {n: (folder / n).read_bytes() for n in members}
    with s.client() as c:
        job = c.post("/api/videos/long/render").json()["job"]
        end = time.monotonic() + 120
        while time.monotonic() < end:
            j = {x["id"]: x for x in c.get("/api/jobs").json()["jobs"]}[job["id"]]
            if j["state"] == "running" and j["stage"] == "encoding" and (j["done"] or 0) > 0:
                break
            assert j["state"] in ("queued", "running"), (j, s.stderr())
            time.sleep(0.05)
        else:
            raise AssertionError(f"the render never reached encoding: {j}")
    assert _render_children(folder), "the render job's process should be running"
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait(timeout=10)
    end = time.monotonic() + 30  # the child gets SIGTERM at its parent's death, stops as Ctrl-C does
    while _render_children(folder) and time.monotonic() < end:
        time.sleep(0.1)
    assert not _render_children(folder), "the render outlived the server"
    for n in members:
        assert (folder / n).read_bytes() == before[n], n
    assert not [p for p in folder.iterdir() if p.name.endswith((".new", ".old", ".tmp", ".part"))]
    # a new server on the same DIR: the video is there, edited, and renders
    s2 = studio_server([videos], out=out, epochs=1, seed=0)
    with s2.client() as c:
        assert library_video(c, "long")["state"] == "edited"
        job = c.post("/api/videos/long/render").json()["job"]
        assert wait_job(c, job["id"])["state"] == "done", s2.stderr()
    seg = json.loads((folder / "segments.json").read_text())
    assert seg["edits_version"] == 1
    assert seg["summary_frames"] == summary.n_frames
