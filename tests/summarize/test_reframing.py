"""Reframing wired into summarize (issue 25): the options, the saliency of the extraction pass,
analysis.h5's maps, segments.json's crop keys, edits' aspect/crop and render, known answers on
generated video (summarize's own path: compute_summary + write_summary, a fixed scorer)."""

from __future__ import annotations

import json
from dataclasses import replace

import av
import numpy as np
import pytest

from acsumgan.errors import ConfigError
from acsumgan.media import decode_parts as P
from acsumgan.media.reframe import MAX_PAN
from acsumgan.summarize.analysis import load_summary
from acsumgan.summarize.edits import check_edits, edited_summary, model_edits, save_edits
from acsumgan.summarize.features import extract_features
from acsumgan.summarize.options import SummarizeOptions
from acsumgan.summarize.outputs import write_summary
from acsumgan.summarize.presets import PRESETS
from acsumgan.summarize.reframing import check_crop, frame_size, reframe_plan, shot_paths, with_saliency
from acsumgan.summarize.render import render_summary
from acsumgan.summarize.summary import compute_summary, reselect
from acsumgan.summarize.unit import summary_unit
from acsumgan.synthetic.media import moving_object_video, scene_video, still_video, two_regions_video
from media.test_decode_parts import GOP, SCENES
from media.test_encode_crop import object_at


def rising(features: np.ndarray) -> np.ndarray:
    """A fixed scorer: later steps matter more (the selection does not depend on a model)."""
    return np.linspace(0.0, 1.0, len(features))


@pytest.fixture(scope="module")
def rdir(tmp_path_factory):
    return tmp_path_factory.mktemp("reframing")


@pytest.fixture(scope="module")
def moving(rdir):
    return moving_object_video(rdir / "moving.mp4")


@pytest.fixture(scope="module")
def moving_features(moving, backbone):
    return extract_features(moving.path, backbone)


def windows_at(seg: dict, times: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, int, int]]:
    """Per kept shot of segments.json: (frames, window left at each frame, w, h)."""
    out = []
    for shot in seg["shots"]:
        keys = np.asarray(shot["crop"]["keyframes"], dtype=np.float64)
        frames = np.arange(shot["start_frame"], shot["end_frame"] + 1)
        x = np.interp(times[frames], keys[:, 0], keys[:, 1])
        out.append((frames, x, int(keys[0, 3]), int(keys[0, 4])))
    return out


def summarize_to(summary, folder, options):
    with summary_unit(folder) as stage:
        return write_summary(summary, stage, options, final=folder, analysis=True)


# ------------------------------------------------------------------------------------ options


def test_options_check_the_aspect_once_in_one_line():
    o = SummarizeOptions(aspect=" 9:16")
    assert o.aspect == "9:16" and o.reframe_mode == "follow" and SummarizeOptions().reframe_mode is None
    assert SummarizeOptions(aspect="1:1", reframe="center").reframe_mode == "center"
    for kw, text in (
        ({"aspect": "16/9"}, "--aspect must be keep, 9:16, 1:1, 4:5 or W:H"),
        ({"aspect": "0:3"}, "--aspect must be"),
        ({"reframe": "follow"}, "--reframe follow needs an --aspect other than keep"),
        ({"aspect": "4:5", "reframe": "zoom"}, "--reframe must be one of follow, center"),
    ):
        with pytest.raises(ConfigError, match=text) as e:
            SummarizeOptions(**kw)
        assert "\n" not in e.value.one_line()


def test_a_preset_names_its_aspect_and_the_command_line_applies_it():
    assert {n: p.aspect for n, p in PRESETS.items()} == {
        "story-15": "9:16",
        "short-60": "9:16",
        "reel-90": "9:16",
        "feed-120": "1:1",
    }
    assert SummarizeOptions.from_cli(length_preset="short-60").aspect == "9:16"
    assert SummarizeOptions.from_cli(length_preset="feed-120").aspect == "1:1"
    assert SummarizeOptions.from_cli(length_preset="short-60", aspect="keep").aspect == "keep"
    assert SummarizeOptions.from_cli(length_preset="short-60", aspect="4:5").aspect == "4:5"
    assert SummarizeOptions.from_cli().aspect == "keep"
    assert SummarizeOptions(length_preset="short-60").aspect == "keep"  # the Python value: as given


# ---------------------------------------------------------------------- saliency in the pass


