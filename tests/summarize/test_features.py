"""Features of a video (extract_features) and the one per-video feature cache of ``summarize``
and ``dataset build`` (video_features, the entries of OUT.parts/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from acsumgan.data.dataset import Video, derive_fields, save_dataset
from acsumgan.errors import ConfigError, VideoError
from acsumgan.progress import Event
from acsumgan.summarize.build import PART_VERSION, build_dataset, parts_dir
from acsumgan.summarize.features import (
    FEATURES_FILE,
    entry_key,
    extract_features,
    features_digest,
    read_feature_cache,
    source_identity,
    video_features,
)
from acsumgan.summarize.kts import shot_boundaries


class Stop(Exception):
    pass


class Counting:
    """The real backbone, counting the frames it is given."""

    def __init__(self, bb):
        self.bb, self.name, self.dim, self.input_size = bb, bb.name, bb.dim, bb.input_size
        self.frames = 0

    def __call__(self, x):
        self.frames += len(x)
        return self.bb(x)


def test_extract_features_streams_the_video(scenes_video, backbone):
    events = []
    ex = extract_features(scenes_video.path, backbone, batch_size=5, progress=events.append)
    assert {e.stage for e in events} == {"features"} and {e.unit for e in events} == {"frames"}
    calls = [(e.done, e.total) for e in events]
    assert ex.features.shape == (32, 1280) and ex.features.dtype == np.float32
    assert ex.picks.tolist() == list(range(0, 160, 5))
    assert np.allclose(ex.timestamps, np.arange(32) * 0.5)
    assert ex.n_frames == 160 and ex.fps == 10.0 and (ex.width, ex.height) == (96, 72)
    assert not ex.has_audio and ex.backbone == "efficientnet-lite0"
    assert calls[-1] == (160, 160)
    assert len(calls) == 32 // 5 + 1
    assert all(a[0] < b[0] for a, b in zip(calls, calls[1:]))
    # the same features as running the backbone on the sampled frames directly
    from acsumgan.media.decode import FrameSampler

    frames = np.stack([f.image for f in FrameSampler(scenes_video.path, size=(224, 224))])
    assert np.allclose(backbone(frames), ex.features, atol=1e-4)


def test_extract_features_bad_inputs(bad_files, backbone):
    for name in ("empty", "text", "audio_only"):
        with pytest.raises(VideoError):
            extract_features(bad_files[name], backbone)
    with pytest.raises(ConfigError):
        extract_features(bad_files["empty"], backbone, rate=0)


def test_background_decoding_gives_the_same_features(scenes_audio_video, backbone):
    ref = extract_features(scenes_audio_video.path, backbone, background_decode=False, decoder_threads=0)
    for threads in (1, 0):
        ex = extract_features(scenes_audio_video.path, backbone, background_decode=True, decoder_threads=threads)
        assert np.array_equal(ex.features, ref.features)
        assert ex.picks.tolist() == ref.picks.tolist() and ex.n_frames == ref.n_frames
        assert np.array_equal(ex.frame_times, ref.frame_times)


def test_background_decoding_errors_and_early_stop(bad_files, backbone):
    import threading

    from acsumgan.media.decode import prefetch

    with pytest.raises(VideoError, match="not a video file"):
        extract_features(bad_files["text"], backbone)

    def items():
        yield 1
        yield 2
        raise ValueError("third item")

    got = []
    with pytest.raises(ValueError, match="third item"):
        for x in prefetch(items(), 1):
            got.append(x)
    assert got == [1, 2]

    closed = []

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(threading.current_thread().name)

    it = prefetch(endless(), 4)
    assert [next(it) for _ in range(10)] == list(range(10))
    it.close()  # the consumer stops early: the producer is closed on its own thread and joined
    assert closed == ["acsumgan-decode"]
    assert not any(t.name == "acsumgan-decode" for t in threading.enumerate())


def test_video_features_reports_events_per_video_and_reuses_the_cache(scenes_video, mkv_video, features_of, tmp_path):
    videos = [tmp_path / "a.mp4", tmp_path / "b.mkv"]
    shutil.copy(scenes_video.path, videos[0])
    shutil.copy(mkv_video.path, videos[1])
    out = tmp_path / "out"
    out.mkdir()
    events: list[Event] = []
    f = video_features(videos, out, "efficientnet-lite0", progress=events.append)
    assert f.computed == videos and f.reused == [] and f.keys == ["video_1", "video_2"]
    assert (out / FEATURES_FILE).is_file() and f.path == out / FEATURES_FILE
    assert [e.item for e in events if e.note] == ["a.mp4", "b.mkv"]
    assert [(e.stage, e.done, e.total, e.note) for e in events if e.note] == [
        ("features", 160, 160, "computed"),
        ("features", 40, 40, "computed"),
    ]
    assert {e.stage for e in events} == {"features", "shots"}
    assert {e.item for e in events} == {"a.mp4", "b.mkv"}  # every event names its video
    shots = [e for e in events if e.stage == "shots"]
    assert [(e.item, e.done, e.total) for e in shots] == [("a.mp4", 1, 1), ("b.mkv", 1, 1)]
    for ex, cps, src in zip(f.extracted, f.change_points, videos):
        ref = features_of(src)
        assert np.allclose(ex.features, ref.features, atol=1e-5) and np.array_equal(ex.picks, ref.picks)
        assert np.array_equal(cps, shot_boundaries(ex.features, ex.picks, ex.n_frames))
    assert f.change_points[0][:, 0].tolist() == [0, 40, 70, 120]

    events.clear()
    again = video_features(videos, out, "efficientnet-lite0", progress=events.append)
    assert again.computed == [] and again.reused == videos
    assert [(e.stage, e.item, e.done, e.total, e.note) for e in events] == [
        ("features", "a.mp4", 160, 160, "reused"),
        ("features", "b.mkv", 40, 40, "reused"),
    ]
    for a, b in zip(f.extracted, again.extracted):
        assert np.array_equal(a.features, b.features) and np.array_equal(a.frame_times, b.frame_times)
        assert a.frame_pts == b.frame_pts and a.key_frames == b.key_frames
    assert all(np.array_equal(a, b) for a, b in zip(f.change_points, again.change_points))


def test_the_file_follows_the_call_order_and_the_digest_needs_no_read(scenes_video, mkv_video, cfr30, tmp_path):
    """After video_features the file holds exactly the call's videos under the call's keys
    (the keys training is given), also when a later call lists the same videos in another
    order (before, the file was left as it was and ``video_1`` named another video than the
    call's first); so the digest of the features in memory is the file's."""
    videos = [tmp_path / "a.mp4", tmp_path / "b.mkv", tmp_path / "c.mp4"]
    for g, v in zip((scenes_video, mkv_video, cfr30), videos):
        shutil.copy(g.path, v)
    out = tmp_path / "out"
    out.mkdir()
    target = out / FEATURES_FILE

    def stored() -> dict[str, str]:
        return {e.key: Path(src).name for src, e in read_feature_cache(target, "efficientnet-lite0", 2.0).items()}

    first = video_features(videos, out, "efficientnet-lite0")
    assert stored() == {"video_1": "a.mp4", "video_2": "b.mkv", "video_3": "c.mp4"}
    assert first.digest() == features_digest(target)
    assert first.digest(["video_2", "video_3"]) == features_digest(target, ["video_2", "video_3"])
    assert first.digest() != first.digest(["video_2", "video_3"])

    order = [videos[1], videos[0], videos[2]]
    again = video_features(order, out, "efficientnet-lite0")
    assert again.computed == [] and again.reused == order
    assert stored() == {"video_1": "b.mkv", "video_2": "a.mp4", "video_3": "c.mp4"}  # rewritten in this order
    assert again.digest() == features_digest(target)
    assert again.digest(["video_1", "video_3"]) == features_digest(target, ["video_1", "video_3"])
    # the same features, under other keys
    assert again.digest() != first.digest()
    mtime = target.stat().st_mtime_ns
    video_features(order, out, "efficientnet-lite0")  # the same order again: nothing to write
    assert target.stat().st_mtime_ns == mtime


def test_a_build_part_is_a_feature_cache_entry(scenes_video, cfr30, backbone, tmp_path):
    """dataset build keeps each finished video as an entry of the one feature cache: the
    summarize cache's reader reads it, with the video's identity, features and shots."""
    out = tmp_path / "d.h5"

    def stop(ev):
        if ev.stage == "videos" and ev.done == 1:
            raise Stop()

    with pytest.raises(Stop):
        build_dataset([scenes_video.path, cfr30.path], out, backbone=backbone, progress=stop)
    ident = source_identity(scenes_video.path)
    key = entry_key(ident, "efficientnet-lite0", 2.0, PART_VERSION, None)
    parts = list(parts_dir(out).iterdir())
    assert [p.name for p in parts] == [f"{key}.h5"]
    assert read_feature_cache(parts[0], "efficientnet-lite0", 1.0) == {}  # another rate
    assert read_feature_cache(parts[0], "efficientnet-lite0", 2.0, {"entry_key": "other"}) == {}
    entries = read_feature_cache(parts[0], "efficientnet-lite0", 2.0, {"entry_key": key})
    assert list(entries) == [ident["source_path"]]
    got_ident, ex, cps, _key = entries[ident["source_path"]]
    assert got_ident == ident
    ref = extract_features(scenes_video.path, backbone)
    assert np.array_equal(ex.features, ref.features) and np.array_equal(ex.picks, ref.picks)
    assert ex.n_frames == 160 and ex.fps == 10.0 and ex.backbone == "efficientnet-lite0" and ex.rate == 2.0
    assert np.array_equal(ex.frame_times, ref.frame_times) and ex.key_frames == ref.key_frames
    assert cps[:, 0].tolist() == [0, 40, 70, 120]
    # a maximum shot length is part of the identity: another name
    assert entry_key(ident, "efficientnet-lite0", 2.0, PART_VERSION, 2.0) != key
    assert entry_key(ident, "efficientnet-lite0", 1.0, PART_VERSION, None) != key
    assert entry_key(ident, "googlenet", 2.0, PART_VERSION, None) != key


def test_an_old_parts_folder_is_ignored(scenes_video, backbone, features_of, tmp_path):
    """Part files of the first format (own attributes, no cache version), or unreadable ones,
    even under the name of this version's entry, are computed again, not read or crashed on."""
    out = tmp_path / "d.h5"
    parts = parts_dir(out)
    parts.mkdir()
    ex = features_of(scenes_video.path)
    v = derive_fields(
        Video(
            key="video_1",
            features=np.zeros_like(ex.features),
            picks=ex.picks,
            n_frames=ex.n_frames,
            change_points=np.array([[0, 159]]),
            video_name=scenes_video.path.name,
            extra={"fps": np.float64(ex.fps), "source_path": str(scenes_video.path.resolve())},
        )
    )
    old = {"backbone": "efficientnet-lite0", "rate": 2.0, "part_key": "x", "feature_dim": 1280, "built_at": 0.0}
    key = entry_key(source_identity(scenes_video.path), "efficientnet-lite0", 2.0, PART_VERSION, None)
    save_dataset(parts / f"{key}.h5", [v], attrs=old)
    save_dataset(parts / "0123456789abcdef0123.h5", [v], attrs=old)
    counting = Counting(backbone)
    events: list[Event] = []
    build_dataset([scenes_video.path], out, backbone=counting, progress=events.append)
    assert counting.frames == 32
    assert [(e.done, e.total, e.note) for e in events if e.stage == "videos"] == [(0, 1, ""), (1, 1, "")]
    assert not parts.exists()
    parts.mkdir()
    (parts / f"{key}.h5").write_bytes(b"not HDF5")
    counting = Counting(backbone)
    build_dataset([scenes_video.path], out, backbone=counting)
    assert counting.frames == 32
