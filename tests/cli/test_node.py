"""The command line end to end: info, train, evaluate, predict, embed, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from mmgraph import heartbeat
from mmgraph.cli import main
from mmgraph.data import load_dataset, save_card
from mmgraph.data.synthetic import make_social_graph
from mmgraph.tune.options import OPTIONS

METRIC_KEYS = {"accuracy", "macro_f1", "f1", "precision", "recall", "mcc", "roc_auc"}


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    graph = make_social_graph(160, seed=3, image_size=8)
    del graph.train_mask, graph.val_mask, graph.test_mask  # let `train` split it
    return save_card(graph, tmp_path_factory.mktemp("card"))


@pytest.fixture(scope="module")
def run(card: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "bots"
    code = main(
        [
            "train",
            "--data",
            str(card),
            "--text-encoder",
            "tfidf",
            "--image-size",
            "8",
            "--epochs",
            "4",
            "--hidden",
            "8",
            "--modality-dim",
            "8",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out


def test_info_lists_and_summarises(shared_data: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["info", "--list"]) == 0
    assert "cora" in capsys.readouterr().out
    assert main(["info", "--list", "--json"]) == 0
    assert "Cora citations" in json.loads(capsys.readouterr().out)["cora"]
    assert main(["info", "--list", "--data", "cora"]) == 2  # the list reads no data
    assert "--data cora would change nothing" in capsys.readouterr().err
    assert main(["info", "--data", "country-flags", "--root", str(shared_data), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["nodes"] == 250 and summary["edges"] == 650
    # labelled data without a split: how `train` draws one
    assert "splits" not in summary
    assert main(["info", "--data", "country-flags", "--root", str(shared_data)]) == 0
    assert "splits             none in the data: `mmgraph train` draws" in capsys.readouterr().out
    assert main(["info", "--data", "cora", "--root", str(shared_data)]) == 0
    assert "none in the data" not in capsys.readouterr().out  # Cora's own split


def test_train_writes_the_run(run: Path, capsys: pytest.CaptureFixture) -> None:
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) == {"val", "test"}
    assert set(metrics["test"]) >= METRIC_KEYS
    for name in (
        "config.yaml",
        "model.safetensors",
        "history.csv",
        "training_curve.png",
        "text_encoder/tfidf.json",
    ):
        assert (run / name).is_file(), name
    # the designs trained in folders of their own; the chosen one's files are the run
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == [".mmgraph-run"]
    assert not (run / "choice.yaml").exists() and (run / "selection.json").is_file()


def test_evaluate_reproduces_the_training_metrics(run: Path, capsys) -> None:
    before = json.loads((run / "metrics.json").read_text())
    assert main(["evaluate", "--run", str(run), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "test" in out
    after = json.loads((run / "metrics.json").read_text())
    for split in ("val", "test"):
        for key in METRIC_KEYS:
            assert after[split][key] == pytest.approx(before[split][key], abs=1e-6), key


@pytest.mark.parametrize("terminal", [False, True])
def test_progress_bars_only_on_a_terminal(
    card: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    """A log file gets no tqdm redraws (69 KB of them for one default run) unless asked."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    tiny = ["--text-encoder", "tfidf", "--image-size", "8", "--hidden", "8", "--epochs", "2"]
    assert main(["train", "--data", str(card), *tiny, "--out", str(tmp_path / "r")]) == 0
    assert ("train:" in capsys.readouterr().err) == terminal


