"""render_summary: a summary written again from analysis.h5 and edits.json, no model call."""

from __future__ import annotations

import hashlib
import json
import shutil

import av
import numpy as np
import pytest
from PIL import Image, ImageSequence

from acsumgan.errors import ConfigError, OutputError
from acsumgan.media.encode import SourceFrames, write_summary_video
from acsumgan.summarize.analysis import load_summary
from acsumgan.summarize.edits import check_edits, model_edits, save_edits
from acsumgan.summarize.exports import export_summary
from acsumgan.summarize.options import SummarizeOptions
from acsumgan.summarize.pipeline import summarize_videos
from acsumgan.summarize.render import render_summary
from acsumgan.synthetic.media import counter_video

N_FRAMES = 150  # < 256: a counter frame's grey level tells its index


def decoded(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="yuv420p") for f in c.decode(video=0)]


def digest(img: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(img).tobytes()).hexdigest()


def source_indices(summary_mp4, source_frames: list[np.ndarray]) -> list[int]:
    """The source frame index of each frame of a lossless summary: the source frame it is,
    bit for bit (every counter frame is distinct), checked against the counter's grey level."""
    index = {digest(f): i for i, f in enumerate(source_frames)}
    assert len(index) == len(source_frames)
    out = []
    for f in decoded(summary_mp4):
        i = index[digest(f)]
        h, w = f.shape[0] * 2 // 3, f.shape[1]
        y = f[:h, :w].astype(float)
        grey = (np.median(y) - 16) * 255 / 219  # limited-range luma back to the grey level
        assert abs(grey - (i * 37) % 256) <= 4, (i, grey)
        out.append(i)
    return out


