"""Building an eccv16 dataset from videos: content, order, resuming after an interruption."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from acsumgan.data.dataset import dataset_attrs, load_dataset
from acsumgan.errors import ConfigError, VideoError
from acsumgan.summarize.build import build_dataset, parts_dir
from acsumgan.summarize.kts import shot_boundaries


class Counting:
    """The real backbone, counting the frames it is given."""

    def __init__(self, bb):
        self.bb, self.name, self.dim, self.input_size = bb, bb.name, bb.dim, bb.input_size
        self.frames = 0

    def __call__(self, x):
        self.frames += len(x)
        return self.bb(x)


class Stop(Exception):
    pass


@pytest.mark.slow
def test_build_writes_the_eccv16_schema(scenes_video, cfr30, mkv_video, backbone, features_of, tmp_path):
    out = tmp_path / "mine.h5"
    videos = [scenes_video.path, cfr30.path, mkv_video.path]
    assert build_dataset(videos, out, backbone=backbone) == out
    data = load_dataset(out, purpose="summarize")
    assert list(data) == ["video_1", "video_2", "video_3"]
    for key, src in zip(data, videos):
        v = data[key]
        ex = features_of(src)
        assert v.video_name == src.name
        assert v.extra["source_path"] == str(src.resolve())
        assert float(v.extra["fps"]) == ex.fps
        assert np.allclose(v.features, ex.features, atol=1e-5)
        assert np.array_equal(v.picks, ex.picks)
        assert v.n_frames == ex.n_frames and v.n_steps == len(ex.picks)
        assert np.array_equal(v.change_points, shot_boundaries(ex.features, ex.picks, ex.n_frames))
        assert np.array_equal(v.n_frame_per_seg, v.change_points[:, 1] - v.change_points[:, 0] + 1)
        assert v.user_summary is None and v.gtscore is None
    assert data["video_1"].change_points[:, 0].tolist() == [0, 40, 70, 120]
    attrs = dataset_attrs(out)
    assert attrs["backbone"] == "efficientnet-lite0" and attrs["rate"] == 2.0 and attrs["feature_dim"] == 1280
    assert not parts_dir(out).exists()
    with h5py.File(out) as h5:
        assert set(h5["video_1"]) >= {
            "features",
            "picks",
            "n_frames",
            "n_steps",
            "change_points",
            "n_frame_per_seg",
            "video_name",
            "fps",
            "source_path",
        }


def test_build_resumes_after_an_interruption(scenes_video, cfr30, mkv_video, backbone, features_of, tmp_path):
    out = tmp_path / "mine.h5"
    videos = [scenes_video.path, cfr30.path, mkv_video.path]
    events = []

    def interrupt(ev):
        events.append(ev)
        if ev.stage == "videos" and ev.done == 1:  # the first video is finished
            raise Stop()

    counting = Counting(backbone)
    with pytest.raises(Stop):
        build_dataset(videos, out, backbone=counting, progress=interrupt)
    assert counting.frames == 32  # the first video's steps only
    assert not out.exists()
    parts = list(parts_dir(out).glob("*.h5"))
    assert len(parts) == 1
    mtime = parts[0].stat().st_mtime_ns

    counting = Counting(backbone)
    seen = []

    def watch(ev):
        seen.append(ev)
        if ev.stage == "videos" and ev.done == 1:
            assert parts[0].stat().st_mtime_ns == mtime  # the cached part was not rewritten

    build_dataset(videos, out, backbone=counting, progress=watch)
    finished = [e for e in seen if e.stage == "videos" and e.done > 0]
    assert [e.note == "cached" for e in finished] == [True, False, False]
    assert [(e.done, e.total) for e in finished] == [(1, 3), (2, 3), (3, 3)]
    assert counting.frames == 7 + 8  # only videos 2 and 3 were computed
    assert any(e.stage == "features" and e.item == videos[1].name for e in seen)  # frame progress
    data = load_dataset(out, purpose="summarize")
    assert list(data) == ["video_1", "video_2", "video_3"]
    assert np.allclose(data["video_1"].features, features_of(videos[0]).features, atol=1e-5)
    assert not parts_dir(out).exists()


def test_parts_of_other_settings_are_not_reused(scenes_video, backbone, tmp_path):
    out = tmp_path / "d.h5"

    def stop_at_end(ev):
        if ev.stage == "videos" and ev.done == 1:
            raise Stop()

    with pytest.raises(Stop):
        build_dataset([scenes_video.path], out, backbone=backbone, rate=1.0, progress=stop_at_end)
    counting = Counting(backbone)
    seen = []
    build_dataset([scenes_video.path], out, backbone=counting, rate=2.0, progress=seen.append)
    assert counting.frames == 32 and [e for e in seen if e.stage == "videos" and e.done == 1][0].note != "cached"
    assert load_dataset(out)["video_1"].picks.tolist() == list(range(0, 160, 5))


def test_build_errors(scenes_video, bad_files, backbone, tmp_path):
    with pytest.raises(ConfigError):
        build_dataset([], tmp_path / "x.h5", backbone=backbone)
    with pytest.raises(VideoError, match="not found"):
        build_dataset([scenes_video.path, bad_files["missing"]], tmp_path / "x.h5", backbone=backbone)
    with pytest.raises(VideoError, match="audio only"):
        build_dataset([bad_files["audio_only"]], tmp_path / "x.h5", backbone=backbone)
    assert not (tmp_path / "x.h5").exists()


def test_build_can_limit_shot_length(scenes_video, backbone, tmp_path):
    out = build_dataset([scenes_video.path], tmp_path / "d.h5", backbone=backbone, max_shot_seconds=2)
    cp = load_dataset(out, purpose="summarize")["video_1"].change_points
    assert (cp[:, 1] - cp[:, 0] + 1).max() <= 20  # 2 s at 10 fps
    assert {40, 70, 120} <= set(cp[:, 0].tolist())  # the scene changes are kept
    assert dataset_attrs(out)["max_shot_seconds"] == 2.0
    with pytest.raises(ConfigError):
        build_dataset([scenes_video.path], tmp_path / "e.h5", backbone=backbone, max_shot_seconds=0)
