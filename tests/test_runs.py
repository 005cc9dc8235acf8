"""Run and experiment folders (acsumgan.runs): layout and readers, on real files.

Through real training runs, the same readers are tested in
tests/reliability/test_atomic_and_readers.py (``--model`` of finished and unfinished
runs, unfinished runs ignored by ``select``); here with hand-made folders and known answers.
"""

import json

import pytest
import yaml

from acsumgan.errors import CheckpointError, ConfigError
from acsumgan.runs import COLUMNS, LOSSES, ExperimentFolder, RunFolder, metrics_csv, read_metrics, sigma_name


def _row(epoch, actor_loss, reward, f_score=None, **kw):
    row = {k: None for k in COLUMNS}
    row.update({k: 0.5 for k in LOSSES})
    row.update({"epoch": epoch, "f_score": f_score, "actor_loss": actor_loss, "reward": reward, "seconds": 1.25, **kw})
    return row


#: The criterion chooses epoch 1: P = (1 - |a|/0.5) * R/1.0 = [0, 0.72, 0.2].
ROWS = [
    _row(-1, None, 0.2, 30.0, seconds=None),
    _row(0, 0.5, 0.5, 31.0),
    _row(1, -0.1, 0.9, 35.5),
    _row(2, 0.4, 1.0, 33.25),
]


def test_run_folder_paths(tmp_path):
    run = RunFolder(tmp_path / "r")
    assert run.path == tmp_path / "r" and repr(run) == f"RunFolder({str(tmp_path / 'r')!r})"
    assert [
        run.config,
        run.metrics,
        run.scores,
        run.tensorboard,
        run.checkpoints,
        run.resume,
        run.log,
        run.run_log,
    ] == [
        tmp_path / "r" / n
        for n in (
            "config.yaml",
            "metrics.csv",
            "scores.h5",
            "tensorboard",
            "checkpoints",
            "resume.pt",
            "train.log",
            "run.log",
        )
    ]
    assert run.checkpoint(7) == tmp_path / "r" / "checkpoints" / "epoch-007.pt"
    assert run.checkpoint(123).name == "epoch-123.pt" and run.checkpoint(1000).name == "epoch-1000.pt"
    assert sigma_name(0.5) == "sigma0.5" and sigma_name(1) == "sigma1" and sigma_name(0.30) == "sigma0.3"
    exp = ExperimentFolder(tmp_path / "e")
    assert exp.run(0.5, 2).path == tmp_path / "e" / "sigma0.5" / "split2"
    assert exp.best("oracle", 3) == tmp_path / "e" / "best" / "oracle" / "split3.pt"
    assert [
        exp.request_file,
        exp.selection,
        exp.report,
        exp.results_csv,
        exp.results_json,
        exp.plots,
        exp.attempts_log,
    ] == [
        tmp_path / "e" / n
        for n in (
            "experiment.yaml",
            "selection.json",
            "report.md",
            "results.csv",
            "results.json",
            "plots",
            "ray_attempts.log",
        )
    ]


def test_written_metrics_read_back_the_same(tmp_path):
    run = RunFolder(tmp_path / "r")
    run.path.mkdir()
    assert run.write_metrics(ROWS) == run.metrics
    text = run.metrics.read_text()
    assert text == metrics_csv(ROWS)
    lines = text.splitlines()
    assert lines[0] == ",".join(COLUMNS) and len(lines) == 5
    assert lines[1].startswith("-1,30.0,0.2,,")  # epoch -1: no actor loss (empty), the rest as written
    back = read_metrics(run.path)
    assert back == ROWS and run.read_metrics() == ROWS
    assert [type(r["epoch"]) for r in back] == [int] * 4 and back[0]["seconds"] is None
    assert run.epochs_done() == 3 and run.chosen_epoch() == 1


@pytest.mark.parametrize(
    "text,problem",
    [
        (None, "metrics.csv unreadable (FileNotFoundError)"),
        ("garbage\n", "metrics.csv lacks its columns or rows"),
        (",".join(COLUMNS) + "\n", "metrics.csv lacks its columns or rows"),
        (",".join(COLUMNS) + "\n" + ",".join(["x"] * len(COLUMNS)) + "\n", "metrics.csv unreadable (ValueError)"),
    ],
    ids=["missing", "no-header", "header-only", "not-numbers"],
)
def test_damaged_metrics_are_a_config_error(tmp_path, text, problem):
    if text is not None:
        (tmp_path / "metrics.csv").write_text(text)
    with pytest.raises(ConfigError) as info:
        read_metrics(tmp_path)
    assert str(info.value) == f"{tmp_path / 'metrics.csv'}: run folder is damaged: {problem}"
    assert info.value.exit_code == 11
    assert RunFolder(tmp_path).epochs_done() == 0


