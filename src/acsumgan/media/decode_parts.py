"""Decoding a long video in parts, one process per core, with exactly the frames of one pass.

At 720p, decoding every frame costs three times what the network costs for the two
frames a second it keeps (10 minutes of H.264: ~27 s of decoding on FFmpeg's frame
threads, which keep only ~1.5 of 2 cores busy, vs ~10 s of network), and PyAV holds
the GIL while it decodes, so threads cannot share the work. Independent parts of the
file decode in parallel without any loss: two single-threaded decoders in two
processes decode twice as fast as one (measured: 501 + 507 frames/s vs 494 alone).

**Where a video is cut.** Only at an instantaneous decoder refresh (an IDR access
unit of H.264, IDR_W_RADL / IDR_N_LP of HEVC): no frame after it, in decode or
display order, refers to any frame before it, so decoding from there gives, bit for
bit, the frames a single pass gives. A cut is placed at the first IDR at or after
the keyframe before ``k / parts`` of the duration, and used only when a seek to it
lands on it and the packets after it show no leading frames (pts before it). Other
codecs, files with frames without pts, parts shorter than :data:`MIN_DECODE_PART_SECONDS`
or a single core: one pass, as before (:func:`plan_parts` returns None).

**What each part does** (``python -m acsumgan.media.decode_parts``, one process per part):
seeks to its first IDR, decodes on one thread up to (not including) the next part's
IDR, and sends every frame's pts and keyframe flag, and the RGB images (resized) of
the frames the sampling rule picks (:mod:`.sampling`, its integer form, from the first
frame's pts). The plan reads every packet's pts beforehand (no decoding),
so the parent knows the steps one pass will take: each part starts with the rule's
state at its first frame, and its steps carry one pass's numbers. The network then
runs on exactly one pass's groups of steps (a frame's features depend on how many
frames share its forward pass), whichever part they come from. Decoders and network
take turns (each part decodes ``credit`` steps, then waits while the network runs),
because decoders running beside the network's threads slow both down.

**Checked, or one pass instead.** At the end the parent joins the parts' frame lists
and requires the decoded pts to be the packets', and the steps, recomputed over all
frames with the sampling rule, to be those the parts sent: same frames, same picks,
same features as one pass. Any mismatch, a decoding
error in a part (which one pass reports as its rules say), or a part that dies, and
:func:`acsumgan.summarize.features.extract_features` decodes the video again in one
pass. The processes are started, watched and ended by :mod:`.workers` (they die with
their parent, and are killed when :class:`PartDecoders` is left).
"""

from __future__ import annotations

import bisect
import json
import os
import pickle
import queue
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from .decode import frame_rate, is_constant_rate, open_media, video_stream
from .sampling import PtsCells, StepRule, check_rate, pts_steps
from .workers import Worker, WorkerGroup, worker_channel

#: A part decodes at least this many seconds of video (shorter ones are not worth a
#: process). Longer than :data:`~acsumgan.media.encode_parts.MIN_ENCODE_PART_SECONDS`:
#: decoding runs at several times real time, so a process and a plan (every packet read
#: once beforehand) pay off only over longer stretches than an encoder's (x264 is slower).
MIN_DECODE_PART_SECONDS = 60.0
#: Packets after a cut checked for leading frames (pts before the cut).
LEADING_CHECK = 32
#: Steps each part decodes before it waits for the network.
CREDIT = 8
_CODECS = ("h264", "hevc")


class PartsMismatch(Exception):
    """The parts did not give the frames one pass gives (the caller decodes in one pass)."""


# ----------------------------------------------------------------------------- where to cut


