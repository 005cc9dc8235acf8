"""Merged files and the augmented / transfer settings (acsumgan.data.merge, the nested keys
of acsumgan.data.dataset, make_augmented_splits / make_transfer_splits and the splits'
``setting``, resolve_metric on a merged file), on the real SumMe and TVSum ground truth
with seeded 32-d features. The command line: tests/cli/test_dataset_merge.py."""

from __future__ import annotations

import dataclasses
import json

import h5py
import numpy as np
import pytest

from acsumgan.data.dataset import MERGED_ATTR, Video, dataset_attrs, dataset_names, load_dataset, save_dataset
from acsumgan.data.merge import default_name, merge_datasets
from acsumgan.data.splits import (
    make_augmented_splits,
    make_kfold_splits,
    make_random_splits,
    make_transfer_splits,
    read_splits,
    write_splits,
)
from acsumgan.errors import ConfigError, DatasetError, OutputError, SplitsError
from acsumgan.evaluation.metrics import resolve_metric

DIM = 32
SUMME_FILE = "eccv16_dataset_summe_google_pool5.h5"
TVSUM_FILE = "eccv16_dataset_tvsum_google_pool5.h5"
SUMME_ATTRS = {"eval_metric": "max", "backbone": "random-32"}


def with_features(videos: dict[str, Video], dim: int, seed: int) -> dict[str, Video]:
    """Copies of imported videos with seeded random features of ``dim`` (the imports stay as they are)."""
    rng = np.random.default_rng(seed)
    return {
        k: dataclasses.replace(v, features=rng.normal(size=(v.n_steps, dim)).astype(np.float32))
        for k, v in videos.items()
    }


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, summe_videos, tvsum_videos_tsv):
    """The standard file names holding the real ground truth and 32-d features; the SumMe file
    has root attributes, the TVSum file none (its metric comes from its name)."""
    d = tmp_path_factory.mktemp("merge_inputs")
    summe = save_dataset(d / SUMME_FILE, with_features(summe_videos, DIM, 0), attrs=SUMME_ATTRS)
    tvsum = save_dataset(d / TVSUM_FILE, with_features(tvsum_videos_tsv, DIM, 1))
    return summe, tvsum


@pytest.fixture(scope="module")
def merged(inputs, tmp_path_factory):
    return merge_datasets(inputs, tmp_path_factory.mktemp("merged") / "ALL.h5")


def test_every_key_appears_once_under_its_dataset(inputs, merged):
    keys = list(load_dataset(merged, purpose="train"))
    expected = [f"summe/{k}" for k in load_dataset(inputs[0])] + [f"tvsum/{k}" for k in load_dataset(inputs[1])]
    assert len(keys) == len(set(keys)) == 25 + 50
    assert keys == expected
    with h5py.File(merged, "r") as h5:
        assert sorted(h5) == ["summe", "tvsum"]
        assert [n.decode() for n in h5.attrs[MERGED_ATTR]] == ["summe", "tvsum"]
        found = []
        h5.visititems(
            lambda name, obj: found.append(name) if isinstance(obj, h5py.Group) and "features" in obj else None
        )
    assert sorted(found) == sorted(expected)


def test_videos_are_byte_equal_to_the_inputs(inputs, merged):
    with h5py.File(merged, "r") as out:
        for name, path in zip(("summe", "tvsum"), inputs):
            with h5py.File(path, "r") as src:
                for key in src:
                    a, b = src[key], out[f"{name}/{key}"]
                    assert sorted(a) == sorted(b)
                    for field in a:
                        x, y = np.asarray(a[field][()]), np.asarray(b[field][()])
                        assert (x.dtype, x.shape) == (y.dtype, y.shape), (key, field)
                        assert x.tobytes() == y.tobytes(), (key, field)


