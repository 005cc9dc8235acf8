"""Importers of the official ground truth reproduce the standard files' label fields."""

from __future__ import annotations

import gzip
import json
import math

import h5py
import numpy as np
import pytest
import scipy.io

from acsumgan.data.dataset import Video, load_dataset, save_dataset
from acsumgan.data.groundtruth import (
    import_summe,
    import_tvsum,
    merge_features,
    read_tvsum_anno,
    summe_gt_files,
)
from acsumgan.errors import DatasetError
from conftest import (
    SUMME,
    SUMME_CP,
    SUMME_GT,
    SUMME_MAP,
    TVSUM,
    TVSUM_MAP,
    TVSUM_MAT_GZ,
    TVSUM_TSV,
    h5_user_summary,
)

TVSUM_FIELDS = (
    "picks",
    "n_frames",
    "n_steps",
    "user_scores",
    "gtscore",
    "video_name",
    "user_summary",
    "change_points",
    "n_frame_per_seg",
    "features",
    "gtsummary",
)


# --------------------------------------------------------------------------- SumMe


def test_summe_keys_follow_bytewise_sorted_names_and_mapping(summe_videos):
    mapping = json.loads(SUMME_MAP.read_text())
    assert list(summe_videos) == [f"video_{i}" for i in range(1, 26)]
    for key, v in summe_videos.items():
        assert mapping[v.video_name] == key
    # byte-wise: every capitalised name sorts before the lower-case ones
    assert summe_videos["video_22"].video_name == "Valparaiso_Downhill"
    assert summe_videos["video_23"].video_name == "car_over_camera"


def test_summe_fields_match_the_standard_file_facts(summe_videos):
    cps = json.loads(SUMME_CP.read_text())
    for key, v in summe_videos.items():
        m = scipy.io.loadmat(str(SUMME_GT / f"{v.video_name}.mat"))
        n = int(m["nFrames"].item())
        assert v.n_frames == n == m["user_score"].shape[0]
        np.testing.assert_array_equal(v.picks, np.arange(0, n, 15))
        assert v.n_steps == math.ceil(n / 15) == v.picks.shape[0]
        np.testing.assert_array_equal(v.user_summary, (m["user_score"] > 0).T)
        np.testing.assert_allclose(v.gtscore, m["gt_score"].ravel()[v.picks], rtol=0, atol=1e-7)
        np.testing.assert_array_equal(v.change_points, np.asarray(cps[key]))
        np.testing.assert_array_equal(v.n_frame_per_seg, v.change_points[:, 1] - v.change_points[:, 0] + 1)
        assert v.change_points[-1, 1] == n - 1
        assert v.user_scores is None and v.features is None and v.gtsummary is None
    assert {v.user_summary.shape[0] for v in summe_videos.values()} == set(range(15, 19))


def test_summe_user_summary_equals_the_standard_file_video_19(summe_videos):
    ref = h5_user_summary(SUMME / "h5_user_summary" / "video_19.json.gz")
    v = summe_videos["video_19"]
    assert v.video_name == "St Maarten Landing"
    assert ref.shape == v.user_summary.shape == (17, 1751)
    np.testing.assert_array_equal(v.user_summary, ref)


def test_summe_without_change_points_leaves_them_absent():
    videos = import_summe(SUMME_GT)
    assert all(v.change_points is None and v.n_frame_per_seg is None for v in videos.values())


def test_summe_mapping_that_disagrees_is_an_error(tmp_path):
    mapping = json.loads(SUMME_MAP.read_text())
    mapping["Air_Force_One"], mapping["Cooking"] = mapping["Cooking"], mapping["Air_Force_One"]
    bad = tmp_path / "map.json"
    bad.write_text(json.dumps(mapping))
    with pytest.raises(DatasetError, match="maps 'Air_Force_One' to video_8, but it is video_1"):
        import_summe(SUMME_GT, SUMME_CP, bad)