def _nal_types(data: bytes, codec: str, length_size: int | None) -> list[int]:
    """NAL unit types of one packet: length-prefixed (MP4/MKV) or Annex B (start codes)."""
    starts: list[int] = []
    if length_size:
        i = 0
        while i + length_size < len(data):
            n = int.from_bytes(data[i : i + length_size], "big")
            starts.append(i + length_size)
            i += length_size + n
    else:
        i = data.find(b"\x00\x00\x01")
        while i >= 0 and i + 3 < len(data):
            starts.append(i + 3)
            i = data.find(b"\x00\x00\x01", i + 3)
    if codec == "h264":
        return [data[k] & 0x1F for k in starts if k < len(data)]
    return [(data[k] >> 1) & 0x3F for k in starts if k < len(data)]


def is_idr(data: bytes, codec: str, length_size: int | None) -> bool:
    """Whether a packet is an instantaneous decoder refresh (see the module docstring)."""
    types = _nal_types(data, codec, length_size)
    if codec == "h264":
        return 5 in types
    return any(t in (19, 20) for t in types)


def _length_size(codec: str, extradata: bytes | None) -> int | None:
    """NAL length-prefix size from avcC / hvcC extradata; None for Annex B streams."""
    if not extradata or extradata[0] != 1:
        return None
    if codec == "h264" and len(extradata) > 4:
        return (extradata[4] & 3) + 1
    if codec == "hevc" and len(extradata) > 21:
        return (extradata[21] & 3) + 1
    return None


@dataclass
class Plan:
    """Cuts of a video: part ``j`` decodes from ``cuts[j-1]`` (pts) up to ``cuts[j]``."""

    path: Path
    stream: int  # the video stream's index in the container
    cuts: list[int]
    origin: int  # pts of the first frame (time 0)
    time_base: Fraction
    frame_pts: list[int] = field(default_factory=list)  # every packet's pts, sorted: the frames to come

    @property
    def parts(self) -> int:
        return len(self.cuts) + 1


def _first_pts(container, vs) -> int | None:
    vs.thread_type = "NONE"
    for frame in container.decode(vs):
        return frame.pts
    return None


def _idr_at_or_after(container, vs, target: int, limit: int, codec: str, length_size: int | None) -> int | None:
    """Seek to the keyframe before ``target`` and return the pts of the first IDR from there
    (None: none before pts ``limit``)."""
    container.seek(target, stream=vs, backward=True, any_frame=False)
    for packet in container.demux(vs):
        if packet.pts is None or packet.pts > limit:
            return None
        if packet.is_keyframe and is_idr(bytes(packet), codec, length_size):
            return int(packet.pts)
    return None


def _clean_cut(container, vs, cut: int) -> bool:
    """A seek to ``cut`` lands on it, and no packet soon after it shows a frame before it."""
    container.seek(cut, stream=vs, backward=True, any_frame=False)
    for k, packet in enumerate(container.demux(vs)):
        if k == 0 and (packet.pts != cut or not packet.is_keyframe):
            return False
        if packet.size and (packet.pts is None or packet.pts < cut):
            return False
        if k >= LEADING_CHECK:
            break
    return True


