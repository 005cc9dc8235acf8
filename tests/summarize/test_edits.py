"""edits.json: the model's choice as edits, the checks, versioned saves under a lock, the
edited summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from acsumgan.errors import ConfigError
from acsumgan.summarize.analysis import ANALYSIS_FILE, analysis_digest, load_summary, write_analysis
from acsumgan.summarize.edits import (
    EDITS_FILE,
    FORMAT,
    EditConflict,
    check_edits,
    edited_summary,
    length_options,
    model_edits,
    read_edits,
    save_edits,
)
from acsumgan.summarize.options import SummarizeOptions
from acsumgan.summarize.summary import compute_summary, reselect

from .conftest import distance_scorer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def folder(scenes_audio_video, features_of, tmp_path_factory):
    """A folder with the analysis of a 5-scene video (budget 0.4)."""
    ex = features_of(scenes_audio_video.path)
    s = compute_summary(ex, distance_scorer, SummarizeOptions(budget=0.4), video=scenes_audio_video.path)
    d = tmp_path_factory.mktemp("edits")
    write_analysis(d / ANALYSIS_FILE, s)
    return d


@pytest.fixture(scope="module")
def summary(folder):
    return load_summary(folder)


def test_model_edits_are_the_models_choice(summary):
    e = model_edits(summary)
    assert list(e) == ["format", "version", "analysis", "video", "length", "model_selected", "kept", "saved_at"]
    assert e["format"] == FORMAT and e["version"] == 0 and e["saved_at"] is None
    assert e["analysis"] == analysis_digest(summary) and e["video"] == summary.video_path.name
    assert e["length"] == {"mode": "percent", "value": 40.0, "preset": None}
    assert e["model_selected"] == summary.selected
    assert [(k["start_frame"], k["end_frame"]) for k in e["kept"]] == summary.kept_ranges
    assert check_edits(summary, e, "x") == e
    # at another length: reselect's choice
    for length, opts in [
        ({"mode": "seconds", "value": 6.0, "preset": None}, SummarizeOptions(seconds=6.0)),
        ({"mode": "preset", "value": 15.0, "preset": "story-15"}, SummarizeOptions(length_preset="story-15")),
        ({"mode": "percent", "value": 70.0, "preset": None}, SummarizeOptions(budget=0.7)),
    ]:
        got = model_edits(summary, length)
        assert got["length"] == length
        assert got["model_selected"] == reselect(summary, opts).selected == [k["shot"] for k in got["kept"]]
    assert length_options({"mode": "preset", "value": 1, "preset": "reel-90"}).target_seconds == 90.0
    assert length_options({"mode": "percent", "value": 25}, SummarizeOptions(crf=3)).budget == 0.25
    with pytest.raises(ConfigError, match="unknown preset"):
        length_options({"mode": "preset", "value": 1, "preset": "reel-60"})
    with pytest.raises(ConfigError, match="the summary would be empty"):
        model_edits(summary, {"mode": "seconds", "value": 0.5, "preset": None})


def refused(summary, edits, *needles) -> str:
    with pytest.raises(ConfigError) as e:
        check_edits(summary, edits, "where/edits.json")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("where/edits.json: ")
    for n in needles:
        assert n in msg, (n, msg)
    return msg


def test_check_edits_refuses_bad_edits_with_one_line(summary):
    cps = summary.change_points
    good = model_edits(summary)
    first = good["kept"][0]["shot"]
    other = next(i for i in range(len(cps)) if i not in summary.selected)

    def with_kept(*kept):
        return {**good, "kept": [dict(k) for k in kept]}

    a, b = int(cps[first, 0]), int(cps[first, 1])
    refused(summary, with_kept({"shot": first, "start_frame": a - 1, "end_frame": b}), "outside the shot")
    refused(summary, with_kept({"shot": first, "start_frame": a, "end_frame": b + 1}), "outside the shot")
    refused(summary, with_kept({"shot": first, "start_frame": a + 5, "end_frame": a + 4}), "is after end_frame")
    refused(summary, with_kept({"shot": len(cps), "start_frame": 0, "end_frame": 1}), "unknown shot")
    refused(summary, with_kept({"shot": -1, "start_frame": 0, "end_frame": 1}), "unknown shot")
    k = {"shot": first, "start_frame": a, "end_frame": b}
    refused(summary, with_kept(k, k), "repeated")
    o = {"shot": other, "start_frame": int(cps[other, 0]), "end_frame": int(cps[other, 1])}
    refused(summary, with_kept(*sorted([k, o], key=lambda x: -x["shot"])), "not ascending")
    refused(summary, {**good, "analysis": "0123456789abcdef"}, "made on another analysis")
    refused(summary, {**good, "format": "x"}, "not acsumgan edits")
    refused(summary, {**good, "kept": []}, "kept is empty")
    refused(summary, {**good, "version": -1}, "version must be >= 0")
    refused(summary, {**good, "version": "3"}, "version must be an integer")
    refused(summary, {**good, "length": {"mode": "minutes", "value": 1}}, "length mode")
    refused(summary, {**good, "length": {"mode": "percent", "value": 150}}, "(0, 100]")
    refused(summary, {**good, "model_selected": [len(cps)]}, "unknown shot")
    refused(summary, {**good, "model_selected": [1, 1]}, "ascending")
    refused(summary, with_kept({"shot": first, "start_frame": 1.5, "end_frame": b}), "must be an integer")
    refused(summary, [], "JSON object")
    # a trim inside the shot, an added shot: fine, normalised (unknown keys dropped)
    trim = {"shot": first, "start_frame": a + 1, "end_frame": b - 1}
    ok = check_edits(summary, {**with_kept(*sorted([trim, o], key=lambda x: x["shot"])), "x": 1}, "w")
    assert "x" not in ok and [k["shot"] for k in ok["kept"]] == sorted([first, other])


def test_save_edits_versions_and_stale_saves(summary, tmp_path):
    assert read_edits(tmp_path) is None
    e = model_edits(summary)
    first = save_edits(tmp_path, e, 0)
    assert first["version"] == 1 and first["saved_at"].endswith("Z")
    assert read_edits(tmp_path) == first == json.loads((tmp_path / EDITS_FILE).read_text())
    second = save_edits(tmp_path, {**e, "kept": e["kept"][:1]}, 1)
    assert second["version"] == 2
    before = (tmp_path / EDITS_FILE).read_bytes()
    with pytest.raises(EditConflict) as err:
        save_edits(tmp_path, e, 1)
    msg = str(err.value)
    assert "edited elsewhere: version 2 is saved, this edit was made on version 1; reload" in msg
    assert EDITS_FILE in msg and "\n" not in msg
    assert (tmp_path / EDITS_FILE).read_bytes() == before  # unchanged
    with pytest.raises(EditConflict):
        save_edits(tmp_path, e, 3)
    assert (tmp_path / EDITS_FILE).read_bytes() == before
    (tmp_path / EDITS_FILE).write_text("{not json")
    with pytest.raises(ConfigError, match="corrupt edits file"):
        read_edits(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_concurrent_saves_on_one_version_exactly_one_wins(summary, tmp_path):
    e = model_edits(summary)
    save_edits(tmp_path, e, 0)
    n = 12
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def save(i: int) -> None:
        # each thread keeps a different number of shots: a mixed file would show it
        mine = {**e, "kept": e["kept"][: 1 + i % len(e["kept"])], "video": f"tab-{i}"}
        barrier.wait()
        try:
            results[i] = save_edits(tmp_path, mine, 1)
        except EditConflict as exc:
            results[i] = exc

    threads = [threading.Thread(target=save, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in results if isinstance(r, dict)]
    assert len(won) == 1 and sum(isinstance(r, EditConflict) for r in results) == n - 1
    on_disk = json.loads((tmp_path / EDITS_FILE).read_text())  # parses: never a mix
    assert on_disk == won[0] and on_disk["version"] == 2
    i = int(on_disk["video"].split("-")[1])
    assert len(on_disk["kept"]) == 1 + i % len(e["kept"])


def test_concurrent_saves_from_several_processes_exactly_one_wins(summary, tmp_path):
    e = model_edits(summary)
    (tmp_path / "mine.json").write_text(json.dumps(e))
    code = (
        "import json, sys, time\n"
        "from acsumgan.summarize.edits import save_edits, EditConflict\n"
        "e = json.load(open(sys.argv[1])); e['video'] = 'proc-' + sys.argv[3]\n"
        "while time.time() < float(sys.argv[2]): pass\n"
        "try:\n    save_edits(sys.argv[4], e, 0); print('won')\n"
        "except EditConflict as x:\n    print('conflict')\n"
    )
    start = time.time() + 3.0
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / "mine.json"), str(start), str(i), str(tmp_path / "v")],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(4)
    ]
    (tmp_path / "v").mkdir()
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert sorted(outs) == ["conflict", "conflict", "conflict", "won"], outs
    on_disk = json.loads((tmp_path / "v" / EDITS_FILE).read_text())
    assert on_disk["version"] == 1 and on_disk["video"] == f"proc-{outs.index('won')}"


def test_edited_summary_keeps_the_trimmed_ranges_and_marks_who_chose(summary):
    cps = summary.change_points
    e = model_edits(summary)
    dropped = e["kept"][1]["shot"]
    first = e["kept"][0]["shot"]
    added = next(i for i in range(len(cps)) if i not in summary.selected)
    a, b = int(cps[first, 0]), int(cps[first, 1])
    kept = [{"shot": first, "start_frame": a + 3, "end_frame": b - 2}]
    kept += [k for k in e["kept"][2:]]
    kept.append({"shot": added, "start_frame": int(cps[added, 0]), "end_frame": int(cps[added, 1])})
    kept.sort(key=lambda k: k["shot"])
    edits = {**e, "version": 4, "kept": kept}
    s = edited_summary(summary, edits)
    want = [(k["start_frame"], k["end_frame"]) for k in kept]
    assert s.kept_ranges == want and s.selected == [k["shot"] for k in kept] and dropped not in s.selected
    seg = s.segments
    assert seg["edits_version"] == 4 and list(seg)[-1] == "edits_version"
    assert [(x["start_frame"], x["end_frame"]) for x in seg["shots"]] == want
    by = {x["shot"]: (x["chosen_by"], x["trimmed"]) for x in seg["shots"]}
    assert by[first] == ("person", True) and by[added] == ("person", False)
    for k in kept:
        if k["shot"] in summary.selected and k["shot"] != first:
            assert by[k["shot"]] == ("model", False)
    assert seg["summary_frames"] == sum(e_ - s_ + 1 for s_, e_ in want)
    assert seg["summary_seconds"] == pytest.approx(seg["summary_frames"] / summary.fps)
    assert next(x for x in seg["shots"] if x["shot"] == first)["n_frames"] == b - a - 4
    # the model's own choice as edits: the same shots and segments but the new keys
    plain = edited_summary(summary, e)
    assert plain.kept_ranges == summary.kept_ranges
    strip = {k: v for k, v in plain.segments.items() if k != "edits_version"}
    strip["shots"] = [{k: v for k, v in x.items() if k not in ("chosen_by", "trimmed")} for x in strip["shots"]]
    assert json.dumps(strip) == json.dumps(summary.segments)
    assert all(x["chosen_by"] == "model" and not x["trimmed"] for x in plain.segments["shots"])
    # reselect of an edited summary is the model's choice again (no trims)
    again = reselect(s, SummarizeOptions(budget=0.4))
    assert again.kept is None and again.selected == summary.selected
    assert np.array_equal(again.change_points, cps)
