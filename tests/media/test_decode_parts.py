"""Decoding in parts (acsumgan.media.decode_parts): the same frames, steps and features as one pass."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from acsumgan.errors import VideoError
from acsumgan.media import decode_parts as P
from acsumgan.media.decode import FrameSampler, probe
from acsumgan.media.sampling import pts_steps, sample_steps
from acsumgan.summarize.features import extract_features
from acsumgan.synthetic.media import scene_video

# scenes of 2-7 s at 30 fps (moving textures: real motion for the decoder), 28 s
SCENES = [75, 200, 60, 150, 210, 45, 100]
GOP = {"g": "45", "bf": "3"}  # an IDR every 1.5 s at most (and at scene cuts), B-frames


@pytest.fixture(autouse=True)
def short_parts(monkeypatch):
    """Parts of 5 s (60 s in use) so that seconds-long test videos are cut."""
    monkeypatch.setattr(P, "MIN_DECODE_PART_SECONDS", 5.0)


@pytest.fixture(scope="module")
def pdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("parts")


@pytest.fixture(scope="module")
def h264(pdir) -> Path:
    return scene_video(pdir / "h264.mp4", SCENES, fps=30, size=(128, 96), options=GOP).path


@pytest.fixture(scope="module")
def h264_audio(pdir) -> Path:
    tones = [300.0 + 100 * k for k in range(len(SCENES))]
    return scene_video(pdir / "audio.mp4", SCENES, fps=25, size=(96, 72), options=GOP, tones=tones).path


@pytest.fixture(scope="module")
def h264_ntsc(pdir) -> Path:
    """29.97 fps: the sampling grid falls between frames."""
    return scene_video(pdir / "ntsc.mp4", SCENES, fps=Fraction(30000, 1001), size=(96, 72), options=GOP).path


@pytest.fixture(scope="module")
def open_gop(pdir) -> Path:
    """Keyframes after the first are open-GOP I-frames (not IDR): no clean cut."""
    opts = {**GOP, "x264-params": "open-gop=1"}
    return scene_video(pdir / "open.mkv", SCENES, fps=30, size=(96, 72), options=opts, fmt="matroska").path


@pytest.fixture(scope="module")
def hevc(pdir) -> Path:
    opts = {"g": "45", "x265-params": "open-gop=0:log-level=none"}
    return scene_video(pdir / "hevc.mp4", SCENES, fps=30, size=(96, 72), codec="libx265", options=opts).path


@pytest.fixture(scope="module")
def transport_stream(pdir) -> Path:
    """H.264 with start codes (Annex B) in MPEG-TS."""
    return scene_video(pdir / "annexb.ts", SCENES, fps=25, size=(96, 72), options=GOP, fmt="mpegts").path


def _identical(a, b) -> None:
    assert np.array_equal(a.features, b.features)
    assert np.array_equal(a.picks, b.picks)
    assert np.array_equal(a.timestamps, b.timestamps)
    assert np.array_equal(a.frame_times, b.frame_times)
    assert (a.n_frames, a.fps, a.constant_rate, a.frame_pts, a.key_frames) == (
        b.n_frames,
        b.fps,
        b.constant_rate,
        b.frame_pts,
        b.key_frames,
    )


def _keyframe_pts(path: Path) -> list[int]:
    with av.open(str(path)) as c:
        return [p.pts for p in c.demux(c.streams.video[0]) if p.is_keyframe and p.pts is not None]


# ----------------------------------------------------------------------------- the rule in integers


@pytest.mark.parametrize(
    "step, time_base, rate",
    [
        (1, Fraction(1, 30), 2.0),
        (512, Fraction(1, 12800), 2.0),
        (1001, Fraction(1, 30000), 2.0),
        (1, Fraction(1, 25), 1.5),
    ],
)
def test_steps_in_integers_are_the_sampling_rule(step, time_base, rate):
    rng = np.random.default_rng(7)
    cfr = [1000 + step * i for i in range(3000)]
    vfr = list(1000 + np.cumsum(rng.integers(1, 4 * step, 3000)))  # gaps of up to 4 frames
    for pts in (cfr, vfr):
        times = [Fraction(int(q) - pts[0]) * time_base for q in pts]
        assert pts_steps([int(q) for q in pts], pts[0], time_base, Fraction(rate)) == sample_steps(times, rate)


def test_a_30_fps_video_gives_every_fifteenth_frame():
    assert pts_steps(list(range(100)), 0, Fraction(1, 30), Fraction(2)) == list(range(0, 100, 15))


def test_forward_passes_are_those_of_one_pass():
    """Batches of 16 in passes of 4 (the last pass shorter); a pass runs once all its steps are in."""
    from acsumgan.summarize.features import _groups_ready

    assert _groups_ready(dict.fromkeys([0, 1, 2, 3, 5, 6]), 30, 16) == [(0, 4)]
    assert _groups_ready(dict.fromkeys([28, 29]), 30, 16) == [(28, 30)]
    assert _groups_ready(dict.fromkeys([4, 5, 6, 7, 8]), 30, 5) == [(4, 5), (5, 9)]
    assert _groups_ready(dict.fromkeys([4, 9]), 30, 5) == [(4, 5), (9, 10)]  # batches of 5: 4 + 1


# ----------------------------------------------------------------------------- where to cut


def test_idr_is_read_from_the_packets_of_h264_and_hevc(h264, hevc, open_gop, transport_stream):
    for path, codec in ((h264, "h264"), (hevc, "hevc"), (transport_stream, "h264")):
        with av.open(str(path)) as c:
            vs = c.streams.video[0]
            size = P._length_size(codec, vs.codec_context.extradata)
            assert (size is None) == (path.suffix == ".ts")  # MP4: length prefixes; TS: start codes
            keys = [P.is_idr(bytes(p), codec, size) for p in c.demux(vs) if p.is_keyframe and p.size]
        assert len(keys) >= 10 and all(keys), path.name
    with av.open(str(open_gop)) as c:
        vs = c.streams.video[0]
        size = P._length_size("h264", vs.codec_context.extradata)
        flags = [P.is_idr(bytes(p), "h264", size) for p in c.demux(vs) if p.is_keyframe and p.size]
    assert flags[0] and len(flags) >= 10 and not any(flags[1:])  # only the first keyframe is an IDR


def test_cuts_are_idr_keyframes_near_equal_shares_of_the_duration(h264):
    duration = probe(h264).duration
    plan = P.plan_parts(h264, 4, duration)
    assert plan is not None and plan.parts == 4 and plan.origin == _keyframe_pts(h264)[0]
    keys = _keyframe_pts(h264)
    for j, cut in enumerate(plan.cuts, start=1):
        assert cut in keys
        t = float(cut * plan.time_base)
        assert j * duration / 4 - 1.6 <= t <= j * duration / 4 + 1.6  # an IDR every 1.5 s at most


def test_no_plan_for_one_part_short_videos_other_codecs_and_open_gops(h264, open_gop, pdir):
    duration = probe(h264).duration
    assert P.plan_parts(h264, 1, duration) is None
    assert P.plan_parts(h264, 2, 9.9) is None  # two parts need two MIN_PART_SECONDS
    assert P.plan_parts(h264, 50, duration).parts == int(duration // 5.0)  # at most duration / MIN_PART_SECONDS
    mpeg4 = scene_video(pdir / "mpeg4.mkv", SCENES, fps=25, size=(96, 72), codec="mpeg4", fmt="matroska").path
    assert P.plan_parts(mpeg4, 2, probe(mpeg4).duration) is None
    assert P.plan_parts(open_gop, 2, probe(open_gop).duration) is None


# ----------------------------------------------------------------------------- the same as one pass


@pytest.mark.parametrize("parts, batch_size", [(2, 16), (3, 16), (5, 16), (3, 5)])
def test_features_in_parts_are_one_pass_bit_for_bit(h264, backbone, parts, batch_size):
    """Also with batches of 5 (forward passes of 4 and 1: a frame alone gets other bits)."""
    one = extract_features(h264, backbone, parts=1, batch_size=batch_size)
    assert one.parts == 1 and one.decoder_peak_rss == 0
    calls = []
    progress = lambda e: calls.append((e.done, e.total))  # noqa: E731
    many = extract_features(h264, backbone, parts=parts, batch_size=batch_size, progress=progress)
    assert many.parts == parts and many.decoder_peak_rss > 0
    _identical(one, many)
    assert len(one.features) == sum(SCENES) // 15 == 56  # 28 s at 2 steps a second
    done = [d for d, _ in calls]
    assert done == sorted(done) and calls[-1] == (one.n_frames, one.n_frames) and len(calls) >= 3


@pytest.mark.parametrize("batch_size", [16, 5])
def test_every_forward_pass_gets_the_frames_one_pass_gives_it(h264, backbone, batch_size):
    """How many frames share a forward pass changes a frame's bits (a frame alone vs among
    4: up to 1.4e-6 on the sample clips), so parts must group steps exactly as one pass."""
    passes: list = []

    def record(_module, inputs, _output):
        x = inputs[0]
        passes.append(tuple(float(v) for v in x.flatten(1).sum(1)))

    handle = backbone.net.register_forward_hook(record)
    try:
        extract_features(h264, backbone, parts=1, batch_size=batch_size)
        one = sorted(passes)
        passes.clear()
        extract_features(h264, backbone, parts=3, batch_size=batch_size)
        many = sorted(passes)
    finally:
        handle.remove()
    assert many == one
    sizes = sorted(len(p) for p in one)
    assert sizes.count(4) >= 10 and (batch_size == 16 or sizes.count(1) >= 5)


@pytest.mark.parametrize("name", ["h264_audio", "h264_ntsc", "hevc", "transport_stream", "open_gop"])
def test_other_videos_in_parts_are_one_pass_bit_for_bit(name, request, backbone):
    path = request.getfixturevalue(name)
    one = extract_features(path, backbone, parts=1)
    many = extract_features(path, backbone, parts=3)
    _identical(one, many)
    # cut at IDRs; an open GOP has none after the first, and in this MPEG-TS file a seek
    # does not land on the keyframe asked for: one pass
    assert many.parts == (1 if name in ("open_gop", "transport_stream") else 3)


def test_the_sampled_frames_are_the_sampler_s(h264):
    """The steps' images in parts are the frames FrameSampler resizes (the same pixels)."""
    plan = P.plan_parts(h264, 3, probe(h264).duration)
    images = {}
    with P.PartDecoders(plan, 2.0, (32, 24)) as dec:
        for batch in dec.batches():
            for step, image in batch:
                assert step not in images
                images[step] = image
        joined = dec.join()
    want = np.stack([sf.image for sf in FrameSampler(h264, size=(32, 24))])
    assert sorted(images) == list(range(len(want))) == list(range(len(joined.picks)))
    assert np.array_equal(np.stack([images[k] for k in range(len(want))]), want)


