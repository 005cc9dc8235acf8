"""Commands: dataset synth/validate, splits make, evaluate."""

from .common import cli, dataset, splits  # noqa: F401
