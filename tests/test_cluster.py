"""Scale-out on a real Dask cluster (a LocalCluster of worker processes): extraction and fold training give
what local runs give, and a worker killed mid-run loses only its clip."""

from __future__ import annotations

import os
import signal
import threading
import time

import pandas as pd
import pytest
from distributed import Client, LocalCluster

from experiments.train_graph import train_graph
from landmarks import extract_landmarks

TINY = {"model": "stgcn", "epochs": 2, "folds": 2, "length": 8, "resample": "none"}


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local


def same_run(local, remote) -> None:
    """Byte-identical CSVs, identical manifest rows (but their timing)."""
    local_files = sorted(p.relative_to(local) for p in local.rglob("*.csv") if p.name != "manifest.csv")
    assert local_files == sorted(p.relative_to(remote) for p in remote.rglob("*.csv") if p.name != "manifest.csv")
    for name in local_files:
        assert (local / name).read_bytes() == (remote / name).read_bytes(), name
    manifests = [pd.read_csv(folder / "manifest.csv").drop(columns=["seconds", "source"]) for folder in (local, remote)]
    pd.testing.assert_frame_equal(*manifests)


def test_a_dask_run_gives_the_local_runs_csvs_byte_for_byte(animated_set, cluster, tmp_path):
    frames, _, local = animated_set
    manifest = extract_landmarks(frames, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    assert (manifest["status"] == "ok").all() and len(manifest) == 36
    same_run(local, tmp_path / "dask")


def test_a_worker_killed_mid_run_loses_only_its_clip_and_a_rerun_completes(animated_set, cluster, tmp_path):
    frames, _, local = animated_set
    out = tmp_path / "dask"
    with Client(cluster.scheduler_address) as client:
        pids = list(client.run(os.getpid).values())

    def kill_a_worker_once_a_clip_is_written() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(out.rglob("clip*.csv")):
            time.sleep(0.02)
        os.kill(pids[0], signal.SIGKILL)

    killer = threading.Thread(target=kill_a_worker_once_a_clip_is_written)
    killer.start()
    try:
        extract_landmarks(frames, out, scheduler=cluster.scheduler_address, progress=False)
    except RuntimeError:
        pass  # the cluster may give up on the killed worker's clip; the re-run below redoes it
    killer.join()
    done = len(list(out.rglob("clip*.csv")))
    for csv in out.rglob("clip*.csv"):  # what a killed worker left is never a partial CSV under a final name
        assert len(pd.read_csv(csv)) == 12, csv
    manifest = extract_landmarks(frames, out, scheduler=cluster.scheduler_address, progress=False)
    assert done >= 1 and (manifest["status"] == "ok").all()
    same_run(local, out)
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker for the next test


def test_folds_trained_on_the_cluster_match_folds_trained_here(animated_set, cluster, tmp_path):
    _, _, landmarks = animated_set
    here = train_graph(landmarks, tmp_path / "here", seed=2, **TINY)
    there = train_graph(landmarks, tmp_path / "there", seed=2, scheduler=cluster.scheduler_address, **TINY)
    assert there["folds"] == here["folds"]
    local, remote = (pd.read_csv(tmp_path / run / "predictions.csv") for run in ("here", "there"))
    pd.testing.assert_frame_equal(local, remote, atol=1e-5)
