"""`mmgraph train --seeds` interrupted keeps its work, and `--resume` checks the data.

An interrupted multi-seed run keeps its finished seeds and the checkpoint of the seed it
was training; `train --resume` finishes it with the result of an uninterrupted run. A
resume (one seed or several) refuses data that changed since the run began.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mmgraph.cli import main
from mmgraph.data import save_card
from mmgraph.data.synthetic import make_social_graph
from mmgraph.tasks.run_folder import staging_path
from mmgraph.train.trainer import Trainer

ARGS = ["--text-encoder", "tfidf", "--image-encoder", "none", "--epochs", "45"]
ARGS += ["--patience", "100", "--hidden", "8", "--modality-dim", "8", "--layers", "1"]
ARGS += ["--head", "linear", "--quiet"]


@pytest.fixture()
def card(tmp_path: Path) -> Path:
    graph = make_social_graph(120, seed=5, image_size=8)
    del graph.train_mask, graph.val_mask, graph.test_mask  # a split drawn per seed
    return save_card(graph, tmp_path / "card")


@pytest.fixture()
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def interrupt_seed(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """Ctrl-C in ``seed``'s training, just after its first checkpoint is written."""
    real = Trainer._checkpoint

    def checkpoint(self: Trainer, *args, **kwargs) -> None:
        real(self, *args, **kwargs)
        if self.config.seed == seed:
            raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "_checkpoint", checkpoint)


def runs(folder: Path) -> list:
    return json.loads((folder / "metrics.json").read_text())["runs"]


def test_interrupted_seeds_resume_as_an_uninterrupted_run(
    card: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, one_thread: None
) -> None:
    seeds = ["--seeds", "0", "1", "2"]
    whole = tmp_path / "whole"
    assert main(["train", "--data", str(card), *ARGS, *seeds, "--out", str(whole)]) == 0

    cut = tmp_path / "cut"
    with monkeypatch.context() as patch:
        interrupt_seed(patch, 1)
        assert main(["train", "--data", str(card), *ARGS, *seeds, "--out", str(cut)]) != 0
    partial = staging_path(cut)
    assert not cut.exists() and (partial / "seed-0" / "metrics.json").is_file()  # kept
    assert (staging_path(partial / "seed-1") / "checkpoint.safetensors").is_file()

    capsys.readouterr()
    assert main(["train", "--data", str(card), *ARGS, *seeds, "--out", str(cut)]) == 2
    assert "pass --resume to continue it" in capsys.readouterr().err
    assert main(["train", "--resume", "--out", str(cut)]) == 0
    shown = capsys.readouterr().out
    assert "3 seeds 0 1 2 (mean ± std):" in shown and f"runs written to {cut}" in shown
    assert runs(cut) == runs(whole)
    assert json.loads((cut / "metrics.json").read_text()) == json.loads(
        (whole / "metrics.json").read_text()
    )
    assert sorted(p.name for p in cut.iterdir()) == sorted(p.name for p in whole.iterdir())
    assert not partial.exists()


def test_resume_refuses_changed_data(
    card: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, one_thread: None
) -> None:
    single, several = tmp_path / "single", tmp_path / "several"
    with monkeypatch.context() as patch:
        interrupt_seed(patch, 0)
        assert main(["train", "--data", str(card), *ARGS, "--out", str(single)]) != 0
    with monkeypatch.context() as patch:
        interrupt_seed(patch, 1)
        argv = ["train", "--data", str(card), *ARGS, "--seeds", "0", "1"]
        assert main([*argv, "--out", str(several)]) != 0
    assert staging_path(single).is_dir() and staging_path(several).is_dir()

    nodes = card.parent / "nodes.csv"
    original = nodes.read_text()
    lines = original.splitlines()
    nodes.write_text("\n".join([lines[0], *lines[1:][::-1]]) + "\n")  # the same rows, reordered
    for run in (single, several):
        capsys.readouterr()
        assert main(["train", "--resume", "--out", str(run)]) == 2
        err = capsys.readouterr().err
        assert "changed since the interrupted run" in err and "Restore the data" in err
        assert staging_path(run).is_dir()  # nothing lost: restored data resume it

    nodes.write_text(original)
    for run in (single, several):
        assert main(["train", "--resume", "--out", str(run)]) == 0
        assert (run / "metrics.json").is_file()


def test_seed_typed_over_a_configs_seeds(card: Path, tmp_path: Path, capsys) -> None:
    config = tmp_path / "best.yaml"
    config.write_text("seed: 0\nseeds: [0, 1]\n")
    out = tmp_path / "run"
    argv = ["train", "--config", str(config), "--data", str(card), *ARGS, "--epochs", "3"]
    assert main([*argv, "--seed", "3", "--out", str(out)]) == 0
    assert "seed: 3" in (out / "config.yaml").read_text()  # one run, of the typed seed
    assert not (out / "seed-0").exists()
    capsys.readouterr()
    assert main([*argv, "--seed", "3", "--seeds", "1", "2", "--out", str(tmp_path / "x")]) == 2
    assert "--seed and --seeds both given" in capsys.readouterr().err


@pytest.mark.parametrize("seeds", [["0"], ["0", "1", "2"]], ids=["one-seed", "three-seeds"])
def test_a_run_stopped_before_its_first_checkpoint_resumes(
    card: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,
    one_thread: None,
    seeds: list[str],
) -> None:
    """Killed after its config.yaml, before any checkpoint: `--resume` trains that run again
    (it said "nothing to resume; train without resuming", and a run without --resume was
    refused for the interrupted one)."""
    whole = tmp_path / "whole"
    args = ["train", "--data", str(card), *ARGS, "--seeds", *seeds]
    assert main([*args, "--out", str(whole)]) == 0
    stopped = int(seeds[-1])
    real = Trainer.fit

    def fit(self: Trainer, *rest, **kwargs):
        if self.config.seed == stopped and not kwargs.get("resume"):
            raise KeyboardInterrupt  # after the run's config.yaml, before any epoch
        return real(self, *rest, **kwargs)

    cut = tmp_path / "cut"
    with monkeypatch.context() as patch:
        patch.setattr(Trainer, "fit", fit)
        assert main([*args, "--out", str(cut)]) != 0
    partial = staging_path(cut)
    run = partial if len(seeds) == 1 else staging_path(partial / f"seed-{stopped}")
    assert (run / "config.yaml").is_file() and not (run / "checkpoint.safetensors").exists()
    capsys.readouterr()
    assert main(["train", "--resume", "--out", str(cut)]) == 0
    assert not partial.exists()
    got, want = (json.loads((f / "metrics.json").read_text()) for f in (cut, whole))
    assert got == want