def test_annotations_are_those_of_the_importers(merged, summe_videos, tvsum_videos_tsv):
    back = load_dataset(merged)
    for name, videos, fields in (
        ("summe", summe_videos, ("user_summary", "change_points", "gtscore", "picks")),
        ("tvsum", tvsum_videos_tsv, ("user_scores", "gtscore", "picks")),
    ):
        for k, v in videos.items():
            w = back[f"{name}/{k}"]
            for f in fields:
                np.testing.assert_array_equal(getattr(v, f), getattr(w, f))
            assert (w.n_frames, w.video_name) == (v.n_frames, v.video_name)


def test_each_input_s_root_attributes_go_on_its_group(inputs, merged):
    assert dataset_names(merged) == ["summe", "tvsum"]
    assert dataset_attrs(merged, "summe") == SUMME_ATTRS | {"source_file": SUMME_FILE}
    assert dataset_attrs(merged, "tvsum") == {"source_file": TVSUM_FILE}
    assert "eval_metric" not in dataset_attrs(merged)
    with pytest.raises(DatasetError, match="no dataset group 'ovp'"):
        dataset_attrs(merged, "ovp")


@pytest.mark.parametrize(
    "file,name",
    [
        (SUMME_FILE, "summe"),
        (TVSUM_FILE, "tvsum"),
        ("My_OVP.h5", "my_ovp"),
        ("eccv16_dataset_.h5", "eccv16_dataset_"),
        ("youtube_google_pool5.h5", "youtube"),
    ],
)
def test_default_names(file, name):
    assert default_name(f"some/folder/{file}") == name


def test_names_override_the_file_names(inputs, tmp_path):
    out = merge_datasets(inputs, tmp_path / "x.h5", names=["SumMe", "tv"])
    keys = list(load_dataset(out))
    assert keys[0].startswith("SumMe/") and keys[-1].startswith("tv/") and len(keys) == 75


def test_reading_some_keys_of_a_merged_file(merged):
    assert list(load_dataset(merged, keys=["tvsum/video_3", "summe/video_1"])) == ["tvsum/video_3", "summe/video_1"]
    for key in ("video_1", "ovp/video_1", "summe/video_99"):
        with pytest.raises(DatasetError, match=f"no video named '{key}'"):
            load_dataset(merged, keys=[key])


# --- refusals: one line each ----------------------------------------------------------------


def _one_line(exc_info) -> str:
    msg = str(exc_info.value)
    assert "\n" not in msg
    return msg


def test_feature_sizes_must_agree(inputs, tvsum_videos_tsv, tmp_path):
    other = save_dataset(tmp_path / "tvsum64.h5", with_features(tvsum_videos_tsv, 64, 2))
    with pytest.raises(DatasetError) as e:
        merge_datasets([inputs[0], other], tmp_path / "x.h5")
    msg = _one_line(e)
    assert str(other) in msg and str(inputs[0]) in msg and "64" in msg and "32" in msg
    assert not (tmp_path / "x.h5").exists() and not list(tmp_path.glob("*.tmp"))


def test_out_may_not_be_an_input(inputs):
    before = inputs[1].read_bytes()
    with pytest.raises(OutputError, match="is also an input"):
        merge_datasets(inputs, inputs[1])
    assert inputs[1].read_bytes() == before


@pytest.mark.parametrize(
    "names,match",
    [
        (["a"], "gives 1 names for 2 files"),
        (["a", "a"], "is also that of"),
        (["a", "b/c"], "without '/'"),
        (["a", ""], "non-empty"),
    ],
)
def test_bad_names(inputs, tmp_path, names, match):
    with pytest.raises(ConfigError, match=match):
        merge_datasets(inputs, tmp_path / "x.h5", names=names)


def test_other_refusals(inputs, merged, tmp_path):
    with pytest.raises(ConfigError, match="at least 2"):
        merge_datasets(inputs[:1], tmp_path / "x.h5")
    with pytest.raises(ConfigError, match="is given twice"):
        merge_datasets([inputs[0], inputs[0]], tmp_path / "x.h5", names=["a", "b"])
    with pytest.raises(DatasetError, match="is already a merged file"):
        merge_datasets([merged, inputs[0]], tmp_path / "x.h5", names=["all", "s"])


# --- the schema: nested keys written and read, flat files unchanged -----------------------


