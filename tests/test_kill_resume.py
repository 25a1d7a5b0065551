"""A real `kill -9` in the middle of training, then `--resume`: no finished epoch is lost and
the final weights equal those of a run that was never interrupted."""

import signal
import subprocess
import sys
import time

import numpy as np

from digitrec.checkpoint import CHECKPOINT_FILE
from digitrec.errors import ModelFileError
from digitrec.store import CHECKPOINT_FORMAT, MODEL_FORMAT, read_arrays_file

ARGS = [
    "--train-limit",
    "6000",
    "--val-size",
    "500",
    "--epochs",
    "4",
    "--batch-size",
    "64",
    "--threads",
    "2",
    "--no-progress",
    "-q",
]


def _train(runs, name, *extra):
    command = [
        sys.executable,
        "-m",
        "digitrec",
        "train",
        *ARGS,
        "--runs-dir",
        str(runs),
        "--name",
        name,
        *extra,
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _epochs_done(run_dir) -> int:
    try:
        return read_arrays_file(run_dir / CHECKPOINT_FILE, kind=CHECKPOINT_FORMAT)[1]["epochs_done"]
    except ModelFileError:
        return 0


def test_kill_9_then_resume_matches_an_uninterrupted_run(tmp_path):
    victim = _train(tmp_path, "killed")
    deadline = time.monotonic() + 120
    while _epochs_done(tmp_path / "killed") < 1:
        assert victim.poll() is None, victim.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    done = _epochs_done(tmp_path / "killed")
    assert 1 <= done < 4  # killed mid-run, with finished epochs on disk
    assert not (tmp_path / "killed" / "model.safetensors").exists()

    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "digitrec",
            "-q",
            "train",
            "--resume",
            str(tmp_path / "killed"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    reference = _train(tmp_path, "reference")
    assert reference.wait() == 0, reference.stderr.read().decode()

    got, document = read_arrays_file(tmp_path / "killed" / "model.safetensors", kind=MODEL_FORMAT)
    want, _ = read_arrays_file(tmp_path / "reference" / "model.safetensors", kind=MODEL_FORMAT)
    assert document["metrics"]["epochs"] == 4
    assert got.keys() == want.keys()
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def test_a_missing_file_from_the_real_entry_point_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "digitrec", "predict", str(tmp_path / "none.png")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "no such file" in result.stderr
