"""Every option of ``acsumgan summarize`` in one value: :class:`SummarizeOptions`.

The options are checked once, when the value is made (one message each, the command
line's); :meth:`SummarizeOptions.from_cli` makes it from the command's values (the
string forms of ``--max-shot-seconds``, a ``--train-config`` file, ``--device auto``).
The defaults are those of the command.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..config import load_config_file, resolve_device
from ..errors import ConfigError, checked_number
from ..evaluation.summary import DEFAULT_BUDGET
from ..media.decode import DEFAULT_RATE, check_rate
from ..media.encode import DEFAULT_CRF, DEFAULT_PRESET, check_encoder_options
from ..media.reframe import MODES, aspect_text, parse_aspect
from .presets import PRESETS, preset_seconds

#: Upper limit of the automatic maximum shot length (seconds).
AUTO_MAX_SHOT_SECONDS = 10.0
#: Training epochs of a model trained by ``summarize`` (chosen with benchmarks/self_train.py;
#: see docs/tutorials/own-videos.md, "How many epochs").
DEFAULT_EPOCHS = 20
#: TrainConfig fields that summarize sets itself (not from ``train_options``).
SET_BY_SUMMARIZE = ("n_epochs", "seed", "device", "threads", "split_index")


def check_budget(budget: float) -> float:
    return checked_number(budget, "budget", lambda b: 0 < b <= 1, "a fraction of the video in (0, 1]")


def check_seconds(seconds) -> float:
    """A summary length in seconds: a finite number > 0."""
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        s = math.nan
    if not (math.isfinite(s) and s > 0):
        raise ConfigError(None, f"--seconds must be a finite number > 0, got {seconds}")
    return s


def check_max_shot_seconds(value) -> float | str | None:
    """``"auto"``, ``None`` or a finite number of seconds > 0."""
    if value is None or value == "auto":
        return value
    try:
        ok = float(value) > 0 and math.isfinite(float(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(None, f"maximum shot length must be > 0 seconds, 'auto' or None, got {value!r}")
    return value


def check_aspect(aspect) -> str:
    """``--aspect``: ``keep`` or ``W:H`` (whole numbers 1-100), normalised (``" 9:16"`` -> ``"9:16"``)."""
    try:
        return aspect_text(parse_aspect(aspect))
    except ConfigError as exc:
        raise ConfigError(None, f"--{exc.problem}") from None


def check_reframe(reframe, aspect: str) -> str | None:
    """``--reframe``: None (follow when the aspect changes), ``follow`` or ``center``; only
    with an aspect other than keep."""
    if reframe is None:
        return None
    if reframe not in MODES:
        raise ConfigError(None, f"--reframe must be one of {', '.join(MODES)}, got {reframe!r}"[:200])
    if aspect == "keep":
        raise ConfigError(None, f"--reframe {reframe} needs an --aspect other than keep (9:16, 1:1, 4:5, W:H)")
    return reframe


def parse_max_shot_seconds(text: str) -> float | str | None:
    """``--max-shot-seconds`` as given on the command line: ``none`` (any case), ``auto`` or a number."""
    if str(text).lower() == "none":
        return None
    if text == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise ConfigError(None, f"--max-shot-seconds must be a number, auto or none, got {text!r}") from None


@dataclass(frozen=True)
class SummarizeOptions:
    """How ``summarize`` works (see ``acsumgan summarize --help``): checked when made.

    ``budget`` is the summary's share of the video; ``seconds`` (if given) replaces it
    (capped at the video's length); ``length_preset`` (a platform preset's name, see
    :mod:`.presets`; ``--preset`` on the command line) gives ``seconds`` by name, and
    cannot go with ``seconds`` (:attr:`target_seconds` is the length either way).
    ``max_shot_seconds``: shots longer are split
    (``"auto"``: min(10 s, the budget in seconds); ``None``: pure KTS shots).
    ``backbone``: a name or a loaded :class:`~acsumgan.summarize.backbones.Backbone`
    (``None``: the model's, or efficientnet-lite0 when training). ``epochs``,
    ``train_options`` (TrainConfig fields) and ``seed`` train a model when none is given
    (``epochs=None``: :data:`DEFAULT_EPOCHS`); ``policy``, ``seed``, ``eval_samples``,
    ``rule`` and ``split`` choose how a model scores. ``crf`` and ``preset``: summary.mp4's
    H.264. ``page``: write summary.html (and index.html). ``force``: replace a
    features.h5 that acsumgan did not write. ``aspect``: ``"keep"`` (the source's frame)
    or ``"W:H"`` (``"9:16"``, ``"1:1"``, ``"4:5"``, ...): summary.mp4 is cropped to that
    aspect (:mod:`acsumgan.media.reframe`); ``reframe``: how the window is placed,
    ``"follow"`` (the salient content) or ``"center"`` (None: follow when the aspect
    is not keep; :attr:`reframe_mode`). A length preset's aspect is applied by
    :meth:`from_cli` (``--preset`` without ``--aspect``), not here.
    """

    budget: float = DEFAULT_BUDGET
    seconds: float | None = None
    max_shot_seconds: float | str | None = "auto"
    rate: float = DEFAULT_RATE
    backbone: Any = None  # str | Backbone | None
    device: str = "cpu"
    threads: int | None = None
    epochs: int | None = None
    train_options: Mapping | None = field(default=None, hash=False)
    policy: str = "sample"
    seed: int = 0
    eval_samples: int = 1
    rule: str = "label-free"
    split: int | None = None
    crf: int = DEFAULT_CRF
    preset: str = DEFAULT_PRESET
    page: bool = True
    force: bool = False
    length_preset: str | None = None  # `preset` is summary.mp4's x264 preset
    aspect: str = "keep"
    reframe: str | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: the checked values replace the given ones
        set_(self, "budget", check_budget(self.budget))
        if self.seconds is not None:
            check_seconds(self.seconds)
        if self.length_preset is not None:
            preset_seconds(self.length_preset)  # a known name
            if self.seconds is not None:
                raise ConfigError(None, "--preset and --seconds both set the summary length; pick one")
        check_max_shot_seconds(self.max_shot_seconds)
        set_(self, "aspect", check_aspect(self.aspect))
        check_reframe(self.reframe, self.aspect)
        check_rate(self.rate)
        check_encoder_options(self.crf, self.preset)  # before any work, not when summary.mp4 is written
        if self.epochs is not None and int(self.epochs) < 1:
            raise ConfigError(None, f"--epochs must be >= 1, got {self.epochs}")
        train = dict(self.train_options or {})
        for k in SET_BY_SUMMARIZE:
            if k in train:
                hint = "use --epochs, --seed, --device, --threads"
                raise ConfigError(None, f"training option {k!r} is set by summarize itself ({hint})")
        set_(self, "train_options", train or None)

    @property
    def target_seconds(self) -> float | None:
        """The summary length asked for: ``seconds``, or the preset's; ``None``: the budget."""
        if self.length_preset is not None:
            return preset_seconds(self.length_preset)
        return self.seconds

    @property
    def reframe_mode(self) -> str | None:
        """How summary.mp4 is reframed: None (``aspect`` keep), else ``reframe`` or ``"follow"``."""
        return None if self.aspect == "keep" else (self.reframe or "follow")

    @property
    def trains(self) -> bool:
        """Options that only training uses are set (they cannot go with a given model)."""
        return self.epochs is not None or bool(self.train_options)

    @classmethod
    def from_cli(
        cls,
        *,
        max_shot_seconds: str = "auto",
        device: str = "cpu",
        train_config: str | None = None,
        aspect: str | None = None,
        **values,
    ) -> "SummarizeOptions":
        """The options of the command line's values: ``max_shot_seconds`` as typed
        (``auto``, ``none``, a number), ``device`` ``auto`` resolved, ``train_config`` a
        YAML file of training options (its dataset/splits/out left out), ``aspect`` None
        (no ``--aspect``): the length preset's aspect (``--preset short-60``: 9:16), else
        keep; the other values as the fields."""
        seconds = values.get("seconds")
        if seconds is not None:
            check_seconds(seconds)
        mss = parse_max_shot_seconds(max_shot_seconds)
        dev = resolve_device(device)
        train = None
        if train_config:
            train = {k: v for k, v in load_config_file(train_config).items() if k not in ("dataset", "splits", "out")}
        if aspect is None:
            preset = values.get("length_preset")
            aspect = PRESETS[preset].aspect if preset in PRESETS else "keep"
        return cls(max_shot_seconds=mss, device=dev, train_options=train, aspect=aspect, **values)