def _video(key: str, T: int = 4) -> Video:
    return Video(key=key, features=np.ones((T, 3), np.float32), picks=np.arange(T) * 2, n_frames=2 * T)


def test_save_dataset_with_nested_keys(tmp_path):
    path = save_dataset(
        tmp_path / "m.h5", [_video("b/v1"), _video("a/v1"), _video("b/v2")], group_attrs={"a": {"eval_metric": "avg"}}
    )
    assert dataset_names(path) == ["b", "a"]
    assert list(load_dataset(path)) == ["b/v1", "b/v2", "a/v1"]
    assert dataset_attrs(path, "a") == {"eval_metric": "avg"} and dataset_attrs(path, "b") == {}
    flat = save_dataset(tmp_path / "f.h5", [_video("v1")])
    assert dataset_names(flat) is None and list(load_dataset(flat)) == ["v1"]


@pytest.mark.parametrize(
    "keys,match",
    [
        (["a/v1", "v2"], "mix flat names"),
        (["a/b/c"], "one '/'"),
        (["/v1"], "one '/'"),
        (["a/"], "one '/'"),
        ([""], "non-empty"),
    ],
)
def test_save_dataset_refuses_bad_keys(tmp_path, keys, match):
    with pytest.raises(DatasetError, match=match):
        save_dataset(tmp_path / "x.h5", [_video(k) for k in keys])
    assert not (tmp_path / "x.h5").exists()


def _edit(src, dst, edit):
    dst.write_bytes(src.read_bytes())
    with h5py.File(dst, "r+") as h5:
        edit(h5)
    return dst


@pytest.mark.parametrize(
    "edit,match",
    [
        (lambda h: h.attrs.__setitem__(MERGED_ATTR, np.array([b"a", b"zzz"])), "zzz: listed in"),
        (lambda h: h.attrs.__setitem__(MERGED_ATTR, 7), "must list the names"),
        (lambda h: h.attrs.__setitem__(MERGED_ATTR, np.array([b"a", b"a"])), "must list the names"),
        (
            lambda h: h.create_group("stray").create_dataset("features", data=np.ones((3, 4), np.float32)),
            "stray: is a video but not in one of the merged datasets",
        ),
        (
            lambda h: (h.create_group("b"), h.attrs.__setitem__(MERGED_ATTR, np.array([b"a", b"b"]))),
            "b: dataset group contains no videos",
        ),
        (
            lambda h: (h.create_group("stray"), h["a"].create_dataset("x", data=1), h["a/v1"].__delitem__("features")),
            "a/v1/features: missing",
        ),  # the stray group and a/x are not videos: ignored
        (lambda h: h["a/v1"].__delitem__("features"), "a/v1/features: missing"),
    ],
)
def test_bad_merged_files_give_one_line_errors(tmp_path, edit, match):
    good = save_dataset(tmp_path / "good.h5", [_video("a/v1")])
    bad = _edit(good, tmp_path / "bad.h5", edit)
    with pytest.raises(DatasetError, match=match) as e:
        load_dataset(bad, purpose="train")
    _one_line(e)


# --- splits of the settings ---------------------------------------------------------------


@pytest.fixture(scope="module")
def keys(merged):
    return list(load_dataset(merged))


def _of(keys, name):
    return [k for k in keys if k.startswith(name + "/")]


def test_transfer_split(keys):
    (s,) = make_transfer_splits(keys, "summe")
    assert s["setting"] == "transfer" and s["target"] == "summe"
    assert s["test_keys"] == _of(keys, "summe") and s["train_keys"] == _of(keys, "tvsum")
    assert not set(s["test_keys"]) & set(s["train_keys"])