@pytest.mark.parametrize("terminal", [False, True])
def test_a_log_file_gets_a_heartbeat(
    card: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    """Where no bar is drawn, a line a minute (here: every epoch) says where training is."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    monkeypatch.setattr(heartbeat, "INTERVAL", 0.0)
    tiny = ["--text-encoder", "tfidf", "--image-size", "8", "--hidden", "8", "--epochs", "2"]
    args = ["train", "--data", str(card), *tiny, "--seeds", "0", "1"]
    assert main([*args, "--out", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    lines = [line.split(": ", 1)[1] for line in err.splitlines() if " s: seed " in line]
    # (run alone, the test trains the card's image autoencoder first, with lines of its own)
    lines = [line for line in lines if "autoencoder" not in line]
    if terminal:  # tqdm's bars say it
        assert not lines
    else:
        assert lines[0] == "seed 0, design 1 of 3, epoch 1 of 2"
        assert lines[-1] == "seed 1, design 3 of 3, epoch 2 of 2"
        assert len(lines) == 12  # per seed: 3 designs, 2 epochs each (none trained again)
    assert main([*args, "--quiet", "--out", str(tmp_path / "q")]) == 0
    assert " s: seed " not in capsys.readouterr().err


def test_warnings_print_as_one_line_each(run: Path, capsys) -> None:
    """The command prints ``WARNING: ...``, not a source path and a line of mmgraph's code."""
    import warnings

    from mmgraph.cli import _format_warning

    line = _format_warning("no edges", UserWarning, "/x/node_classification.py", 12, "code")
    assert line == "WARNING: no edges\n"
    assert _format_warning("old", FutureWarning, "f.py", 1) == "WARNING (FutureWarning): old\n"
    before = warnings.formatwarning
    assert main(["evaluate", "--run", str(run), "--quiet"]) == 0
    assert warnings.formatwarning is before  # put back: main() leaves Python's as it was


def test_log_scaling_of_counts_trains_and_reloads(card: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "logged"
    tiny = ["--text-encoder", "tfidf", "--image-size", "8", "--hidden", "8", "--epochs", "2"]
    args = ["train", "--data", str(card), *tiny, "--numeric-scaling", "log", "--quiet"]
    assert main([*args, "--out", str(out)]) == 0
    assert "numeric_scaling: log" in (out / "config.yaml").read_text()
    before = json.loads((out / "metrics.json").read_text())
    assert main(["evaluate", "--run", str(out), "--quiet"]) == 0
    after = json.loads((out / "metrics.json").read_text())
    assert after["test"]["accuracy"] == pytest.approx(before["test"]["accuracy"], abs=1e-6)
    capsys.readouterr()


def test_predict_on_data_with_a_class_the_run_never_saw(
    run: Path, card: Path, tmp_path: Path, capsys
) -> None:
    """Predictions need no labels: a new class is written as the node's true class."""
    graph = load_dataset(card)
    graph.y[:3] = len(graph.class_names)  # three accounts of a new kind
    graph.class_names = [*graph.class_names, "cyborg"]
    other = save_card(graph, tmp_path / "new")
    out = tmp_path / "p.csv"
    assert main(["predict", "--run", str(run), "--data", str(other), "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert list(frame["true_class"][:4]) == ["cyborg"] * 3 + [graph.class_names[graph.y[3]]]
    assert set(frame["predicted_class"]) <= {"human", "bot"}
    assert main(["evaluate", "--run", str(run), "--quiet"]) == 0  # its own data: scored
    capsys.readouterr()


def test_predict_and_embed(run: Path, card: Path, tmp_path: Path) -> None:
    assert main(["predict", "--run", str(run), "--out", str(tmp_path / "p.csv"), "--quiet"]) == 0
    frame = pd.read_csv(tmp_path / "p.csv")
    assert list(frame.columns[:3]) == ["node_id", "predicted_class", "probability"]
    assert len(frame) == 160 and set(frame["predicted_class"]) <= {"human", "bot"}
    np.testing.assert_allclose(frame["p_human"] + frame["p_bot"], 1.0, rtol=1e-5)
    assert main(["embed", "--run", str(run), "--out", str(tmp_path / "e.npy"), "--quiet"]) == 0
    assert np.load(tmp_path / "e.npy").shape == (160, 8)


def test_card_without_labels(run: Path, tmp_path: Path, capsys) -> None:
    graph = make_social_graph(40, seed=5, image_size=8)
    del graph.y, graph.train_mask, graph.val_mask, graph.test_mask
    card = save_card(graph, tmp_path / "unlabelled")
    code = main(
        [
            "train",
            "--data",
            str(card),
            "--text-encoder",
            "hashing",
            "--quiet",
            "--out",
            str(tmp_path / "r"),
        ]
    )
    assert code == 2
    assert "has no labels" in capsys.readouterr().err
    code = main(
        [
            "embed",
            "--run",
            str(run),
            "--data",
            str(card),
            "--out",
            str(tmp_path / "e.npy"),
            "--quiet",
        ]
    )
    assert code == 0 and np.load(tmp_path / "e.npy").shape == (40, 8)


def test_twibot_file_without_labels_works_with_predict(shared_data: Path, tmp_path: Path) -> None:
    sample = shared_data / "twibot20-sample" / "TwiBot-20_sample.json"
    users = json.loads(sample.read_text())
    labelled = tmp_path / "labelled.json"
    for i, user in enumerate(users):
        user["label"] = str(i % 2)
    labelled.write_text(json.dumps(users))
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--data",
                str(labelled),
                "--text-encoder",
                "hashing",
                "--epochs",
                "2",
                "--hidden",
                "8",
                "--modality-dim",
                "8",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "predict",
                "--run",
                str(out),
                "--data",
                str(sample),
                "--out",
                str(tmp_path / "p.csv"),
                "--quiet",
            ]
        )
        == 0
    )
    frame = pd.read_csv(tmp_path / "p.csv")
    assert len(frame) == 100 and frame["probability"].between(0.5, 1.0).all()
    assert "true_class" not in frame.columns


def test_bad_names_list_the_valid_ones(capsys) -> None:
    assert main(["train", "--data", "x", "--aggregator", "sage", "--out", "o"]) == 2
    assert (
        "invalid choice: 'sage' (choose from 'auto', 'mean', 'gcn', 'ggnn', 'gin')"
        in capsys.readouterr().err
    )
    assert main(["info", "--data", "no-such-data"]) == 2
    err = capsys.readouterr().err
    assert "no-such-data" in err and "cora" in err


def test_a_graph_without_edges_trains_and_says_so(tmp_path: Path) -> None:
    graph = make_social_graph(100, seed=4, image_size=8)
    del graph.train_mask, graph.val_mask, graph.test_mask
    graph.edge_index = torch.empty(2, 0, dtype=torch.long)
    del graph.edge_type, graph.num_relations
    card = save_card(graph, tmp_path / "card")
    assert pd.read_csv(card.parent / "edges.csv").empty  # a header-only edge table
    args = ["train", "--data", str(card), "--text-encoder", "hashing", "--image-size", "8"]
    with pytest.warns(UserWarning, match="has no edges .* no neighbours"):
        code = main([*args, "--epochs", "2", "--quiet", "--out", str(tmp_path / "r")])
    assert code == 0


def test_subgraph_data_is_refused_by_train(shared_data: Path, tmp_path: Path, capsys) -> None:
    code = main(
        [
            "train",
            "--data",
            "density",
            "--root",
            str(shared_data),
            "--out",
            str(tmp_path / "r"),
            "--quiet",
        ]
    )
    assert code == 2 and "subgraph data set" in capsys.readouterr().err


def test_python_api_matches(card: Path) -> None:
    from mmgraph.models import FeatureConfig
    from mmgraph.tasks import DataSpec, train_node_classifier
    from mmgraph.train import TrainConfig

    result = train_node_classifier(
        DataSpec(str(card)),
        FeatureConfig(text_encoder="hashing", image_size=8),
        {"hidden": 8, "modality_dim": 8},
        TrainConfig(epochs=2, progress=False),
    )
    assert set(result.metrics["test"]) >= METRIC_KEYS
    assert torch.isfinite(result.trainer.embed(result.graph)).all()


def test_train_with_fusion_and_coordination(card: Path, tmp_path: Path) -> None:
    import yaml

    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--data",
            str(card),
            "--text-encoder",
            "hashing",
            "--image-size",
            "8",
            "--fusion",
            "lowrank",
            "--coordination",
            "infonce",
            "--coordination-weight",
            "0.2",
            "--epochs",
            "2",
            "--hidden",
            "8",
            "--modality-dim",
            "8",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    model = yaml.safe_load((out / "config.yaml").read_text())["model"]
    assert model["fusion"] == "lowrank" and model["coordination"] == "infonce"
    assert model["coordination_weight"] == 0.2
    assert main(["evaluate", "--run", str(out), "--quiet"]) == 0


def test_pretrain_then_fine_tune_the_joint_heads(card: Path, tmp_path: Path, capsys) -> None:
    args = [
        "train",
        "--data",
        str(card),
        "--text-encoder",
        "hashing",
        "--image-size",
        "8",
        "--epochs",
        "2",
        "--hidden",
        "8",
        "--modality-dim",
        "8",
        "--quiet",
        "--pretrain-epochs",
        "3",
    ]
    assert main([*args, "--fusion", "autoencoder", "--out", str(tmp_path / "ae")]) == 0
    assert main([*args, "--fusion", "boltzmann", "--out", str(tmp_path / "dbm")]) == 0
    assert main([*args, "--out", str(tmp_path / "concat")]) == 2
    assert "use it with --fusion autoencoder or --fusion boltzmann" in capsys.readouterr().err


def test_train_with_the_gcn_recipe_options(card: Path, tmp_path: Path, capsys) -> None:
    import yaml

    assert main(["train", "--help"]) == 0
    usage = " ".join(capsys.readouterr().out.split())
    defaults = OPTIONS["node"]
    assert "--head {auto,linear,conv}" in usage and f"(default: {defaults['head']})" in usage
    assert "--numeric-scaling {auto,standard,none,row,log}" in usage
    assert f"(default: {defaults['numeric_scaling']})" in usage
    assert "0 or 'none': no projection" in usage and "--no-missing-indicator" in usage
    out = tmp_path / "recipe"
    args = ["train", "--data", str(card), "--text-encoder", "hashing", "--image-size", "8"]
    args += ["--epochs", "2", "--hidden", "8", "--layers", "1", "--quiet", "--out", str(out)]
    args += ["--head", "conv", "--modality-dim", "0", "--numeric-scaling", "none"]
    assert main([*args, "--no-missing-indicator"]) == 0
    model = yaml.safe_load((out / "config.yaml").read_text())["model"]
    assert (model["head"], model["modality_dim"], model["num_layers"]) == ("conv", None, 1)
    assert (model["numeric_scaling"], model["missing_indicator"]) == ("none", False)
    assert main(["evaluate", "--run", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main([*args, "--aggregator", "ggnn"]) == 2
    assert "use head='linear' with it" in capsys.readouterr().err
    assert main([*args, "--modality-dim", "-3"]) == 2
    assert "expected a positive int <= 65536, 0 or 'none' (got '-3')" in capsys.readouterr().err


def test_train_with_translation_fusion(card: Path, tmp_path: Path, capsys) -> None:
    import yaml

    from mmgraph.tune.options import options_from_run_config

    out = tmp_path / "translation"
    args = ["train", "--data", "synthetic", "--fusion", "translation", "--source", "text"]
    args += ["--cycle", "--translation-weight", "0.5", "--text-encoder", "hashing"]
    args += ["--image-encoder", "none", "--epochs", "2", "--layers", "1", "--head", "linear"]
    args += ["--hidden", "8", "--modality-dim", "8", "--quiet", "--out", str(out)]
    assert main(args) == 0
    doc = yaml.safe_load((out / "config.yaml").read_text())
    model = doc["model"]
    assert model["fusion"] == "translation"
    assert model["fusion_options"] == {"source": "text", "cycle": True, "translation_weight": 0.5}
    options = options_from_run_config(doc)  # --config run/config.yaml reruns the same head
    assert (options["source"], options["cycle"], options["translation_weight"]) == (
        "text",
        True,
        0.5,
    )
    assert main(["evaluate", "--run", str(out), "--quiet"]) == 0
    capsys.readouterr()
    small = ["train", "--data", str(card), "--text-encoder", "hashing", "--image-encoder"]
    small += ["none", "--epochs", "1", "--quiet", "--out", str(tmp_path / "bad")]
    bad_source = ["--fusion", "translation", "--modalities", "text", "attributes"]
    assert main([*small, *bad_source, "--source", "image"]) == 2
    assert "Expected 'source' to be one of the modalities ['text', 'attributes'] (got 'image')" in (
        capsys.readouterr().err
    )
    assert main([*small, "--fusion", "translation", "--modalities", "text"]) == 2
    assert "at least one other modality" in capsys.readouterr().err
    assert main([*small, "--source", "text"]) == 2  # the default fusion is concat
    assert "Options of --fusion translation given with fusion 'concat': --source" in (
        capsys.readouterr().err
    )
    assert main([*small, "--fusion", "translation", "--source", "audio"]) == 2
    assert "invalid choice: 'audio'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--coordination-weight", "0.5"], "--coordination-weight sets the coordination loss"),
        (["--coordination-dim", "8", "--coordination-weight", "1"], "drop them"),
        (["--lr-gamma", "0.3"], "--lr-gamma 0.3 multiplies the learning rate every"),
        (["--lr-gamma", "0.5"], "so --lr-gamma 0.5 would change nothing"),  # the default's value
    ],
)
def test_flags_that_would_change_nothing_are_refused(
    flags: list[str], message: str, card: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["train", "--data", str(card), "--epochs", "1", "--quiet", *flags]
    assert main([*argv, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "mmgraph train: error:" in err and message in err
    assert not (tmp_path / "run").exists()


def test_the_same_flags_are_taken_with_what_they_set(
    card: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import yaml

    argv = ["train", "--data", str(card), "--epochs", "2", "--quiet", "--hidden", "8"]
    argv += ["--coordination", "cosine", "--coordination-weight", "0.5", "--lr-gamma", "0.3"]
    argv += ["--lr-step-size", "1", "--out", str(tmp_path / "run")]
    assert main(argv) == 0, capsys.readouterr().err
    doc = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert doc["model"]["coordination_weight"] == 0.5
    assert (doc["train"]["lr_step_size"], doc["train"]["lr_gamma"]) == (1, 0.3)


@pytest.mark.parametrize("rank", ["0", "1"])
def test_progress_lines_come_from_rank_zero_alone(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, rank: str
) -> None:
    """Under torchrun every rank runs the command; one set of progress lines is enough."""
    import logging

    import mmgraph.cli as cli

    def run(args: object, handler: object, command: str) -> int:
        logging.getLogger("mmgraph.heartbeat").info("1 min 0 s: epoch 3 of 200")
        return 0

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    monkeypatch.setattr(cli, "_run", run)
    monkeypatch.setenv("RANK", rank)
    assert main(["train", "--data", "synthetic", "--out", str(tmp_path / "r")]) == 0
    assert ("epoch 3 of 200" in capsys.readouterr().err) == (rank == "0")
