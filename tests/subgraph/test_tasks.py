"""End-to-end subgraph runs: splits, folds, seeds, Sub2Vec probes, written files."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from mmgraph.data import SubgraphDataset, save_card
from mmgraph.errors import InputError
from mmgraph.tasks.subgraph import (
    DEPTH_CHOICES,
    ID_DROPOUT,
    INPUT_CHOICES,
    POOL_CHOICES,
    SubgraphConfig,
    auto_inputs,
    build_subgraph_model,
    deepen_work,
    deepens,
    depth_over_limit,
    load_subgraph_dataset,
    run_subgraph_task,
    summarize_folds,
    train_subgraph_model,
    unseen_nodes,
)
from mmgraph.train import TrainConfig

FAST = TrainConfig(epochs=3, lr=0.01, patience=None, progress=False, deterministic=False)


def test_glass_on_a_split(density_small: SubgraphDataset) -> None:
    config = SubgraphConfig(method="glass", hidden=8, num_layers=1, batch_size=20)
    labelled = density_small.y >= 0
    small = int((density_small.val_mask & labelled).sum())
    assert 0 < small < 10  # a split that small warns: each subgraph moves its score a lot
    with pytest.warns(UserWarning, match=rf"validation split of .* holds {small} labelled"):
        result = train_subgraph_model(density_small, config, FAST)
    # pool="auto" and the head refit of glass
    assert set(result.metrics) == {"train", "val", "test", "selection", "head_refit"}
    for split in ("val", "test"):
        metrics = result.metrics[split]
        assert metrics["micro_f1"] == metrics["accuracy"]
        assert {"macro_f1", "mcc", "roc_auc", "loss"} <= set(metrics)
    assert result.embeddings.shape == (len(density_small), 8)
    assert len(result.models) == 1


def test_random_ids_warn_when_the_evaluated_nodes_lie_in_no_training_subgraph(
    overlapping: SubgraphDataset,
) -> None:
    # training subgraphs hold 0-5 and 10-14; val {2, 20}, test {30}, {5, ..., 10}
    evaluated = overlapping.val_mask | overlapping.test_mask
    assert unseen_nodes(overlapping, overlapping.train_mask, evaluated) == (6, 9)
    assert unseen_nodes(overlapping, overlapping.train_mask, overlapping.val_mask) == (1, 2)
    assert unseen_nodes(overlapping, overlapping.train_mask, torch.zeros(6, dtype=torch.bool)) == (
        0,
        0,
    )
    config = SubgraphConfig(method="glass", hidden=4, num_layers=1, node_input="id", pool="mean")
    with pytest.warns(UserWarning, match=r"6 of the 9 nodes .* \(67%\) lie in no training"):
        result = train_subgraph_model(overlapping, config, FAST)
    assert set(result.metrics) >= {"val", "test"}
    # the result keeps the kept model's validation logits and labels, one run
    [(logits, y)] = result.val_outputs
    assert logits.shape == (1, 2) and y.tolist() == [overlapping.y[3].item()]
    # ids started from node2vec: no warning
    import warnings

    config = dataclasses.replace(config, node_input="node2vec")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train_subgraph_model(overlapping, config, FAST)
    assert not [w for w in caught if "no training subgraph" in str(w.message)]


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


@pytest.mark.parametrize("node_input", ["id", "node2vec"])
def test_learned_ids_are_refused_on_whole_graphs(
    molecules: SubgraphDataset, node_input: str
) -> None:
    """A test graph's nodes are in no training graph: their learned ids would never train."""
    config = SubgraphConfig(method="pool", hidden=8, node_input=node_input)
    with pytest.raises(InputError, match="never trained: use 'auto'"):
        train_subgraph_model(molecules, config, FAST)


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
    assert set(result.metrics) == {"train", "val", "test", "selection"}


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


