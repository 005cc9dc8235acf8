"""Writing a long summary video in parts, one process per core, joined into one MP4.

x264 on its own threads keeps only about 1.5 of 2 cores busy at 720p (188 frames/s
at superfast, measured), while two single-threaded x264 processes run at 134 frames/s
each, 268 together: the frames of a summary are split into ``parts`` groups of whole
ranges (shots) with about as many frames each; each group is written by
:func:`acsumgan.media.encode.write_summary_video` in a process of its own (``python -m
acsumgan.media.encode_parts``, one thread for decoding and one for x264, started and ended
by :mod:`.workers`), exactly as one writer would write it, and the groups' MP4s are joined
packet by packet (no re-encoding) into one file.

What is the same as one writer: every frame (the same source frames, in order, at
the same output times), the size, the frame rate and the quality settings. What
differs: the H.264 bitstream (each part starts with its own keyframe, and x264 on one
thread decides slightly differently), and the audio at each join, which falls on a
cut between two shots: the next part's audio encoder restarts there, so its first
AAC packet (the encoder's priming) is dropped, and the last packet of the previous
part may play up to 1,023 samples (21 ms at 48 kHz) longer than its video; the audio
after a join can lag by that much. Used only for constant-rate output with known
frame pts (:func:`plan_groups`), with at least :data:`MIN_ENCODE_PART_SECONDS` of summary
per part; otherwise, or on any failure in a part, or for parts whose streams cannot be
joined (different codec parameters), :func:`write_in_parts` returns None and the caller
writes with one writer::

    stats = write_in_parts(src, ranges, out, parts=4, **options) or write_summary_video(src, ranges, out, **options)
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import av

from ..fileio import atomic_path, local_url
from ..progress import Progress, report
from .decode import open_media, probe
from .encode import (
    DEFAULT_CRF,
    DEFAULT_PRESET,
    SourceFrames,
    WriteStats,
    check_encoder_options,
    check_ranges,
    usable_pts,
    write_summary_video,
)
from .geometry import Crop
from .workers import CountLines, WorkerGroup, worker_channel

_log = logging.getLogger("acsumgan.summarize.encoding")  # into summarize's log file

#: Each part writes at least this many seconds of summary. Shorter than
#: :data:`~acsumgan.media.decode_parts.MIN_DECODE_PART_SECONDS`: x264 writes a second of
#: video far more slowly than FFmpeg decodes one, so a process pays off sooner.
MIN_ENCODE_PART_SECONDS = 20.0


class JoinFailed(Exception):
    """The parts could not be written or joined (the caller writes in one pass)."""


def plan_groups(ranges: Sequence[tuple[int, int]], parts: int, fps: float) -> list[list[tuple[int, int]]] | None:
    """Whole ranges in ``parts`` consecutive groups of about equal frame counts (each cut at
    the range boundary nearest ``k / parts`` of the frames, the earlier one on a tie);
    None when one writer it is (fewer than two parts of :data:`MIN_ENCODE_PART_SECONDS`, one range)."""
    lengths = [b - a + 1 for a, b in ranges]
    total = sum(lengths)
    parts = min(int(parts), int(total / (MIN_ENCODE_PART_SECONDS * fps)), len(ranges))
    if parts < 2:
        return None
    ends = list(itertools.accumulate(lengths))  # frames up to the end of each range
    cuts = [0]
    for k in range(1, parts):
        target = k * total / parts
        candidates = range(cuts[-1] + 1, len(ranges) - (parts - k) + 1)  # ranges in earlier groups
        cuts.append(min(candidates, key=lambda i: abs(ends[i - 1] - target)))
    cuts.append(len(ranges))
    return [list(ranges[a:b]) for a, b in zip(cuts, cuts[1:])]


def _worker(spec_path: str) -> None:
    """A part's process: write its group of ranges; report frames written as progress lines."""
    lines = CountLines(worker_channel())
    with open(spec_path, "rb") as f:
        spec = pickle.load(f)
    stats = write_summary_video(threads=1, progress=lambda event: lines(event.done), **spec["kwargs"])
    with atomic_path(spec["result"]) as tmp:
        with open(tmp, "wb") as f:
            pickle.dump(stats, f)


def write_in_parts(
    src_path: str | os.PathLike,
    frame_ranges: Sequence[Sequence[int]],
    out_path: str | os.PathLike,
    *,
    parts: int | None,
    source: SourceFrames | None = None,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    keep_audio: bool = True,
    threads: int = 0,
    progress: Progress | None = None,
    crop: Crop | None = None,
) -> WriteStats | None:
    """Write the summary of :func:`~acsumgan.media.encode.write_summary_video` (same arguments)
    with ``parts`` processes at once, each a group of whole ranges, joined into ``out_path``
    (see the module docstring: the same frames; at each join, between two shots, the audio
    may lag by up to one AAC frame). ``progress`` receives the frames written, summed over
    the parts. Each part decodes and encodes on one thread (``threads`` is not used).
    ``crop``: each frame cut to its window, as the one writer cuts it (every part gets the
    whole :class:`~acsumgan.media.geometry.Crop`).

    Returns the joined :class:`~acsumgan.media.encode.WriteStats`, or None when parts do not
    apply (``parts`` <= 1, no usable ``source.frame_pts``, a variable rate, a summary too
    short for two parts: :func:`plan_groups`) or when a part failed or the parts could not
    be joined (logged): then write it with one writer. The ranges and encoder options are
    checked first (:class:`~acsumgan.errors.ConfigError`), as the one writer checks them.
    """
    ranges = check_ranges(frame_ranges)
    check_encoder_options(crf, preset)
    source = source or SourceFrames()
    src, out_path = Path(src_path), Path(out_path)
    pts_list = usable_pts(source.frame_pts)
    if parts is None or int(parts) <= 1 or pts_list is None or source.frame_times is not None:
        return None
    groups = plan_groups(ranges, int(parts), float(source.fps) if source.fps else probe(src).fps)
    if groups is None:
        return None
    keys = None if source.key_frames is None else list(source.key_frames)
    options = {
        "source": SourceFrames(fps=source.fps, frame_pts=pts_list, key_frames=keys),
        "crf": crf,
        "preset": preset,
        "keep_audio": keep_audio,
    }
    if crop is not None:  # (without, the parts' arguments stay as they were)
        options["crop"] = crop
    try:
        return _write_groups(src, groups, out_path, options, progress, sum(b - a + 1 for a, b in ranges))
    except JoinFailed as exc:
        _log.info("%s: writing the summary in one pass (%s)", out_path, exc)
        return None


