"""Two processes on gloo (torchrun) train like one process with the same global batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch

from mmgraph.train.checkpoint import load_weights

WORKER = Path(__file__).with_name("ddp_worker.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env() -> dict[str, str]:
    out = dict(os.environ)
    out.update(OMP_NUM_THREADS="1", MASTER_ADDR="127.0.0.1")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_PORT"):
        out.pop(key, None)
    return out


def torchrun(*args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(free_port()),
        *args,
    ]


def test_two_gloo_processes_match_one_process(tmp_path: Path) -> None:
    modes = ["minibatch", "fullbatch"]
    subprocess.run(
        [sys.executable, str(WORKER), str(tmp_path), *modes], check=True, env=env(), timeout=300
    )
    result = subprocess.run(
        torchrun(str(WORKER), str(tmp_path), *modes),
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for mode in modes:
        single = load_weights(tmp_path / f"{mode}-world1-rank0.safetensors")
        rank0 = load_weights(tmp_path / f"{mode}-world2-rank0.safetensors")
        rank1 = load_weights(tmp_path / f"{mode}-world2-rank1.safetensors")
        for key in single:
            # Gradients stayed in sync: both ranks hold the very same weights ...
            assert torch.equal(rank0[key], rank1[key]), (mode, key)
            # ... and they are those of one process seeing the whole global batch.
            torch.testing.assert_close(
                rank0[key], single[key], rtol=1e-4, atol=1e-5, msg=f"{mode} {key}"
            )


def test_torchrun_command_line(tmp_path: Path) -> None:
    from mmgraph.data import save_card
    from mmgraph.data.synthetic import make_social_graph

    graph = make_social_graph(120, seed=1, image_size=8)
    card = save_card(graph, tmp_path / "card")
    out = tmp_path / "run"
    result = subprocess.run(
        torchrun(
            "-m",
            "mmgraph",
            "train",
            "--data",
            str(card),
            "--text-encoder",
            "hashing",
            "--image-encoder",
            "none",
            "--epochs",
            "3",
            "--hidden",
            "8",
            "--quiet",
            "--batch-size",
            "32",
            "--fanouts",
            "5",
            "5",
            "--out",
            str(out),
        ),
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("run written to") == 1  # rank 0 alone reports
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"val", "test"}
    assert (out / "model.safetensors").is_file()