# ----------------------------------------------------------------------------- when parts fail


def test_a_mismatch_decodes_again_in_one_pass(h264, backbone, monkeypatch):
    one = extract_features(h264, backbone, parts=1)
    real = P.pts_steps
    monkeypatch.setattr(P, "pts_steps", lambda *a: real(*a)[:-1])  # pretend one step is missing
    again = extract_features(h264, backbone, parts=3)
    assert again.parts == 1
    _identical(one, again)


def test_a_decoder_that_dies_is_a_mismatch_and_the_others_are_stopped(h264):
    plan = P.plan_parts(h264, 3, probe(h264).duration)
    with P.PartDecoders(plan, 2.0, (32, 24)) as dec:
        procs = [p.proc for p in dec._parts]
        procs[1].kill()  # before it can have finished (a part may finish within the first batch)
        with pytest.raises(P.PartsMismatch, match="ended early"):
            for _ in dec.batches():
                pass
    assert all(p.poll() is not None for p in procs)


def test_corrupt_data_mid_file_gives_the_one_pass_error(h264, backbone, tmp_path):
    data = bytearray(h264.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 4000] = bytes(4000)  # a hole in the middle of the video data
    bad = tmp_path / "hole.mp4"
    bad.write_bytes(bytes(data))
    errors = []
    for parts in (1, 3):
        try:
            ex = extract_features(bad, backbone, parts=parts)
            errors.append(("ok", ex.n_frames, ex.features.tobytes()))
        except VideoError as exc:
            errors.append(("error", str(exc)))
    assert errors[0] == errors[1]


