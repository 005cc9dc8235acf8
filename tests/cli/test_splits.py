"""The splits command: make and show, one-line errors."""

import json
import subprocess
import sys

import pytest

from acsumgan.data.dataset import load_dataset


def run(*args):
    return subprocess.run([sys.executable, "-m", "acsumgan", *map(str, args)], capture_output=True, text=True)


def test_splits_make_and_show_cli(tmp_path, tiny_synth):
    out = tmp_path / "s.json"
    p = run("splits", "make", "--dataset", tiny_synth, "--out", out, "--kind", "kfold", "--n-splits", "4")
    assert p.returncode == 0, p.stderr
    folds = json.loads(out.read_text())
    assert sorted(k for f in folds for k in f["test_keys"]) == sorted(load_dataset(tiny_synth))
    p = run("splits", "show", out, "--dataset", tiny_synth)
    assert p.returncode == 0 and "8/8 videos are tested" in p.stdout


@pytest.mark.parametrize(
    "content,message",
    [
        ("{bad json", "not valid JSON"),
        ("[]", "non-empty JSON list"),
        ('[{"train_keys": ["video_1"]}]', "split 0: missing test_keys"),
        ('[{"train_keys": ["video_1"], "test_keys": ["video_99"]}]', "'video_99', which is not in the dataset"),
        ('[{"train_keys": ["video_1"], "test_keys": ["video_1"]}]', "in both train_keys and test_keys"),
        ('[{"train_keys": "video_1", "test_keys": []}]', "must be a list of video names"),
    ],
)
def test_bad_splits_one_line_exit_4(tmp_path, tiny_synth, content, message):
    f = tmp_path / "bad.json"
    f.write_text(content)
    p = run("splits", "show", f, "--dataset", tiny_synth)
    assert p.returncode == 4 and message in p.stderr and len(p.stderr.strip().splitlines()) == 1
