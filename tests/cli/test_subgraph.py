"""The ``mmgraph subgraph`` commands end to end: generate, train (split and folds), errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from mmgraph import heartbeat
from mmgraph.cli import main
from mmgraph.data import load_subgnn
from mmgraph.tasks.subgraph import FOLD_JOBS_VARIABLE


def test_generate_then_train_glass(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    monkeypatch.setattr(heartbeat, "INTERVAL", 0.0)  # a line every epoch, not every minute
    code = main(
        ["subgraph", "train", "--data", str(folder), "--method", "glass", "--hidden", "8"]
        + ["--epochs", "2", "--batch-size", "16", "--out", str(out)]
    )
    assert code == 0
    printed, err = capsys.readouterr()
    assert "glass on cut" in printed and "micro_f1" in printed and "test" in printed
    # the default --pool auto and --node-input auto on a graph of edges alone: both poolings
    # on both inputs trained with one layer, the best on validation trained again with two
    # (--layers auto), the better of those two kept
    assert "input, pooling and depth chosen on validation accuracy, per run: " in printed
    metrics = json.loads((out / "metrics.json").read_text())
    selection = metrics["selection"]
    assert [(s["node_input"], s["pool"], s["layers"]) for s in selection[:4]] == [
        ("constant", "mean", 1),
        ("constant", "sum", 1),
        ("node2vec", "mean", 1),
        ("node2vec", "sum", 1),
    ]
    best = max(range(4), key=lambda i: (selection[i]["val_accuracy"], -i))
    assert selection[best]["val_accuracy"] < 1.0  # else not trained again
    deeper = selection[4]
    assert (deeper["node_input"], deeper["pool"], deeper["layers"]) == (
        selection[best]["node_input"],
        selection[best]["pool"],
        2,
    )
    kept = deeper if deeper["val_accuracy"] > selection[best]["val_accuracy"] else selection[best]
    assert [s["chosen"] for s in selection] == [s is kept for s in selection]
    layers = f", {kept['layers']} layer{'s' if kept['layers'] == 2 else ''} (1×)"
    assert f"{kept['node_input']} input, {kept['pool']} pooling{layers}" in printed
    # a log file hears which of the five candidates trains (a line every epoch here)
    stages = {line.split(": ", 1)[1].split(",")[0] for line in err.splitlines() if " s: " in line}
    assert stages == {f"candidate {k} of 5" for k in range(1, 6)}
    assert metrics["test"]["micro_f1"] == metrics["test"]["accuracy"]
    assert np.load(out / "embeddings.npy").shape == (30, 8)
    assert (out / "config.yaml").is_file()
    # the default --head-fit auto: the head refit, kept unless validation prefers it trained
    assert "head refit on the training subgraphs (C by cross-validation on them)" in printed
    record = metrics["head_refit"]
    assert record["kept"] == (record["val_accuracy_refit"] >= record["val_accuracy_trained"])
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["subgraph"]["head_fit"] == "auto"


def test_generate_position(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "position"
    args = ["subgraph", "generate", "--task", "position", "--subgraphs", "30", "--seed", "2"]
    assert main([*args, "--out", str(folder)]) == 0
    printed = capsys.readouterr().out
    assert "position: " in printed and "30 subgraphs" in printed
    dataset = load_subgnn(folder)
    assert len(dataset) == 30 and dataset.class_names == ["A", "B", "C"]
    assert 4400 <= dataset.graph.num_nodes <= 4500  # 30 blocks of 150 nodes
    assert all(10 <= len(s) <= 20 for s in dataset.subgraphs)
    # Its graph's size is fixed by its blocks: --nodes is refused.
    assert main([*args, "--nodes", "200", "--out", str(tmp_path / "x")]) == 2
    assert "argument --nodes: not for --task position" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_head_fit_options(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "density"
    assert main(["subgraph", "generate", "--task", "density", "--nodes", "200"]
                + ["--subgraphs", "40", "--out", str(folder)]) == 0  # fmt: skip
    base = ["subgraph", "train", "--data", str(folder), "--hidden", "8", "--epochs", "2"]
    base += ["--pool", "mean", "--quiet"]
    assert main([*base, "--head-fit", "trained", "--out", str(tmp_path / "t")]) == 0
    assert "head refit" not in capsys.readouterr().out
    assert "head_refit" not in json.loads((tmp_path / "t" / "metrics.json").read_text())
    assert main([*base, "--head-fit", "refit", "--out", str(tmp_path / "r")]) == 0
    assert "head refit" in capsys.readouterr().out
    record = json.loads((tmp_path / "r" / "metrics.json").read_text())["head_refit"]
    assert record["refit"] and record["kept"] and "val_accuracy_trained" not in record
    code = main(
        [*base[:4], "--method", "sub2vec", "--head-fit", "refit", "--out", str(tmp_path / "s")]
    )
    assert code == 2
    assert "does not read --head-fit" in capsys.readouterr().err
    assert main([*base, "--head-fit", "convex", "--out", str(tmp_path / "c")]) == 2
    assert "invalid choice: 'convex'" in capsys.readouterr().err


def test_train_pool_on_tu_folds(
    shared_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(heartbeat, "INTERVAL", 0.0)  # a line every epoch, not every minute
    monkeypatch.setenv(FOLD_JOBS_VARIABLE, "1")  # one after the other: their lines in order
    out = tmp_path / "mutag"
    code = main(
        ["subgraph", "train", "--data", "mutag", "--root", str(shared_data), "--method", "pool"]
        + ["--layers", "1", "--hidden", "4", "--jk", "--epochs", "1"]
        + ["--lr-step-size", "5", "--lr-gamma", "0.2", "--out", str(out)]
    )
    assert code == 0
    printed, err = capsys.readouterr()
    beats = [line.split(": ", 1)[1] for line in err.splitlines() if " s: fold " in line]
    assert beats == [f"fold {k} of 10, epoch 1 of 1" for k in range(1, 11)]
    assert "10-fold cross-validation" in printed and "±" in printed and "accuracy" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["runs"]) == 10 and metrics["whole_graphs"] is True
    # a line a fold, so that ten folds of minutes each are not silent
    lines = [line for line in printed.splitlines() if line.startswith("fold ")]
    assert [line.split(":")[0] for line in lines] == [f"fold {k}/10" for k in range(1, 11)]
    first = metrics["runs"][0]["test"]["accuracy"]
    assert f"test accuracy {first:.3f} (" in lines[0] and "s left)" in lines[0]
    assert lines[-1].endswith(" s in all)")
    assert {"micro_f1", "micro_f1_std", "accuracy", "accuracy_std"} <= set(metrics["test"])
    # --jk: the input's pooling and the layer's
    assert np.load(out / "embeddings.npy").shape == (10, 188, 4 * 2)
    train = yaml.safe_load((out / "config.yaml").read_text())["train"]
    assert (train["lr_step_size"], train["lr_gamma"]) == (5, 0.2)


def test_folds_side_by_side_print_their_lines_and_keep_the_results(
    shared_data: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The workers' heartbeat lines reach stderr (their file descriptor, here captured)."""
    monkeypatch.setattr(heartbeat, "INTERVAL", 0.0)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    base = ["subgraph", "train", "--data", "mutag", "--root", str(shared_data)]
    base += ["--method", "pool", "--layers", "1", "--hidden", "4", "--epochs", "2"]
    results = {}
    for jobs in ("2", "1"):
        monkeypatch.setenv(FOLD_JOBS_VARIABLE, jobs)
        assert main([*base, "--out", str(tmp_path / jobs)]) == 0
        printed, err = capfd.readouterr()
        results[jobs] = json.loads((tmp_path / jobs / "metrics.json").read_text())
        beats = [line.split(": ", 1)[1] for line in err.splitlines() if " s: fold " in line]
        want = [f"fold {k} of 10, epoch {e} of 2" for k in range(1, 11) for e in (1, 2)]
        assert sorted(beats) == sorted(want)
        lines = [line for line in printed.splitlines() if line.startswith("fold ")]
        assert [line.split(":")[0] for line in lines] == [f"fold {k}/10" for k in range(1, 11)]
        side = "10 folds, 2 at once, one process each" in printed
        assert side == (jobs == "2" and len(os.sched_getaffinity(0)) > 1)
    assert results["2"] == results["1"]


