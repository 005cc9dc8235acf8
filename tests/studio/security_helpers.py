"""Raw HTTP for the traversal tests: httpx (like a browser) normalizes ``..`` out of a URL
before sending it; :func:`raw_get` sends the request line exactly as written."""

from __future__ import annotations

import socket


def raw_get(server, path: str, host: str | None = None, token: bool = True) -> tuple[int, dict, bytes]:
    """GET ``path`` as written (no normalization); (status, headers lower-cased, body)."""
    host = host if host is not None else f"127.0.0.1:{server.port}"
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    if token:
        lines.append(f"Authorization: Bearer {server.token}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    headers = {}
    for line in header_lines:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body