def _touch(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(b"")


def test_checkpoint_epochs_ignores_foreign_files(tmp_path):
    run = RunFolder(tmp_path / "r")
    assert run.checkpoint_epochs() == []  # no checkpoints/ folder yet
    _touch(
        run.checkpoints,
        "epoch-010.pt",
        "epoch-003.pt",
        "epoch-001.pt",
        ".epoch-004.pt.x1y2.tmp",
        "epoch-x.pt",
        "epoch-005.pth",
        "epoch-006.pt.bak",
        "best.pt",
        "notes.txt",
        "EPOCH-007.pt",
    )
    assert run.checkpoint_epochs() == [1, 3, 10]


def _run(tmp_path, complete, epochs):
    run = RunFolder(tmp_path / "r")
    run.path.mkdir()
    run.write_metrics(ROWS)
    _touch(run.checkpoints, *(run.checkpoint(e).name for e in epochs))
    if complete:
        run.mark_complete({"epochs": 3})
    return run


def test_model_checkpoint_of_a_complete_run_is_the_criterions_epoch(tmp_path):
    run = _run(tmp_path, True, [1, 2])
    assert run.is_complete() and json.loads((run.path / "COMPLETE").read_text()) == {"epochs": 3}
    assert run.model_checkpoint() == run.checkpoint(1)  # not the newest (2)


def test_model_checkpoint_of_an_unfinished_run_is_the_newest(tmp_path):
    run = _run(tmp_path, False, [1, 2])
    assert not run.is_complete()
    assert run.model_checkpoint() == run.checkpoint(2)


def test_model_checkpoint_without_checkpoints_raises(tmp_path):
    run = _run(tmp_path, False, [])
    with pytest.raises(CheckpointError) as info:
        run.model_checkpoint()
    assert str(info.value) == f"{run.path}: run folder has no checkpoints yet" and info.value.exit_code == 6


def test_complete_runs_ignores_unfinished_and_foreign_folders(tmp_path):
    exp = ExperimentFolder(tmp_path)
    for name in (
        "sigma0.3/split0",
        "sigma0.7/split0",
        "sigma1/split10",
        "sigma0.7/splitx",
        "sigma0.7/split",
        "sigmaX/split0",
        "other/split0",
        "sigma0.9/notes",
    ):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "COMPLETE").write_text("{}")
    (tmp_path / "sigma0.3" / "split1").mkdir()  # unfinished: no COMPLETE
    (tmp_path / "sigma0.5" / "split0" / "COMPLETE").mkdir(parents=True)  # a folder, not the marker
    (tmp_path / "sigma0.9" / "split2").write_text("a file, not a run folder")
    (tmp_path / "sigma0.1").write_text("a file, not a sigma folder")
    runs = exp.complete_runs()
    assert sorted(runs) == [(0.3, 0), (0.7, 0), (1.0, 10)]
    assert runs[(1.0, 10)].path == tmp_path / "sigma1" / "split10"
    assert all(isinstance(r, RunFolder) for r in runs.values())


def test_read_request(tmp_path):
    exp = ExperimentFolder(tmp_path)
    assert not ExperimentFolder.holds_experiment(tmp_path)
    with pytest.raises(ConfigError) as info:
        exp.read_request()
    assert str(info.value) == f"{tmp_path}: is not an experiment folder (no experiment.yaml)"
    assert info.value.exit_code == 11
    request = {"dataset": "d.h5", "splits": "s.json", "sigmas": [0.3, 0.7], "split_indices": [0, 1]}
    exp.request_file.write_text(yaml.safe_dump({"request": request, "versions": {"acsumgan": "x"}}))
    assert ExperimentFolder.holds_experiment(tmp_path) and exp.read_request() == request
    exp.request_file.write_text("versions: {}\n")
    assert exp.read_request() == {}
    exp.request_file.write_text("request: [unclosed\n")
    with pytest.raises(ConfigError, match="experiment.yaml: unreadable"):
        exp.read_request()


def test_best_model_picks_the_lowest_split(tmp_path):
    exp = ExperimentFolder(tmp_path)
    with pytest.raises(CheckpointError, match=r"has no selected model best/label-free/split\*\.pt"):
        exp.best_model()
    _touch(tmp_path / "best" / "label-free", "split10.pt", "split2.pt")
    assert exp.best_model() == tmp_path / "best" / "label-free" / "split2.pt"
    assert exp.best_model(split=10).name == "split10.pt"
    with pytest.raises(CheckpointError):
        exp.best_model("oracle")
