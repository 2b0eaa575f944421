"""`mmgraph train --resume` continues a SIGKILLed run exactly, its choice of design too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mmgraph.cli import main
from mmgraph.data import save_card
from mmgraph.data.synthetic import make_social_graph
from mmgraph.tasks.run_folder import staging_path

ARGS = ["--text-encoder", "tfidf", "--image-encoder", "none", "--epochs", "60"]
ARGS += ["--patience", "100", "--hidden", "16", "--modality-dim", "16", "--quiet"]


def history(run: Path) -> list[dict]:
    return [
        {k: v for k, v in r.items() if k != "time"}
        for r in json.loads((run / "history.json").read_text())
    ]


def env() -> dict[str, str]:
    out = dict(os.environ)
    out.update(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    return out


@pytest.mark.slow
def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path: Path, capsys) -> None:
    graph = make_social_graph(300, seed=4, image_size=8)
    del graph.train_mask, graph.val_mask, graph.test_mask
    card = save_card(graph, tmp_path / "card")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the killed process runs
    whole = tmp_path / "whole"
    try:
        assert main(["train", "--data", str(card), *ARGS, "--out", str(whole)]) == 0
    finally:
        torch.set_num_threads(threads)

    cut = tmp_path / "cut"
    partial = staging_path(cut)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mmgraph", "train", "--data", str(card), *ARGS, "--out", str(cut)],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # The default run chooses its design: each trains in a folder of its own in the staging
    # folder. Killed in the second design, past its checkpoint of epoch 20: the first is
    # complete, the second resumes from its checkpoint, the third starts.
    records = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        log = partial / ".design-1" / "history.jsonl"
        records = len(log.read_text().splitlines()) if log.is_file() else 0
        if records >= 25:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    assert not cut.exists() and partial.is_dir()  # nothing moved into place

    capsys.readouterr()
    assert main(["train", "--data", str(card), *ARGS, "--out", str(cut)]) == 2
    assert "--resume" in capsys.readouterr().err  # a fresh start is refused, not mixed in
    torch.set_num_threads(1)
    try:
        assert main(["train", "--resume", "--out", str(cut), "--quiet"]) == 0
    finally:
        torch.set_num_threads(threads)
    assert not partial.exists()
    assert sorted(p.name for p in cut.iterdir()) == sorted(p.name for p in whole.iterdir())
    assert history(cut) == history(whole)
    assert (cut / "selection.json").read_text() == (whole / "selection.json").read_text()
    assert json.loads((cut / "metrics.json").read_text()) == json.loads(
        (whole / "metrics.json").read_text()
    )
    a, b = load_file(str(whole / "model.safetensors")), load_file(str(cut / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
