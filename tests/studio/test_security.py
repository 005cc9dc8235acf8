"""The studio's guard, against the real server: the token, the Host header (DNS rebinding),
the security headers on every response, and no file outside FOLDER and DIR served."""

from __future__ import annotations

import os

from .security_helpers import raw_get

CSP_PARTS = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
)


def assert_secured(r) -> None:
    csp = r.headers.get("content-security-policy", "")
    for part in CSP_PARTS:
        assert part in csp, (r.request.url if hasattr(r, "request") else r, csp)
    assert r.headers.get("x-content-type-options") == "nosniff"
    assert r.headers.get("referrer-policy") == "no-referrer"


def test_no_token_is_401(studio_server, videos):
    s = studio_server([videos])
    with s.client(token=False) as c:
        for path in ("/", "/api/library", "/static/studio.js", "/media/clip/source", "/api/jobs"):
            r = c.get(path)
            assert r.status_code == 401, path
            assert "token" in r.json()["error"]
            assert_secured(r)
        r = c.get("/api/library", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
        r = c.get("/api/library", headers={"Cookie": "acsumgan_token=wrong"})
        assert r.status_code == 401
        r = c.get("/?token=wrong")
        assert r.status_code == 401


def test_token_query_sets_cookie_and_redirects(studio_server, videos):
    s = studio_server([videos])
    with s.client(token=False) as c:
        r = c.get(f"/api/library?token={s.token}&x=1")
        assert r.status_code == 303
        assert r.headers["location"] == "/api/library?x=1"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(f"acsumgan_token={s.token}")
        for attr in ("HttpOnly", "SameSite=Strict", "Path=/"):
            assert attr in cookie
        assert_secured(r)
        # the client keeps the cookie: the next request needs no token
        r = c.get("/api/library")
        assert r.status_code == 200
        assert [v["name"] for v in r.json()["videos"]] == ["clip"]
    with s.client(token=False) as c:
        r = c.get(s.token_url, follow_redirects=True)
        assert r.status_code in (200, 404)  # the page (404 only while static/studio.html is not written)
        assert str(r.url) == s.url


def test_bearer_token(studio_server, videos):
    s = studio_server([videos])
    with s.client() as c:
        r = c.get("/api/library")
        assert r.status_code == 200
        assert_secured(r)


def test_wrong_host_is_400(studio_server, videos):
    s = studio_server([videos])
    with s.client() as c:
        for host in ("evil.example", f"evil.example:{s.port}", "127.0.0.1", f"127.0.0.1:{s.port + 1}", ""):
            r = c.get("/api/library", headers={"Host": host})
            assert r.status_code == 400, host
            assert "Host" in r.json()["error"]
            assert_secured(r)
        for host in (f"127.0.0.1:{s.port}", f"localhost:{s.port}", f"LOCALHOST:{s.port}"):
            assert c.get("/api/library", headers={"Host": host}).status_code == 200, host
    # a token in the query does not get past a wrong Host either
    status, headers, _ = raw_get(s, f"/?token={s.token}", host="rebind.example")
    assert status == 400
    assert "set-cookie" not in headers


def test_headers_on_every_response(studio_server, videos):
    s = studio_server([videos])
    with s.client() as c:
        for method, path in [
            ("GET", "/api/library"),
            ("GET", "/api/nothing-here"),
            ("GET", "/api/videos/nope"),
            ("GET", "/api/videos/clip"),  # 409: not summarized
            ("POST", "/api/jobs/nope/cancel"),
            ("GET", "/media/clip/source"),
            ("PUT", "/api/library"),  # 405
        ]:
            r = c.request(method, path)
            assert_secured(r)
            assert r.status_code < 500, (path, r.status_code)
            if r.status_code >= 400:
                assert isinstance(r.json()["error"], str)


def test_traversal_refused(studio_server, tmp_path, studio_copy):
    videos, out = studio_copy
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (out / "secret.txt").write_text("in DIR but not a video's")
    os.symlink(secret, out / "clip" / "link.txt")
    os.symlink(tmp_path, out / "clip" / "outside")
    s = studio_server([videos], out=out)
    with s.client() as c:
        assert c.get("/files/clip/segments.json").status_code == 200  # a file inside is served
        assert c.get("/files/clip/thumbs/shot0001.jpg").status_code == 200
    rel_secret = os.path.relpath(secret, out / "clip")
    for path in [
        "/files/clip/../../secret.txt",
        "/files/clip/../secret.txt",
        "/files/clip/%2e%2e/%2e%2e/secret.txt",
        "/files/clip/%2E%2E/secret.txt",
        "/files/clip/..%2F..%2Fsecret.txt",
        "/files/clip/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/files/clip/" + rel_secret,
        "/files/clip/" + str(secret),
        "/files/clip//" + str(secret).lstrip("/"),
        "/files/clip/%2F" + str(secret).lstrip("/"),
        "/files/clip/link.txt",
        "/files/clip/outside/secret.txt",
        "/files/clip/.acsumgan.json",
        "/files/..%2Fsecret.txt/x",
        "/files/%2e%2e/secret.txt",
        "/static/../../../../" + str(secret).lstrip("/"),
        "/static/%2e%2e/app.py",
        "/static/..%5c..%5capp.py",
        "/media/..%2F..%2Fsecret.txt/source",
        "/files/clip/..\\..\\secret.txt",
    ]:
        status, _, body = raw_get(s, path)
        assert status == 404, (path, status, body[:200])
        assert b"secret" not in body or b"error" in body, path


def test_symlinked_video_outside_folder_not_listed(studio_server, tmp_path, studio_clip):
    folder = tmp_path / "folder"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "out.mp4").write_bytes(studio_clip.read_bytes())
    os.symlink(elsewhere / "out.mp4", folder / "out.mp4")
    (folder / "in.mp4").write_bytes(studio_clip.read_bytes())
    s = studio_server([folder])
    with s.client() as c:
        names = [v["name"] for v in c.get("/api/library").json()["videos"]]
        assert names == ["in"]
        assert c.get("/media/out/source").status_code == 404
        r = c.get("/media/in/source", headers={"Range": "bytes=0-99"})
        assert r.status_code == 206
        assert r.content == studio_clip.read_bytes()[:100]
