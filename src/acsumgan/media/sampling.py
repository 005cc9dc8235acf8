"""The sampling rule, written once: which frames of a video are its steps.

Step ``k`` (k = 0, 1, 2, ...) is the first frame whose time ``t`` (seconds from the first
frame) reaches ``k / rate``; a frame that is the first to reach several thresholds is
taken once, and the next threshold is the first ``k / rate`` after it. Put in cells:
frame ``i`` lies in cell ``floor(t_i * rate)``, and it is a step when its cell reaches
the cell after the previous step's (:class:`StepRule`, its state ``need``). Everything
is exact rational arithmetic, so the rule has two forms that pick the same frames:

* by time (:meth:`StepRule.cell_at`), ``t`` a :class:`~fractions.Fraction` (or a float,
  taken exactly): :class:`~acsumgan.media.decode.FrameSampler`, :func:`sample_steps`;
* by pts, in integers (:class:`PtsCells`): ``t = (pts - origin) * time_base``, the cell
  ``((pts - origin) * num) // den`` with ``num / den = time_base * rate`` in lowest
  terms: the part decoders of :mod:`.decode_parts` and their plan, :func:`pts_steps`.

See :mod:`.decode` for why the rule samples by time.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Sequence

from ..errors import checked_number

DEFAULT_RATE = 2.0


def check_rate(rate: float) -> Fraction:
    """Validate the sampling rate (steps per second); return it as a Fraction."""
    return Fraction(checked_number(rate, "sampling rate", lambda r: r > 0, "> 0 steps per second"))


class StepRule:
    """The rule's state over frames that come in order: :meth:`take` says whether a frame
    whose cell is ``cell`` is a step. ``need``: the cell the next step must reach (0 at the
    first frame; a part that starts mid-video starts with one pass's state there)."""

    __slots__ = ("rate", "need")

    def __init__(self, rate: Fraction, need: int = 0):
        self.rate = Fraction(rate)
        self.need = int(need)

    def cell_at(self, t) -> int:
        """The cell of a frame at ``t`` seconds (a Fraction, or a float taken exactly)."""
        return math.floor(Fraction(t) * self.rate)

    def take(self, cell: int) -> bool:
        """Whether the frame in ``cell`` is a step (and if so, move on past its cell)."""
        if cell >= self.need:
            self.need = cell + 1
            return True
        return False


class PtsCells:
    """The integer form: the cell of a frame from its pts, ``origin`` being the first
    frame's pts and ``time_base`` the stream's."""

    __slots__ = ("origin", "num", "den")

    def __init__(self, origin: int, time_base: Fraction, rate: Fraction):
        scale = Fraction(time_base) * Fraction(rate)  # t * rate = (pts - origin) * scale
        self.origin = int(origin)
        self.num, self.den = scale.numerator, scale.denominator

    def __call__(self, pts: int) -> int:
        return ((pts - self.origin) * self.num) // self.den


def sample_steps(times: Sequence, rate: float = DEFAULT_RATE) -> list[int]:
    """The rule by time over every frame's time (seconds, Fractions for exactness): the
    frame indices of the steps."""
    rule = StepRule(check_rate(rate))
    return [i for i, t in enumerate(times) if rule.take(rule.cell_at(t))]


def pts_steps(pts: Sequence[int], origin: int, time_base: Fraction, rate: Fraction) -> list[int]:
    """The rule by pts, in integers, over every frame's pts: the frame indices of the steps
    (the same as :func:`sample_steps` over ``(pts - origin) * time_base``)."""
    rule, cell = StepRule(rate), PtsCells(origin, time_base, rate)
    return [i for i, q in enumerate(pts) if rule.take(cell(q))]
