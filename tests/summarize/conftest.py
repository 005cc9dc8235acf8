"""The generated test videos and scorers of tests/media/conftest.py, for these tests too."""

from media.conftest import *  # noqa: F401,F403  (fixtures are found by name)
from media.conftest import REAL_VIDEOS, distance_scorer, plain_scene_video  # noqa: F401
