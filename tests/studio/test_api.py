"""The studio's HTTP API against the real server (uvicorn on a free loopback port, httpx):
the library, uploads, and the editor's API (video, select, edits, render, exports)."""

from __future__ import annotations

import json
import os

import pytest

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
    assert data["presets"][1] == {"name": "short-60", "seconds": 60.0, "aspect": "vertical 9:16"}
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