def test_the_extraction_pass_makes_the_maps_in_parts_as_in_one(tmp_path, backbone, monkeypatch):
    monkeypatch.setattr(P, "MIN_DECODE_PART_SECONDS", 5.0)  # parts of a 28 s video (as test_decode_parts)
    path = scene_video(tmp_path / "h264.mp4", SCENES, fps=30, size=(128, 96), options=GOP).path
    one = extract_features(path, backbone, parts=1)
    many = extract_features(path, backbone, parts=3)
    assert many.parts == 3
    for ex in (one, many):
        assert ex.saliency is not None and ex.saliency.frame_size == (128, 96)
        assert ex.saliency.maps.shape[0] == len(ex.picks)
        assert np.array_equal(ex.saliency.frames, ex.picks) and np.array_equal(ex.saliency.times, ex.timestamps)
    assert np.array_equal(one.saliency.maps, many.saliency.maps)
    assert extract_features(path, backbone, parts=1, saliency=False).saliency is None


def test_analysis_keeps_the_maps_and_the_shape(moving, moving_features, rdir):
    o = SummarizeOptions(aspect="9:16", budget=0.5)
    s = compute_summary(moving_features, rising, o, video=moving.path)
    assert (s.aspect, s.reframe) == ("9:16", "follow")
    folder = rdir / "analysis"
    summarize_to(s, folder, o)
    back = load_summary(folder)
    assert (back.aspect, back.reframe, back.crops) == ("9:16", "follow", None)
    assert np.array_equal(back.extracted.saliency.maps, moving_features.saliency.maps)
    assert frame_size(back) == (1280, 720)
    assert reselect(back, o).selected == s.selected
    # the same plan from the stored maps as from the pass's
    assert reframe_plan(back, "9:16") == reframe_plan(s, "9:16")
    # without the maps (features read from a cache): made from the video, the same
    bare = replace(s, extracted=replace(moving_features, saliency=None))
    again = with_saliency(bare).extracted.saliency
    assert again.maps.shape == moving_features.saliency.maps.shape
    paths = shot_paths(bare, "9:16")
    assert sorted(paths) == list(range(len(s.change_points)))
    assert all(k[3:] == [404, 720] for p in paths.values() for k in p)
    assert shot_paths(s, "keep") == {} and reframe_plan(s, "keep") is None


# ------------------------------------------------------------------------------ known answers


def test_follow_keeps_the_object_center_loses_it_and_the_speed_is_bounded(moving, moving_features, rdir):
    times = moving_features.times
    all_times = np.array([times.at(i) for i in range(moving.n_frames)])
    share = {}
    for mode in ("follow", "center"):
        o = SummarizeOptions(aspect="9:16", reframe=mode, budget=0.6, max_shot_seconds=3.0)
        s = compute_summary(moving_features, rising, o, video=moving.path)
        files = summarize_to(s, rdir / mode, o)
        seg = json.loads(files.segments_path.read_text())
        assert (seg["aspect"], seg["reframe"], seg["summary_width"], seg["summary_height"]) == ("9:16", mode, 404, 720)
        assert list(seg)[-2:] == ["aspect", "reframe"] and all(sh["crop"]["by"] == "model" for sh in seg["shots"])
        inside = []
        for frames, x, w, h in windows_at(seg, all_times):
            cx = moving.centres[frames, 0, 0]
            inside.extend((cx >= x) & (cx < x + w))
            if mode == "follow":  # never faster than the bound (+2 px: rounding to even)
                assert np.all(np.abs(np.diff(x)) <= MAX_PAN * 1280 / 15 + 2)
        share[mode] = float(np.mean(inside))
        # the written frames: the window's size, the object where the window says it is
        with av.open(str(files.summary_path)) as c:
            decoded = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        assert len(decoded) == seg["summary_frames"] and decoded[0].shape == (720, 404, 3)
        if mode == "follow":
            seen = [object_at(img) is not None for img in decoded]
            assert np.mean(seen) >= 0.95
    assert share["follow"] >= 0.95, share
    assert share["center"] < 0.6, share


@pytest.mark.parametrize("make", [two_regions_video, still_video])
def test_two_regions_and_a_still_shot_give_a_steady_window(make, rdir, backbone):
    v = make(rdir / f"{make.__name__}.mp4")
    ex = extract_features(v.path, backbone)
    o = SummarizeOptions(aspect="9:16", budget=1.0, max_shot_seconds=None)
    s = compute_summary(ex, rising, o, change_points=np.array([[0, v.n_frames - 1]]), video=v.path)
    files = summarize_to(s, rdir / f"steady-{make.__name__}", o)
    seg = json.loads(files.segments_path.read_text())
    all_times = np.array([ex.times.at(i) for i in range(v.n_frames)])
    for _frames, x, w, _h in windows_at(seg, all_times):
        assert w == 100 and np.all(np.abs(np.diff(x)) < 1.0)
    assert seg["summary_width"] == 100 and seg["summary_height"] == 180