def test_summe_change_points_must_name_every_video_and_cover_it(tmp_path):
    cps = json.loads(SUMME_CP.read_text())
    missing = dict(cps)
    del missing["video_7"]
    p = tmp_path / "cp.json"
    p.write_text(json.dumps(missing))
    with pytest.raises(DatasetError, match="no change points for video_7"):
        import_summe(SUMME_GT, p)
    short = dict(cps)
    short["video_3"] = cps["video_3"][:-1]
    p.write_text(json.dumps(short))
    with pytest.raises(DatasetError, match="video_3/change_points: do not cover the video"):
        import_summe(SUMME_GT, p)
    p.write_text("{not json")
    with pytest.raises(DatasetError, match="not valid JSON"):
        import_summe(SUMME_GT, p)


def test_summe_gt_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="folder not found"):
        summe_gt_files(tmp_path / "nope")
    with pytest.raises(DatasetError, match="holds no .mat files"):
        summe_gt_files(tmp_path)
    (tmp_path / "broken.mat").write_bytes(b"this is not a mat file at all" * 10)
    with pytest.raises(DatasetError, match="broken.mat: not a readable MATLAB v5 file"):
        import_summe(tmp_path)


# --------------------------------------------------------------------------- TVSum


def test_tvsum_mat_and_tsv_give_identical_videos(tvsum_videos, tvsum_videos_tsv):
    assert list(tvsum_videos) == list(tvsum_videos_tsv) == [f"video_{i}" for i in range(1, 51)]
    for key in tvsum_videos:
        a, b = tvsum_videos[key], tvsum_videos_tsv[key]
        for f in TVSUM_FIELDS:
            x, y = getattr(a, f), getattr(b, f)
            if x is None or y is None:
                assert x is None and y is None, (key, f)
                continue
            assert np.asarray(x).dtype == np.asarray(y).dtype, (key, f)
            np.testing.assert_array_equal(x, y, err_msg=f"{key}/{f}")


def test_tvsum_gzipped_mat_reads_the_same(tvsum_videos):
    gz = import_tvsum(TVSUM_MAT_GZ)
    for key, v in tvsum_videos.items():
        np.testing.assert_array_equal(gz[key].user_scores, v.user_scores)


def test_tvsum_fields_match_the_standard_file_facts(tvsum_videos):
    mapping = json.loads(TVSUM_MAP.read_text())
    # independent reading of the official tsv
    rows: dict[str, list] = {}
    with gzip.open(TVSUM_TSV, "rt") as f:
        for line in f:
            vid, _, s = line.rstrip("\n").split("\t")
            rows.setdefault(vid, []).append([float(x) for x in s.split(",")])
    assert list(rows) == [v.video_name for v in tvsum_videos.values()]
    for key, v in tvsum_videos.items():
        assert mapping[v.video_name] == key
        anno = np.asarray(rows[v.video_name])
        n = anno.shape[1]
        assert anno.shape[0] == 20 and v.user_scores.shape == (20, n) and v.n_frames == n
        np.testing.assert_array_equal(v.user_scores, anno)
        np.testing.assert_array_equal(v.picks, np.arange(0, n, 15))
        assert v.n_steps == math.ceil(n / 15)
        np.testing.assert_allclose(v.gtscore, (anno.mean(axis=0)[v.picks] - 1) / 4, rtol=0, atol=1e-7)
        assert v.change_points is None and v.user_summary is None and v.features is None


def test_tvsum_mat_nframes_and_gt_score_agree(tvsum_mat, tvsum_videos):
    with h5py.File(tvsum_mat, "r") as h5:
        t = h5["tvsum50"]
        for i, v in enumerate(tvsum_videos.values()):
            nf = int(np.asarray(h5[t["nframes"][i, 0]]).item())
            gt = np.asarray(h5[t["gt_score"][i, 0]]).ravel()
            assert nf == v.n_frames
            # the official gt_score is the mean of user_anno, so gtscore = (gt_score[picks] - 1) / 4
            np.testing.assert_allclose(v.gtscore, (gt[v.picks] - 1) / 4, atol=1e-6)


