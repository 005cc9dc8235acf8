"""Run the studio: bind the socket (a busy port is a one-line error before anything else),
print the URL with its token, serve on uvicorn until Ctrl-C or SIGTERM.

The URL is printed once the socket listens, so ``--port 0`` (any free port) prints the
real one. Stopping closes the event streams at once and stops the running jobs (SIGTERM,
as a cancel does).
"""

from __future__ import annotations

import asyncio
import errno
import socket
import sys

import uvicorn

from ..errors import ConfigError
from .app import StudioConfig, create_app
from .security import is_loopback

__all__ = ["bind", "serve", "url_of", "warning_of"]


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; a one-line ConfigError when it cannot be had."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted sockets of that proto
    # (without it every response waits for the client's delayed ACK, ~40 ms)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), int(port)))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        where = f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(where, "address in use (another server listens there): pick another --port") from None
        if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
            raise ConfigError(where, "not an address of this machine: check --host") from None
        raise ConfigError(where, f"cannot listen there: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


def url_of(host: str, port: int, token: str) -> str:
    """The URL a person opens: a wildcard address is shown as 127.0.0.1."""
    h = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in h and not h.startswith("["):
        h = f"[{h}]"
    return f"http://{h}:{port}/?token={token}"


def warning_of(host: str) -> str | None:
    """The warning line of a ``--host`` that is not loopback (None for a loopback one)."""
    if is_loopback(host):
        return None
    return (
        f"acsumgan: warning: --host {host} is not a loopback address: other machines can reach the studio "
        "(the token is the only protection, sent without encryption); use the default 127.0.0.1 unless you must"
    )


class _Server(uvicorn.Server):
    def __init__(self, config, studio):
        super().__init__(config)
        self.studio = studio
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets=None):
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        if self.loop is not None:  # the event streams end now, not after the graceful timeout
            self.loop.call_soon_threadsafe(self.studio.jobs.close_listeners)


def serve(config: StudioConfig, out=None) -> None:
    """Serve ``config`` until Ctrl-C or SIGTERM (a normal end: it returns); the URL (and a
    warning for a non-loopback host) are printed first (``out``: where the URL line goes,
    default stdout)."""
    sock = bind(config.host, config.port)
    config.port = sock.getsockname()[1]
    app = create_app(config)
    uv = uvicorn.Config(
        app,
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=3,
    )
    server = _Server(uv, app.app.state.studio)
    try:
        warning = warning_of(config.host)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        print(f"acsumgan studio: {url_of(config.host, config.port, config.token)}", file=out or sys.stdout, flush=True)
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM (uvicorn raises it again once it has stopped): the end
        pass
    finally:
        sock.close()
    print("acsumgan studio: stopped", file=sys.stderr, flush=True)
