"""SummarizeOptions: the command's defaults, one check (and message) per option, from_cli."""

from __future__ import annotations

import dataclasses

import click
import pytest

from acsumgan.cli.summarize import summarize
from acsumgan.errors import ConfigError
from acsumgan.summarize.options import DEFAULT_EPOCHS, SummarizeOptions


def test_defaults_are_the_commands():
    params = {p.name: p.default for p in summarize.params if isinstance(p, click.Option)}
    o = SummarizeOptions()
    for name in ("budget", "seconds", "rate", "backbone", "threads", "epochs", "policy", "seed", "eval_samples"):
        assert getattr(o, name) == params[name], name
    for name in ("rule", "crf", "page", "force"):
        assert getattr(o, name) == params[name], name
    assert o.split == params["split_index"] is None
    assert o.max_shot_seconds == params["max_shot_seconds"] == "auto"
    assert o.train_options is None and params["train_config"] is None
    assert o.device == "cpu" and o.preset == "superfast" and DEFAULT_EPOCHS == 20


def test_frozen_and_checked_once():
    o = SummarizeOptions(budget=0.3, seconds=12, max_shot_seconds=4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.budget = 0.5  # type: ignore[misc]
    assert o.budget == 0.3 and isinstance(o.budget, float) and o.seconds == 12 and o.max_shot_seconds == 4


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"budget": 0}, "budget must be a fraction of the video in (0, 1], got 0"),
        ({"budget": 1.5}, "budget must be a fraction of the video in (0, 1], got 1.5"),
        ({"budget": "x"}, "budget must be a number, got 'x'"),
        ({"seconds": 0}, "--seconds must be a finite number > 0, got 0"),
        ({"seconds": float("nan")}, "--seconds must be a finite number > 0, got nan"),
        ({"max_shot_seconds": -1.0}, "maximum shot length must be > 0 seconds, 'auto' or None, got -1.0"),
        ({"max_shot_seconds": "x"}, "maximum shot length must be > 0 seconds, 'auto' or None, got 'x'"),
        ({"rate": 0}, "sampling rate must be > 0 steps per second, got 0"),
        ({"epochs": 0}, "--epochs must be >= 1, got 0"),
        ({"train_options": {"seed": 3}}, "training option 'seed' is set by summarize itself"),
        ({"crf": 52}, "crf must be an integer from 0 (lossless) to 51, got 52"),
        ({"preset": "fastest"}, "unknown x264 preset 'fastest'"),
    ],
)
def test_one_message_per_bad_option(kw, message):
    with pytest.raises(ConfigError) as e:
        SummarizeOptions(**kw)
    assert message in str(e.value)
    assert len(str(e.value).splitlines()) == 1


def test_from_cli(tmp_path):
    cfg = tmp_path / "train.yaml"
    cfg.write_text("hidden_size: 16\n")
    o = SummarizeOptions.from_cli(max_shot_seconds="none", device="cpu", train_config=str(cfg), seconds=30.0)
    assert o.max_shot_seconds is None and o.train_options == {"hidden_size": 16} and o.seconds == 30.0
    assert o.trains
    assert SummarizeOptions.from_cli(max_shot_seconds="NONE").max_shot_seconds is None
    assert SummarizeOptions.from_cli(max_shot_seconds="auto").max_shot_seconds == "auto"
    assert SummarizeOptions.from_cli(max_shot_seconds="4").max_shot_seconds == 4.0
    assert SummarizeOptions.from_cli(device="auto").device in ("cpu", "cuda")
    assert not SummarizeOptions.from_cli().trains
    with pytest.raises(ConfigError, match="--max-shot-seconds must be a number, auto or none, got 'x'"):
        SummarizeOptions.from_cli(max_shot_seconds="x")
    with pytest.raises(ConfigError, match="--seconds must be a finite number > 0, got -2.0"):
        SummarizeOptions.from_cli(seconds=-2.0)
    with pytest.raises(ConfigError, match="unknown device"):
        SummarizeOptions.from_cli(device="nope")
