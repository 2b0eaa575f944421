"""`mmgraph tune` on the command line: a search, its best.yaml rerun, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mmgraph.cli import _leaf_parsers, build_parser, main
from mmgraph.data import save_card
from mmgraph.data.synthetic import make_social_graph
from mmgraph.tasks import DataSpec, load_graph
from mmgraph.tasks.node_classification import _with_split
from mmgraph.tune import OPTIONS

SPACE = """
text-encoder: hashing
image_encoder: none
image_size: 8
epochs: 3
modality_dim: 8
hidden: {low: 4, high: 16, log: true}
dropout: {low: 0.0, high: 0.5}
"""


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_card(
        make_social_graph(60, seed=3, image_size=8), tmp_path_factory.mktemp("d") / "card"
    )


@pytest.mark.usefixtures("later_trials_score_higher")
def test_best_yaml_reproduces_tune_through_train_config(
    card: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    out = tmp_path / "tuned"
    args = ["tune", "--data", str(card), "--trials", "2", "--seeds", "2", "--space", str(space)]
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "node: 2 trials complete" in printed and "retrained with 2 seeds" in printed
    # the best trial (the second) is not the defaults' (the first, which drew a hidden in
    # the space, as 64 lies outside it): it is confirmed against them on new seeds, and the
    # line of options says which was kept
    summary = json.loads((out / "tune.json").read_text())
    assert "best against the defaults on seeds 1-2: " in printed
    assert f"\n{summary['kept']}: " in printed
    assert {"best.yaml", "metrics.json", "study.db", "tune.json", "history.png"} <= {
        p.name for p in out.iterdir()
    }
    tuned = json.loads((out / "metrics.json").read_text())
    assert tuned["seed_list"] == [0, 1] and "accuracy_std" in tuned["test"]

    again = tmp_path / "again"
    assert main(["train", "--config", str(out / "best.yaml"), "--out", str(again), "--quiet"]) == 0
    assert json.loads((again / "metrics.json").read_text()) == tuned  # every seed, exactly
    one = tmp_path / "one"
    config = ["train", "--config", str(out / "best.yaml"), "--seeds", "1"]
    assert main([*config, "--out", str(one), "--quiet"]) == 0  # the flag wins over the file
    assert json.loads((one / "metrics.json").read_text()) == tuned["seeds"][1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--budget", "15x"], "argument --budget: Expected a time budget"),
        (["--budget", "3"], "argument --budget: give the budget a unit: 3s, 3m or 3h"),
        (["--budget", "2.5"], "give the budget a unit: 2.5s, 2.5m or 2.5h"),
        ([], "give --budget"),
        (["--trials", "0"], "argument --trials: expected a positive int"),
        (["--trials", "2", "--workers", "0"], "argument --workers"),
        (["--trials", "2", "--task", "graph"], "argument --task: invalid choice"),
        (["--trials", "2", "--task", "subgraph"], "--task subgraph cannot run on"),
        (["--trials", "2", "--overwrite", "--resume"], "either --overwrite"),
        (["--trials", "2", "--resume"], "Nothing to resume"),
        (["--trials", "2", "--space", "SPACE"], "unknown options ['hiden']"),
    ],
)
def test_tune_errors_are_one_line(
    card: Path, tmp_path: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("hiden: {low: 2, high: 8}\n")
    argv = [str(bad) if a == "SPACE" else a for a in argv]
    code = main(["tune", "--data", str(card), *argv, "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o").exists()


def test_task_options_are_the_commands_options() -> None:
    """The options tune searches and writes are those of the matching command, defaults too."""
    leaves = {p.prog: p for p in _leaf_parsers(build_parser())}
    skip = {"out", "overwrite", "resume", "quiet", "config", "help", "debug", "run", "save_run"}
    for task, prog in (
        ("node", "mmgraph train"),
        ("subgraph", "mmgraph subgraph train"),
        ("unsupervised", "mmgraph embed"),
    ):
        parser = leaves[prog]
        defaults = {
            a.dest: parser.get_default(a.dest)
            for a in parser._actions
            if a.option_strings and a.dest not in skip
        }
        if task == "unsupervised":
            defaults["objective"] = "node2vec"  # tune's best.yaml sets it
        assert OPTIONS[task] == defaults, task


def test_seeds_draw_a_split_each_unless_split_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    graph = make_social_graph(60, seed=4, image_size=8)
    for key in ("train_mask", "val_mask", "test_mask"):
        if key in graph:
            del graph[key]
    card = save_card(graph, tmp_path / "nosplit")
    base = ["train", "--data", str(card), "--text-encoder", "hashing", "--image-encoder"]
    base += ["none", "--epochs", "2", "--quiet", "--seeds", "0", "1"]

    def split_seeds(out: Path) -> list[int]:
        return [
            yaml.safe_load((out / f"seed-{s}" / "config.yaml").read_text())["data"]["split_seed"]
            for s in (0, 1)
        ]

    from mmgraph.data import registry
    from mmgraph.tasks import node_classification

    loads, load = [], registry.load_dataset

    def counted(*args, **kwargs):
        loads.append(args[0])
        return load(*args, **kwargs)

    monkeypatch.setattr(node_classification, "load_dataset", counted)
    monkeypatch.setattr(registry, "load_dataset", counted)  # the flag checks' import
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert split_seeds(tmp_path / "a") == [0, 1]  # one split per seed
    assert loads == [str(card)]  # the card is read once, not once a seed and once more
    for seed in (0, 1):  # each seed's split is the one its own load draws
        spec = DataSpec(str(card), split_seed=seed)
        drawn = _with_split(load_graph(spec, need_labels=True, split=False), spec)
        loaded = load_graph(spec, need_labels=True)
        for key in ("train_mask", "val_mask", "test_mask"):
            assert torch.equal(drawn[key], loaded[key])
    assert main([*base, "--split-seed", "3", "--out", str(tmp_path / "b")]) == 0
    assert split_seeds(tmp_path / "b") == [3, 3]
    capsys.readouterr()


def test_when_the_defaults_trial_scores_best_the_defaults_are_kept_unconfirmed(
    card: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Every searched default lies in the space (the default space's others too) and one
    trial runs: it is the defaults'."""
    space = tmp_path / "space.yaml"
    space.write_text(
        "text-encoder: hashing\nimage_encoder: none\nimage_size: 8\nepochs: 3\n"
        "modality_dim: 8\ndropout: {low: 0.0, high: 0.6}\nlr: {low: 0.005, high: 0.05}\n"
    )
    out = tmp_path / "tuned"
    args = ["tune", "--data", str(card), "--trials", "1", "--seeds", "1", "--space", str(space)]
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "tune.json").read_text())
    assert summary["kept"] == "defaults" and summary["confirmation"] is None
    params = summary["best_params"]
    assert {"dropout", "lr"} <= set(params)
    assert params == {k: OPTIONS["node"][k] for k in params}
    assert "the defaults' trial scored best: the defaults kept" in printed
    assert "\ndefaults: " in printed and "best against the defaults" not in printed


