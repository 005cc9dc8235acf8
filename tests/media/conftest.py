"""Small test videos generated with PyAV through :mod:`acsumgan.synthetic.media` (scene
changes, audio, odd containers, variable frame rate). The bad files (and the one-frame
video) are ``bad_videos`` / ``one_frame`` of tests/conftest.py, shared with the
reliability tests."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from acsumgan.synthetic.media import GeneratedVideo, counter_video, plain_scene_frame, scene_video

#: The real sample videos shipped with the project's shared data.
REAL_VIDEOS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "videos"


def plain_scene_video(path: Path, scene_lengths, fps=10, size=(96, 72), audio_tones=None, **kw) -> GeneratedVideo:
    """The scene videos of these tests: :func:`plain_scene_frame` looks, a tone per scene
    (``audio_tones``, amplitude 0.3) when given; other keywords as ``write_video``."""
    return scene_video(
        path, scene_lengths, fps=fps, size=size, painter=plain_scene_frame, tones=audio_tones, tone_level=0.3, **kw
    )


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def vdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def backbone():
    from acsumgan.summarize.backbones import get_backbone

    return get_backbone("efficientnet-lite0")


@pytest.fixture(scope="session")
def scenes_video(vdir) -> GeneratedVideo:
    """4 scenes at 10 fps (16 s), 96x72 mp4, changes at frames 40, 70, 120 (on steps)."""
    return plain_scene_video(vdir / "scenes.mp4", [40, 30, 50, 40], fps=10)


@pytest.fixture(scope="session")
def scenes_audio_video(vdir) -> GeneratedVideo:
    """5 scenes at 25 fps (~20 s) with a different tone per scene, mp4 h264 + aac.

    Scene changes at frames 75, 150, 275, 375 (not all on step boundaries: steps are
    every 12.5 frames).
    """
    return plain_scene_video(
        vdir / "scenes_audio.mp4",
        [75, 75, 125, 100, 125],
        fps=25,
        size=(96, 72),
        audio_tones=[440.0, 1000.0, 660.0, 1500.0, 300.0],
    )


@pytest.fixture(scope="session")
def cfr30(vdir) -> GeneratedVideo:
    return counter_video(vdir / "cfr30.mp4", 100, fps=30)


@pytest.fixture(scope="session")
def cfr25(vdir) -> GeneratedVideo:
    return counter_video(vdir / "cfr25.mp4", 80, fps=25)


@pytest.fixture(scope="session")
def cfr10(vdir) -> GeneratedVideo:
    return counter_video(vdir / "cfr10.mkv", 33, fps=10, fmt="matroska", codec="mpeg4")


@pytest.fixture(scope="session")
def vfr(vdir) -> GeneratedVideo:
    """Variable frame rate (millisecond timestamps with gaps and bursts), matroska."""
    pts = [0, 40, 90, 100, 110, 480, 520, 530, 1200, 1210, 1220, 1600, 1990, 2000, 2600, 2633, 2666, 3100]
    return counter_video(vdir / "vfr.mkv", len(pts), fps=30, fmt="matroska", pts=pts, time_base=Fraction(1, 1000))


@pytest.fixture(scope="session")
def mkv_video(vdir) -> GeneratedVideo:
    return plain_scene_video(vdir / "scenes.mkv", [20, 20], fps=10, size=(64, 48), fmt="matroska")


@pytest.fixture(scope="session")
def webm_video(vdir) -> GeneratedVideo:
    codec = "libvpx-vp9" if "libvpx-vp9" in av.codecs_available else "libvpx"
    if codec not in av.codecs_available:
        pytest.fail("this PyAV build has no VP8/VP9 encoder")
    audio_codec = "libopus" if "libopus" in av.codecs_available else "vorbis"
    return plain_scene_video(
        vdir / "scenes.webm",
        [15, 15],
        fps=10,
        size=(64, 48),
        fmt="webm",
        codec=codec,
        audio_tones=[500.0, 800.0],
        audio_codec=audio_codec,
        options={"deadline": "realtime", "cpu-used": "8"},
    )


@pytest.fixture(scope="session")
def bad_files(bad_videos) -> dict[str, Path]:
    """Files that are not usable videos, by name of the problem (tests/conftest.py's ``bad_videos``)."""
    return bad_videos


@pytest.fixture(scope="session")
def truncated_mkv(bad_videos) -> tuple[Path, int]:
    """A Matroska file of counter frames (30 fps) cut in half (still opens, decodes about
    half); returns (path, frame count before the cut: 60, see ``bad_videos``)."""
    return bad_videos["truncated_counter_mkv"], 60


def distance_scorer(features: np.ndarray) -> np.ndarray:
    """A simple real scorer: how far each step is from the video's mean feature."""
    return np.linalg.norm(features - features.mean(0), axis=1)


@pytest.fixture(scope="session")
def features_of(backbone):
    """``features_of(path)``: extract_features with the default settings, once per file."""
    from acsumgan.summarize.features import extract_features

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
    from acsumgan.summarize.options import SummarizeOptions
    from acsumgan.summarize.pipeline import summarize_video

    out = tmp_path_factory.mktemp("vtest") / "out"
    return summarize_video(REAL_VIDEOS / "vtest.avi", distance_scorer, out, SummarizeOptions(backbone=backbone))