def _part_processes(parent: int) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                cmd = (d / "cmdline").read_bytes()
            except OSError:
                continue
            if b"acsumgan.media.decode_parts" in cmd and int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                pids.append(int(d.name))
    return pids


def _running(pid: int) -> bool:
    """A process that is there and not a zombie (a zombie has an empty command line)."""
    try:
        return bool(Path(f"/proc/{pid}/cmdline").read_bytes())
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG")
def test_decoders_die_with_a_killed_parent(h264, tmp_path):
    script = (
        "import sys, time\n"
        "import acsumgan.media.decode_parts as P\n"
        "from acsumgan.media.decode import probe\n"
        "P.MIN_DECODE_PART_SECONDS = 5.0\n"
        f"plan = P.plan_parts({str(h264)!r}, 3, probe({str(h264)!r}).duration)\n"
        "dec = P.PartDecoders(plan, 2.0, (32, 24))\n"
        "next(dec.batches())\n"
        "print('running', flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "running"
        children = [c for c in _part_processes(parent.pid) if _running(c)]
        assert children  # parts still waiting for credit (a fast one may be through already)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_running(c) for c in children):
            time.sleep(0.1)
        assert [c for c in children if _running(c)] == []
    finally:
        if parent.poll() is None:
            parent.kill()
        for c in _part_processes(os.getpid()):
            os.kill(c, signal.SIGKILL)
