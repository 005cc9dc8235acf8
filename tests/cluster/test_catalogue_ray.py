"""``dataset build`` and ``summarize`` with ``--executor ray`` on a real multi-node Ray cluster
on this machine (``ray.cluster_utils.Cluster``: a head and two workers, 1 CPU each): the
results are bitwise a local run's; a worker node killed mid-run changes nothing; a driver
killed with SIGKILL leaves what finished, and the next run recomputes none of it."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

ray = pytest.importorskip("ray")  # installed by `make test`; the [ray] extra for users

from ray.cluster_utils import Cluster  # noqa: E402

from acsumgan.cluster.pool import Failed, RayPool  # noqa: E402
from acsumgan.errors import VideoError  # noqa: E402
from acsumgan.synthetic.media import make_scene_video  # noqa: E402

pytestmark = pytest.mark.slow

SCENES = [[30, 50, 20, 40], [25, 35, 45], [40, 30, 30], [20, 60, 25], [35, 25, 40, 20], [50, 30]]
THREADS = ("--threads", "1")
TRAIN = ("--epochs", "2")


def _cli(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "acsumgan", *map(str, args)], capture_output=True, text=True, timeout=900, **kw
    )


def _popen(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "acsumgan", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("catalogue_videos")
    return [make_scene_video(d / f"v{i}.mp4", scenes, fps=10, size=(96, 72)) for i, scenes in enumerate(SCENES)]


@pytest.fixture(scope="module")
def cluster():
    # the head node started in this process installs its own SIGTERM handler (and Ray's init
    # may too): the process's handlers are put back afterwards, for the tests that follow
    kept = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    c = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "object_store_memory": 150 * 1024 * 1024, "include_dashboard": False},
    )
    workers = [c.add_node(num_cpus=1, object_store_memory=150 * 1024 * 1024) for _ in range(2)]
    c.wait_for_nodes()
    c.workers = workers
    try:
        yield c
    finally:
        ray.shutdown()  # the pool test joined it from this process
        c.shutdown()
        for s, h in kept.items():
            if h is not None:
                signal.signal(s, h)


@pytest.fixture(scope="module")
def local_build(videos, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local_build") / "data.h5"
    proc = _cli("dataset", "build", *videos, "--out", out, *THREADS)
    assert proc.returncode == 0, proc.stderr
    return out


def _arrays(path: Path) -> dict:
    """Every dataset of every video group (the fields that hold numbers) of an eccv16 file."""
    out = {}
    with h5py.File(path, "r") as h5:
        for key in h5:
            for name in ("features", "picks", "change_points", "n_frame_per_seg", "n_frames", "n_steps"):
                if name in h5[key]:
                    out[f"{key}/{name}"] = np.asarray(h5[key][name][()])
    return out


def _assert_same_arrays(a: Path, b: Path) -> None:
    x, y = _arrays(a), _arrays(b)
    assert sorted(x) == sorted(y) and len(x) == 6 * 6
    for k in x:
        assert x[k].dtype == y[k].dtype and np.array_equal(x[k], y[k]), k


def _wait_for(cond, proc: subprocess.Popen, timeout: float = 300) -> None:
    t0 = time.monotonic()
    while not cond():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended (rc {proc.returncode}) before the point under test: {err[-2000:]}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            pytest.fail("timed out waiting for the run to get there")
        time.sleep(0.05)


def test_build_on_three_nodes_is_bitwise_the_local_build(cluster, videos, local_build, tmp_path):
    out = tmp_path / "ray.h5"
    proc = _cli(
        "dataset", "build", *videos, "--out", out, *THREADS, "--executor", "ray", "--ray-address", cluster.address
    )
    assert proc.returncode == 0, proc.stderr
    _assert_same_arrays(local_build, out)
    assert not Path(str(out) + ".parts").exists()


def test_build_survives_a_worker_node_killed_mid_run(cluster, videos, local_build, tmp_path):
    out = tmp_path / "killed.h5"
    parts = Path(str(out) + ".parts")
    proc = _popen(
        "dataset", "build", *videos, "--out", out, *THREADS, "--executor", "ray", "--ray-address", cluster.address
    )
    # the first video done: the other two nodes are busy with theirs
    _wait_for(lambda: parts.is_dir() and any(parts.glob("*.h5")), proc)
    victim = cluster.workers.pop()
    cluster.remove_node(victim)
    _, err = proc.communicate(timeout=600)
    cluster.workers.append(cluster.add_node(num_cpus=1, object_store_memory=150 * 1024 * 1024))
    cluster.wait_for_nodes()
    assert proc.returncode == 0, err
    _assert_same_arrays(local_build, out)


def _frame_digests(path: Path) -> list[str]:
    import av

    with av.open(str(path)) as c:
        return [hashlib.sha256(f.to_ndarray(format="rgb24").tobytes()).hexdigest() for f in c.decode(video=0)]


def _summaries(out: Path) -> dict:
    """Per video: segments.json's bytes and the decoded frames of summary.mp4."""
    return {
        d.name: ((d / "segments.json").read_bytes(), _frame_digests(d / "summary.mp4"))
        for d in sorted(out.iterdir())
        if (d / "segments.json").is_file()
    }


