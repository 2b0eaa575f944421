"""End-to-end subgraph runs: splits, folds, seeds, Sub2Vec probes, written files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from mmgraph.data import SubgraphDataset, save_card
from mmgraph.tasks.subgraph import (
    SubgraphConfig,
    load_subgraph_dataset,
    run_subgraph_task,
    summarize_folds,
    train_subgraph_model,
)
from mmgraph.train import TrainConfig

FAST = TrainConfig(epochs=3, lr=0.01, patience=None, progress=False, deterministic=False)


def test_glass_on_a_split(density_small: SubgraphDataset) -> None:
    config = SubgraphConfig(method="glass", hidden=8, num_layers=1, batch_size=20)
    result = train_subgraph_model(density_small, config, FAST)
    assert set(result.metrics) == {"train", "val", "test"}
    for split in ("val", "test"):
        metrics = result.metrics[split]
        assert metrics["micro_f1"] == metrics["accuracy"]
        assert {"macro_f1", "mcc", "roc_auc", "loss"} <= set(metrics)
    assert result.embeddings.shape == (len(density_small), 8)
    assert len(result.models) == 1


def test_pool_on_folds(molecules: SubgraphDataset) -> None:
    config = SubgraphConfig(method="pool", hidden=8, num_layers=2, jk=True, head_layers=2)
    result = train_subgraph_model(molecules, config, FAST)
    runs = result.metrics["runs"]
    assert len(runs) == 2 and set(runs[0]) == {"train", "test"}
    accs = [r["test"]["accuracy"] for r in runs]
    assert result.metrics["test"]["micro_f1"] == pytest.approx(np.mean(accs))
    assert result.metrics["test"]["accuracy_std"] == pytest.approx(np.std(accs))
    assert result.embeddings.shape == (2, len(molecules), 8 * 3)
    with pytest.raises(ValueError, match="use the 'pool' method"):
        train_subgraph_model(molecules, SubgraphConfig(method="glass"), FAST)


def test_sub2vec_probe(overlapping: SubgraphDataset) -> None:
    config = SubgraphConfig(method="sub2vec", hidden=4, tokens="node", walk_length=3)
    result = train_subgraph_model(overlapping, config, FAST)
    assert set(result.metrics) == {"train", "val", "test"}
    assert result.metrics["test"]["micro_f1"] == result.metrics["test"]["accuracy"]
    assert result.embeddings.shape == (6, 4) and result.models == []


def test_no_split_gets_a_stratified_one(overlapping: SubgraphDataset) -> None:
    bare = SubgraphDataset(
        overlapping.graph,
        overlapping.subgraphs * 5,
        overlapping.y.repeat(5),
        class_names=["a", "b"],
    )
    result = train_subgraph_model(bare, SubgraphConfig(method="pool", hidden=4), FAST)
    assert set(result.metrics) == {"train", "val", "test"}


def test_run_writes_metrics_and_embeddings(overlapping: SubgraphDataset, tmp_path: Path) -> None:
    config = SubgraphConfig(method="pool", hidden=4, num_layers=1)
    metrics = run_subgraph_task(overlapping, config, FAST, seeds=[0, 1], out=tmp_path)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["method"] == "pool" and saved["seed_list"] == [0, 1]
    assert len(saved["seeds"]) == 2 and "micro_f1_std" in saved["test"]
    assert metrics["test"]["micro_f1"] == pytest.approx(saved["test"]["micro_f1"])
    assert np.load(tmp_path / "embeddings.npy").shape == (6, 4)
    doc = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert SubgraphConfig.from_dict(doc["subgraph"]) == config
    assert TrainConfig.from_dict(doc["train"]).epochs == 3
    with pytest.raises(ValueError, match="at least one seed"):
        run_subgraph_task(overlapping, config, FAST, seeds=[])


def test_summarize_folds_skips_nan() -> None:
    runs = [
        {"test": {"accuracy": 1.0, "roc_auc": float("nan")}},
        {"test": {"accuracy": 0.5, "roc_auc": 0.7}},
    ]
    summary = summarize_folds(runs)
    assert summary["test"]["accuracy"] == 0.75 and summary["test"]["roc_auc"] == 0.7
    assert summary["runs"] == runs


def test_loading_and_errors(overlapping: SubgraphDataset, tmp_path: Path) -> None:
    card = save_card(overlapping.graph, tmp_path / "card")
    with pytest.raises(ValueError, match="node-level graph, not a subgraph data set"):
        load_subgraph_dataset(card)
    with pytest.raises(ValueError, match="Unknown subgraph method 'seal'"):
        SubgraphConfig(method="seal")
    with pytest.raises(TypeError, match="Expected a SubgraphDataset"):
        train_subgraph_model(overlapping.graph)  # type: ignore[arg-type]
    unlabelled = SubgraphDataset(overlapping.graph, [torch.tensor([0])], torch.tensor([-1]))
    with pytest.raises(ValueError, match="no labelled subgraphs"):
        train_subgraph_model(unlabelled, SubgraphConfig(method="pool"), FAST)


def test_validation_runs_on_the_validation_subgraphs(overlapping: SubgraphDataset) -> None:
    from mmgraph.subgraph import make_subgraph_batch, with_split
    from mmgraph.tasks.subgraph import _validation_batch

    full = make_subgraph_batch(overlapping)
    batch = _validation_batch(overlapping, full, overlapping.graph, None)
    assert batch.subgraph_id.tolist() == [3]  # the only validation subgraph
    assert batch.val_mask.tolist() == [True] and not bool(batch.train_mask.any())
    folds = with_split(full, torch.tensor([0, 1, 2]), torch.tensor([4, 5]))
    assert _validation_batch(overlapping, folds, overlapping.graph, None) is folds
