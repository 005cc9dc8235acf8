"""What every request to the studio passes through: :class:`Guard`, a plain ASGI middleware.

1. The Host header must name this server (``127.0.0.1:PORT``, ``localhost:PORT``,
   ``[::1]:PORT`` or ``HOST:PORT`` of ``--host``): else 400. A web page of another site
   that makes its name resolve to 127.0.0.1 (DNS rebinding) sends its own name: refused.
2. The token: ``?token=`` (right) sets the cookie ``acsumgan_token`` (HttpOnly,
   SameSite=Strict, Path=/) and redirects to the same URL without it; or the cookie; or
   ``Authorization: Bearer <token>``: else 401.
3. A path with a ``..`` part, an encoded dot, slash or backslash, or a NUL: 404 before
   any route sees it (the file routes check containment again, after following symlinks:
   :func:`contained`).
4. Every response (errors included) carries :data:`SECURITY_HEADERS`: a
   Content-Security-Policy that allows nothing but this origin, ``nosniff``, no referrer.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

__all__ = [
    "COOKIE",
    "AllowedHosts",
    "CSP",
    "SECURITY_HEADERS",
    "Guard",
    "allowed_hosts",
    "contained",
    "is_loopback",
    "new_token",
]

COOKIE = "acsumgan_token"
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
_NAMES = {k for k, _ in SECURITY_HEADERS}
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def new_token() -> str:
    """A fresh random access token (24 bytes, URL-safe)."""
    return secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.x.x.x, localhost, ::1)."""
    h = host.strip("[]").lower()
    return h in ("localhost", "::1") or h.startswith("127.")


def _with_port(host: str, port: int) -> str:
    h = host.lower()
    if ":" in h and not h.startswith("["):
        h = f"[{h}]"
    return f"{h}:{port}"


class AllowedHosts:
    """The Host header values of a server on ``host:port`` (``in`` tests one, lower case):
    ``127.0.0.1:PORT``, ``localhost:PORT``, ``[::1]:PORT`` and ``HOST:PORT``. A wildcard
    ``host`` (0.0.0.0, ::) also takes any IP address literal with the port (another machine
    opens the studio by this machine's address); DNS rebinding needs a DNS name, and every
    name but localhost is refused."""

    def __init__(self, host: str, port: int):
        self.port = int(port)
        self.wildcard = host in ("0.0.0.0", "::", "[::]")
        names = {_with_port(h, port) for h in ("127.0.0.1", "localhost", "::1")}
        if not self.wildcard:
            names.add(_with_port(host, port))
        self.names = frozenset(names)

    def __contains__(self, value: str) -> bool:
        value = value.lower()
        if value in self.names:
            return True
        if not self.wildcard:
            return False
        name, sep, port = value.rpartition(":")
        if not sep or port != str(self.port):
            return False
        try:
            ipaddress.ip_address(name[1:-1] if name.startswith("[") and name.endswith("]") else name)
        except ValueError:
            return False
        return not (":" in name and not name.startswith("["))


def allowed_hosts(host: str, port: int) -> AllowedHosts:
    """The Host header values of this server (see :class:`AllowedHosts`)."""
    return AllowedHosts(host, port)


def contained(root: str | os.PathLike, rel: str) -> Path | None:
    """``root/rel`` when it is an existing file inside ``root`` after every symlink is
    followed, else None: ``rel`` must be relative, without ``..`` parts, NUL or backslash."""
    if not rel or "\x00" in rel or "\\" in rel or rel.startswith("/"):
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    try:
        base = Path(root).resolve(strict=True)
        target = (base / rel).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


def _bad_path(raw: bytes, path: str) -> bool:
    low = raw.lower()
    if b"%2e" in low or b"%2f" in low or b"%5c" in low or b"%00" in low or b"\\" in low:
        return True
    if "\x00" in path:
        return True
    return any(p in (".", "..") for p in path.split("/"))


class Guard:
    """The ASGI middleware of the module docstring, around ``app``. ``hosts`` is read at
    each request (a callable: the port is known once the socket is bound)."""

    def __init__(self, app, token: str, hosts):
        self.app = app
        self.token = token
        self.hosts = hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_secured(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NAMES]
                message = dict(message, headers=headers + SECURITY_HEADERS)
            await send(message)

        headers = {}
        for k, v in scope.get("headers", []):
            headers.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
        host = headers.get("host", "").strip().lower()
        if host not in self.hosts():
            return await _error(send_secured, 400, "this server answers to its own address only (Host header refused)")
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        given = query.get("token")
        if given is not None:
            if not secrets.compare_digest(given.encode(), self.token.encode()):
                return await _error(send_secured, 401, "wrong token: open the URL `acsumgan serve` printed")
            rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
            path = scope.get("raw_path") or scope["path"].encode()
            location = path.decode("latin-1") + ("?" + rest if rest else "")
            cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
            return await _respond(
                send_secured,
                303,
                b"",
                [
                    (b"location", location.encode("latin-1")),
                    (b"set-cookie", cookie.encode()),
                    (b"cache-control", b"no-store"),
                ],
            )
        if not self._authorized(headers):
            return await _error(send_secured, 401, "no access token: open the URL `acsumgan serve` printed")
        if _bad_path(scope.get("raw_path") or b"", scope.get("path", "")):
            return await _error(send_secured, 404, "not found")
        return await self.app(scope, receive, send_secured)

    def _authorized(self, headers: dict) -> bool:
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer " and secrets.compare_digest(auth[7:].strip().encode(), self.token.encode()):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header: no cookie
            return False
        morsel = cookie.get(COOKIE)
        return morsel is not None and secrets.compare_digest(morsel.value.encode(), self.token.encode())


async def _respond(send, status: int, body: bytes, headers: list) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode())] + headers,
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _error(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await _respond(send, status, body, [(b"content-type", b"application/json")])