def _features(out: Path) -> dict:
    with h5py.File(out / "features.h5", "r") as h5:
        return {h5[k]["video_name"][()].decode(): (h5[k]["features"][()], h5[k]["change_points"][()]) for k in h5}


def test_summarize_on_three_nodes_is_bitwise_local_and_resumes_after_sigkill(cluster, videos, tmp_path):
    local = tmp_path / "local"
    proc = _cli("summarize", *videos, "--out", local, *THREADS, *TRAIN)
    assert proc.returncode == 0, proc.stderr

    out = tmp_path / "ray"
    args = ("summarize", *videos, "--out", out, *THREADS, *TRAIN, "--executor", "ray", "--ray-address", cluster.address)
    first = _popen(*args)
    # two summaries in place (a unit appears whole): kill the driver with no warning
    _wait_for(lambda: sum((out / f"v{i}" / "segments.json").is_file() for i in range(6)) >= 2, first)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    finished = {f"v{i}" for i in range(6) if (out / f"v{i}" / "segments.json").is_file()}
    assert 2 <= len(finished) < 6

    n_log = len((out / "summarize.log").read_text().splitlines())
    again = _cli(*args)
    assert again.returncode == 0, again.stderr
    new = (out / "summarize.log").read_text().splitlines()[n_log:]
    assert "features: 0 computed, 6 reused" in again.stdout
    assert not any(" features: " in line and "computed" in line for line in new)
    reused = {line.split("summary: ", 1)[1].split(" ", 1)[0] for line in new if "up to date in" in line}
    assert reused == {f"{name}.mp4" for name in finished}
    assert not any("model: trained" in line for line in new)

    # every result bitwise the local run's: features and shots, segments.json, summary.mp4's frames
    fa, fb = _features(local), _features(out)
    assert sorted(fa) == sorted(fb) == [f"v{i}.mp4" for i in range(6)]
    for name in fa:
        assert np.array_equal(fa[name][0], fb[name][0]) and np.array_equal(fa[name][1], fb[name][1]), name
    sa, sb = _summaries(local), _summaries(out)
    assert sorted(sa) == sorted(sb) == [f"v{i}" for i in range(6)]
    for name in sa:
        assert sa[name][0] == sb[name][0], f"{name}/segments.json"
        assert sa[name][1] == sb[name][1], f"{name}/summary.mp4 frames"
    index = (out / "index.html").read_text()
    assert all(f"v{i}/summary.html" in index for i in range(6))

    # and once more: nothing to do at all
    n_log = len((out / "summarize.log").read_text().splitlines())
    third = _cli(*args)
    assert third.returncode == 0, third.stderr
    new = (out / "summarize.log").read_text().splitlines()[n_log:]
    assert sum("up to date in" in line for line in new) == 6


def test_a_failing_task_is_retried_then_reported_while_the_others_finish(cluster, tmp_path):
    """The pool on the cluster: a bad input fails at once (no retry), an error of another kind
    is tried again (here it succeeds the second time), one that keeps failing is reported
    after 1 + retries attempts; the other items' results all arrive."""
    counts = tmp_path / "attempts"
    counts.mkdir()

    def task(i: int) -> int:
        mark = counts / f"{i}.{os.getpid()}.{time.monotonic_ns()}"
        mark.write_text("")
        if i == 1:
            raise VideoError(f"v{i}.mp4", "cannot be decoded")
        if i == 2 and len(list(counts.glob("2.*"))) == 1:
            raise RuntimeError("the first attempt fails")
        if i == 3:
            raise RuntimeError("always fails")
        return i * i

    pool = RayPool(cluster.address, retries=2)
    got = dict(pool.map(task, [(i,) for i in range(6)]))
    assert sorted(got) == list(range(6))
    assert {i: got[i] for i in (0, 2, 4, 5)} == {0: 0, 2: 4, 4: 16, 5: 25}
    assert isinstance(got[1], Failed) and got[1].error == "v1.mp4: cannot be decoded" and got[1].attempts == 1
    assert isinstance(got[3], Failed) and "always fails" in got[3].error and got[3].attempts == 3
    assert len(list(counts.glob("1.*"))) == 1 and len(list(counts.glob("2.*"))) == 2
    assert len(list(counts.glob("3.*"))) == 3


def test_summarize_with_a_model_on_three_nodes_is_bitwise_local(cluster, videos, tmp_path):
    """With --model each task extracts its video's features itself (no features.h5): the
    summaries are still bitwise the local run's."""
    train = tmp_path / "train"
    proc = _cli("summarize", *videos[:2], "--out", train, *THREADS, *TRAIN, "--no-page")
    assert proc.returncode == 0, proc.stderr
    model = train / "model"
    local, out = tmp_path / "local", tmp_path / "ray"
    proc = _cli("summarize", *videos[2:], "--model", model, "--out", local, *THREADS)
    assert proc.returncode == 0, proc.stderr
    proc = _cli(
        "summarize", *videos[2:], "--model", model, "--out", out, *THREADS, "--executor", "ray",
        "--ray-address", cluster.address,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert not (out / "features.h5").exists()
    sa, sb = _summaries(local), _summaries(out)
    assert sorted(sa) == sorted(sb) == [f"v{i}" for i in range(2, 6)]
    for name in sa:
        assert sa[name] == sb[name], name