# ----------------------------------------------------------------------------- edits, render


@pytest.fixture(scope="module")
def reframed_folder(moving, moving_features, rdir):
    o = SummarizeOptions(aspect="9:16", budget=0.5)
    s = compute_summary(moving_features, rising, o, video=moving.path)
    folder = rdir / "edited"
    summarize_to(s, folder, o)
    return folder


def test_edits_carry_the_aspect_and_a_persons_window(reframed_folder):
    s = load_summary(reframed_folder)
    e = model_edits(s)
    assert (e["aspect"], e["reframe"]) == ("9:16", "follow")
    assert list(e)[:7] == ["format", "version", "analysis", "video", "length", "aspect", "reframe"]
    shot = e["kept"][0]["shot"]
    e["kept"][0]["crop"] = {"x": 100, "y": 0, "w": 404, "h": 720}
    checked = check_edits(s, e, "edits.json")
    assert checked["kept"][0]["crop"] == {"x": 100.0, "y": 0.0, "w": 404, "h": 720}
    for crop, text in (
        ({"x": 100, "y": 0, "w": 400, "h": 720}, "not the 9:16 window of the 1280x720 frame"),
        ({"x": 900, "y": 0, "w": 404, "h": 720}, "outside the 1280x720 frame"),
        ({"x": "a", "y": 0, "w": 404, "h": 720}, "crop x must be a finite number"),
    ):
        bad = json.loads(json.dumps(e))
        bad["kept"][0]["crop"] = crop
        with pytest.raises(ConfigError, match=text) as err:
            check_edits(s, bad, "edits.json")
        assert "edits.json" in err.value.one_line() and "\n" not in err.value.one_line()
    keep = {**json.loads(json.dumps(e)), "aspect": "keep"}
    with pytest.raises(ConfigError, match="a crop needs an aspect other than keep"):
        check_edits(s, keep, "edits.json")
    with pytest.raises(ConfigError, match="reframe must be one of"):
        check_edits(s, {**e, "reframe": "zoom"}, "edits.json")
    with pytest.raises(ConfigError, match="aspect must be"):
        check_edits(s, {**e, "aspect": "wide"}, "edits.json")
    assert check_crop(s, "9:16", {"x": 0, "y": 0, "w": 404, "h": 720}, None)["w"] == 404
    ed = edited_summary(s, checked)
    assert ed.crops == {shot: {"x": 100.0, "y": 0.0, "w": 404, "h": 720}} and ed.aspect == "9:16"
    # edits without the keys: keep (as before reframing)
    plain = {k: v for k, v in model_edits(s).items() if k not in ("aspect", "reframe")}
    assert "aspect" not in check_edits(s, plain, "edits.json") and edited_summary(s, plain).aspect == "keep"


def test_render_applies_the_persons_window_and_another_aspect(reframed_folder):
    s = load_summary(reframed_folder)
    e = model_edits(s)
    shot = e["kept"][0]["shot"]
    e["kept"][0]["crop"] = {"x": 100, "y": 0, "w": 404, "h": 720}
    save_edits(reframed_folder, check_edits(s, e, "edits.json"), 0)
    files = render_summary(reframed_folder)
    seg = files.segments
    first = seg["shots"][0]
    assert first["shot"] == shot and first["crop"] == {
        "keyframes": [[first["start_seconds"], 100.0, 0.0, 404, 720]],
        "by": "person",
    }
    assert all(sh["crop"]["by"] == "model" for sh in seg["shots"][1:])
    with av.open(str(files.summary_path)) as c:
        assert (c.streams.video[0].width, c.streams.video[0].height) == (404, 720)
    # render --aspect 1:1: another window size (the person's 9:16 window is dropped)
    files = render_summary(reframed_folder, aspect="1:1")
    assert (files.segments["summary_width"], files.segments["summary_height"]) == (720, 720)
    assert all(sh["crop"]["by"] == "model" for sh in files.segments["shots"])
    # render --aspect keep: the source's frame, no crop keys
    files = render_summary(reframed_folder, aspect="keep")
    assert "aspect" not in files.segments and "crop" not in files.segments["shots"][0]
    assert files.segments["summary_width"] == 1280
    with pytest.raises(ConfigError, match="--aspect must be"):
        render_summary(reframed_folder, aspect="9x16")
