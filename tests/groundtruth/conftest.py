"""Shared fixtures: the real SumMe / TVSum ground truth copied under tests/data."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
SUMME = DATA / "summe"
TVSUM = DATA / "tvsum"
SPLITS = DATA / "splits"
SUMME_GT = SUMME / "GT"
SUMME_CP = SUMME / "summe_change_points.json"
SUMME_MAP = SUMME / "mapped_video_names.json"
TVSUM_TSV = TVSUM / "ydata-tvsum50-anno.tsv.gz"
TVSUM_MAT_GZ = TVSUM / "ydata-tvsum50.mat.gz"
TVSUM_MAP = TVSUM / "mapped_video_names.json"


def load_json_gz(path: Path):
    with gzip.open(path, "rt") as f:
        return json.load(f)


def h5_user_summary(path: Path) -> np.ndarray:
    return np.asarray(load_json_gz(path)["user_summary"])


@pytest.fixture(scope="session")
def summe_videos():
    from acsumgan.data.groundtruth import import_summe

    return import_summe(SUMME_GT, SUMME_CP, SUMME_MAP)


@pytest.fixture(scope="session")
def tvsum_mat(tmp_path_factory) -> Path:
    """The official ydata-tvsum50.mat, decompressed from its gzip copy."""
    out = tmp_path_factory.mktemp("tvsum") / "ydata-tvsum50.mat"
    with gzip.open(TVSUM_MAT_GZ, "rb") as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return out


@pytest.fixture(scope="session")
def tvsum_videos(tvsum_mat):
    from acsumgan.data.groundtruth import import_tvsum

    return import_tvsum(tvsum_mat)


@pytest.fixture(scope="session")
def tvsum_videos_tsv():
    from acsumgan.data.groundtruth import import_tvsum

    return import_tvsum(TVSUM_TSV)
