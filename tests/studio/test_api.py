"""The studio's HTTP API against the real server (uvicorn on a free loopback port, httpx):
the library, uploads, and the editor's API (video, select, edits, render, exports)."""

from __future__ import annotations

import json
import os
import threading

import opentimelineio as otio
import pytest

from acsumgan.studio.editor import EXPORT_FORMATS
from acsumgan.summarize.analysis import load_summary
from acsumgan.summarize.edits import length_options, model_edits
from acsumgan.summarize.reframing import shot_paths, with_saliency
from acsumgan.summarize.summary import reselect

from .conftest import wait_job

XSS = "<img src=x onerror=alert(1)>.mp4"


def names(c) -> list[str]:
    return [v["name"] for v in c.get("/api/library").json()["videos"]]


# --- the library and uploads ---------------------------------------------------------------


def test_library(studio_server, videos):
    s = studio_server([videos], max_upload_mb=7)
    with s.client() as c:
        data = c.get("/api/library").json()
    assert data["max_upload_mb"] == 7
    assert [p["name"] for p in data["presets"]] == ["story-15", "short-60", "reel-90", "feed-120"]
    # a preset names its aspect (issue 25)
    assert data["presets"][1] == {"name": "short-60", "seconds": 60.0, "aspect": "9:16"}
    (v,) = data["videos"]
    assert v == {
        "name": "clip",
        "file": "clip.mp4",
        "size": (videos / "clip.mp4").stat().st_size,
        "duration": pytest.approx(12.0, abs=0.05),
        "state": "new",
        "thumb": None,
        "summary_seconds": None,
        "job": None,
    }


def test_upload_streams_to_disk(studio_server, studio_clip):
    s = studio_server([])
    data = studio_clip.read_bytes()

    def chunks():  # no Content-Length: the server counts while it streams
        for i in range(0, len(data), 4096):
            yield data[i : i + 4096]

    with s.client() as c:
        r = c.post("/api/upload", params={"name": "holiday.mp4"}, content=chunks())
        assert r.status_code == 201, r.text
        v = r.json()["video"]
        assert v["name"] == "holiday" and v["file"] == "holiday.mp4" and v["state"] == "new"
        assert v["duration"] == pytest.approx(12.0, abs=0.05)
        assert (s.out / "uploads" / "holiday.mp4").read_bytes() == data
        # the same name again: -2
        r = c.post("/api/upload", params={"name": "holiday.mp4"}, content=data)
        assert r.status_code == 201
        assert r.json()["video"]["file"] == "holiday-2.mp4"
        assert sorted(names(c)) == ["holiday", "holiday-2"]
        assert c.get("/media/holiday/source").content == data
    assert sorted(os.listdir(s.out / "uploads")) == ["holiday-2.mp4", "holiday.mp4"]


def test_upload_over_the_limit_is_413(studio_server, studio_clip):
    s = studio_server([], max_upload_mb=1)
    big = os.urandom(5 * 1024 * 1024)
    with s.client() as c:  # Content-Length says it: refused before the body is read
        r = c.post("/api/upload", params={"name": "big.mp4"}, content=big)
        assert r.status_code == 413
        assert "1 MB" in r.json()["error"]

    def chunks():
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    with s.client() as c:  # no Content-Length: refused while streaming
        r = c.post("/api/upload", params={"name": "big.mp4"}, content=chunks())
        assert r.status_code == 413
        assert r.json()["error"].startswith("big.mp4: larger than the upload limit")
    assert os.listdir(s.out / "uploads") == []
    with s.client() as c:  # the server goes on serving
        assert c.get("/api/library").json()["videos"] == []
        r = c.post("/api/upload", params={"name": "small.mp4"}, content=studio_clip.read_bytes())
        assert r.status_code == 201


