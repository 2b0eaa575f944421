"""benchmarks/defaults.py: what its tables say `tune` kept."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

from mmgraph.tune.options import OPTIONS, WHOLE_GRAPH_DEFAULTS


@pytest.fixture(scope="module")
def bench(load_benchmark: Callable[[str], ModuleType]) -> ModuleType:
    return load_benchmark("defaults")


def test_the_table_says_what_tune_kept(bench: ModuleType) -> None:
    node = {k: OPTIONS["node"][k] for k in ("hidden", "lr", "dropout")}
    confirmed = {"kept": "defaults", "gain": -0.01, "standard_error": 0.005}
    assert bench._kept({"data": "cora", "best_params": node, "confirmation": confirmed}) == (
        ", defaults kept"
    )
    best = {"data": "cora", "best_params": node, "confirmation": {**confirmed, "kept": "best"}}
    assert bench._kept(best) == ", best kept"
    # no confirmation: the defaults' own trial won (read from the parameters), or unknown
    assert bench._kept({"data": "texas", "best_params": node}) == ", the defaults' trial best"
    assert bench._kept({"data": "texas", "best_params": {**node, "hidden": 8}}) == ""
    whole = {"layers": WHOLE_GRAPH_DEFAULTS["layers"], "hidden": WHOLE_GRAPH_DEFAULTS["hidden"]}
    assert bench._kept({"data": "mutag", "best_params": whole}) == ", the defaults' trial best"
    subgraph = {"layers": OPTIONS["subgraph"]["layers"]}
    assert bench._kept({"data": "density", "best_params": subgraph}) == ", the defaults' trial best"


def test_choice_breaks_rank_ties_by_the_validation_loss(bench: ModuleType) -> None:
    val = {"a": {"x": 1.0, "y": 1.0, "z": 0.9}, "b": {"x": 0.9, "y": 1.0, "z": 0.8}}
    assert bench.choose(val, ["a", "b"]) == "y"  # the best average rank
    tied = {"a": {"x": 1.0, "y": 0.9, "z": 0.8}, "b": {"x": 0.9, "y": 1.0, "z": 0.8}}
    assert bench.choose(tied, ["a", "b"]) == "x"  # a tie, no losses: the name
    losses = {"a": {"x": 0.30, "y": 0.10, "z": 0.01}, "b": {"x": 0.20, "y": 0.15, "z": 0.01}}
    assert bench.choose(tied, ["a", "b"], losses) == "y"  # z's loss is not in the tie
    partial = {"a": {"x": 0.30, "y": 0.10}, "b": {"y": 0.15}}  # x lacks b's: only a counts
    assert bench.choose(tied, ["a", "b"], partial) == "y"


def test_rounds_are_ranked_apart(bench: ModuleType) -> None:
    """A round's table ranks its own candidates: another round's rows change nothing."""
    first, second = (names for _, names in bench.ROUNDS["subgraph"][:2])
    row = {"family": "subgraph", "seconds": 1.0, "seed": 0}
    rows = [
        {**row, "data": d, "candidate": c, "val": v, "test": v, "val_loss": 1 - v}
        for d in bench.SUBGRAPH_DATA
        for c, v in ((second[0], 0.9), (second[4], 0.9), (first[0], 1.0))
    ]
    lines = bench.family_report("subgraph", rows)
    chosen = [line for line in lines if line.startswith("Chosen")]
    ran = {r["candidate"] for r in rows}
    rounds = [names for _, names in bench.ROUNDS["subgraph"] if ran & set(names)]
    assert len(chosen) == len(rounds) >= 2 and first[0] in chosen[0]
    assert second[0] in chosen[1] or second[4] in chosen[1]
    rows = [{**r, "val_loss": 0.5 if r["candidate"] == second[0] else 0.1} for r in rows]
    chosen = [line for line in bench.family_report("subgraph", rows) if "Chosen" in line]
    assert f"**{second[4]}**" in chosen[1]  # tied ranks, the lower loss


def test_wl_features_count_labels_by_hand(bench: ModuleType) -> None:
    """Two graphs: a path a-b-a and an edge a-b; one WL round."""
    import dataclasses

    import torch

    from mmgraph.data.graph import MultimodalGraph

    edges = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])
    tags = torch.tensor([[0], [1], [0], [0], [1]])
    graph = MultimodalGraph(edge_index=edges, num_nodes=5, categorical=tags)

    @dataclasses.dataclass
    class Graphs:
        graph: MultimodalGraph
        subgraphs: list[torch.Tensor]

    data = Graphs(graph, [torch.tensor([0, 1, 2]), torch.tensor([3, 4])])
    counts = bench.wl_features(data, 1).toarray()
    # round 0: tag a, tag b; round 1: a(b), b(a,a), b(a)
    assert counts.shape == (2, 5)
    assert counts.tolist() == [[2, 1, 2, 1, 0], [1, 1, 1, 0, 1]]
    assert bench.wl_features(data, 0).toarray().tolist() == [[2, 1], [1, 1]]


def test_heldout_instances_are_unseen_and_reported_beside_the_seen_data(
    bench: ModuleType,
) -> None:
    # the grids drew instances 0-4 (seed s generates instance s): none of them is held out
    grid_seeds = {r.get("seed") for r in bench._rows(bench.RUNS) if r["data"] in bench.GENERATED}
    assert grid_seeds and not grid_seeds & set(bench.HELDOUT_INSTANCES)
    rows = [
        {"data": "coreness", "instance": 101, "test": [0.8, 0.9], "seconds": 10.0},
        {"data": "density", "instance": 100, "test": [1.0, 0.9], "seconds": 20.0},
    ]
    seen = [{"data": "coreness", "test": [0.9, 0.9]}]
    previous = [{"data": "coreness", "instance": 101, "test": [0.7, 0.7]}]
    lines = bench.heldout_report(rows, seen, previous)
    table = [line for line in lines if line.startswith("| ")][1:]
    # tasks in their order; test, the previous defaults on the instance, the seen data
    assert table[0].startswith("| density | 100 | 95.0 ± 7.1 | - | - |")
    assert table[1].startswith("| coreness | 101 | 85.0 ± 7.1 | 70.0 ± 0.0 | 90.0 ± 0.0 |")
    assert f"commit {bench.PREVIOUS_COMMIT}" in "\n".join(lines)  # what "before" ran
    assert bench.heldout_report([], seen) == []
    # every instance of the previous defaults' file was held out too
    before = {r["instance"] for r in bench._rows(bench.HELDOUT_BEFORE)}
    assert before and not before & grid_seeds


def test_depth_report_pairs_the_runs_that_kept_two_layers(bench: ModuleType) -> None:
    chosen = "input, pooling and depth chosen on validation accuracy, per run: "
    rows = [
        {"data": "coreness", "instance": 100, "test": [1.0, 0.9], "seconds": 30.0,
         "stdout_tail": [chosen + "constant input, mean pooling, 2 layers (1×), "
                         "constant input, mean pooling, 1 layer (1×)"]},
        {"data": "density", "instance": 100, "test": [1.0, 1.0], "seconds": 20.0,
         "stdout_tail": [chosen + "constant input, mean pooling, 1 layer (2×)"]},
        {"data": "cora", "test": [0.8], "seconds": 5.0, "stdout_tail": []},
    ]  # fmt: skip
    one = [{"data": "coreness", "instance": 100, "test": [1.0, 1.0], "seconds": 10.0}]
    table = [line for line in bench.depth_report(rows, one) if line.startswith("| ")][1:]
    assert table == ["| coreness | 100 | 1 of 2 | 100.0 ± 0.0 | 95.0 ± 7.1 | 10 → 30 |"]
    assert bench.depth_report(rows[1:], one) == []  # no run kept two layers


def test_dropout_report_counts_the_runs_on_node_ids(bench: ModuleType) -> None:
    chosen = "input, pooling and depth chosen on validation micro-F1, per run: "
    rows = [
        {"data": "position_multilabel", "instance": 100, "test": [0.9, 0.8, 0.7],
         "seconds": 60.0, "stdout_tail": [chosen + "id input, mean pooling, 2 layers (2×), "
                                          "constant input, sum pooling, 1 layer (1×)"]},
        {"data": "density", "test": [1.0], "seconds": 20.0,
         "stdout_tail": ["input and pooling chosen on validation accuracy, per run: "
                         "constant input, mean pooling (1×)"]},
        {"data": "cora", "test": [0.8], "seconds": 5.0, "stdout_tail": []},
    ]  # fmt: skip
    before = [
        {"data": "position_multilabel", "instance": 100, "test": [0.5, 0.5, 0.5], "seconds": 40.0}
    ]
    table = [line for line in bench.dropout_report(rows, before) if line.startswith("| ")][1:]
    assert table == [
        "| position_multilabel | 100 | 2 of 3 | 50.0 ± 0.0 | 80.0 ± 10.0 | 40 → 60 |",
        "| density | - | 0 of 1 | not run | 100.0 ± 0.0 | 20 |",
    ]
    assert bench.dropout_report(rows[2:], before) == []  # no SubGNN-style command


def test_node2vec_report_counts_the_runs_on_node2vec_ids(bench: ModuleType) -> None:
    chosen = "input, pooling and depth chosen on validation micro-F1, per run: "
    rows = [
        {"data": "position", "instance": 101, "test": [1.0, 0.8], "seconds": 50.0,
         "stdout_tail": [chosen + "node2vec input, sum pooling, 1 layer (2×)"]},
        {"data": "coreness", "instance": 0, "test": [0.9], "seconds": 20.0,
         "stdout_tail": [chosen + "constant input, mean pooling, 1 layer (1×)"]},
        {"data": "texas", "test": [0.8], "seconds": 5.0, "stdout_tail": []},
    ]  # fmt: skip
    before = [{"data": "position", "instance": 101, "test": [0.6, 0.8], "seconds": 40.0}]
    lines = bench.node2vec_report(rows, before)
    table = [line for line in lines if line.startswith("| ")][1:]
    assert table == [
        "| position | 101 | 2 of 2 | 70.0 ± 14.1 | 90.0 ± 14.1 | 40 → 50 |",
        "| coreness | 0 | 0 of 1 | not run | 90.0 ± 0.0 | 20 |",
    ]
    assert bench.PREVIOUS_COMMIT in "\n".join(lines)
    assert bench.node2vec_report(rows[2:], before) == []  # no SubGNN-style command
