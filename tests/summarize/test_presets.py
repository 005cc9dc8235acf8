"""Platform presets: the one table, the one-line error, and the options' --preset."""

from __future__ import annotations

import pytest

from acsumgan.errors import ConfigError
from acsumgan.summarize.options import SummarizeOptions
from acsumgan.summarize.presets import PRESETS, preset_names, preset_seconds


def test_the_table():
    assert preset_names() == ["story-15", "short-60", "reel-90", "feed-120"]
    assert [preset_seconds(n) for n in preset_names()] == [15.0, 60.0, 90.0, 120.0]
    assert all(p.aspect for p in PRESETS.values())


@pytest.mark.parametrize("name", ["reel-60", "", None, "STORY-15"])
def test_an_unknown_preset_is_one_line_naming_the_choices(name):
    with pytest.raises(ConfigError) as e:
        preset_seconds(name)
    text = str(e.value)
    assert "\n" not in text and "unknown preset" in text
    assert all(n in text for n in preset_names())


def test_options_take_a_preset_instead_of_seconds():
    o = SummarizeOptions(length_preset="reel-90")
    assert o.target_seconds == 90.0 and o.seconds is None
    assert SummarizeOptions(seconds=12.5).target_seconds == 12.5
    assert SummarizeOptions().target_seconds is None
    with pytest.raises(ConfigError, match="--preset and --seconds both set the summary length"):
        SummarizeOptions(length_preset="story-15", seconds=10)
    with pytest.raises(ConfigError, match="unknown preset 'nope'"):
        SummarizeOptions(length_preset="nope")
    assert SummarizeOptions.from_cli(length_preset="short-60").target_seconds == 60.0
