"""End-to-end training runs on a small synthetic file: every output, determinism, resume."""

import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml

from acsumgan.config import TrainConfig
from acsumgan.errors import ConfigError, FeatureSizeError
from acsumgan.evaluation.scores import read_scores
from acsumgan.selection import pareto_epochs
from acsumgan.train.checkpoint import load_model
from acsumgan.train.trainer import COLUMNS, read_metrics, train

SMALL = dict(input_size=32, hidden_size=16, n_epochs=2, seed=5, checkpoint_interval_s=0)


def _cfg(**kw):
    return TrainConfig(**{**SMALL, **kw})


def test_two_epoch_run_writes_everything(tmp_path, tiny_synth, tiny_splits):
    run = tmp_path / "run"
    res = train(_cfg(), tiny_synth, tiny_splits, run)
    # config with seed and versions
    conf = yaml.safe_load((run / "config.yaml").read_text())
    assert conf["seed"] == 5 and conf["resolved"]["hidden_size"] == 16
    assert conf["versions"]["torch"] == torch.__version__
    assert conf["identity"]["test_keys"] and conf["eval_metric"] == "max"
    # metrics: epoch -1 (untrained) and 0..1, every column
    rows = read_metrics(run)
    assert [r["epoch"] for r in rows] == [-1, 0, 1]
    assert list(rows[0]) == list(COLUMNS)
    for r in rows[1:]:
        for c in COLUMNS:
            assert r[c] is not None and np.isfinite(r[c]), c
        assert 0 <= r["f_score"] <= 100 and r["reward"] <= 1
    # scores of every epoch for every test video, readable by the evaluator
    scores = read_scores(run / "scores.h5")
    assert sorted(scores) == [-1, 0, 1]
    test_keys = conf["identity"]["test_keys"]
    assert sorted(scores[0]) == sorted(test_keys)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "acsumgan",
            "evaluate",
            "--dataset",
            str(tiny_synth),
            "--scores",
            str(run / "scores.h5"),
            "--epoch",
            "1",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert abs(yaml.safe_load(proc.stdout)["mean"] - rows[-1]["f_score"]) < 1e-9
    # tensorboard under the release's names
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(run / "tensorboard"))
    ea.Reload()
    tags = set(ea.Tags()["scalars"])
    for t in (
        "reward_epoch",
        "actor_loss_epoch",
        "critic_loss_epoch",
        "recon_loss_epoch",
        "prior_loss_epoch",
        "g_loss_epoch",
        "e_loss_epoch",
        "d_loss_epoch",
        "c_original_loss_epoch",
        "c_summary_loss_epoch",
        "sparsity_loss_epoch",
        "f_score_epoch",
    ):
        assert t in tags, t
    assert [e.step for e in ea.Scalars("f_score_epoch")] == [-1, 0, 1]
    # checkpoints: last epoch + every epoch the criterion could still choose
    kept = sorted(int(p.stem.split("-")[1]) for p in (run / "checkpoints").glob("epoch-*.pt"))
    trained = rows[1:]
    front = set(pareto_epochs([r["actor_loss"] for r in trained], [r["reward"] for r in trained]))
    assert set(kept) == front | {1}
    assert res.chosen_epoch in kept
    model, cfg, ck = load_model(run / "checkpoints" / f"epoch-{kept[-1]:03d}.pt")
    assert cfg.hidden_size == 16 and ck["epoch"] == kept[-1]
    assert (run / "COMPLETE").exists() and not (run / "resume.pt").exists()


def test_same_seed_same_results_other_seed_differs(tmp_path, tiny_synth, tiny_splits):
    a = train(_cfg(), tiny_synth, tiny_splits, tmp_path / "a")
    b = train(_cfg(), tiny_synth, tiny_splits, tmp_path / "b")
    c = train(_cfg(seed=6), tiny_synth, tiny_splits, tmp_path / "c")
    sa, sb, sc = (read_scores(r.run_dir / "scores.h5") for r in (a, b, c))
    for e in sa:
        for k in sa[e]:
            np.testing.assert_array_equal(sa[e][k], sb[e][k])
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(a.rows) == strip(b.rows)
    assert strip(a.rows) != strip(c.rows)


def test_training_reports_an_event_per_epoch(tmp_path, tiny_synth, tiny_splits):
    events = []
    res = train(_cfg(), tiny_synth, tiny_splits, tmp_path / "run", progress=events.append)
    assert [(e.stage, e.done, e.total, e.unit) for e in events] == [
        ("training", 0, 2, "epochs"),
        ("training", 1, 2, "epochs"),
        ("training", 2, 2, "epochs"),
    ]
    assert events[0].note == ""
    for e, row in zip(events[1:], res.rows[1:]):
        assert e.note == f"reward {row['reward']:.4f}  F {row['f_score']:.2f}"
    events.clear()
    train(_cfg(), tiny_synth, tiny_splits, tmp_path / "run", progress=events.append)  # complete: nothing to do
    assert events == []


def test_interrupted_run_resumes_to_identical_results(tmp_path, tiny_synth, tiny_splits):
    full = train(_cfg(n_epochs=3), tiny_synth, tiny_splits, tmp_path / "full")

    class Stop(Exception):
        pass

    def stop_after_epoch_1(row):
        if row["epoch"] == 1:
            raise Stop()

    with pytest.raises(Stop):
        train(_cfg(n_epochs=3), tiny_synth, tiny_splits, tmp_path / "cut", on_epoch=stop_after_epoch_1)
    assert not (tmp_path / "cut" / "COMPLETE").exists()
    assert (tmp_path / "cut" / "resume.pt").exists()
    resumed = train(_cfg(n_epochs=3), tiny_synth, tiny_splits, tmp_path / "cut")
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(resumed.rows) == strip(full.rows)
    s1, s2 = read_scores(tmp_path / "full" / "scores.h5"), read_scores(tmp_path / "cut" / "scores.h5")
    assert sorted(s1) == sorted(s2)
    for e in s1:
        for k in s1[e]:
            np.testing.assert_array_equal(s1[e][k], s2[e][k])


