"""Checkpoints (acsumgan.train.checkpoint): what is saved loads back alone, the same.

The command-line side of refused checkpoints (``acsumgan summarize --model`` on a
truncated file, version 99, a foreign dict, a pickled module, mismatched weights: one
line, exit 6) is tested in tests/reliability/test_bad_inputs.py (``model-*`` cases), and
an atomic save on a full disk in tests/reliability/test_interrupted.py; here the
library: the weights, the config, the two kinds, and the one-line CheckpointError.
"""

import pytest
import torch

from acsumgan.config import TrainConfig
from acsumgan.errors import CheckpointError
from acsumgan.model.networks import ACSumGAN
from acsumgan.train.checkpoint import FORMAT, VERSION, load_model, read_checkpoint, save_checkpoint

CFG = TrainConfig(input_size=64, hidden_size=16, regularization_factor=0.7, seed=3)


def _model(seed=0) -> ACSumGAN:
    torch.manual_seed(seed)
    return ACSumGAN(**CFG.model_kwargs())


def _n_bytes(state) -> int:
    return sum(v.numel() * v.element_size() for v in state.values())


def test_full_checkpoint_round_trips_every_weight_and_the_config(tmp_path):
    model = _model()
    path = save_checkpoint(
        tmp_path / "full.pt",
        model,
        CFG,
        7,
        metrics={"f_score": 41.5, "reward": 0.25},
        full=True,
        extra={"note": "kept"},
    )
    assert path == tmp_path / "full.pt" and sorted(p.name for p in tmp_path.iterdir()) == ["full.pt"]
    back, cfg, obj = load_model(path)
    assert cfg == CFG and cfg.regularization_factor == 0.7 and cfg.input_size == 64
    assert (obj["format"], obj["version"], obj["epoch"], obj["full"]) == (FORMAT, VERSION, 7, True)
    assert obj["metrics"] == {"f_score": 41.5, "reward": 0.25} and obj["note"] == "kept"
    want, got = model.state_dict(), back.state_dict()
    assert list(got) == list(want)
    for k in want:
        assert torch.equal(got[k], want[k]), k
    assert not back.training  # loaded for scoring


def test_scoring_checkpoint_is_smaller_and_loads_alone(tmp_path):
    model = _model(1)
    full = save_checkpoint(tmp_path / "full.pt", model, CFG, 2, full=True)
    scoring = save_checkpoint(tmp_path / "epoch-002.pt", model, CFG, 2)
    inference = model.inference_state_dict()
    # what each file holds: every weight (float32) vs linear_compress, sLSTM and actor only
    assert set(read_checkpoint(scoring)["state_dict"]) == set(inference)
    assert set(read_checkpoint(full)["state_dict"]) == set(model.state_dict())
    all_bytes, scoring_bytes = _n_bytes(model.state_dict()), _n_bytes(inference)
    assert scoring_bytes < 0.6 * all_bytes
    # file sizes: the raw tensor bytes plus a small zip/pickle overhead
    assert all_bytes <= full.stat().st_size < all_bytes + 64 * 1024
    assert scoring_bytes <= scoring.stat().st_size < scoring_bytes + 64 * 1024
    assert scoring.stat().st_size < full.stat().st_size
    # the scoring file alone rebuilds the scorer: same inference weights, same config
    full.unlink()
    back, cfg, obj = load_model(scoring)
    assert cfg == CFG and obj["full"] is False and obj["epoch"] == 2
    got = back.inference_state_dict()
    assert list(got) == list(inference)
    for k in inference:
        assert torch.equal(got[k], inference[k]), k
    # the scorer gives the same scores as the model it was saved from
    x = torch.randn(50, 1, 64)
    with torch.no_grad():
        model.eval()
        lengths = torch.tensor([50])
        want = model.s_lstm(model.compress(x), lengths)
        torch.testing.assert_close(back.s_lstm(back.compress(x), lengths), want, rtol=0, atol=0)


def _one_line_error(path, message):
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    err = info.value
    assert err.exit_code == 6 and err.path == str(path)
    assert str(err) == f"{path}: {message}" and "\n" not in str(err)
    return err


def test_other_version_and_truncated_files_are_refused_in_one_line(tmp_path):
    good = save_checkpoint(tmp_path / "good.pt", _model(), CFG, 0)
    obj = torch.load(good, weights_only=True)
    obj["version"] = VERSION + 1
    torch.save(obj, tmp_path / "v2.pt")
    _one_line_error(
        tmp_path / "v2.pt", f"checkpoint version {VERSION + 1} is not supported by this acsumgan (expects {VERSION})"
    )
    data = good.read_bytes()
    for name, part in (("half.pt", data[: len(data) // 2]), ("tail_cut.pt", data[:-100])):
        (tmp_path / name).write_bytes(part)
        _one_line_error(tmp_path / name, "truncated or corrupt checkpoint (incomplete copy?)")
    assert load_model(good)[2]["epoch"] == 0  # the good file itself still loads


def test_missing_parts_are_named(tmp_path):
    good = save_checkpoint(tmp_path / "good.pt", _model(), CFG, 0)
    obj = torch.load(good, weights_only=True)
    del obj["state_dict"]["linear_compress.weight"]
    torch.save(obj, tmp_path / "no_weight.pt")
    _one_line_error(tmp_path / "no_weight.pt", "checkpoint lacks weights 'linear_compress.weight'")
    obj = torch.load(good, weights_only=True)
    del obj["epoch"]
    torch.save(obj, tmp_path / "no_epoch.pt")
    _one_line_error(tmp_path / "no_epoch.pt", "checkpoint lacks 'epoch'")