@pytest.mark.parametrize("target", ["summe", "tvsum"])
def test_augmented_splits(keys, target):
    mine = _of(keys, target)
    others = [k for k in keys if k not in mine]
    splits = make_augmented_splits(keys, target, 5, 0.2, seed=3)
    plain = make_random_splits(mine, 5, 0.2, seed=3)
    assert len(splits) == 5
    for s, p in zip(splits, plain):
        assert (s["setting"], s["target"]) == ("augmented", target)
        assert s["test_keys"] == p["test_keys"]  # the target's splits as --kind random draws them
        assert len(s["test_keys"]) == round(0.2 * len(mine))
        train_mine = [k for k in s["train_keys"] if k in mine]
        assert sorted(train_mine + s["test_keys"]) == sorted(mine) and not set(train_mine) & set(s["test_keys"])
        assert set(others) <= set(s["train_keys"])
        assert len(s["train_keys"]) == len(set(s["train_keys"])) == len(keys) - len(s["test_keys"])


def test_augmented_kfold_tests_each_target_video_once(keys):
    splits = make_augmented_splits(keys, "summe", 5, seed=1, kfold=True)
    assert [s["test_keys"] for s in splits] == [f["test_keys"] for f in make_kfold_splits(_of(keys, "summe"), 5, 1)]
    assert sorted(k for s in splits for k in s["test_keys"]) == sorted(_of(keys, "summe"))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda k: make_transfer_splits(k, "ovp"), "no dataset 'ovp'"),
        (lambda k: make_transfer_splits(_of(k, "summe"), "summe"), "only one dataset"),
        (lambda k: make_augmented_splits(["video_1", "video_2"], "summe"), "without a dataset prefix"),
    ],
)
def test_settings_need_a_merged_file_and_a_known_target(keys, call, match):
    with pytest.raises(ValueError, match=match):
        call(keys)


def test_read_splits_keeps_the_setting(keys, tmp_path):
    splits = make_augmented_splits(keys, "tvsum", 2) + make_transfer_splits(keys, "summe")
    path = write_splits(tmp_path / "s.json", splits)
    back = read_splits(path, keys)
    assert [(s["setting"], s["target"]) for s in back] == [("augmented", "tvsum")] * 2 + [("transfer", "summe")]
    assert back == json.loads(path.read_text())


@pytest.mark.parametrize(
    "extra,match",
    [
        ({"setting": "mixed", "target": "summe"}, "setting must be one of"),
        ({"setting": "transfer"}, "needs a target"),
        ({"setting": 3, "target": "summe"}, "setting must be a non-empty string"),
        ({"setting": "augmented", "target": "tvsum"}, "is not a video of the target 'tvsum'"),
    ],
)
def test_read_splits_checks_the_setting(tmp_path, extra, match):
    split = {"train_keys": ["tvsum/video_1"], "test_keys": ["summe/video_1"]} | extra
    (tmp_path / "s.json").write_text(json.dumps([split]))
    with pytest.raises(SplitsError, match=match):
        read_splits(tmp_path / "s.json")


def test_read_splits_refuses_a_transfer_split_training_on_its_target(tmp_path):
    split = {
        "train_keys": ["tvsum/video_1", "summe/video_2"],
        "test_keys": ["summe/video_1"],
        "setting": "transfer",
        "target": "summe",
    }
    (tmp_path / "s.json").write_text(json.dumps([split]))
    with pytest.raises(SplitsError, match="'summe/video_2' is a video of the target"):
        read_splits(tmp_path / "s.json")


def test_other_members_of_a_split_are_still_ignored(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps([{"train_keys": ["a"], "test_keys": ["b"], "note": [1, 2]}]))
    assert read_splits(tmp_path / "s.json") == [{"train_keys": ["a"], "test_keys": ["b"]}]


# --- the F-score reduction of a merged file's videos --------------------------------------


def test_resolve_metric_by_the_test_keys_dataset(merged, keys):
    assert resolve_metric(merged, keys=_of(keys, "summe")) == "max"  # the group's eval_metric
    assert resolve_metric(merged, keys=_of(keys, "tvsum")) == "avg"  # the group's name
    assert resolve_metric(merged, "avg", keys=_of(keys, "summe")) == "avg"  # an explicit metric wins
    with pytest.raises(ConfigError, match=r"summe: max, tvsum: avg.*--eval-metric") as e:
        resolve_metric(merged, flag="--eval-metric")  # no keys: both datasets, which disagree
    _one_line(e)
    with pytest.raises(ConfigError, match="different F-score reductions"):
        resolve_metric(merged, keys=keys)
    assert resolve_metric(merged, keys=keys, required=False) is None
    assert resolve_metric(merged, keys=keys, video_type="TVSum") == "avg"


