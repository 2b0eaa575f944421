"""The ``mmgraph subgraph`` commands end to end: generate, train (split and folds), errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from mmgraph.cli import main
from mmgraph.data import load_subgnn


def test_generate_then_train_glass(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "cut"
    code = main(
        ["subgraph", "generate", "--task", "cut_ratio", "--nodes", "200", "--subgraphs", "30"]
        + ["--seed", "1", "--out", str(folder)]
    )
    assert code == 0
    assert "cut_ratio: 200 nodes" in capsys.readouterr().out
    dataset = load_subgnn(folder)
    assert len(dataset) == 30 and dataset.class_names == ["A", "B", "C"]
    out = tmp_path / "run"
    code = main(
        ["subgraph", "train", "--data", str(folder), "--method", "glass", "--hidden", "8"]
        + ["--epochs", "2", "--batch-size", "16", "--quiet", "--out", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "glass on cut" in printed and "micro_f1" in printed and "test" in printed
    # the default --pool auto: both poolings trained, the better on validation kept
    assert "pooling chosen on validation accuracy, per run: " in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert [s["pool"] for s in metrics["pool_selection"]] == ["mean", "sum"]
    assert metrics["test"]["micro_f1"] == metrics["test"]["accuracy"]
    assert np.load(out / "embeddings.npy").shape == (30, 8)
    assert (out / "config.yaml").is_file()


def test_train_pool_on_tu_folds(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "mutag"
    code = main(
        ["subgraph", "train", "--data", "mutag", "--root", str(shared_data), "--method", "pool"]
        + ["--layers", "1", "--hidden", "4", "--jk", "--epochs", "1", "--quiet"]
        + ["--lr-step-size", "5", "--lr-gamma", "0.2", "--out", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "10-fold cross-validation" in printed and "±" in printed and "accuracy" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["runs"]) == 10 and metrics["whole_graphs"] is True
    assert {"micro_f1", "micro_f1_std", "accuracy", "accuracy_std"} <= set(metrics["test"])
    # --jk: the input's pooling and the layer's
    assert np.load(out / "embeddings.npy").shape == (10, 188, 4 * 2)
    train = yaml.safe_load((out / "config.yaml").read_text())["train"]
    assert (train["lr_step_size"], train["lr_gamma"]) == (5, 0.2)


def test_errors(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        ["subgraph", "train", "--data", "mutag", "--root", str(shared_data), "--method", "glass"]
        + ["--epochs", "1", "--quiet", "--out", str(tmp_path / "x")]
    )
    assert code == 2
    assert "use the 'pool' method" in capsys.readouterr().err
    code = main(["subgraph", "train", "--data", str(tmp_path / "none"), "--out", str(tmp_path)])
    assert code == 2
    assert "mmgraph subgraph train: error:" in capsys.readouterr().err
    assert main(["subgraph", "generate", "--task", "diameter", "--out", str(tmp_path)]) == 2


def test_whole_graphs_start_from_their_own_defaults(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from mmgraph.tune.options import OPTIONS, WHOLE_GRAPH_DEFAULTS

    # No --method: whole graphs get the pooling GIN; given flags win over those defaults,
    # and so do the keys of a --config file; options not given keep the whole-graph values.
    config = tmp_path / "c.yaml"
    config.write_text("layers: 1\njk: false\n")
    out = tmp_path / "mutag"
    code = main(
        ["subgraph", "train", "--data", "mutag", "--root", str(shared_data), "--hidden", "4"]
        + ["--epochs", "1", "--config", str(config), "--quiet", "--out", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    doc = yaml.safe_load((out / "config.yaml").read_text())
    sub, train = doc["subgraph"], doc["train"]
    assert (sub["method"], sub["aggregator"], sub["pool"]) == ("pool", "gin", "mean")
    assert (sub["hidden"], sub["num_layers"], sub["jk"], train["epochs"]) == (4, 1, False, 1)
    assert sub["dropout"] == WHOLE_GRAPH_DEFAULTS["dropout"] == 0.0
    assert train["lr_step_size"] == WHOLE_GRAPH_DEFAULTS["lr_step_size"]
    assert OPTIONS["subgraph"]["method"] == "glass"  # subgraphs keep GLASS
    assert "pool on" in capsys.readouterr().out