def test_errors(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        ["subgraph", "train", "--data", "mutag", "--root", str(shared_data), "--method", "glass"]
        + ["--epochs", "1", "--quiet", "--out", str(tmp_path / "x")]
    )
    assert code == 2
    assert "use the 'pool' method" in capsys.readouterr().err
    code = main(
        ["subgraph", "train", "--data", "mutag", "--root", str(shared_data), "--node-input"]
        + ["node2vec", "--epochs", "1", "--quiet", "--out", str(tmp_path / "x")]
    )
    assert code == 2
    assert "'node2vec' (learned node ids) gives each node" in capsys.readouterr().err
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
    assert "pool on MUTAG (188 graphs, 10-fold cross-validation)" in capsys.readouterr().out


def write_rings_and_paths(folder: Path, graphs: int = 40) -> Path:
    """A TU Dortmund set without node labels: rings (class 1) and paths (class 0)."""
    folder.mkdir(parents=True)
    edges, indicator, labels, start = [], [], [], 1
    for g in range(graphs):
        size, ring = 4 + g % 4, g % 2
        nodes = list(range(start, start + size))
        pairs = list(zip(nodes[:-1], nodes[1:])) + ([(nodes[-1], nodes[0])] if ring else [])
        edges += [f"{a}, {b}" for a, b in pairs] + [f"{b}, {a}" for a, b in pairs]
        indicator += [str(g + 1)] * size
        labels.append(str(ring))
        start += size
    for part, lines in (("A", edges), ("graph_indicator", indicator), ("graph_labels", labels)):
        (folder / f"RINGS_{part}.txt").write_text("\n".join(lines) + "\n")
    return folder