def test_tune_on_a_tu_dortmund_folder_reports_its_folds(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """PyG's TUDataset files: a graph task on ten seeded folds, retrained once per fold."""
    folder = tmp_path / "RINGS" / "raw"
    folder.mkdir(parents=True)
    edges, indicator, labels = [], [], []
    node = 0
    for g in range(20):  # 10 rings and 10 paths of 4-6 nodes
        n = 4 + g % 3
        for i in range(n):
            indicator.append(str(g + 1))
            j = (i + 1) % n
            if j or g % 2 == 0:  # rings close, paths do not
                a, b = node + i + 1, node + j + 1
                edges += [f"{a}, {b}", f"{b}, {a}"]
        node += n
        labels.append(str(g % 2))
    for part, lines in (("A", edges), ("graph_indicator", indicator), ("graph_labels", labels)):
        (folder / f"RINGS_{part}.txt").write_text("\n".join(lines) + "\n")
    space = tmp_path / "space.yaml"
    space.write_text("epochs: 2\nhidden: 16\nlayers: 2\nbatch_size: 32\n")
    out = tmp_path / "tuned"
    args = ["tune", "--data", str(tmp_path / "RINGS"), "--trials", "1", "--space", str(space)]
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "subgraph: 1 trial complete, 0 pruned" in printed
    assert "retrained with 1 seed × 10 folds (mean ± std):" in printed
    header = printed.split("(mean ± std):\n", 1)[1].splitlines()[0].split()
    assert header == ["split", "micro_f1", "accuracy", "macro_f1"]  # as `subgraph train`'s
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["runs"]) == 10 and metrics["whole_graphs"]


