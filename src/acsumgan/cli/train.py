"""Commands: train (filled in as the project grows)."""

from .common import cli, dataset  # noqa: F401