def test_graphs_of_structure_alone_start_from_their_own_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Whole graphs whose nodes carry nothing but structure take STRUCTURE_DEFAULTS, and
    say so; a flag still wins, and graphs with tags (MUTAG, above) keep the others."""
    from mmgraph.tune.options import STRUCTURE_DEFAULTS, WHOLE_GRAPH_DEFAULTS

    assert STRUCTURE_DEFAULTS and set(STRUCTURE_DEFAULTS) <= {*WHOLE_GRAPH_DEFAULTS, "node_input"}
    folder = write_rings_and_paths(tmp_path / "RINGS")
    common = ["subgraph", "train", "--data", str(folder), "--epochs", "1", "--hidden", "4"]
    out = tmp_path / "run"
    assert main([*common, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "RINGS: the nodes carry nothing but structure (no features, one tag at most)" in printed
    sub = yaml.safe_load((out / "config.yaml").read_text())["subgraph"]
    for key, value in STRUCTURE_DEFAULTS.items():
        assert sub[key] == value, key
        assert f"--{key.replace('_', '-')} {value}" in printed
    flags = {"node_input": "constant", "pool": "mean"}  # the defaults of graphs with tags
    given = [f for k, v in flags.items() for f in (f"--{k.replace('_', '-')}", v)]
    again = tmp_path / "again"
    assert main([*common, *given, "--out", str(again)]) == 0
    assert "nothing but structure" not in capsys.readouterr().out
    sub = yaml.safe_load((again / "config.yaml").read_text())["subgraph"]
    assert {k: sub[k] for k in flags} == flags


def test_the_tu_sets_keep_their_epochs_and_large_sets_train_fewer(shared_data: Path) -> None:
    from mmgraph.tasks.subgraph import load_subgraph_dataset
    from mmgraph.tune.options import (
        WHOLE_GRAPH_DEFAULTS,
        WHOLE_GRAPH_MIN_EPOCHS,
        WHOLE_GRAPH_WORK,
        subgraph_run,
        whole_graph_epoch_work,
        whole_graph_epochs,
    )

    default = (WHOLE_GRAPH_DEFAULTS["epochs"], WHOLE_GRAPH_DEFAULTS["lr_step_size"])
    assert default == (300, 50)
    # The four sets the defaults were chosen on keep them (IMDB-MULTI is the largest).
    for name in ("mutag", "ptc", "enzymes", "imdb-multi"):
        data = load_subgraph_dataset(name, root=shared_data)
        run = subgraph_run({"data": name}, whole_graphs=True, dataset=data)
        assert (run.train.epochs, run.train.lr_step_size) == default, name
        # IMDB-MULTI's one tag is the same on every node: it starts from the degree
        node_input = "degree" if name == "imdb-multi" else "auto"
        assert run.config.node_input == node_input, name
    # A set of NCI1's size trains fewer epochs, within the work of a fold, and halves the
    # learning rate as often (6 times in 300 epochs: about every sixth of its epochs).
    nci1 = (4_110, 122_203, 247_038)
    epochs, step = whole_graph_epochs(*nci1)
    assert epochs < 300 and epochs * whole_graph_epoch_work(*nci1) <= WHOLE_GRAPH_WORK
    assert (epochs + 1) * whole_graph_epoch_work(*nci1) > WHOLE_GRAPH_WORK
    assert step is not None and abs(epochs / step - 6) < 0.5
    # Bigger batches cost less an epoch: more epochs fit.
    assert whole_graph_epochs(*nci1, batch_size=128)[0] > epochs
    # COLLAB's size: no fewer than the floor; no step stays no step.
    assert whole_graph_epochs(5_000, 372_474, 24_574_456)[0] == WHOLE_GRAPH_MIN_EPOCHS + 1
    assert whole_graph_epochs(1, 10**9, 0, lr_step_size=None) == (WHOLE_GRAPH_MIN_EPOCHS, None)
    assert whole_graph_epochs(0, 0, 0) == default


def test_a_large_tu_set_says_it_trains_fewer_epochs_and_flags_win(
    shared_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mmgraph.tune import options

    # MUTAG made "large": a cap of three of its epochs, raised to the floor of ten.
    work = options.whole_graph_epoch_work(188, 3371, 7442)
    monkeypatch.setattr(options, "WHOLE_GRAPH_WORK", 3 * work)
    common = ["subgraph", "train", "--data", "mutag", "--root", str(shared_data)]
    common += ["--hidden", "4", "--layers", "1", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "a")]) == 0
    printed = capsys.readouterr().out
    assert "MUTAG: 10 epochs a fold rather than 300, learning rate halved every 2 " in printed
    assert "(a large set: 3,371 nodes, 7,442 edges); --epochs sets them" in printed
    train = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())["train"]
    assert (train["epochs"], train["lr_step_size"]) == (10, 2)
    # Given epochs are kept, and so is a given step with the capped epochs.
    assert main([*common, "--epochs", "2", "--out", str(tmp_path / "b")]) == 0
    assert "rather than" not in capsys.readouterr().out
    train = yaml.safe_load((tmp_path / "b" / "config.yaml").read_text())["train"]
    assert (train["epochs"], train["lr_step_size"]) == (2, 50)
    assert main([*common, "--lr-step-size", "7", "--out", str(tmp_path / "c")]) == 0
    train = yaml.safe_load((tmp_path / "c" / "config.yaml").read_text())["train"]
    assert (train["epochs"], train["lr_step_size"]) == (10, 7)
    # The run's config.yaml reproduces the run.
    again = ["subgraph", "train", "--config", str(tmp_path / "a" / "config.yaml"), "--quiet"]
    assert main([*again, "--out", str(tmp_path / "d")]) == 0
    first = json.loads((tmp_path / "a" / "metrics.json").read_text())
    second = json.loads((tmp_path / "d" / "metrics.json").read_text())
    assert first["test"] == second["test"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--z-ratio", "0.5"], "'pool' method does not read --z-ratio, which would change"),
        (["--tokens", "node", "--walk-length", "5"], "(--tokens: --method sub2vec; --walk-"),
        (["--method", "sub2vec", "--pool", "sum"], "--pool: --method glass or pool)"),
        (["--method", "sub2vec", "--batch-size", "8", "--norm", "none"], "--batch-size, --norm,"),
        # Sub2Vec's tables: sparse Adam (no weight decay), no validation curve to stop on
        (
            ["--method", "sub2vec", "--weight-decay", "0.01", "--patience", "2"],
            "does not read --patience, --weight-decay",
        ),
        (["--method", "sub2vec", "--monitor", "accuracy"], "does not read --monitor"),
        # TU folds: no validation split, the lowest training loss picks the epoch kept
        (["--monitor", "accuracy"], "has no validation split (TU folds"),
        (["--on-image-error", "missing"], "would change nothing: MUTAG has no images"),
        (["--cache-dir", "cache"], "--cache-dir would change nothing: MUTAG has no texts or"),
        (["--node-input", "x"], "no feature matrix 'x' [N, F] for the 'x' node input: choose"),
    ],
)
def test_flags_the_method_would_ignore_are_refused(
    flags: list[str], message: str, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    common = ["subgraph", "train", "--data", "mutag", "--root", str(shared_data), "--quiet"]
    assert main([*common, *flags, "--epochs", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "mmgraph subgraph train: error:" in err and message in err
    assert not (tmp_path / "run").exists()


def test_flags_the_method_reads_are_taken(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from mmgraph.tasks.subgraph import METHOD_OPTIONS, check_method_options

    for option, methods in METHOD_OPTIONS.items():
        for method in methods:
            check_method_options(method, [option, "epochs", "lr", "seed"])
    folder = tmp_path / "density"
    code = main(
        ["subgraph", "generate", "--task", "density", "--nodes", "120", "--subgraphs", "30"]
        + ["--out", str(folder)]
    )
    assert code == 0
    code = main(
        ["subgraph", "train", "--data", str(folder), "--method", "sub2vec", "--walk-length", "4"]
        + ["--tokens", "node", "--epochs", "1", "--quiet", "--out", str(tmp_path / "s2v")]
    )
    assert code == 0, capsys.readouterr().err
    doc = yaml.safe_load((tmp_path / "s2v" / "config.yaml").read_text())
    assert (doc["subgraph"]["walk_length"], doc["subgraph"]["tokens"]) == (4, "node")


def test_chosen_candidates_describe_every_run_alike() -> None:
    from mmgraph.cli.subgraph import chosen_candidates

    def entry(node_input: str, pool: str, layers: int, chosen: bool) -> dict[str, object]:
        return {"node_input": node_input, "pool": pool, "layers": layers, "chosen": chosen}

    one_depth = [entry("constant", "mean", 1, True), entry("constant", "sum", 1, False)]
    deeper = [
        entry("constant", "mean", 1, False),
        entry("constant", "sum", 1, False),
        entry("constant", "mean", 2, True),
    ]
    # a perfect score in one run, a depth chosen in the other: both runs name their depth
    metrics = {"seeds": [{"selection": one_depth}, {"selection": deeper}]}
    assert chosen_candidates(metrics) == ["mean pooling, 1 layer", "mean pooling, 2 layers"]
    assert chosen_candidates({"selection": one_depth}) == ["mean"]
    inputs = [entry("constant", "mean", 1, False), entry("id", "sum", 1, True)]
    assert chosen_candidates({"selection": inputs}) == ["id input, sum pooling"]
    folds = {"selection": [[*inputs, entry("id", "sum", 2, True)]]}
    folds["selection"][0][1] = entry("id", "sum", 1, False)
    assert chosen_candidates(folds) == ["id input, sum pooling, 2 layers"]


def test_train_says_when_two_layers_are_not_tried(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmgraph.tasks import subgraph as task

    folder = tmp_path / "cut"
    args = ["subgraph", "generate", "--task", "cut_ratio", "--nodes", "200", "--subgraphs"]
    assert main([*args, "30", "--seed", "1", "--out", str(folder)]) == 0
    monkeypatch.setattr(task, "DEEPEN_WORK", 10)
    train = ["subgraph", "train", "--data", str(folder), "--hidden", "8", "--epochs", "2"]
    assert main([*train, "--quiet", "--out", str(tmp_path / "run")]) == 0
    printed = capsys.readouterr().out
    assert "one layer, two not tried: the subgraphs' nodes have " in printed
    assert "in-edges, above 10, and a second layer" in printed and "--layers 2" in printed
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {s["layers"] for s in metrics["selection"]} == {1}
    # a given depth: nothing to say
    assert main([*train, "--layers", "1", "--quiet", "--out", str(tmp_path / "one")]) == 0
    assert "two not tried" not in capsys.readouterr().out


def test_lr_gamma_needs_a_step_but_whole_graphs_have_one(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "density"
    argv = ["subgraph", "generate", "--task", "density", "--nodes", "120", "--subgraphs", "30"]
    assert main([*argv, "--out", str(folder)]) == 0
    train = ["subgraph", "train", "--epochs", "1", "--hidden", "4", "--quiet"]
    # the default's own value, typed: no step, so it would change nothing
    assert main([*train, "--data", str(folder), "--lr-gamma", "0.5", "--out", str(tmp_path / "a")])
    err = capsys.readouterr().err
    assert "so --lr-gamma 0.5 would change nothing: add --lr-step-size" in err
    assert not (tmp_path / "a").exists()
    # MUTAG's folds halve the learning rate every 50 epochs by default: the flag is read
    argv = [*train, "--data", "mutag", "--root", str(shared_data), "--lr-gamma", "0.5"]
    assert main([*argv, "--repeats", "1", "--out", str(tmp_path / "b")]) == 0, capsys.readouterr()
    doc = yaml.safe_load((tmp_path / "b" / "config.yaml").read_text())
    assert (doc["train"]["lr_step_size"], doc["train"]["lr_gamma"]) == (50, 0.5)


def test_training_subgraphs_of_one_class_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "one-class"
    folder.mkdir()
    (folder / "edge_list.txt").write_text("".join(f"{i} {i + 1}\n" for i in range(11)))
    lines = [f"{i}-{i + 1}\tA\t{s}\n" for i, s in enumerate(["train"] * 6 + ["val", "test"])]
    (folder / "subgraphs.pth").write_text("".join(lines))
    argv = ["subgraph", "train", "--epochs", "1", "--quiet", "--out", str(tmp_path / "run")]
    assert main([*argv, "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "All 6 training subgraphs of one-class have the label 'A'" in err, err
    assert "at least two classes" in err
    lines[-1] = "7-8\tB\ttest\n"  # another class, but not among the training subgraphs
    (folder / "subgraphs.pth").write_text("".join(lines))
    assert main([*argv, "--data", str(folder)]) == 2
    assert "All 6 training subgraphs" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_class_without_training_subgraphs_warns(tmp_path: Path) -> None:
    """As `train` warns of nodes: a class no training subgraph has is never predicted."""
    folder = tmp_path / "rare"
    folder.mkdir()
    (folder / "edge_list.txt").write_text("".join(f"{i} {i + 1}\n" for i in range(13)))
    labels = ["A", "B"] * 3 + ["A", "C", "B", "C"]
    splits = ["train"] * 6 + ["val", "val", "test", "test"]
    lines = [f"{i}-{i + 1}\t{c}\t{s}\n" for i, (c, s) in enumerate(zip(labels, splits))]
    (folder / "subgraphs.pth").write_text("".join(lines))
    argv = ["subgraph", "train", "--epochs", "1", "--hidden", "4", "--quiet"]
    with pytest.warns(UserWarning) as caught:
        assert main([*argv, "--data", str(folder), "--out", str(tmp_path / "run")]) == 0
    rare = [str(w.message) for w in caught if "never predicted" in str(w.message)]
    assert rare == [
        "In 'rare', class 'C' has no training subgraph, so it is never predicted. Label more "
        "subgraphs of it, or merge it into another class"
    ]


def test_a_split_without_test_subgraphs_is_said_to_report_validation_only(
    tmp_path: Path,
) -> None:
    """As node `train` says of a split without test nodes; it printed val rows silently."""
    folder = tmp_path / "no-test"
    folder.mkdir()
    (folder / "edge_list.txt").write_text("".join(f"{i} {i + 1}\n" for i in range(13)))
    labels = ["A", "B"] * 5
    splits = ["train"] * 8 + ["val", "val"]
    lines = [f"{i}-{i + 1}\t{c}\t{s}\n" for i, (c, s) in enumerate(zip(labels, splits))]
    (folder / "subgraphs.pth").write_text("".join(lines))
    argv = ["subgraph", "train", "--epochs", "1", "--hidden", "4", "--quiet"]
    with pytest.warns(UserWarning, match="no labelled subgraph lies in the test split"):
        assert main([*argv, "--data", str(folder), "--out", str(tmp_path / "run")]) == 0


def test_whole_graphs_of_one_class_are_named_as_graphs() -> None:
    from mmgraph.data import MultimodalGraph, SubgraphDataset
    from mmgraph.errors import InputError
    from mmgraph.tasks.subgraph import _check_two_classes

    graph = MultimodalGraph(torch.tensor([[0, 1, 2], [1, 2, 3]]), num_nodes=4)
    data = SubgraphDataset.from_lists(graph, [[0, 1], [2, 3]], ["1", "1"], whole_graphs=True)
    with pytest.raises(InputError, match=r"All 2 training graphs .*graph labels file"):
        _check_two_classes(data, torch.ones(2, dtype=torch.bool), "training")


def test_generate_says_when_it_draws_few_subgraphs(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # Coreness draws at most --subgraphs per core number: on 60 nodes only one core number
    # has 20 nodes, so one subgraph is written, and the command says it is too few.
    args = ["subgraph", "generate", "--task", "coreness", "--nodes", "60"]
    with pytest.warns(UserWarning, match=r"1 subgraph, too few to train .* Raise --nodes"):
        assert main([*args, "--out", str(tmp_path / "core")]) == 0
    assert len(load_subgnn(tmp_path / "core")) == 1
    assert ", 1 subgraph, classes" in capsys.readouterr().out
    # '-' stands for '_' in --task, as in make_synthetic_subgraphs; a base graph whose largest
    # component keeps most subgraphs whole warns; one that keeps 5 of its nodes is refused.
    args = ["subgraph", "generate", "--task", "cut-ratio", "--seed", "0", "--nodes"]
    assert main([*args, "60", "--out", str(tmp_path / "cut")]) == 2
    error = capsys.readouterr().err
    assert "base graph is not connected" in error and "(5 of 5 nodes)" not in error
    assert "Raise 'num_nodes' (`mmgraph subgraph generate --nodes`)" in error
    assert not (tmp_path / "cut").exists()
    args = ["subgraph", "generate", "--task", "cut_ratio", "--nodes", "100", "--subgraphs"]
    with pytest.warns(UserWarning, match=r"0 of its 40 subgraphs .* \(92 of 100 nodes\)"):
        assert main([*args, "40", "--out", str(tmp_path / "small")]) == 0
    assert "cut_ratio: 92 nodes" in capsys.readouterr().out


def test_a_split_without_validation_subgraphs_says_where_it_chose(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "cut"
    argv = ["subgraph", "generate", "--task", "cut_ratio", "--nodes", "200", "--subgraphs", "40"]
    assert main([*argv, "--seed", "1", "--out", str(folder)]) == 0
    rows = (folder / "subgraphs.pth").read_text().replace("\tval\n", "\ttrain\n")
    (folder / "subgraphs.pth").write_text(rows)
    capsys.readouterr()
    out = tmp_path / "run"
    argv = ["subgraph", "train", "--data", str(folder), "--method", "glass", "--hidden", "8"]
    assert main([*argv, "--epochs", "2", "--layers", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "chosen on validation accuracy (of 10% of the training subgraphs, held out)" in printed
    assert "\nval " not in printed  # no validation split to report


def test_a_multi_label_run_says_its_head_is_not_refit(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "multi"
    argv = ["subgraph", "generate", "--task", "position_multilabel", "--subgraphs", "30"]
    assert main([*argv, "--out", str(folder)]) == 0
    train = ["subgraph", "train", "--data", str(folder), "--epochs", "1", "--hidden", "4"]
    assert main([*train, "--layers", "1", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "the trained head kept, not refit" in printed and "several labels" in printed
    assert "head_refit" not in json.loads((tmp_path / "run" / "metrics.json").read_text())


def test_jk_with_one_glass_layer_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "density"
    argv = ["subgraph", "generate", "--task", "density", "--nodes", "120", "--subgraphs", "30"]
    assert main([*argv, "--out", str(folder)]) == 0
    capsys.readouterr()
    train = ["subgraph", "train", "--data", str(folder), "--jk", "--epochs", "1", "--quiet"]
    assert main([*train, "--layers", "1", "--out", str(tmp_path / "run")]) == 2
    assert "--jk concatenates the pooled outputs of GLASS's layers" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