def test_the_confirmation_line_says_when_the_budget_cut_its_seeds() -> None:
    from mmgraph.cli.tune import confirmation_line

    record = {"seeds": [1, 2], "gain": 0.02, "standard_error": 0.01, "kept": "best"}
    assert confirmation_line(record, "best") == (
        "best against the defaults on seeds 1-2: +0.0200 ± 0.0100; the best kept"
    )
    cut = {**record, "planned_seeds": [1, 2, 3, 4, 5], "kept": "defaults"}
    assert confirmation_line(cut, "defaults") == (
        "best against the defaults on seeds 1-2 (of 5 planned: the budget's end): "
        "+0.0200 ± 0.0100; within one standard error: the defaults kept"
    )
    worse = {**record, "gain": -0.0159, "standard_error": 0.0097, "kept": "defaults"}
    assert confirmation_line(worse, "defaults") == (
        "best against the defaults on seeds 1-2: -0.0159 ± 0.0097; the defaults do better: kept"
    )
    # one seed over five splits (or folds): a paired score per split
    splits = {**record, "seeds": [1], "best": [0.9] * 5, "defaults": [0.88] * 5}
    assert confirmation_line(splits, "best") == (
        "best against the defaults on seed 1 over 5 folds or splits: +0.0200 ± 0.0100; the best "
        "kept"
    )
    # the validation items' standard error (nodes' or subgraphs'), when it is the larger
    items = {**record, "standard_error": 0.025, "item_standard_error": 0.025, "kept": "defaults"}
    assert confirmation_line(items, "defaults") == (
        "best against the defaults on seeds 1-2: +0.0200 ± 0.0250 (the larger of the seeds' and "
        "the validation items' 0.0250); within one standard error: the defaults kept"
    )
    failed = {"seeds": [1], "best": None, "defaults": [0.5], "kept": "defaults"}
    assert confirmation_line(failed, "defaults") == (
        "best against the defaults: a run failed; the defaults kept"
    )
    assert confirmation_line(None, "defaults") == (
        "the defaults' trial scored best: the defaults kept"
    )
    assert confirmation_line(None, "best") is None


def test_scores_without_labels_print_as_a_dash() -> None:
    from mmgraph.cli.tune import _mean_std

    nan = float("nan")
    assert _mean_std({"nmi": nan, "nmi_std": nan}, "nmi") == "-"  # no labels: not "nan ± nan"
    assert _mean_std({"silhouette": 0.25, "silhouette_std": 0.5}, "silhouette") == "0.250 ± 0.500"
    assert _mean_std({"k": 3}, "nmi") == "-"


def test_seeds_listed_as_train_takes_them_are_told_tune_counts_them(capsys) -> None:
    assert main(["tune", "--data", "synthetic", "--seeds", "0", "1", "--out", "x"]) == 2
    err = capsys.readouterr().err
    assert "expected the number of seeds" in err and "where train's --seeds lists them" in err