def test_pool_auto_keeps_the_best_validation_pooling(density_small: SubgraphDataset) -> None:
    """The best validation score is kept, the run is that candidate's own run, and other
    labels on the test subgraphs change nothing. A graph of edges alone: node inputs too."""
    config = SubgraphConfig(method="glass", hidden=8, num_layers=1, batch_size=20)
    assert auto_inputs(density_small, config) == INPUT_CHOICES
    result = train_subgraph_model(density_small, config, FAST)
    selection = result.metrics["selection"]
    pairs = [(i, p) for i in INPUT_CHOICES for p in POOL_CHOICES]
    assert [(s["node_input"], s["pool"]) for s in selection] == pairs
    scores = [s["val_accuracy"] for s in selection]
    best = scores.index(max(scores))  # ties: the first
    assert [s["chosen"] for s in selection] == [i == best for i in range(len(pairs))]
    assert not any(s["inner_validation"] for s in selection)
    # the kept weights' epoch scores at most the best epoch, and it is the table's model
    assert all(s["val_accuracy_kept"] <= s["val_accuracy"] for s in selection)
    refit = result.metrics.get("head_refit") or {}
    trained = refit.get("val_accuracy_trained", result.metrics["val"]["accuracy"])
    assert selection[best]["val_accuracy_kept"] == pytest.approx(trained)
    node_input, pool = pairs[best]
    chosen = dataclasses.replace(config, node_input=node_input, pool=pool)
    alone = train_subgraph_model(density_small, chosen, FAST)
    assert "selection" not in alone.metrics
    assert {k: alone.metrics[k] for k in ("train", "val", "test")} == {
        k: result.metrics[k] for k in ("train", "val", "test")
    }
    relabelled = copy.copy(density_small)
    relabelled.y = density_small.y.clone()
    test = density_small.test_mask
    relabelled.y[test] = (relabelled.y[test] + 1) % density_small.num_classes
    again = train_subgraph_model(relabelled, config, FAST)
    assert again.metrics["selection"] == selection


@pytest.mark.parametrize("method", ["glass", "pool"])
def test_layers_auto_trains_the_kept_candidate_again_deeper(
    density_small: SubgraphDataset, method: str
) -> None:
    """num_layers="auto": the candidates with one layer, then the kept one with two, which
    replaces it on a higher validation score (ties: the shallower); the run is then that
    candidate's own run, and labels on the test subgraphs change nothing."""
    config = SubgraphConfig(method=method, hidden=8, node_input="constant", batch_size=20)
    assert config.num_layers == "auto" and config.resolved_layers() == DEPTH_CHOICES[0] == 1
    assert deepens(density_small, config)
    result = train_subgraph_model(density_small, config, FAST)
    selection = result.metrics["selection"]
    assert [(s["pool"], s["layers"]) for s in selection[:2]] == [(p, 1) for p in POOL_CHOICES]
    best = max(range(2), key=lambda i: (selection[i]["val_accuracy"], -i))
    assert selection[best]["val_accuracy"] < 1.0  # else nothing to deepen (next test)
    deeper = selection[2]
    assert len(selection) == 3
    assert (deeper["pool"], deeper["layers"]) == (selection[best]["pool"], DEPTH_CHOICES[1])
    wins = deeper["val_accuracy"] > selection[best]["val_accuracy"]
    assert [s["chosen"] for s in selection] == [i == (2 if wins else best) for i in range(3)]
    kept = next(s for s in selection if s["chosen"])
    alone = dataclasses.replace(config, pool=kept["pool"], num_layers=kept["layers"])
    assert not deepens(density_small, alone)
    run = train_subgraph_model(density_small, alone, FAST)
    assert "selection" not in run.metrics
    assert run.metrics["test"] == result.metrics["test"]
    relabelled = copy.copy(density_small)
    relabelled.y = density_small.y.clone()
    test = density_small.test_mask
    relabelled.y[test] = (relabelled.y[test] + 1) % density_small.num_classes
    assert train_subgraph_model(relabelled, config, FAST).metrics["selection"] == selection