@pytest.mark.parametrize("k", [38, 45])
def test_tvsum_public_user_summaries_are_consistent_with_user_scores(tvsum_videos, k):
    """The standard file's TVSum user_summary (made from shots we lack) cannot be
    rebuilt; what can be checked: same users and frames, each user's selection holds
    that user's higher-rated frames, and it fits the 15 % knapsack budget."""
    us = h5_user_summary(TVSUM / "h5_user_summary" / f"video_{k}.json.gz")
    v = tvsum_videos[f"video_{k}"]
    assert us.shape == v.user_scores.shape == (20, v.n_frames)
    assert np.all((us == 0) | (us == 1))
    for u in range(20):
        sel = v.user_scores[u][us[u] > 0].astype(float)
        rest = v.user_scores[u][us[u] == 0].astype(float)
        assert sel.mean() > rest.mean() + 0.25
        assert us[u].sum() <= int(v.n_frames * 0.15)
        assert us[u].sum() > 0.12 * v.n_frames


def _tsv(tmp_path, text: str, name="anno.tsv"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "text, message",
    [
        ("a\tVT\t1,2,3\nb\tVT\n", "line 2: expected 3 tab-separated fields"),
        ("a\tVT\t1,2,x,4\n", "line 1: score 3 ('x') is not a number"),
        ("a\tVT\t1,2,3\na\tVT\t1,2\n", "line 2: video 'a' has 2 scores here but 3 on line 1"),
        ("a\tVT\t1,2,3\nb\tVT\t1,2\na\tVT\t1,2,3\n", "line 3: rows of video 'a' are not consecutive"),
        ("a\tVT\t1,2,9\n", "line 1: scores must be TVSum importance values 1..5, found 1..9"),
        ("\n\n", "holds no annotation lines"),
        ("a\tVT\t1,nan,3\n", "line 1: scores contain NaN or inf"),
    ],
)
def test_malformed_tvsum_tsv_gives_one_line_errors(tmp_path, text, message):
    with pytest.raises(DatasetError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        read_tvsum_anno(_tsv(tmp_path, text))


def test_tvsum_reader_errors_for_missing_empty_and_corrupt_files(tmp_path):
    with pytest.raises(DatasetError, match="file not found"):
        read_tvsum_anno(tmp_path / "none.tsv")
    with pytest.raises(DatasetError, match="empty"):
        read_tvsum_anno(_tsv(tmp_path, ""))
    bad = tmp_path / "bad.tsv.gz"
    bad.write_bytes(b"\x1f\x8b" + b"garbage" * 20)
    with pytest.raises(DatasetError, match="corrupt gzip data"):
        read_tvsum_anno(bad)
    mat5 = tmp_path / "old.mat"
    scipy.io.savemat(str(mat5), {"x": np.ones(3)})
    with pytest.raises(DatasetError, match="older than v7.3"):
        read_tvsum_anno(mat5)
    h5 = tmp_path / "other.mat"
    with h5py.File(h5, "w") as f:
        f.create_dataset("x", data=np.ones(3))
    with pytest.raises(DatasetError, match="no struct 'tvsum50'"):
        read_tvsum_anno(h5)


def test_small_tsv_import_fields(tmp_path):
    p = _tsv(
        tmp_path,
        "vidA\tVT\t"
        + ",".join(["1"] * 20 + ["5"] * 11)
        + "\nvidA\tVT\t"
        + ",".join(["3"] * 31)
        + "\n"
        + "vidB\tBK\t2,2,2\nvidB\tBK\t4,4,4\n",
    )
    videos = import_tvsum(p)
    a, b = videos["video_1"], videos["video_2"]
    assert (a.video_name, b.video_name) == ("vidA", "vidB")
    np.testing.assert_array_equal(a.picks, [0, 15, 30])
    np.testing.assert_allclose(a.gtscore, [(2 - 1) / 4, (2 - 1) / 4, (4 - 1) / 4])
    assert b.n_frames == 3 and b.n_steps == 1 and b.gtscore.tolist() == [0.5]


# --------------------------------------------------------------------------- merge


def _features_file(path, videos, dims=8, drop_picks=False, seed=0):
    rng = np.random.default_rng(seed)
    feats = []
    for key, v in videos.items():
        feats.append(
            Video(
                key=key,
                features=rng.random((v.n_steps, dims), dtype=np.float32),
                picks=None if drop_picks else v.picks,
                n_frames=v.n_frames,
                n_steps=v.n_steps,
            )
        )
    save_dataset(path, feats)
    return path


def test_merge_adds_imported_fields_to_a_features_file(tmp_path, summe_videos):
    f = _features_file(tmp_path / "feats.h5", summe_videos)
    merged = merge_features(summe_videos, f)
    feats = load_dataset(f)
    assert list(merged) == list(feats)
    for key, m in merged.items():
        np.testing.assert_array_equal(m.features, feats[key].features)
        np.testing.assert_array_equal(m.user_summary, summe_videos[key].user_summary)
        np.testing.assert_array_equal(m.change_points, summe_videos[key].change_points)
        assert m.video_name == summe_videos[key].video_name
    out = tmp_path / "merged.h5"
    save_dataset(out, merged)
    back = load_dataset(out, "evaluate")
    load_dataset(out, "train")
    assert set(back) == set(summe_videos)


def test_merge_keeps_fields_the_import_lacks(tmp_path, summe_videos):
    # a TVSum-like import has no change_points: they come from the features file
    sub = {k: summe_videos[k] for k in list(summe_videos)[:3]}
    feats = []
    for key, v in sub.items():
        feats.append(
            Video(
                key=key,
                features=np.ones((v.n_steps, 4), np.float32),
                n_frames=v.n_frames,
                change_points=v.change_points,
            )
        )
    save_dataset(tmp_path / "f.h5", feats)
    imported = {
        k: Video(key=k, picks=v.picks, n_frames=v.n_frames, n_steps=v.n_steps, gtscore=v.gtscore)
        for k, v in sub.items()
    }
    merged = merge_features(imported, tmp_path / "f.h5")
    for k, m in merged.items():
        np.testing.assert_array_equal(m.change_points, sub[k].change_points)
        np.testing.assert_array_equal(m.n_frame_per_seg, sub[k].n_frame_per_seg)


def test_merge_mismatches_are_clear_errors(tmp_path, summe_videos, tvsum_videos):
    f = _features_file(tmp_path / "summe_feats.h5", summe_videos)
    with pytest.raises(DatasetError, match="holds 25 videos, the ground truth 50"):
        merge_features(tvsum_videos, f)
    bad = {k: v for k, v in summe_videos.items()}
    v3 = summe_videos["video_3"]
    bad["video_3"] = Video(
        key="video_3", n_frames=v3.n_frames + 15, picks=np.arange(0, v3.n_frames + 15, 15), n_steps=v3.n_steps + 1
    )
    with pytest.raises(DatasetError, match=r"video_3: n_frames is 3341 but the ground truth has 3356 frames"):
        merge_features(bad, f)
    g = _features_file(
        tmp_path / "nopicks.h5",
        {
            **summe_videos,
            "video_3": Video(
                key="video_3", n_steps=v3.n_steps + 1, picks=np.arange(0, v3.n_frames + 15, 15), n_frames=None
            ),
        },
        drop_picks=True,
    )
    with pytest.raises(DatasetError, match="video_3: has 224 steps but the ground truth's 3341 frames give 223"):
        merge_features(summe_videos, g)
