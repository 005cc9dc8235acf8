"""Platform presets: a summary length and shape by name (``acsumgan summarize --preset NAME``).

ONE table, :data:`PRESETS`: name -> (target seconds, aspect). Each value says where it
comes from. The lengths are upper limits of the platforms' short formats as their help
pages stated them when this table was written (platforms change them: check before
relying on one). The aspect (``W:H``, as ``--aspect`` takes it) is the frame the platform
fills: ``summarize --preset NAME`` crops summary.mp4 to it, following the action
(:mod:`acsumgan.media.reframe`), unless ``--aspect`` says otherwise (``--aspect keep``:
the source's frame).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["PRESETS", "Preset", "preset_names", "preset_seconds"]


@dataclass(frozen=True)
class Preset:
    seconds: float  # the summary's target length
    aspect: str  # the frame the platform fills, W:H (``--aspect``'s form)


PRESETS: dict[str, Preset] = {
    # one story card: Instagram/Facebook stories cut a longer video into 15 s cards;
    # stories fill a phone's screen held upright: 9:16 (1080x1920, their help pages' size)
    "story-15": Preset(15.0, "9:16"),
    # YouTube Shorts' original upper limit (60 s; longer Shorts came later, 60 s still fits every
    # platform's short); Shorts are vertical, 9:16
    "short-60": Preset(60.0, "9:16"),
    # Instagram Reels' upper limit for reels recorded in the app (90 s); reels are 9:16 (1080x1920)
    "reel-90": Preset(90.0, "9:16"),
    # a feed post: X (Twitter) allows 140 s for most accounts; 120 s leaves a margin and is a round
    # length. Square 1:1: feeds show 1:1 whole on a phone and on a desktop alike (X, Facebook,
    # LinkedIn; Instagram's feed takes 1:1 to 4:5), the one shape every feed takes uncut
    "feed-120": Preset(120.0, "1:1"),
}


def preset_names() -> list[str]:
    """The presets' names, in the table's order (shortest first)."""
    return list(PRESETS)


def preset_seconds(name: str) -> float:
    """The target length of preset ``name`` in seconds; a one-line ConfigError naming the
    choices for an unknown one."""
    try:
        return PRESETS[name].seconds
    except (KeyError, TypeError):
        choices = ", ".join(PRESETS)
        raise ConfigError(None, f"unknown preset {name!r}: choose one of {choices}") from None