def test_layers_auto_does_not_retrain_a_perfect_score(
    density_small: SubgraphDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A perfect validation score cannot be beaten, and ties keep the shallower: neither
    the deeper candidate nor the candidates after it are trained."""
    from mmgraph.tasks import subgraph as task

    monkeypatch.setattr(task, "best_val_score", lambda trainer, metric="accuracy": 1.0)
    trained = []
    fit_one = task._fit_one
    monkeypatch.setattr(task, "_fit_one", lambda *a, **k: trained.append(a[1]) or fit_one(*a, **k))
    config = SubgraphConfig(hidden=8, node_input="constant", batch_size=20)
    selection = train_subgraph_model(density_small, config, FAST).metrics["selection"]
    assert [(s["pool"], s["layers"], s["chosen"], s["val_accuracy"]) for s in selection] == [
        ("mean", 1, True, 1.0),
        ("sum", 1, False, None),
    ]
    assert [s.get("skipped", False) for s in selection] == [False, True]
    assert [(c.pool, c.num_layers) for c in trained] == [("mean", 1)]
    # One candidate left alone: no choice was made, so none is reported.
    alone = train_subgraph_model(density_small, dataclasses.replace(config, pool="sum"), FAST)
    assert "selection" not in alone.metrics
    assert alone.models[0].num_layers == 1  # type: ignore[union-attr]


def test_layers_auto_keeps_one_layer_where_two_would_cost_too_much(
    density_small: SubgraphDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmgraph.tasks import subgraph as task

    graph = density_small.graph
    degree = torch.bincount(graph.edge_index[1], minlength=int(graph.num_nodes))
    work = sum(int(degree[torch.as_tensor(list(nodes))].sum()) for nodes in density_small.subgraphs)
    assert deepen_work(density_small) == work > 0
    config = SubgraphConfig()
    assert deepens(density_small, config)
    assert depth_over_limit(density_small, config) is None
    monkeypatch.setattr(task, "DEEPEN_WORK", work - 1)
    assert not deepens(density_small, config)
    assert depth_over_limit(density_small, config) == work
    assert depth_over_limit(density_small, dataclasses.replace(config, num_layers=1)) is None
    selection = train_subgraph_model(
        density_small, dataclasses.replace(config, hidden=8, batch_size=20), FAST
    ).metrics["selection"]
    assert {s["layers"] for s in selection} == {1}


def test_layers_auto_keeps_whole_graphs_and_given_depths(
    molecules: SubgraphDataset, density_small: SubgraphDataset
) -> None:
    assert not deepens(molecules, SubgraphConfig(method="pool"))
    assert not deepens(density_small, SubgraphConfig(num_layers=2))
    assert not deepens(density_small, SubgraphConfig(method="sub2vec"))
    assert SubgraphConfig(num_layers=3).resolved_layers() == 3
    with pytest.raises(InputError, match="num_layers takes an integer or 'auto'"):
        SubgraphConfig(num_layers="two")
    with pytest.raises(InputError, match="num_layers takes an integer or 'auto'"):
        SubgraphConfig(num_layers=True)


def test_dropout_auto_drops_out_learned_node_ids_alone(
    overlapping: SubgraphDataset, molecules: SubgraphDataset
) -> None:
    assert SubgraphConfig().dropout == "auto" and 0 < ID_DROPOUT < 1
    for method in ("glass", "pool"):
        ids = SubgraphConfig(method=method, node_input="id", pool="mean")
        assert build_subgraph_model(overlapping, ids).dropout == ID_DROPOUT
        walked = dataclasses.replace(ids, node_input="node2vec")
        assert build_subgraph_model(overlapping, walked).dropout == ID_DROPOUT
        constant = dataclasses.replace(ids, node_input="constant")
        assert build_subgraph_model(overlapping, constant).dropout == 0.0
        given = dataclasses.replace(ids, dropout=0.2)
        assert build_subgraph_model(overlapping, given).dropout == 0.2
    # whole graphs: a degree or feature input, no ids
    whole = SubgraphConfig(method="pool", pool="mean", num_layers=2)
    assert build_subgraph_model(molecules, whole).dropout == 0.0
    # the candidates of node_input="auto": each with its own input's dropout
    result = train_subgraph_model(
        overlapping, SubgraphConfig(hidden=8, pool="mean", num_layers=1), FAST
    )
    chosen = next(s for s in result.metrics["selection"] if s["chosen"])
    expected = ID_DROPOUT if chosen["node_input"] == "node2vec" else 0.0
    assert result.models[0].dropout == expected
    assert {s["node_input"] for s in result.metrics["selection"]} == {"constant", "node2vec"}
    for s in result.metrics["selection"]:
        assert s["dropout"] == (ID_DROPOUT if s["node_input"] == "node2vec" else 0.0)
    for bad in ("half", 1.0, -0.1, True):
        with pytest.raises(InputError, match="dropout takes a number in \\[0, 1\\) or 'auto'"):
            SubgraphConfig(dropout=bad)


def test_node2vec_runs_repeat_whether_the_table_is_computed_or_kept(
    overlapping: SubgraphDataset,
) -> None:
    """The first run computes the walks' table, the second finds it kept; a copy of the
    data (another graph object) computes it again. All three train alike; another seed
    starts from another table."""
    config = SubgraphConfig(node_input="node2vec", pool="mean", num_layers=1, hidden=8)

    def run(data: SubgraphDataset, seed: int = 0) -> dict[str, float]:
        train = dataclasses.replace(FAST, seed=seed)
        result = train_subgraph_model(data, config, train)
        start = result.models[0].node_input.init
        return {"val": result.metrics["val"]["micro_f1"], "start": float(start.sum())}

    first = run(overlapping)
    assert run(overlapping) == first
    copied = copy.copy(overlapping)
    copied.graph = copy.deepcopy(overlapping.graph)
    assert run(copied) == first
    assert run(overlapping, seed=1)["start"] != first["start"]


def test_auto_inputs_only_on_subgraphs_of_a_graph_of_edges_alone(
    overlapping: SubgraphDataset, molecules: SubgraphDataset
) -> None:
    glass = SubgraphConfig(method="glass")
    assert auto_inputs(overlapping, glass) == ("constant", "node2vec")
    assert auto_inputs(overlapping, SubgraphConfig(method="pool")) == ("constant", "node2vec")
    # a given input, Sub2Vec, whole graphs, node attributes: the input as it is
    assert auto_inputs(overlapping, SubgraphConfig(node_input="degree")) == ("degree",)
    assert auto_inputs(overlapping, SubgraphConfig(method="sub2vec")) == ("auto",)
    assert auto_inputs(molecules, SubgraphConfig(method="pool")) == ("auto",)
    attributed = copy.copy(overlapping)
    attributed.graph = copy.copy(overlapping.graph)
    attributed.graph.numeric = torch.rand(int(overlapping.graph.num_nodes), 2)
    assert auto_inputs(attributed, glass) == ("auto",)


def test_node_ids_are_kept_where_the_class_is_the_place() -> None:
    """On the position task a constant input cannot tell the regions apart; the choice on
    validation keeps node ids (started from node2vec), which can."""
    from mmgraph.data.synthetic_subgraphs import make_position

    data = make_position(
        num_blocks=9, block_size=40, p_in=0.2, p_out=0.004, num_subgraphs=120, seed=0
    )
    train = TrainConfig(epochs=15, lr=0.02, patience=None, progress=False, monitor="loss")
    result = train_subgraph_model(data, SubgraphConfig(hidden=8, batch_size=16), train)
    selection = result.metrics["selection"]
    chosen = next(s for s in selection if s["chosen"])
    assert chosen["node_input"] == "node2vec"
    best_constant = max(s["val_accuracy"] for s in selection if s["node_input"] == "constant")
    assert chosen["val_accuracy"] > best_constant + 0.2
    assert result.metrics["test"]["accuracy"] >= 0.8


def test_pool_auto_callbacks_see_each_pooling_numbered_across(
    density_small: SubgraphDataset,
) -> None:
    config = SubgraphConfig(method="glass", hidden=8, num_layers=1, batch_size=20)
    records: list[dict] = []
    train_subgraph_model(
        density_small, config, FAST, callbacks=[lambda trainer, r: records.append(r)]
    )
    assert [r["candidate"] for r in records] == sorted(r["candidate"] for r in records)
    assert {r["candidate"] for r in records} == set(range(len(POOL_CHOICES) * 2))
    assert [r["step"] for r in records] == [
        r["candidate"] * FAST.epochs + r["epoch"] for r in records
    ]
    assert len({r["step"] for r in records}) == len(records)


def test_pool_auto_on_folds_chooses_inside_each_fold(molecules: SubgraphDataset) -> None:
    config = SubgraphConfig(method="pool", hidden=8, num_layers=2)
    result = train_subgraph_model(molecules, config, FAST)
    per_fold = result.metrics["selection"]
    assert len(per_fold) == len(molecules.folds)
    for selection in per_fold:
        assert [s["pool"] for s in selection] == list(POOL_CHOICES)
        assert all(s["inner_validation"] for s in selection)
        assert sum(s["chosen"] for s in selection) == 1
    # the test fold is not read: other labels there, the same choices
    relabelled = copy.copy(molecules)
    relabelled.y = molecules.y.clone()
    _, test = molecules.folds[0]
    relabelled.y[test] = 1 - relabelled.y[test]
    again = train_subgraph_model(relabelled, config, FAST)
    assert again.metrics["selection"][0] == per_fold[0]


def test_a_model_refuses_pool_auto() -> None:
    with pytest.raises(ValueError, match="chosen on validation subgraphs"):
        build_subgraph_model(None, SubgraphConfig(pool="auto"))  # type: ignore[arg-type]


def test_frozen_norms_are_frozen_in_training(
    density_small: SubgraphDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``norm="frozen"`` through train_subgraph_model: the statistics stop moving."""
    from torch import nn

    import mmgraph.tasks.subgraph as task

    seen: list[int | None] = []
    fit = task.Trainer.fit

    def recording(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(self.config.freeze_norm_epoch)
        return fit(self, *args, **kwargs)

    def counting(into: dict[int, list[int]]):  # type: ignore[no-untyped-def]
        # each epoch's updates of the running statistics (the run ends on its best epoch's
        # weights, counters included, so they are read as the epochs end)
        def count(trainer, record):  # type: ignore[no-untyped-def]
            into[record["epoch"]] = [
                int(m.num_batches_tracked)
                for m in trainer.model.modules()
                if isinstance(m, nn.BatchNorm1d)
            ]

        return count

    config = SubgraphConfig(
        hidden=8, node_input="constant", pool="mean", norm="frozen", num_layers=1
    )
    train = TrainConfig(epochs=8, lr=0.01, patience=None, progress=False, monitor="loss")
    frozen: dict[int, list[int]] = {}
    with monkeypatch.context() as patch:
        patch.setattr(task.Trainer, "fit", recording)
        train_subgraph_model(density_small, config, train, callbacks=[counting(frozen)])
    assert seen == [3]  # 8 // 4 + 1
    assert frozen[8] and all(n > 0 for n in frozen[8]) and frozen[8] == frozen[2]
    tracked: dict[int, list[int]] = {}
    batch_norms = dataclasses.replace(config, norm="batch")
    train_subgraph_model(density_small, batch_norms, train, callbacks=[counting(tracked)])
    # Batch statistics all along update the running ones in every epoch, frozen in two.
    assert all(n * 4 == t for n, t in zip(frozen[8], tracked[8], strict=True))


def test_whole_graphs_train_on_one_thread_unless_told(
    molecules: SubgraphDataset, density_small: SubgraphDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two threads were no faster on whole graphs and many times slower beside other work."""
    from mmgraph.tasks import subgraph as task

    seen = []
    fit = task._fit_classifier
    monkeypatch.setattr(
        task,
        "_fit_classifier",
        lambda *a, **k: seen.append(torch.get_num_threads()) or fit(*a, **k),
    )
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv(task.FOLD_JOBS_VARIABLE, "1")  # in this process, where `seen` is
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        config = SubgraphConfig(method="pool", hidden=4, num_layers=1, pool="mean")
        train_subgraph_model(molecules, config, FAST)
        assert seen == [task.WHOLE_GRAPH_THREADS] * 2 and torch.get_num_threads() == 2
        seen.clear()  # subgraphs of one graph keep the threads
        train_subgraph_model(
            density_small, dataclasses.replace(config, node_input="constant"), FAST
        )
        assert seen == [2]
        seen.clear()  # the user's count is kept
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        train_subgraph_model(molecules, config, FAST)
        assert seen == [2, 2]
    finally:
        torch.set_num_threads(before)


def test_folds_train_side_by_side_with_the_results_of_one_after_the_other(
    molecules: SubgraphDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each fold is seeded on its own: forked workers give the sequential results."""
    from mmgraph.tasks import subgraph as task

    config = SubgraphConfig(method="pool", hidden=4, num_layers=1)  # pool auto: a choice
    results = {}
    for jobs in ("1", "2"):
        monkeypatch.setenv(task.FOLD_JOBS_VARIABLE, jobs)
        lines: list[str] = []
        results[jobs] = train_subgraph_model(molecules, config, FAST, echo=lines.append)
        folds = [line.split(":")[0] for line in lines if line.startswith("fold ")]
        assert folds == ["fold 1/2", "fold 2/2"]
        assert (lines[0].startswith("2 folds, 2 at once")) == (jobs == "2")
    one, two = results["1"], results["2"]
    assert one.metrics == two.metrics
    assert torch.equal(one.embeddings, two.embeddings)
    for a, b in zip(one.val_outputs, two.val_outputs, strict=True):
        assert (a is None and b is None) or all(torch.equal(x, y) for x, y in zip(a, b))
    for a, b in zip(one.models, two.models, strict=True):
        assert all(
            torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values())
        )


def test_forked_workers_run_each_fold_once_in_order_on_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os
    import time

    from mmgraph.tasks import subgraph as task

    def where(*args):  # what a fold's worker reports instead of training
        time.sleep(0.2)  # long enough for the other worker to take the next fold
        return args[5], os.getpid(), torch.get_num_threads()

    monkeypatch.setattr(task, "_classify", where)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    runs = [(f"fold {k}", None) for k in range(5)]
    done = list(task._forked_runs(2, (None, None, None, None, runs, None)))
    assert [d[0] for d in done] == [0, 1, 2, 3, 4]
    assert len({d[1] for d in done}) == 2 and os.getpid() not in {d[1] for d in done}
    assert {d[2] for d in done} == {task.WHOLE_GRAPH_THREADS}
    assert task._FORKED == ()  # nothing of the run kept once it is done


def test_a_fold_that_raises_stops_the_forked_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fold's own error comes back, every time (a pool once hung on it), and soon."""
    import time

    from mmgraph.tasks import subgraph as task

    def refuse(*args):
        if args[5] == 1:
            raise InputError("fold 1 refused")
        time.sleep(0.05)
        return args[5]

    monkeypatch.setattr(task, "_classify", refuse)
    runs = [(f"fold {k}", None) for k in range(10)]
    for _ in range(5):
        start = time.perf_counter()
        with pytest.raises(InputError, match="fold 1 refused"):
            list(task._forked_runs(2, (None, None, None, None, runs, None)))
        assert time.perf_counter() - start < 30
        assert task._FORKED == ()


def test_a_fold_worker_that_dies_is_named_with_the_way_around(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    from mmgraph.tasks import subgraph as task

    def die(*args):
        os._exit(9)  # as a process killed for memory

    monkeypatch.setattr(task, "_classify", die)
    runs = [(f"fold {k}", None) for k in range(3)]
    with pytest.raises(RuntimeError, match="MMGRAPH_FOLD_JOBS=1 to train one fold after"):
        list(task._forked_runs(2, (None, None, None, None, runs, None)))


def test_how_many_folds_train_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from mmgraph.tasks import subgraph as task

    monkeypatch.setattr(task.os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv(task.FOLD_JOBS_VARIABLE, raising=False)
    assert task.fold_jobs(10) == 8 and task.fold_jobs(3) == 3 and task.fold_jobs(1) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # each fold takes two of the cores
    assert task.fold_jobs(10) == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "16")
    assert task.fold_jobs(10) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "4,2")  # OpenMP's nested form: 4 at the top
    assert task.fold_jobs(10) == 2
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setenv(task.FOLD_JOBS_VARIABLE, "3")
    assert task.fold_jobs(10) == 3
    monkeypatch.setenv(task.FOLD_JOBS_VARIABLE, "1")
    assert task.fold_jobs(10) == 1
    monkeypatch.setenv(task.FOLD_JOBS_VARIABLE, "two")
    with pytest.raises(InputError, match=r"\$MMGRAPH_FOLD_JOBS must be a whole number >= 1"):
        task.fold_jobs(10)
    monkeypatch.setenv(task.FOLD_JOBS_VARIABLE, "0")
    with pytest.raises(InputError, match="got '0'"):
        task.fold_jobs(10)
    monkeypatch.delenv(task.FOLD_JOBS_VARIABLE)
    monkeypatch.setattr(task.sys, "platform", "darwin")  # fork is not safe there
    assert task.fold_jobs(10) == 1


def test_the_time_left_counts_the_folds_trained_at_once() -> None:
    import time

    from mmgraph.tasks.subgraph import _fold_line

    metrics = {"test": {"accuracy": 0.5}}
    since = time.perf_counter() - 100.0  # the first fold ended after 100 s
    # alone: 9 folds of 100 s left; two at once: the second ends beside it, 9 x 50 s left
    assert "about 900 s left" in _fold_line(1, 10, metrics, since)
    assert "about 450 s left" in _fold_line(1, 10, metrics, since, jobs=2)
    assert "about 400 s left" in _fold_line(2, 10, metrics, since, jobs=2)  # side by side
    assert "left" not in _fold_line(10, 10, metrics, since, jobs=2)
