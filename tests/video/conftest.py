"""Small test videos generated with PyAV (scene changes, audio, odd containers, bad files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

#: The real sample videos shipped with the project's shared data.
REAL_VIDEOS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "videos"

SAMPLE_RATE = 16000


@dataclass
class GenVideo:
    """A generated video and what is known about it."""

    path: Path
    n_frames: int
    fps: Fraction
    width: int
    height: int
    pts: list[int] | None = None  # in time_base units
    time_base: Fraction | None = None
    scene_starts: list[int] = field(default_factory=list)  # first frame of each scene
    tones: list[float] = field(default_factory=list)  # audio frequency per scene (Hz)


# ----------------------------------------------------------------------------- frame painters


def _scene_frame(scene: int, j: int, w: int, h: int) -> np.ndarray:
    """Frame ``j`` of scene ``scene``: each scene a distinct look, mild motion inside."""
    yy, xx = np.mgrid[0:h, 0:w]
    kind = scene % 4
    if kind == 0:  # red field, white square moving right
        img = np.zeros((h, w, 3), np.uint8)
        img[..., 0] = 200
        x0 = (j * 2) % max(1, w - h // 3)
        img[h // 3 : 2 * h // 3, x0 : x0 + h // 3] = 255
    elif kind == 1:  # blue/yellow checkerboard drifting
        c = (((xx + j) // 12 + yy // 12) % 2).astype(bool)
        img = np.zeros((h, w, 3), np.uint8)
        img[c] = (250, 220, 0)
        img[~c] = (0, 40, 180)
    elif kind == 2:  # green horizontal stripes scrolling
        s = (((yy + j) // 6) % 2).astype(bool)
        img = np.zeros((h, w, 3), np.uint8)
        img[s] = (20, 160, 40)
        img[~s] = (230, 240, 230)
    else:  # grey diagonal gradient with a dark disc moving down
        g = ((xx + yy) * 255 // (w + h)).astype(np.uint8)
        img = np.repeat(g[..., None], 3, axis=2)
        cy, cx = (h // 4 + j) % h, w // 2
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < (h // 5) ** 2] = (10, 10, 10)
    return img


def _tone(freq: float, start_sample: int, n: int) -> np.ndarray:
    t = (np.arange(start_sample, start_sample + n) / SAMPLE_RATE).astype(np.float64)
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_video(path: Path, frames, fps=30, codec="libx264", fmt=None, size=(64, 48), pts=None,
                time_base=None, audio_tones=None, scene_of_frame=None, audio_codec="aac", options=None,
                pix_fmt="yuv420p") -> None:
    """Encode ``frames`` (iterable of HxWx3 uint8) to ``path``.

    ``pts``/``time_base`` give explicit timestamps (variable frame rate). With
    ``audio_tones`` (one frequency per scene, ``scene_of_frame[i]`` the scene of frame
    i) a mono tone track follows the scenes.
    """
    w, h = size
    fps = Fraction(fps)
    with av.open(str(path), "w", format=fmt) as out:
        vs = out.add_stream(codec, rate=fps, options=options or {})
        vs.width, vs.height, vs.pix_fmt = w, h, pix_fmt
        if time_base is not None:
            vs.codec_context.time_base = time_base
        tb = time_base or (1 / fps)
        aus = None
        if audio_tones is not None:
            aus = out.add_stream(audio_codec, rate=SAMPLE_RATE, layout="mono")
            a_pos = 0
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            f.pts = pts[i] if pts is not None else i
            f.time_base = tb
            for p in vs.encode(f):
                out.mux(p)
            if aus is not None:
                # audio up to the end of this frame, with this frame's scene tone
                end = int(round((i + 1) / fps * SAMPLE_RATE))
                tone = audio_tones[scene_of_frame[i]]
                while a_pos < end:
                    n = min(1024, end - a_pos)
                    af = av.AudioFrame.from_ndarray(_tone(tone, a_pos, n)[None, :], format="flt", layout="mono")
                    af.sample_rate = SAMPLE_RATE
                    af.pts = a_pos
                    af.time_base = Fraction(1, SAMPLE_RATE)
                    for p in aus.encode(af):
                        out.mux(p)
                    a_pos += n
        for p in vs.encode(None):
            out.mux(p)
        if aus is not None:
            for p in aus.encode(None):
                out.mux(p)


def make_scene_video(path: Path, scene_lengths, fps=10, size=(96, 72), audio_tones=None, **kw) -> GenVideo:
    starts = list(np.cumsum([0] + list(scene_lengths[:-1])))
    scene_of = np.repeat(np.arange(len(scene_lengths)), scene_lengths)
    frames = (_scene_frame(int(scene_of[i]), i - starts[scene_of[i]], *size) for i in range(int(sum(scene_lengths))))
    write_video(path, frames, fps=fps, size=size, audio_tones=audio_tones, scene_of_frame=scene_of, **kw)
    return GenVideo(path, int(sum(scene_lengths)), Fraction(fps), size[0], size[1],
                    scene_starts=[int(s) for s in starts], tones=list(audio_tones or []))


def make_counter_video(path: Path, n: int, fps=30, size=(64, 48), **kw) -> GenVideo:
    """Each frame a different flat grey level plus a moving bar (every frame distinct)."""
    def frames():
        for i in range(n):
            img = np.full((size[1], size[0], 3), (i * 37) % 256, np.uint8)
            img[:, (i * 3) % size[0]] = 255 - img[0, 0]
            yield img
    write_video(path, frames(), fps=fps, size=size, **kw)
    return GenVideo(path, n, Fraction(fps), size[0], size[1], pts=kw.get("pts"), time_base=kw.get("time_base"))


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def vdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def backbone():
    from acsumgan.video.backbones import get_backbone

    return get_backbone("efficientnet-lite0")


@pytest.fixture(scope="session")
def scenes_video(vdir) -> GenVideo:
    """4 scenes at 10 fps (16 s), 96x72 mp4, changes at frames 40, 70, 120 (on steps)."""
    return make_scene_video(vdir / "scenes.mp4", [40, 30, 50, 40], fps=10)


@pytest.fixture(scope="session")
def scenes_audio_video(vdir) -> GenVideo:
    """5 scenes at 25 fps (~20 s) with a different tone per scene, mp4 h264 + aac.

    Scene changes at frames 75, 150, 275, 375 (not all on step boundaries: steps are
    every 12.5 frames).
    """
    return make_scene_video(vdir / "scenes_audio.mp4", [75, 75, 125, 100, 125], fps=25, size=(96, 72),
                            audio_tones=[440.0, 1000.0, 660.0, 1500.0, 300.0])


@pytest.fixture(scope="session")
def cfr30(vdir) -> GenVideo:
    return make_counter_video(vdir / "cfr30.mp4", 100, fps=30)


@pytest.fixture(scope="session")
def cfr25(vdir) -> GenVideo:
    return make_counter_video(vdir / "cfr25.mp4", 80, fps=25)


@pytest.fixture(scope="session")
def cfr10(vdir) -> GenVideo:
    return make_counter_video(vdir / "cfr10.mkv", 33, fps=10, fmt="matroska", codec="mpeg4")


@pytest.fixture(scope="session")
def vfr(vdir) -> GenVideo:
    """Variable frame rate (millisecond timestamps with gaps and bursts), matroska."""
    pts = [0, 40, 90, 100, 110, 480, 520, 530, 1200, 1210, 1220, 1600, 1990, 2000, 2600, 2633, 2666, 3100]
    return make_counter_video(vdir / "vfr.mkv", len(pts), fps=30, fmt="matroska", pts=pts,
                              time_base=Fraction(1, 1000))


@pytest.fixture(scope="session")
def mkv_video(vdir) -> GenVideo:
    return make_scene_video(vdir / "scenes.mkv", [20, 20], fps=10, size=(64, 48), fmt="matroska")


@pytest.fixture(scope="session")
def webm_video(vdir) -> GenVideo:
    codec = "libvpx-vp9" if "libvpx-vp9" in av.codecs_available else "libvpx"
    if codec not in av.codecs_available:
        pytest.fail("this PyAV build has no VP8/VP9 encoder")
    return make_scene_video(vdir / "scenes.webm", [15, 15], fps=10, size=(64, 48), fmt="webm", codec=codec,
                            audio_tones=[500.0, 800.0], audio_codec="libopus" if "libopus" in av.codecs_available else "vorbis",
                            options={"deadline": "realtime", "cpu-used": "8"})


@pytest.fixture(scope="session")
def one_frame(vdir) -> GenVideo:
    return make_counter_video(vdir / "one.mp4", 1, fps=25)


@pytest.fixture(scope="session")
def bad_files(vdir) -> dict[str, Path]:
    """Files that are not usable videos, by name of the problem."""
    d = vdir / "bad"
    d.mkdir()
    files = {}
    files["missing"] = d / "does_not_exist.mp4"
    (d / "empty.mp4").write_bytes(b"")
    files["empty"] = d / "empty.mp4"
    (d / "text.mp4").write_text("this is not a video, just some text\n" * 20)
    files["text"] = d / "text.mp4"
    files["folder"] = d / "folder.mp4"
    files["folder"].mkdir()
    # audio only: AAC in MP4 (.m4a)
    audio = d / "audio_only.m4a"
    with av.open(str(audio), "w", format="mp4") as out:
        s = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        for k in range(20):
            af = av.AudioFrame.from_ndarray(_tone(440, k * 1024, 1024)[None, :], format="flt", layout="mono")
            af.sample_rate, af.pts, af.time_base = SAMPLE_RATE, k * 1024, Fraction(1, SAMPLE_RATE)
            for p in s.encode(af):
                out.mux(p)
        for p in s.encode(None):
            out.mux(p)
    files["audio_only"] = audio
    # an MP4 cut in half: its index (written at the end) is gone
    full = vdir / "bad_full.mp4"
    rng = np.random.default_rng(0)
    write_video(full, (rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(60)), fps=30)
    data = full.read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 2])
    files["truncated_mp4"] = d / "truncated.mp4"
    # the same MP4 with garbage written over 2000 bytes in the middle
    cor = bytearray(data)
    mid = len(data) // 2
    cor[mid : mid + 2000] = bytes((b * 7 + 13) % 256 for b in cor[mid : mid + 2000])
    (d / "corrupt.mp4").write_bytes(bytes(cor))
    files["corrupt_mp4"] = d / "corrupt.mp4"
    return files


@pytest.fixture(scope="session")
def truncated_mkv(vdir) -> tuple[Path, int]:
    """A Matroska file cut in half (still opens, decodes about half); returns (path, full frame count)."""
    full = vdir / "trunc_full.mkv"
    make_counter_video(full, 60, fps=30, fmt="matroska")
    data = full.read_bytes()
    p = vdir / "truncated.mkv"
    p.write_bytes(data[: len(data) // 2])
    return p, 60


def distance_scorer(features: np.ndarray) -> np.ndarray:
    """A simple real scorer: how far each step is from the video's mean feature."""
    return np.linalg.norm(features - features.mean(0), axis=1)


@pytest.fixture(scope="session")
def features_of(backbone):
    """``features_of(path)``: extract_features with the default settings, once per file."""
    from acsumgan.video.backbones import extract_features

    cache = {}

    def get(path):
        key = str(Path(path).resolve())
        if key not in cache:
            cache[key] = extract_features(path, backbone)
        return cache[key]

    return get


@pytest.fixture(scope="session")
def vtest_summary(backbone, tmp_path_factory):
    """The full pipeline on the real sample vtest.avi (run once, checked by several tests)."""
    from acsumgan.video.summarize import summarize_video

    return summarize_video(REAL_VIDEOS / "vtest.avi", distance_scorer, tmp_path_factory.mktemp("vtest") / "out",
                           backbone=backbone)