def test_upload_not_a_video_is_400(studio_server, studio_clip, bad_videos):
    s = studio_server([])
    data = studio_clip.read_bytes()
    with s.client() as c:
        for name, content in [
            ("noise.mp4", os.urandom(50_000)),
            ("text.mp4", b"this is not a video\n" * 100),
            ("half.mp4", data[: len(data) // 2]),
            ("truncated.mp4", bad_videos["truncated_mp4"].read_bytes()),
            ("empty.mp4", b""),
        ]:
            r = c.post("/api/upload", params={"name": name}, content=content)
            assert r.status_code == 400, (name, r.text)
            err = r.json()["error"]
            assert err.startswith(name + ": ") and "\n" not in err, err
        assert os.listdir(s.out / "uploads") == []
        assert c.get("/api/library").json()["videos"] == []
        assert c.post("/api/upload", params={"name": "ok.mp4"}, content=data).status_code == 201
        assert names(c) == ["ok"]
    assert s.alive()


def test_upload_name_sanitized(studio_server, studio_clip):
    s = studio_server([])
    with s.client() as c:
        r = c.post("/api/upload", params={"name": XSS}, content=studio_clip.read_bytes())
        assert r.status_code == 201
        v = r.json()["video"]
        for bad in "<>=()":
            assert bad not in v["file"] and bad not in v["name"]
        assert v["file"].endswith(".mp4") and "img src" in v["file"]
        assert os.listdir(s.out / "uploads") == [v["file"]]
        # served as JSON data, never as HTML
        r = c.get("/api/library")
        assert r.headers["content-type"].startswith("application/json")
        assert json.loads(r.text)["videos"][0]["file"] == v["file"]
        for given, stored in [
            ("../../evil.mp4", "evil.mp4"),
            ("/etc/passwd.mp4", "passwd.mp4"),
            (".hidden.mp4", "hidden.mp4"),
            ("a\\b\\c.mkv", "c.mkv"),
            ("no suffix", "no suffix.mp4"),
        ]:
            r = c.post("/api/upload", params={"name": given}, content=studio_clip.read_bytes())
            assert r.status_code == 201, (given, r.text)
            assert r.json()["video"]["file"] == stored, given
            assert (s.out / "uploads" / stored).is_file()
        r = c.post("/api/upload", content=studio_clip.read_bytes())
        assert r.status_code == 400


def test_folder_video_with_markup_in_its_name(studio_server, tmp_path, studio_clip):
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / XSS).write_bytes(studio_clip.read_bytes())
    (folder / "clip.mp4").write_bytes(studio_clip.read_bytes())
    (folder / "clip.mkv").write_bytes(studio_clip.read_bytes())  # one stem, two files
    s = studio_server([folder])
    with s.client() as c:
        videos = {v["file"]: v for v in c.get("/api/library").json()["videos"]}
        assert videos[XSS]["file"] == XSS  # the file's own name, as data
        assert videos[XSS]["name"] == "_img_src_x_onerror_alert_1_"
        assert videos["clip.mkv"]["name"] == "clip"
        other = videos["clip.mp4"]["name"]
        assert other.startswith("clip-") and len(other) == len("clip-") + 8
        assert c.get(f"/media/{videos[XSS]['name']}/source").status_code == 200
    s.stop()
    s2 = studio_server([folder], out=s.out)  # names are stable across restarts
    with s2.client() as c:
        again = {v["file"]: v["name"] for v in c.get("/api/library").json()["videos"]}
    assert again == {k: v["name"] for k, v in videos.items()}


# --- the editor -----------------------------------------------------------------------------


def test_video_before_summary_is_409(studio_server, videos):
    s = studio_server([videos])
    with s.client() as c:
        r = c.get("/api/videos/clip")
        assert r.status_code == 409
        assert "summarize" in r.json()["error"]
        assert c.get("/api/videos/nope").status_code == 404
        assert c.post("/api/videos/clip/select", json={"length": {"mode": "percent", "value": 50}}).status_code == 409
        assert c.post("/api/videos/clip/render").status_code == 409
        assert c.get("/api/videos/clip/export/otio").status_code == 409


def test_get_video(studio_server, studio_copy):
    videos, out = studio_copy
    summary = load_summary(out / "clip")
    s = studio_server([videos], out=out)
    with s.client() as c:
        v = c.get("/api/videos/clip").json()
        assert v["name"] == "clip" and v["file"] == "clip.mp4" and v["state"] == "summarized"
        assert v["fps"] == 25.0 and v["n_frames"] == 300 and v["duration"] == pytest.approx(12.0)
        assert v["constant_rate"] is True and (v["width"], v["height"]) == (96, 64)
        cps = summary.change_points
        assert [(x["start_frame"], x["end_frame"]) for x in v["shots"]] == [(int(a), int(b)) for a, b in cps]
        assert [x["shot"] for x in v["shots"]] == list(range(len(cps)))
        assert v["shots"][1]["start_seconds"] == pytest.approx(cps[1, 0] / 25.0)
        assert [x["score"] for x in v["shots"]] == pytest.approx(summary.shot_scores)
        assert all(c.get(x["thumb"]).status_code == 200 for x in v["shots"])
        assert v["curve"]["scores"] == pytest.approx(summary.scores.tolist())
        assert v["curve"]["times"] == pytest.approx(summary.timestamps.tolist())
        assert v["edits"] == model_edits(summary)
        assert v["edits"]["version"] == 0
        assert v["rendered_version"] is None
        src = c.get(v["source_url"], headers={"Range": "bytes=10-19"})
        assert src.status_code == 206 and src.content == (videos / "clip.mp4").read_bytes()[10:20]
        assert c.get(v["summary_url"]).content == (out / "clip" / "summary.mp4").read_bytes()


def test_select_is_reselect_on_cached_scores(studio_server, studio_copy):
    videos, out = studio_copy
    summary = load_summary(out / "clip")
    s = studio_server([videos], out=out)
    own = set(os.listdir(out / "clip"))
    with s.client() as c:
        for length in [
            {"mode": "preset", "value": 15.0, "preset": "story-15"},
            {"mode": "percent", "value": 50.0, "preset": None},
            {"mode": "seconds", "value": 3.0, "preset": None},
            {"mode": "percent", "value": 15.0, "preset": None},
        ]:
            r = c.post("/api/videos/clip/select", json={"length": length})
            assert r.status_code == 200, r.text
            got = r.json()
            want = reselect(summary, length_options(length))
            assert got["model_selected"] == want.selected
            assert got["model_selected"] == model_edits(summary, length)["model_selected"]
            assert got["kept"] == model_edits(summary, length)["kept"]
            assert got["budget"] == want.budget
            assert got["summary_seconds"] == want.summary_seconds
            # a pure function: the same answer again
            assert c.post("/api/videos/clip/select", json={"length": length}).json() == got
        story = c.post("/api/videos/clip/select", json={"length": {"mode": "preset", "preset": "story-15"}}).json()
        assert story["model_selected"] == list(range(len(summary.change_points)))  # 15 s of a 12-s video: all
        assert story["model_selected"] != model_edits(summary)["model_selected"]
        for bad in [
            {"length": {"mode": "seconds", "value": 0.01}},  # no shot fits
            {"length": {"mode": "percent", "value": 300}},
            {"length": {"mode": "preset", "preset": "nope"}},
            {"length": "60"},
            {},
        ]:
            r = c.post("/api/videos/clip/select", json=bad)
            assert r.status_code == 400, (bad, r.text)
            assert "\n" not in r.json()["error"]
        assert c.post("/api/videos/clip/select", content=b"{not json").status_code == 400
    assert set(os.listdir(out / "clip")) == own  # nothing written


def edit_of(v: dict) -> dict:
    """The model's choice with its first kept shot trimmed and one more shot added."""
    e = json.loads(json.dumps(v["edits"]))
    shots = v["shots"]
    first = e["kept"][0]
    first["start_frame"] += 2
    first["end_frame"] -= 1
    added = next(x for x in shots if x["shot"] not in {k["shot"] for k in e["kept"]})
    e["kept"].append({"shot": added["shot"], "start_frame": added["start_frame"], "end_frame": added["end_frame"]})
    e["kept"].sort(key=lambda k: k["shot"])
    return e


def test_put_edits_versions_and_conflicts(studio_server, studio_copy):
    videos, out = studio_copy
    s = studio_server([videos], out=out)
    path = out / "clip" / "edits.json"
    with s.client() as c:
        v = c.get("/api/videos/clip").json()
        e = edit_of(v)
        r = c.put("/api/videos/clip/edits", json=e)
        assert r.status_code == 200, r.text
        saved = r.json()
        assert saved["version"] == 1 and saved["saved_at"].endswith("Z")
        assert saved["kept"] == e["kept"]
        assert json.loads(path.read_text()) == saved
        assert c.get("/api/videos/clip").json()["edits"] == saved
        lib = {x["name"]: x for x in c.get("/api/library").json()["videos"]}
        assert lib["clip"]["state"] == "edited"
        # a second tab, still on version 0: 409, the file as it was
        before = path.read_bytes()
        r = c.put("/api/videos/clip/edits", json=e)
        assert r.status_code == 409
        assert "version 1 is saved, this edit was made on version 0" in r.json()["error"]
        assert path.read_bytes() == before
        # made on version 1: saved as 2
        e2 = dict(saved, kept=saved["kept"][1:])
        r = c.put("/api/videos/clip/edits", json=e2)
        assert r.status_code == 200 and r.json()["version"] == 2
        # invalid edits: 400, nothing written
        before = path.read_bytes()
        bad = dict(r.json())
        bad["kept"] = [dict(bad["kept"][0], end_frame=10**6)]
        r = c.put("/api/videos/clip/edits", json=bad)
        assert r.status_code == 400 and "outside the shot" in r.json()["error"]
        r = c.put("/api/videos/clip/edits", json=dict(bad, version="2"))
        assert r.status_code == 400
        r = c.put("/api/videos/clip/edits", json=dict(bad, analysis="0" * 16, kept=e2["kept"]))
        assert r.status_code == 400 and "another analysis" in r.json()["error"]
        assert path.read_bytes() == before


def test_concurrent_saves_one_wins(studio_server, studio_copy):
    videos, out = studio_copy
    s = studio_server([videos], out=out)
    with s.client() as c:
        e = edit_of(c.get("/api/videos/clip").json())
    results = []

    def save():
        with s.client() as c:
            results.append(c.put("/api/videos/clip/edits", json=e).status_code)

    threads = [threading.Thread(target=save) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [409] * 5
    assert json.loads((out / "clip" / "edits.json").read_text())["version"] == 1


def test_render_and_exports(studio_server, studio_copy):
    videos, out = studio_copy
    s = studio_server([videos], out=out)
    folder = out / "clip"
    with s.client() as c:
        v = c.get("/api/videos/clip").json()
        e = edit_of(v)
        saved = c.put("/api/videos/clip/edits", json=e).json()
        r = c.post("/api/videos/clip/render")
        assert r.status_code == 202, r.text
        job = r.json()["job"]
        assert job["kind"] == "render"
        final = wait_job(c, job["id"])
        assert final["state"] == "done", (final, s.stderr())
        seg = json.loads((folder / "segments.json").read_text())
        assert seg["edits_version"] == saved["version"]
        kept = [(k["start_frame"], k["end_frame"]) for k in saved["kept"]]
        assert [(x["start_frame"], x["end_frame"]) for x in seg["shots"]] == kept
        model = set(saved["model_selected"])
        for x, k in zip(seg["shots"], saved["kept"]):
            whole = next(sh for sh in v["shots"] if sh["shot"] == k["shot"])
            trimmed = (k["start_frame"], k["end_frame"]) != (whole["start_frame"], whole["end_frame"])
            assert x["trimmed"] is trimmed
            assert x["chosen_by"] == ("model" if x["shot"] in model and not trimmed else "person")
        assert {x["chosen_by"] for x in seg["shots"]} == {"model", "person"}
        v2 = c.get("/api/videos/clip").json()
        assert v2["rendered_version"] == saved["version"]
        assert v2["edits"] == saved
        # exports: downloads, written to exports/
        for fmt in ("otio", "edl", "fcpxml", "contact-sheet", "summary.mp4", "segments.json"):
            r = c.get(f"/api/videos/clip/export/{fmt}")
            assert r.status_code == 200, (fmt, r.text)
            assert r.headers["content-disposition"].startswith("attachment"), fmt
            assert len(r.content) > 0
        assert c.get("/api/videos/clip/export/segments.json").json() == seg
        assert c.get("/api/videos/clip/export/summary.mp4").content == (folder / "summary.mp4").read_bytes()
        assert c.get("/api/videos/clip/export/contact-sheet").content[:3] == b"\xff\xd8\xff"  # a JPEG
        assert c.get("/api/videos/clip/export/nope").status_code == 404
        otio_text = c.get("/api/videos/clip/export/otio").text
        assert {"gif", "webp"} <= set(EXPORT_FORMATS)
        for fmt, magic in (("gif", b"GIF8"), ("webp", b"RIFF")):
            r = c.get(f"/api/videos/clip/export/{fmt}")
            assert r.status_code == 200, (fmt, r.text)
            assert r.content[:4] == magic, fmt
            assert (folder / "exports" / f"summary.{fmt}").is_file()
    assert (folder / "exports" / "summary.otio").is_file()
    timeline = otio.adapters.read_from_string(otio_text, adapter_name="otio_json")
    clips = list(timeline.tracks[0].find_clips())
    got = [
        (
            c.source_range.start_time.to_frames(),
            c.source_range.start_time.to_frames() + c.source_range.duration.to_frames() - 1,
        )
        for c in clips
    ]
    assert got == kept


# --- reframing (issue 25) -------------------------------------------------------------------


def paths_json(paths: dict) -> dict:
    return {str(k): v for k, v in paths.items()}


def test_reframe_paths_are_shot_paths_of_the_analysis(studio_server, moving_copy):
    videos, out = moving_copy
    folder = out / "moving"
    summary = load_summary(folder)
    assert summary.extracted.saliency is not None  # made in the extraction pass, kept in analysis.h5
    s = studio_server([videos], out=out)
    own = set(os.listdir(folder))
    with s.client() as c:
        v = c.get("/api/videos/moving").json()
        assert v["frame"] == {"width": 320, "height": 180}
        n = len(v["shots"])
        for aspect, mode, window in [
            ("9:16", "follow", {"w": 100, "h": 180}),
            ("9:16", "center", {"w": 100, "h": 180}),
            ("1:1", "follow", {"w": 180, "h": 180}),
            ("4:5", None, {"w": 144, "h": 180}),
        ]:
            r = c.post("/api/videos/moving/reframe", json={"aspect": aspect, "reframe": mode})
            assert r.status_code == 200, r.text
            got = r.json()
            assert got["window"] == window, aspect
            assert got["shots"] == paths_json(shot_paths(summary, aspect, mode)), (aspect, mode)
            assert sorted(map(int, got["shots"])) == list(range(n))
            assert all(k[3:] == [window["w"], window["h"]] for keys in got["shots"].values() for k in keys)
            assert c.post("/api/videos/moving/reframe", json={"aspect": aspect, "reframe": mode}).json() == got
        follow = c.post("/api/videos/moving/reframe", json={"aspect": "9:16", "reframe": "follow"}).json()["shots"]
        center = c.post("/api/videos/moving/reframe", json={"aspect": "9:16"}).json()["shots"]
        assert center == follow  # no mode: follow
        assert any(k[1] != 110.0 for keys in follow.values() for k in keys)  # the disc is followed off-centre
        middle = c.post("/api/videos/moving/reframe", json={"aspect": "9:16", "reframe": "center"}).json()["shots"]
        assert {k[1] for keys in middle.values() for k in keys} == {110.0}
        assert c.post("/api/videos/moving/reframe", json={"aspect": "keep"}).json() == {"window": None, "shots": {}}
        for bad in [{"aspect": "16:0"}, {"aspect": "wide"}, {"aspect": 9}, {"aspect": "9:16", "reframe": "zoom"}]:
            r = c.post("/api/videos/moving/reframe", json=bad)
            assert r.status_code == 400, (bad, r.text)
            assert "\n" not in r.json()["error"]
        assert c.post("/api/videos/nope/reframe", json={"aspect": "9:16"}).status_code == 404
    assert set(os.listdir(folder)) == own  # nothing written


def test_reframe_without_saliency_maps_computes_them_once(studio_server, moving_copy):
    import h5py

    videos, out = moving_copy
    folder = out / "moving"
    with h5py.File(folder / "analysis.h5", "r+") as f:  # an analysis of before reframing
        del f["saliency"]
    summary = load_summary(folder)
    assert summary.extracted.saliency is None
    want = paths_json(shot_paths(with_saliency(summary), "9:16", "follow"))
    s = studio_server([videos], out=out)
    results = []

    def ask():
        with s.client() as c:
            results.append(c.post("/api/videos/moving/reframe", json={"aspect": "9:16"}))

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    with s.client() as c:  # the event loop goes on serving meanwhile
        assert c.get("/api/library").status_code == 200
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200] * 3
    assert all(r.json()["shots"] == want for r in results)


def crop_edit(v: dict, x: float) -> tuple[dict, int]:
    """The model's choice at 9:16, the first kept shot with a fixed window at ``x``."""
    e = json.loads(json.dumps(v["edits"]))
    e["aspect"], e["reframe"] = "9:16", "follow"
    e["kept"][0]["crop"] = {"x": x, "y": 0, "w": 100, "h": 180}
    return e, e["kept"][0]["shot"]


def test_edits_with_a_crop_are_saved_checked_and_rendered(studio_server, moving_copy):
    import av

    videos, out = moving_copy
    folder = out / "moving"
    path = folder / "edits.json"
    s = studio_server([videos], out=out)
    with s.client() as c:
        v = c.get("/api/videos/moving").json()
        assert "aspect" not in v["edits"]  # a summary that is not reframed: edits as before
        for x, y, w, h, words in [
            (221, 0, 100, 180, "outside"),
            (-2, 0, 100, 180, "outside"),
            (0, 2, 100, 180, "outside"),
            (0, 0, 98, 180, "not the 9:16 window"),
            (0, 0, 180, 180, "not the 9:16 window"),
        ]:
            e, _ = crop_edit(v, 0)
            e["kept"][0]["crop"] = {"x": x, "y": y, "w": w, "h": h}
            r = c.put("/api/videos/moving/edits", json=e)
            assert r.status_code == 400, ((x, y, w, h), r.text)
            err = r.json()["error"]
            assert words in err and "\n" not in err and err.startswith(str(path)), err
        e, _ = crop_edit(v, 0)
        del e["aspect"], e["reframe"]  # a crop without an aspect
        assert c.put("/api/videos/moving/edits", json=e).status_code == 400
        assert not path.exists()
        e, shot = crop_edit(v, 24)
        r = c.put("/api/videos/moving/edits", json=e)
        assert r.status_code == 200, r.text
        saved = r.json()
        assert saved["version"] == 1 and saved["aspect"] == "9:16" and saved["reframe"] == "follow"
        assert saved["kept"][0]["crop"] == {"x": 24, "y": 0, "w": 100, "h": 180}
        assert all("crop" not in k for k in saved["kept"][1:])
        assert json.loads(path.read_text()) == saved
        assert c.get("/api/videos/moving").json()["edits"] == saved  # reloaded as saved
        # render: summary.mp4 is the 9:16 window; segments.json says whose window each shot has
        job = c.post("/api/videos/moving/render").json()["job"]
        final = wait_job(c, job["id"])
        assert final["state"] == "done", (final, s.stderr())
        seg = json.loads((folder / "segments.json").read_text())
        assert seg["aspect"] == "9:16" and seg["reframe"] == "follow"
        assert [x["crop"]["by"] for x in seg["shots"]] == ["person"] + ["model"] * (len(seg["shots"]) - 1)
        assert {tuple(k[1:]) for k in seg["shots"][0]["crop"]["keyframes"]} == {(24, 0, 100, 180)}
        with av.open(str(folder / "summary.mp4")) as f:
            st = f.streams.video[0]
            assert (st.codec_context.width, st.codec_context.height) == (100, 180)
        v2 = c.get("/api/videos/moving").json()
        assert v2["rendered_version"] == 1 and v2["edits"] == saved