def test_other_config_in_existing_folder_is_refused(tmp_path, tiny_synth, tiny_splits):
    train(_cfg(n_epochs=1), tiny_synth, tiny_splits, tmp_path / "r")
    with pytest.raises(ConfigError, match="another config"):
        train(_cfg(n_epochs=1, lr=1e-3), tiny_synth, tiny_splits, tmp_path / "r")
    res = train(_cfg(n_epochs=1, lr=1e-3), tiny_synth, tiny_splits, tmp_path / "r", force=True)
    assert yaml.safe_load((res.run_dir / "config.yaml").read_text())["resolved"]["lr"] == 1e-3


def test_without_splits_everything_trains_nothing_is_tested(tmp_path, tiny_synth):
    res = train(_cfg(n_epochs=1), tiny_synth, None, tmp_path / "own")
    conf = yaml.safe_load((res.run_dir / "config.yaml").read_text())
    assert len(conf["identity"]["train_keys"]) == 8 and conf["identity"]["test_keys"] == []
    assert all(r["f_score"] is None for r in res.rows)
    assert not (res.run_dir / "scores.h5").exists()


def test_greedy_evaluation_is_deterministic_without_repeats(tmp_path, tiny_synth, tiny_splits):
    res = train(_cfg(n_epochs=1, eval_policy="greedy"), tiny_synth, tiny_splits, tmp_path / "g")
    scores = read_scores(res.run_dir / "scores.h5")
    for s in scores[0].values():
        # 9 distinct picks -> the factors 1.15, 1.1356, ... each appear; none of 0.85-only
        assert len(s) > 0 and np.all(np.isfinite(s))


def test_feature_size_mismatch(tmp_path, tiny_synth, tiny_splits):
    with pytest.raises(FeatureSizeError, match="32 dimensions"):
        train(_cfg(input_size=1024), tiny_synth, tiny_splits, tmp_path / "x")


def test_an_explicit_input_size_that_disagrees_is_an_error(tmp_path, tiny_synth):
    with pytest.raises(FeatureSizeError, match="features have 32 dimensions but input_size is 1024"):
        train(_cfg(input_size=1024), tiny_synth, None, tmp_path / "run")


def test_policy_samples_known_answers(tmp_path, tiny_synth, tiny_splits):
    """K = 3: each epoch's F-score is the mean of 3 single-draw evaluations with the draws'
    seeds (recomputed here from the kept checkpoint), scores.h5 keeps every draw, and
    K = 1 writes exactly the files of a run without the option."""
    from acsumgan.data.dataset import load_dataset
    from acsumgan.data.splits import get_split
    from acsumgan.evaluation.metrics import evaluate_scores
    from acsumgan.evaluation.scores import read_score_draws
    from acsumgan.model.episode import draw_seed, make_batch, score_videos, test_time_uniforms
    from acsumgan.runs import STD_COLUMN

    res = train(_cfg(eval_samples=3), tiny_synth, tiny_splits, tmp_path / "k3")
    last = res.rows[-1]
    e = last["epoch"]
    videos = load_dataset(tiny_synth, purpose="evaluate")
    keys = get_split(tiny_splits, 0, videos)["test_keys"]
    batch = make_batch([videos[k].features for k in keys], keys, 60)
    model, _, _ = load_model(tmp_path / "k3" / "checkpoints" / f"epoch-{e:03d}.pt")
    seed = int(np.random.SeedSequence([5, 7, e + 1]).generate_state(1)[0])
    draws = read_score_draws(tmp_path / "k3" / "scores.h5")[e]
    assert len(draws) == 3
    f = []
    for j in range(3):
        ws = score_videos(model, batch, "sample", test_time_uniforms(draw_seed(seed, j), batch))
        one = {k: w.numpy() for k, w in zip(batch.keys, ws)}
        for k in keys:
            np.testing.assert_array_equal(draws[j][k], one[k])
        f.append(evaluate_scores(videos, one, "max").mean)
    assert last["f_score"] == pytest.approx(float(np.mean(f)), abs=1e-9)
    assert last[STD_COLUMN] == pytest.approx(float(np.std(f)), abs=1e-9)
    assert len(set(f)) > 1  # the draws differ
    header = (tmp_path / "k3" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["epoch", "f_score", "f_score_std"]
    # K = 1 is the default: the same bytes (the wall-clock seconds aside)
    train(_cfg(), tiny_synth, tiny_splits, tmp_path / "default")
    train(_cfg(eval_samples=1), tiny_synth, tiny_splits, tmp_path / "k1")
    a, b = (tmp_path / d / "scores.h5" for d in ("default", "k1"))
    assert a.read_bytes() == b.read_bytes()
    rows = [read_metrics(tmp_path / d) for d in ("default", "k1")]
    for r in rows:
        for row in r:
            row.pop("seconds")
    assert rows[0] == rows[1] and "f_score_std" not in (tmp_path / "k1" / "metrics.csv").read_text()
    # the first draw of K = 3 is the K = 1 draw
    np.testing.assert_array_equal(read_score_draws(a)[e][0][keys[0]], draws[0][keys[0]])


def test_policy_samples_need_the_sampled_policy():
    with pytest.raises(ConfigError, match="greedy policy has one answer"):
        _cfg(eval_samples=2, eval_policy="greedy").validate()