def plan_parts(path: str | os.PathLike, parts: int, duration: float) -> Plan | None:
    """Where to cut ``path`` into ``parts`` parts; None: decode in one pass (see module docstring)."""
    parts = min(int(parts), int(duration // MIN_DECODE_PART_SECONDS))
    if parts < 2:
        return None
    try:
        with open_media(path) as container:
            vs = video_stream(container, Path(path))
            codec = vs.codec_context.name
            if codec not in _CODECS or not vs.time_base:
                return None
            length_size = _length_size(codec, vs.codec_context.extradata)
            tb = Fraction(vs.time_base)
            stream_index = int(vs.index)
            origin = _first_pts(container, vs)
            if origin is None:
                return None
            cuts: list[int] = []
            for j in range(1, parts):
                target = origin + int(Fraction(duration) * j / parts / tb)
                limit = target + int(Fraction(MIN_DECODE_PART_SECONDS) / 2 / tb)
                cut = _idr_at_or_after(container, vs, target, limit, codec, length_size)
                if cut is None or cut <= (cuts[-1] if cuts else origin) or not _clean_cut(container, vs, cut):
                    return None
                cuts.append(cut)
            frame_pts = _packet_pts(container, vs)
    except (av.error.FFmpegError, OSError, ValueError, IndexError):
        return None
    if frame_pts is None or frame_pts[0] != origin or any(c not in frame_pts for c in cuts):
        return None
    return Plan(Path(path), stream_index, cuts, int(origin), tb, frame_pts)


def _packet_pts(container, vs) -> list[int] | None:
    """The pts of every video packet in display order (None: a packet without pts, or two
    with the same): what decoding will give, one frame per packet, checked at the end."""
    container.seek(0, stream=vs, backward=True, any_frame=False)
    pts = sorted(p.pts for p in container.demux(vs) if p.size)
    if not pts or pts[0] is None or any(a >= b for a, b in zip(pts, pts[1:])):
        return None
    return pts


# ----------------------------------------------------------------------------- one part (child)


def _part_main(spec: dict, out, inp) -> None:
    """Decode one part and send its frames (see the module docstring)."""
    r = check_rate(Fraction(spec["rate"]))
    tb = Fraction(spec["time_base"])
    origin, start, stop = spec["origin"], spec["start"], spec["stop"]
    w, h = spec["size"]
    cell = PtsCells(origin, tb, r)
    credit = int(inp.readline() or 0)
    pts_list: list[int] = []
    keys: list[int] = []
    rule = StepRule(r, need=int(spec["need"]))  # the rule's state as one pass has it here

    def send(msg) -> None:
        pickle.dump(msg, out, protocol=pickle.HIGHEST_PROTOCOL)

    def frame_done(frame) -> None:
        nonlocal credit
        if frame.pts is None or (frame.time_base and Fraction(frame.time_base) != tb):
            raise PartsMismatch("a frame without pts or with another time base")
        i = len(pts_list)
        pts_list.append(int(frame.pts))
        if frame.key_frame:
            keys.append(i)
        if rule.take(cell(frame.pts)):
            if credit == 0:
                raise SystemExit(0)  # the parent is gone or done
            send(("frame", i, frame.to_ndarray(width=w, height=h, format="rgb24")))
            credit -= 1
            if credit == 0:  # wait here, not after decoding on: the network runs now
                out.flush()
                credit = int(inp.readline() or 0)

    with open_media(spec["path"]) as container:
        vs = container.streams[spec["stream"]]
        vs.thread_type = "NONE"
        if start is not None:
            container.seek(start, stream=vs, backward=True, any_frame=False)
        first = True
        for packet in container.demux(vs):
            if first and packet.pts != start and start is not None:
                raise PartsMismatch(f"the seek to {start} landed on {packet.pts}")
            first = False
            if stop is not None and packet.pts == stop and packet.is_keyframe:
                break
            for frame in packet.decode():
                frame_done(frame)
        try:
            for frame in vs.decode(None):
                frame_done(frame)
        except av.error.EOFError:
            pass
    if start is not None and (not pts_list or pts_list[0] != start):
        raise PartsMismatch("the part does not begin with its cut")
    send(("end", {"pts": pts_list, "keys": keys, "peak_rss": _peak_rss()}))
    out.flush()


def _peak_rss() -> int:
    """This process's peak resident size in bytes (0 where /proc is not there)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def main() -> None:
    """Entry point of a part's process: ``python -m acsumgan.media.decode_parts SPEC_JSON``."""
    out = worker_channel()
    inp = sys.stdin.buffer
    try:
        _part_main(json.loads(sys.argv[1]), out, inp)
    except KeyboardInterrupt:
        os._exit(130)
    except BrokenPipeError:
        os._exit(0)
    except BaseException as exc:  # noqa: BLE001 - sent to the parent, which decodes in one pass
        if isinstance(exc, SystemExit) and not exc.code:
            raise
        try:
            pickle.dump(("error", f"{type(exc).__name__}: {exc}"), out)
            out.flush()
        except OSError:
            pass
        os._exit(1)


# ----------------------------------------------------------------------------- the parent


@dataclass
class _Part:
    worker: Worker
    frames: int = 0  # frames decoded so far
    waiting: int = 0  # steps granted and not received yet
    end: dict | None = None
    error: str | None = None
    base: int = 0  # the number, in one pass, of this part's first step
    steps: list[int] = field(default_factory=list)  # local frame indices of the steps received

    @property
    def proc(self) -> subprocess.Popen:
        """The part's process."""
        return self.worker.proc


@dataclass
class Joined:
    """The frames of all parts, as one pass reports them."""

    picks: np.ndarray
    frame_pts: list[int]
    key_frames: list[int]
    frame_times: np.ndarray
    timestamps: np.ndarray
    n_frames: int
    fps_fraction: Fraction
    constant_rate: bool
    peak_rss: int  # sum of the parts' peaks (bytes)


class PartDecoders:
    """The part processes of a :class:`Plan`, as a stream of steps (see the module docstring).

    Use as a context manager (the processes are killed on leaving); iterate
    :meth:`batches`, then call :meth:`join`.
    """

    def __init__(
        self,
        plan: Plan,
        rate: float,
        size: tuple[int, int],
        metadata_fps: Fraction | None = None,
        credit: int = CREDIT,
    ):
        self.plan = plan
        self.rate = check_rate(rate)
        self.metadata_fps = metadata_fps
        self.credit = int(credit)
        self._queue: queue.Queue = queue.Queue()
        self._parts: list[_Part] = []
        self._group = WorkerGroup()
        bounds = [None, *plan.cuts, None]
        # the steps of one pass, from the packets' pts: where each part's steps begin in the
        # video's numbering, and the sampling rule's state at its first frame
        self.expected = pts_steps(plan.frame_pts, plan.origin, plan.time_base, self.rate)
        starts = [0] + [bisect.bisect_left(plan.frame_pts, c) for c in plan.cuts]
        bases = [bisect.bisect_left(self.expected, f) for f in starts]
        cell = PtsCells(plan.origin, plan.time_base, self.rate)
        needs = [0] + [cell(plan.frame_pts[self.expected[b - 1]]) + 1 for b in bases[1:]]
        try:
            for j in range(plan.parts):
                self._start(j, bounds, plan, size, needs[j], bases[j])
        except BaseException:
            self.close()
            raise

    def _start(self, j: int, bounds: list, plan: Plan, size: tuple[int, int], need: int, base: int) -> None:
        """Start part ``j``'s process and the thread that reads what it sends."""
        spec = {
            "path": str(plan.path),
            "stream": plan.stream,
            "start": bounds[j],
            "stop": bounds[j + 1],
            "origin": plan.origin,
            "time_base": f"{plan.time_base.numerator}/{plan.time_base.denominator}",
            "rate": f"{self.rate.numerator}/{self.rate.denominator}",
            "size": [int(size[0]), int(size[1])],
            "need": need,
        }
        worker = self._group.start("acsumgan.media.decode_parts", json.dumps(spec), stdin=True)
        self._parts.append(_Part(worker, base=base))
        threading.Thread(target=self._read, args=(j, worker), name=f"acsumgan-part-{j}", daemon=True).start()

    def _read(self, j: int, worker: Worker) -> None:
        try:
            while True:
                msg = pickle.load(worker.stdout)
                self._queue.put((j, msg))
                if msg[0] != "frame":
                    return
        except Exception:  # noqa: BLE001 - EOF or a broken stream: the part is gone
            self._queue.put((j, ("error", "the decoder process ended early")))

    def __enter__(self) -> "PartDecoders":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._group.close()

    @property
    def frames_done(self) -> int:
        return sum(p.frames for p in self._parts)

    def _grant(self, p: _Part, steps: int) -> None:
        if p.worker.send_line(str(steps)):
            p.waiting += steps
        else:
            p.error = "the decoder process ended early"

    def _receive(self, pending: list) -> tuple[int, bool]:
        """One message into ``pending`` (a step) or into its part's state: (part, a step?)."""
        j, msg = self._queue.get()
        p = self._parts[j]
        if msg[0] == "frame":
            _, i, image = msg
            p.steps.append(i)
            p.frames = i + 1
            p.waiting -= 1
            pending.append((p.base + len(p.steps) - 1, image))
            return j, True
        if msg[0] == "end":
            p.end, p.waiting = msg[1], 0
            p.frames = len(p.end["pts"])
        else:
            p.error, p.waiting = msg[1], 0
        return j, False

    def batches(self) -> Iterator[list[tuple[int, np.ndarray]]]:
        """Lists of (part, image): at least ``credit`` steps of every running part.

        Parts decode while the caller waits here and wait while it runs the network on
        a batch. A part that is through its ``credit`` before the others goes on, a step
        at a time, until the slowest is through too (no core waits for another).
        """
        while True:
            got = [0] * len(self._parts)
            pending: list[tuple[int, np.ndarray]] = []
            while True:
                running = [j for j, p in enumerate(self._parts) if p.end is None and p.error is None]
                if not any(got[j] < self.credit for j in running):
                    break
                for j in running:
                    if self._parts[j].waiting == 0:
                        self._grant(self._parts[j], max(1, self.credit - got[j]))
                j, step = self._receive(pending)
                got[j] += step
            if any(p.error for p in self._parts):
                raise PartsMismatch(next(p.error for p in self._parts if p.error))
            if pending:
                yield pending
            if all(p.end is not None for p in self._parts):
                return

    def join(self) -> Joined:
        """The frames of all parts joined and checked against the sampling rule, or PartsMismatch."""
        plan = self.plan
        ends = [p.end for p in self._parts]
        if any(e is None for e in ends):
            raise PartsMismatch("a part did not finish")
        offsets = np.cumsum([0] + [len(e["pts"]) for e in ends])
        pts = [q for e in ends for q in e["pts"]]
        keys = [int(offsets[j]) + k for j, e in enumerate(ends) for k in e["keys"]]
        for j, cut in enumerate(plan.cuts, start=1):
            if not ends[j]["pts"] or ends[j]["pts"][0] != cut or (ends[j - 1]["pts"] and ends[j - 1]["pts"][-1] >= cut):
                raise PartsMismatch(f"part {j} does not begin where part {j - 1} ends")
        if pts[0] != plan.origin:
            raise PartsMismatch("the first frame is not the one planned for")
        exact = pts_steps(pts, plan.origin, plan.time_base, self.rate)
        sent = [int(offsets[j]) + k for j, p in enumerate(self._parts) for k in p.steps]
        if pts != plan.frame_pts or exact != self.expected or sent != exact:
            raise PartsMismatch("the frames or steps differ from those of one pass")
        a, b = plan.time_base.numerator, plan.time_base.denominator
        origin = pts[0]
        times = np.array([((q - origin) * a) / b for q in pts], dtype=np.float64)
        n = len(pts)
        span = Fraction(pts[-1] - origin) * plan.time_base if n else None
        fps = frame_rate(n, span, self.metadata_fps)
        return Joined(
            picks=np.asarray(exact, dtype=np.int64),
            frame_pts=pts,
            key_frames=keys,
            frame_times=times,
            timestamps=times[np.asarray(exact, dtype=np.int64)],
            n_frames=n,
            fps_fraction=fps,
            constant_rate=is_constant_rate(times, float(fps)),
            peak_rss=sum(int(e.get("peak_rss", 0)) for e in ends),
        )


if __name__ == "__main__":
    main()