def frames_of(ranges) -> list[int]:
    return [i for a, b in ranges for i in range(a, b + 1)]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A counter video summarized by the real pipeline (a model trained one epoch)."""
    d = tmp_path_factory.mktemp("render")
    video = counter_video(d / "counter.mp4", N_FRAMES, fps=10, size=(64, 48)).path
    out = d / "out"
    summarize_videos([video], out, SummarizeOptions(budget=0.4, epochs=1, crf=0))
    return video, out


@pytest.fixture
def folder(made, tmp_path):
    video, out = made
    dst = tmp_path / "out"
    shutil.copytree(out, dst)
    return dst


def test_render_without_edits_gives_the_models_summary_back(folder):
    before = [digest(f) for f in decoded(folder / "summary.mp4")]
    seg_before = (folder / "segments.json").read_bytes()
    files = render_summary(folder, options=SummarizeOptions(crf=0))
    assert [digest(f) for f in decoded(folder / "summary.mp4")] == before
    assert (folder / "segments.json").read_bytes() == seg_before
    assert files.summary_path == folder / "summary.mp4" and "edits_version" not in files.segments


def test_rendered_frames_are_exactly_the_kept_trimmed_ranges(folder, tmp_path):
    summary = load_summary(folder)
    cps = summary.change_points
    assert len(cps) >= 4
    e = model_edits(summary)
    assert len(e["kept"]) >= 2
    first = max(e["kept"], key=lambda k: k["end_frame"] - k["start_frame"])["shot"]  # the longest: trimmed
    dropped = next(k["shot"] for k in e["kept"] if k["shot"] != first)
    added = next(i for i in range(len(cps)) if i not in summary.selected)
    a, b = int(cps[first, 0]), int(cps[first, 1])
    assert b - a >= 6
    kept = [{"shot": first, "start_frame": a + 2, "end_frame": b - 3}]
    kept += [k for k in e["kept"] if k["shot"] not in (first, dropped)]
    kept.append({"shot": added, "start_frame": int(cps[added, 0]), "end_frame": int(cps[added, 1])})
    kept.sort(key=lambda k: k["shot"])
    saved = save_edits(folder, check_edits(summary, {**e, "kept": kept}, "t"), 0)
    events = []
    files = render_summary(folder, options=SummarizeOptions(crf=0), progress=events.append)
    ranges = [(k["start_frame"], k["end_frame"]) for k in kept]
    source = decoded(summary.video_path)
    assert source_indices(folder / "summary.mp4", source) == frames_of(ranges)
    # the same frames as the encoder writes of those ranges by itself
    ref = tmp_path / "ref.mp4"
    write_summary_video(summary.video_path, ranges, ref, source=SourceFrames.of(summary.extracted), crf=0)
    assert [digest(f) for f in decoded(ref)] == [digest(f) for f in decoded(folder / "summary.mp4")]
    seg = json.loads((folder / "segments.json").read_text())
    assert seg == json.loads(json.dumps(files.segments))
    assert seg["edits_version"] == saved["version"] == 1
    assert [(s["start_frame"], s["end_frame"]) for s in seg["shots"]] == ranges
    by = {s["shot"]: (s["chosen_by"], s["trimmed"]) for s in seg["shots"]}
    assert by[first] == ("person", True) and by[added] == ("person", False) and dropped not in by
    assert all(by[k["shot"]] == ("model", False) for k in kept if k["shot"] not in (first, added))
    assert seg["summary_frames"] == seg["summary_frames_written"] == len(frames_of(ranges))
    # the analysis now describes what was rendered; the model's choice is still there
    back = load_summary(folder)
    assert back.kept_ranges == ranges and model_edits(back)["model_selected"] == e["model_selected"]
    stages = [ev.stage for ev in events]
    assert stages[-1] == "summaries" and "encoding" in stages
    assert {ev.item for ev in events if ev.stage == "encoding"} == {summary.video_path.name}
    # the review page went with it
    assert (folder / "summary.html").is_file() and any((folder / "thumbs").iterdir())
    # the exports read the edited segments.json: a preview of every kept frame is those frames
    gif = export_summary(folder, "gif", fps=10)
    with Image.open(gif) as im:
        levels = [float(np.median(np.asarray(f.convert("L")))) for f in ImageSequence.Iterator(im)]
    want = frames_of(ranges)
    assert len(levels) == len(want)
    assert all(abs(got - (i * 37) % 256) <= 4 for got, i in zip(levels, want)), list(zip(levels, want))


def test_render_refuses_foreign_files_and_bad_edits(folder, tmp_path):
    with pytest.raises(ConfigError, match="no analysis.h5: summarize the video first"):
        render_summary(tmp_path / "nothing-here")
    summary = load_summary(folder)
    bad = {**model_edits(summary), "kept": [{"shot": 0, "start_frame": 5, "end_frame": 2}]}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    mp4 = (folder / "summary.mp4").read_bytes()
    with pytest.raises(ConfigError, match="is after end_frame") as e:
        render_summary(folder, tmp_path / "bad.json")
    assert "bad.json" in str(e.value)
    (folder / "summary.mp4").write_bytes(b"my own video")
    with pytest.raises(OutputError, match="not written by acsumgan") as e:
        render_summary(folder)
    assert "summary.mp4" in str(e.value)
    assert (folder / "summary.mp4").read_bytes() == b"my own video"
    assert mp4 != b"my own video"


def test_render_reuses_the_thumbnails_byte_for_byte(folder, tmp_path):
    """The shots are unchanged: render links thumbs/ into the new summary (no decoding),
    and the files are exactly those write_thumbnails writes; without them they are written."""
    import os

    from acsumgan.media.browser import write_thumbnails
    from acsumgan.summarize.ownership import Manifest
    from acsumgan.summarize.render import reusable_thumbs, summary_to_render

    summary = load_summary(folder)
    cps = [(int(a), int(b)) for a, b in summary.change_points]
    fresh = write_thumbnails(summary.video_path, cps, tmp_path / "fresh")
    thumbs = folder / "thumbs"
    assert sorted(p.name for p in thumbs.iterdir()) == [p.name for p in fresh]
    inodes = {p.name: p.stat().st_ino for p in thumbs.iterdir()}
    assert reusable_thumbs(folder, summary_to_render(folder)) == [thumbs / p.name for p in fresh]
    e = model_edits(summary)
    save_edits(folder, check_edits(summary, {**e, "kept": e["kept"][:1]}, "t"), 0)
    render_summary(folder, options=SummarizeOptions(crf=0))
    assert {p.name: p.stat().st_ino for p in thumbs.iterdir()} == inodes  # linked, not decoded again
    assert {p.name: p.read_bytes() for p in thumbs.iterdir()} == {p.name: p.read_bytes() for p in fresh}
    assert Manifest(folder).owns("thumbs")
    # no thumbs/ (removed): written again, the same bytes
    shutil.rmtree(thumbs)
    assert reusable_thumbs(folder, summary_to_render(folder)) is None
    render_summary(folder, options=SummarizeOptions(crf=0))
    assert {p.name: p.read_bytes() for p in thumbs.iterdir()} == {p.name: p.read_bytes() for p in fresh}
    assert all(os.stat(thumbs / n).st_ino != i for n, i in inodes.items())