def _write_groups(
    src: Path, groups: list[list[tuple[int, int]]], out_path: Path, options: dict, progress: Progress | None, total: int
) -> WriteStats:
    """Write each group in a process, then join them into ``out_path``; the joined WriteStats."""
    t0 = time.perf_counter()
    done = [0] * len(groups)
    lock = threading.Lock()

    def counted(j: int):
        def on_count(n: int) -> None:
            with lock:
                done[j] = n
                report(progress, "encoding", min(sum(done), total), total)

        return on_count

    with WorkerGroup() as workers:
        outs, results = [], []
        for j, group in enumerate(groups):
            spec, out, result = (workers.scratch_file(out_path) for _ in range(3))
            outs.append(out)
            results.append(result)
            kwargs = {**options, "src_path": src, "frame_ranges": group, "out_path": out}
            spec.write_bytes(pickle.dumps({"kwargs": kwargs, "result": result}))
            workers.start("acsumgan.media.encode_parts", str(spec)).follow_counts(counted(j))
        if any(w.wait() for w in workers.workers):
            raise JoinFailed("a part could not be written")
        stats = [pickle.loads(r.read_bytes()) for r in results]
        audio = _join(outs, out_path)
    first = stats[0]
    return WriteStats(
        path=out_path,
        frames_written=sum(s.frames_written for s in stats),
        duration=sum(s.duration for s in stats),
        fps=first.fps,
        width=first.width,
        height=first.height,
        has_audio=first.has_audio,
        audio_seconds=audio,
        seconds=time.perf_counter() - t0,
        decoded_frames=sum(s.decoded_frames for s in stats),
        seeks=sum(s.seeks for s in stats),
        rotation=first.rotation,
        sample_aspect_ratio=first.sample_aspect_ratio,
        source_timestamps=False,
        parts=len(stats),
    )


def _join(parts: Sequence[Path], out_path: Path) -> float:
    """The parts' packets one after another in one MP4; the seconds of audio written."""
    inputs = [open_media(p) for p in parts]
    try:
        v = [c.streams.video[0] for c in inputs]
        a = [c.streams.audio[0] if c.streams.audio else None for c in inputs]
        if any((x is None) != (a[0] is None) for x in a):
            raise JoinFailed("parts with and without audio")
        for s in (v, a) if a[0] is not None else (v,):
            ref = s[0].codec_context
            for x in s[1:]:
                c = x.codec_context
                if (
                    c.name != ref.name
                    or c.extradata != ref.extradata
                    or x.time_base != s[0].time_base
                    or getattr(c, "width", 0) != getattr(ref, "width", 0)
                    or getattr(c, "height", 0) != getattr(ref, "height", 0)
                    or getattr(c, "sample_rate", 0) != getattr(ref, "sample_rate", 0)
                ):
                    raise JoinFailed("the parts' streams differ")
        audio_end = 0
        with atomic_path(out_path) as tmp:
            with av.open(local_url(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
                ov = out.add_stream_from_template(v[0])
                oa = out.add_stream_from_template(a[0]) if a[0] is not None else None
                v_off = a_off = 0
                for j, c in enumerate(inputs):
                    streams = [v[j]] + ([a[j]] if oa is not None else [])
                    v_end, a_end = v_off, a_off
                    for packet in c.demux(streams):
                        if packet.size == 0 or packet.pts is None:
                            continue
                        video = packet.stream.index == v[j].index
                        if not video and j > 0 and packet.pts < 0:
                            continue  # the next part's encoder priming (see the module docstring)
                        off = v_off if video else a_off
                        packet.pts += off
                        if packet.dts is not None:
                            packet.dts += off
                        end = packet.pts + (packet.duration or 0)
                        if video:
                            v_end = max(v_end, end)
                        else:
                            a_end = max(a_end, end)
                        packet.stream = ov if video else oa
                        out.mux(packet)
                    v_off = v_end
                    if oa is not None:  # the next part's audio starts with its video
                        a_off = round(Fraction(v_off) * Fraction(v[0].time_base) / Fraction(a[0].time_base))
                    audio_end = a_end
        return float(audio_end * a[0].time_base) if a[0] is not None else 0.0
    finally:
        for c in inputs:
            c.close()


if __name__ == "__main__":
    _worker(sys.argv[1])
