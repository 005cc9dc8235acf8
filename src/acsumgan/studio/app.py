"""The studio's ASGI app (Starlette): the page, the library, uploads, jobs, the editor's API,
exports, and the files it may serve. :func:`create_app` makes it of a
:class:`StudioConfig`; :mod:`acsumgan.studio.server` runs it on uvicorn.

Every request first passes :class:`~acsumgan.studio.security.Guard` (Host header, token,
path, security headers). Errors are JSON ``{"error": "one line"}`` with a 4xx status.
Files are served only from inside the FOLDERs and DIR (:func:`~.security.contained`).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..errors import AcsumganError
from ..media.decode import probe
from ..summarize.presets import PRESETS
from .editor import Editor
from .jobs import Job, JobBusy, Jobs
from .library import UPLOADS, Library, LibraryVideo, is_video_name
from .names import safe_file_name
from .security import Guard, allowed_hosts, contained, new_token

__all__ = ["STATIC", "StudioConfig", "Studio", "create_app"]

#: The page's files (package data).
STATIC = Path(__file__).resolve().parent / "static"
#: Read an upload in pieces of this size.
CHUNK = 1 << 20
#: Container format (PyAV's first name) -> a file suffix, for an upload named without a video suffix.
CONTAINER_SUFFIX = {
    "mov": ".mp4",  # PyAV names MP4 and QuickTime alike
    "matroska": ".mkv",
    "avi": ".avi",
    "mpegts": ".ts",
    "mpeg": ".mpg",
    "flv": ".flv",
    "asf": ".wmv",
    "ogg": ".ogv",
    "mxf": ".mxf",
    "dv": ".dv",
    "nut": ".nut",
    "yuv4mpegpipe": ".y4m",
    "h264": ".h264",
    "hevc": ".hevc",
}
KEEP_ALIVE_S = 15.0


@dataclass
class StudioConfig:
    """What ``acsumgan serve`` was given (see ``acsumgan serve --help``)."""

    folders: list[Path] = field(default_factory=list)
    out: Path = Path("acsumgan-studio")
    host: str = "127.0.0.1"
    port: int = 8765
    workers: int = 1
    max_upload_mb: float = 4096
    model: str | None = None
    epochs: int | None = None
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    token: str = field(default_factory=new_token)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class Studio:
    """The server's state: its config, the library, the editor's cache and the jobs."""

    def __init__(self, config: StudioConfig):
        self.config = config
        self.out = Path(config.out).resolve()
        (self.out / UPLOADS).mkdir(parents=True, exist_ok=True)
        self.library = Library(config.folders, self.out)
        self.editor = Editor()
        self.jobs = Jobs(config.workers, on_finish=self._finished)

    def _finished(self, job: Job) -> None:
        self.editor.forget(self.out / job.video)

    # -- jobs' command lines --------------------------------------------------------

    def summarize_argv(self, v: LibraryVideo) -> list[str]:
        c = self.config
        args = ["summarize", str(v.path), "--out", str(v.folder), "--progress", "json", "--seed", str(c.seed)]
        args += ["--device", c.device]
        if c.threads is not None:
            args += ["--threads", str(c.threads)]
        if c.model is not None:
            args += ["--model", str(c.model)]
        elif c.epochs is not None:
            args += ["--epochs", str(c.epochs)]
        return [sys.executable, "-m", "acsumgan", *args]

    def render_argv(self, v: LibraryVideo) -> list[str]:
        args = ["render", str(v.folder), "--progress", "json"]
        if self.config.threads is not None:
            args += ["--threads", str(self.config.threads)]
        return [sys.executable, "-m", "acsumgan", *args]

    def card(self, v: LibraryVideo) -> dict:
        data = self.library.card(v)
        job = self.jobs.latest_of(v.name)
        data["job"] = None if job is None else job.to_json()
        return data


def studio_of(request: Request) -> Studio:
    return request.app.state.studio


async def video_of(request: Request) -> LibraryVideo:
    studio = studio_of(request)
    name = request.path_params["name"]
    v = await run_in_threadpool(studio.library.get, name)
    if v is None:
        raise HTTPException(404, f"no video called {name!r} in the library")
    return v


# ----------------------------------------------------------------------------- the page


def _static(rel: str) -> Response:
    path = contained(STATIC, rel)
    if path is None:
        return error(404, "not found")
    media = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}.get(path.suffix)
    return FileResponse(path, media_type=media, headers={"Cache-Control": "no-cache"})


async def page(request: Request) -> Response:
    return _static("studio.html")


async def static(request: Request) -> Response:
    return _static(request.path_params["path"])


# ----------------------------------------------------------------------------- the library


#: Videos per page of ``/api/library`` unless ``limit`` says otherwise, and the most it gives.
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
#: The longest filter ``q`` taken.
MAX_QUERY = 200


def _whole(params, key: str, default: int, low: int, high: int) -> int:
    text = params.get(key)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise HTTPException(400, f"{key} must be a whole number from {low} to {high}, not {text[:40]!r}")
    return value


async def library(request: Request) -> Response:
    """``GET /api/library?offset=&limit=&q=``: one page of the videos (``limit``, default
    :data:`PAGE_SIZE`, at most :data:`MAX_PAGE_SIZE`) whose name or file name holds ``q``,
    ``total`` of them match, ``library_total`` in all."""
    studio = studio_of(request)
    params = request.query_params
    offset = _whole(params, "offset", 0, 0, 10**12)
    limit = _whole(params, "limit", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    q = params.get("q", "")
    if len(q) > MAX_QUERY:
        return error(400, f"q is longer than {MAX_QUERY} characters")

    def page():
        found = studio.library.page(offset, limit, q)
        return found, [studio.library.card(v) for v in found.videos]

    found, videos = await run_in_threadpool(page)
    for c in videos:
        job = studio.jobs.latest_of(c["name"])
        c["job"] = None if job is None else job.to_json()
    presets = [{"name": n, "seconds": p.seconds, "aspect": p.aspect} for n, p in PRESETS.items()]
    return JSONResponse(
        {
            "videos": videos,
            "total": found.total,
            "library_total": found.library_total,
            "offset": offset,
            "limit": limit,
            "q": q,
            "presets": presets,
            "max_upload_mb": studio.config.max_upload_mb,
        }
    )


def _final_name(folder: Path, filename: str, container: str) -> str:
    name = safe_file_name(filename)
    if not is_video_name(name):
        first = (container or "").split(",")[0]
        name += CONTAINER_SUFFIX.get(first, ".mkv")
    return name


def _place(part: Path, folder: Path, name: str) -> Path:
    """Move ``part`` to ``folder/name``, or ``name-2``, ``name-3`` ... (never over a file)."""
    stem, suffix = os.path.splitext(name)
    n = 1
    while True:
        target = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        try:
            os.link(part, target)
        except FileExistsError:
            n += 1
            continue
        part.unlink()
        return target


async def upload(request: Request) -> Response:
    studio = studio_of(request)
    limit = studio.config.max_upload_bytes
    given = request.query_params.get("name", "")
    if not given.strip():
        return error(400, "no file name: POST /api/upload?name=<file name>")
    name = safe_file_name(given)
    length = request.headers.get("content-length")
    too_big = f"{name}: larger than the upload limit of {studio.config.max_upload_mb:g} MB (--max-upload-mb)"
    if length is not None:
        try:
            if int(length) > limit:
                return error(413, too_big)
        except ValueError:
            return error(400, "bad Content-Length")
    folder = studio.out / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".{name}.{secrets.token_hex(4)}.part"
    size = 0
    try:
        with open(part, "xb") as f:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _TooBig
                f.write(chunk)
        if size == 0:
            part.unlink(missing_ok=True)
            return error(400, f"{name}: empty file")
        try:
            info = await run_in_threadpool(probe, part)
        except AcsumganError as exc:
            part.unlink(missing_ok=True)
            return error(400, f"{name}: {exc.problem}")
        final = await run_in_threadpool(_place, part, folder, _final_name(folder, given, info.container))
    except _TooBig:
        part.unlink(missing_ok=True)
        return error(413, too_big)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    videos = await run_in_threadpool(studio.library.scan)
    position, v = next(((i, v) for i, v in enumerate(videos.values()) if v.path == final), (None, None))
    if v is None:  # cannot happen: the file has a video suffix and lies in uploads/
        return error(500, f"{final.name}: uploaded but not listed")
    card = await run_in_threadpool(studio.card, v)
    # position: where it lies in the whole library (the page that shows it)
    return JSONResponse({"video": card, "position": position}, status_code=201)


class _TooBig(Exception):
    pass


# ----------------------------------------------------------------------------- jobs


async def summarize(request: Request) -> Response:
    studio = studio_of(request)
    v = await video_of(request)
    try:
        job = studio.jobs.submit(v.name, "summarize", studio.summarize_argv(v))
    except JobBusy:
        return error(409, f"{v.name}: a job of this video is queued or running")
    return JSONResponse({"job": job.to_json()}, status_code=202)


async def render(request: Request) -> Response:
    studio = studio_of(request)
    v = await video_of(request)
    await run_in_threadpool(studio.editor.summary, v.folder)  # 409 when not summarized
    try:
        job = studio.jobs.submit(v.name, "render", studio.render_argv(v))
    except JobBusy:
        return error(409, f"{v.name}: a job of this video is queued or running")
    return JSONResponse({"job": job.to_json()}, status_code=202)


async def jobs(request: Request) -> Response:
    return JSONResponse({"jobs": [j.to_json() for j in studio_of(request).jobs.all()]})


async def cancel(request: Request) -> Response:
    job = studio_of(request).jobs.cancel(request.path_params["id"])
    if job is None:
        return error(404, f"no job {request.path_params['id']!r}")
    return JSONResponse({"job": job.to_json()})


async def events(request: Request) -> Response:
    studio = studio_of(request)
    queue = studio.jobs.listen()

    async def stream():
        try:
            yield "retry: 2000\n\n"
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), KEEP_ALIVE_S)
                except asyncio.TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if item is None:
                    return
                yield f"event: job\ndata: {json.dumps(item)}\n\n"
        finally:
            studio.jobs.unlisten(queue)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


# ----------------------------------------------------------------------------- the editor


async def _json_body(request: Request) -> dict:
    try:
        data = json.loads(await request.body())
    except ValueError:
        raise HTTPException(400, "the request body is not JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "the request body must be a JSON object")
    return data


async def video(request: Request) -> Response:
    studio = studio_of(request)
    v = await video_of(request)
    data = await run_in_threadpool(studio.editor.video, v, studio.library.state_of(v))
    return JSONResponse(data)


async def select(request: Request) -> Response:
    studio = studio_of(request)
    v = await video_of(request)
    body = await _json_body(request)
    data = await run_in_threadpool(studio.editor.select, v.folder, body.get("length"))
    return JSONResponse(data)


async def reframe(request: Request) -> Response:
    """Every shot's crop window path of an aspect; in a worker thread (the first ``follow`` of an
    analysis without saliency maps decodes the video: the event loop goes on serving)."""
    studio = studio_of(request)
    v = await video_of(request)
    body = await _json_body(request)
    data = await run_in_threadpool(studio.editor.reframe, v.folder, body)
    return JSONResponse(data)


async def put_edits(request: Request) -> Response:
    studio = studio_of(request)
    v = await video_of(request)
    body = await _json_body(request)
    saved = await run_in_threadpool(studio.editor.save, v.folder, body)
    return JSONResponse(saved)


async def export(request: Request) -> Response:
    studio = studio_of(request)
    v = await video_of(request)
    fmt = request.path_params["fmt"]
    path = await run_in_threadpool(studio.editor.export, v.folder, fmt)
    return FileResponse(path, filename=f"{v.name}-{path.name}", headers={"Cache-Control": "no-store"})


# ----------------------------------------------------------------------------- files


async def source(request: Request) -> Response:
    studio = studio_of(request)
    v = await video_of(request)
    copy = contained(v.folder, "original.mp4")
    if copy is not None:
        return FileResponse(copy, content_disposition_type="inline")
    for root in studio.library.roots():
        try:
            rel = v.path.relative_to(root)
        except ValueError:
            continue
        path = contained(root, rel.as_posix())
        if path is not None:
            return FileResponse(path, content_disposition_type="inline")
    return error(404, "not found")


async def files(request: Request) -> Response:
    v = await video_of(request)
    rel = request.path_params["path"]
    if any(p.startswith(".") for p in rel.split("/")):
        return error(404, "not found")
    path = contained(v.folder, rel)
    if path is None:
        return error(404, "not found")
    return FileResponse(path, headers={"Cache-Control": "no-cache"}, content_disposition_type="inline")


# ----------------------------------------------------------------------------- the app


async def not_found(request: Request, exc: Exception) -> Response:
    return error(404, "not found")


async def http_error(request: Request, exc: HTTPException) -> Response:
    return error(exc.status_code, str(exc.detail))


async def user_error(request: Request, exc: AcsumganError) -> Response:
    return error(getattr(exc, "http_status", 400), exc.one_line())


async def server_error(request: Request, exc: Exception) -> Response:
    return error(500, f"internal error ({type(exc).__name__}); the server goes on serving")


def routes() -> list[Route]:
    return [
        Route("/", page),
        Route("/static/{path:path}", static),
        Route("/api/library", library),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/jobs", jobs),
        Route("/api/jobs/{id}/cancel", cancel, methods=["POST"]),
        Route("/api/events", events),
        Route("/api/videos/{name}", video),
        Route("/api/videos/{name}/summarize", summarize, methods=["POST"]),
        Route("/api/videos/{name}/select", select, methods=["POST"]),
        Route("/api/videos/{name}/reframe", reframe, methods=["POST"]),
        Route("/api/videos/{name}/edits", put_edits, methods=["PUT"]),
        Route("/api/videos/{name}/render", render, methods=["POST"]),
        Route("/api/videos/{name}/export/{fmt}", export),
        Route("/media/{name}/source", source),
        Route("/files/{name}/{path:path}", files),
    ]


def create_app(config: StudioConfig, hosts=None) -> Guard:
    """The studio's ASGI app for ``config``: the Starlette app (``.app``; its
    ``state.studio`` the :class:`Studio`) inside the :class:`Guard`, so that every response,
    a server error's too, passes it. ``hosts`` (a callable giving the allowed Host header
    values) defaults to those of ``config.host`` and ``config.port``."""
    studio = Studio(config)

    @asynccontextmanager
    async def lifespan(app):
        yield
        await studio.jobs.shutdown()

    app = Starlette(
        routes=routes(),
        exception_handlers={
            404: not_found,
            HTTPException: http_error,
            AcsumganError: user_error,
            Exception: server_error,
        },
        lifespan=lifespan,
    )
    app.state.studio = studio
    if hosts is None:
        hosts = lambda: allowed_hosts(config.host, config.port)  # noqa: E731
    return Guard(app, token=config.token, hosts=hosts)