def test_resolve_metric_without_keys_when_the_datasets_agree(inputs, tmp_path):
    # (the second group holds the TVSum videos; only the names and attributes matter here)
    out = merge_datasets(inputs, tmp_path / "x.h5", names=["summe", "summe_again"])
    assert resolve_metric(out) == "max"  # summe's eval_metric; summe_again by its name
    unknown = merge_datasets(inputs, tmp_path / "y.h5", names=["first", "second"])
    assert resolve_metric(unknown, keys=["second/video_1"], required=False) is None
    assert resolve_metric(unknown, keys=["first/video_1"]) == "max"  # the group's eval_metric attribute


def test_resolve_metric_of_flat_files_is_unchanged(inputs):
    assert resolve_metric(inputs[0]) == "max" and resolve_metric(inputs[1]) == "avg"
    assert resolve_metric(inputs[1], keys=["video_1"]) == "avg"


# --- what is not a video: ignored by readers, kept by merge (issue 17, item 12) ---------------------


def _with_others(path):
    save_dataset(path, [_video("v1"), _video("v2")])
    with h5py.File(path, "r+") as h5:
        meta = h5.create_group("metadata")
        meta.attrs["tool"] = "x"
        meta["big"] = np.arange(300_000, dtype=np.float64)  # beyond the reader's small extras
        meta["alias"] = h5py.SoftLink("/metadata/big")
        h5["v1"].attrs["camera"] = "phone"
        h5["v1"].create_group("boxes")["frame_0"] = np.ones(4)
        h5["v1/big_extra"] = np.zeros(300_000)
        h5.attrs["site"] = "lab"
    return path


def test_other_members_are_not_videos_and_merge_keeps_them(tmp_path):
    from acsumgan.data.dataset import is_video_group, other_members

    a = _with_others(tmp_path / "a.h5")
    b = save_dataset(tmp_path / "b.h5", [_video("v1")])
    assert list(load_dataset(a, purpose="train")) == ["v1", "v2"]
    assert other_members(a) == ["metadata"]
    with h5py.File(a, "r") as h5:
        assert is_video_group(h5["v1"]) and not is_video_group(h5["metadata"]) and not is_video_group(None)
    out = merge_datasets([a, b], tmp_path / "m.h5", names=["a", "b"])
    assert list(load_dataset(out, purpose="train")) == ["a/v1", "a/v2", "b/v1"]
    assert other_members(out) == ["a/metadata"]
    with h5py.File(out, "r") as m, h5py.File(a, "r") as src:
        assert m["a/metadata"].attrs["tool"] == "x" and m["a"].attrs["site"] == "lab"
        np.testing.assert_array_equal(m["a/metadata/big"][()], src["metadata/big"][()])
        assert m["a/metadata"].get("alias", getlink=True).path == "/metadata/big"  # a link stays a link
        assert m["a/v1"].attrs["camera"] == "phone"
        np.testing.assert_array_equal(m["a/v1/boxes/frame_0"][()], np.ones(4))
        assert m["a/v1/big_extra"].shape == (300_000,)
        np.testing.assert_array_equal(m["a/v1/features"][()], src["v1/features"][()])


def test_a_stray_video_in_a_merged_file_is_an_error_a_stray_group_is_not(tmp_path):
    good = save_dataset(tmp_path / "m.h5", [_video("a/v1")])
    with h5py.File(good, "r+") as h5:
        h5.create_group("notes").attrs["x"] = 1
    assert list(load_dataset(good)) == ["a/v1"]
    with h5py.File(good, "r+") as h5:
        h5.create_group("lost")["features"] = np.ones((2, 3), np.float32)
    with pytest.raises(DatasetError, match="lost: is a video but not in one of the merged datasets"):
        load_dataset(good)
