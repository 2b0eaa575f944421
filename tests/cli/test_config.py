"""`--config FILE` on train, subgraph train and embed: YAML options, flags overriding them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from mmgraph.cli import main
from mmgraph.data import save_card
from mmgraph.data.synthetic import make_social_graph

TINY = ["--text-encoder", "hashing", "--image-encoder", "none", "--epochs", "3", "--quiet"]


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_card(
        make_social_graph(50, seed=5, image_size=8), tmp_path_factory.mktemp("d") / "card"
    )


def run_config(run: Path) -> dict:
    return yaml.safe_load((run / "config.yaml").read_text())


def test_flags_given_override_the_file_even_at_their_default(card: Path, tmp_path: Path) -> None:
    config = tmp_path / "options.yaml"
    config.write_text(
        f"data: {card}\ntext-encoder: hashing\nimage_encoder: none\nepochs: 3\nhidden: 8\n"
        "seed: 3\nmodality-dim: 0\nno-missing-indicator: true\n"
    )
    out = tmp_path / "run"
    code = main(
        ["train", "--config", str(config), "--hidden", "12", "--seed", "0"]
        + ["--out", str(out), "--quiet"]
    )
    assert code == 0
    doc = run_config(out)
    assert doc["model"]["hidden"] == 12 and doc["train"]["seed"] == 0  # given: the flags win
    assert doc["train"]["epochs"] == 3 and doc["model"]["missing_indicator"] is False
    assert doc["features"]["text_encoder"] == "hashing"


def test_a_run_folders_config_yaml_reruns_the_run(card: Path, tmp_path: Path) -> None:
    first = tmp_path / "first"
    assert main(["train", "--data", str(card), *TINY, "--hidden", "8", "--out", str(first)]) == 0
    again = tmp_path / "again"
    assert main(["train", "--config", str(first / "config.yaml"), "--out", str(again)]) == 0
    assert json.loads((again / "metrics.json").read_text()) == json.loads(
        (first / "metrics.json").read_text()
    )


def test_the_optimizer_is_adam_unless_told_and_a_run_config_keeps_it(
    card: Path, tmp_path: Path
) -> None:
    """`train` trains with Adam (L2 decay) by default; --optimizer adamw is recorded, reread
    by --config, and trains differently (the option is not ignored)."""
    runs = {}
    for name, flags in (("adam", []), ("adamw", ["--optimizer", "adamw"])):
        runs[name] = tmp_path / name
        argv = ["train", "--data", str(card), *TINY, "--hidden", "8", "--modality-dim", "8"]
        assert (
            main([*argv, "--layers", "1", "--head", "linear", *flags, "--out", str(runs[name])])
            == 0
        )
        assert run_config(runs[name])["train"]["optimizer"] == name
    again = tmp_path / "again"
    assert main(["train", "--config", str(runs["adamw"] / "config.yaml"), "--out", str(again)]) == 0
    assert run_config(again)["train"]["optimizer"] == "adamw"
    metrics = {name: json.loads((run / "metrics.json").read_text()) for name, run in runs.items()}
    assert json.loads((again / "metrics.json").read_text()) == metrics["adamw"]
    from mmgraph.train.checkpoint import WEIGHTS, load_weights

    weights = {name: load_weights(run / WEIGHTS) for name, run in runs.items()}
    assert any(not torch.equal(weights["adam"][k], weights["adamw"][k]) for k in weights["adam"])


def test_node_classification_defaults_to_the_commands_optimizer() -> None:
    from mmgraph.tasks import node_train_config
    from mmgraph.tune import OPTIONS

    assert node_train_config().optimizer == OPTIONS["node"]["optimizer"] == "adam"
    assert node_train_config(optimizer="adamw", epochs=3).epochs == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hiden: 8", "lacks: hiden (valid: aggregator"),
        ("z_ratio: 0.5\nnode_input: constant", "they are options of `mmgraph subgraph train`"),
        ("hidden: -3", "'hidden' in the config file"),
        ("aggregator: sage", "invalid choice 'sage'"),
        ("no-class-weights: 1", "expected true or false"),
        ("split: [0.5, 0.5]", "expected 3 values"),
        ("- hidden", "not a mapping"),
    ],
)
def test_bad_config_files_are_one_line_errors(
    card: Path, tmp_path: Path, capsys: pytest.CaptureFixture, text: str, message: str
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(f"data: {card}\n{text}\n" if not text.startswith("-") else text)
    code = main(["train", "--config", str(config), "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_subgraph_train_and_embed_read_config(tmp_path: Path, card: Path) -> None:
    folder = tmp_path / "cut"
    gen = ["subgraph", "generate", "--task", "cut_ratio", "--nodes", "80", "--subgraphs", "30"]
    assert main([*gen, "--out", str(folder)]) == 0
    config = tmp_path / "sub.yaml"
    config.write_text(
        f"data: {folder}\nmethod: glass\nhidden: 8\nepochs: 2\nrepeats: 2\nno-class-weights: true\n"
    )
    out = tmp_path / "sub"
    assert main(["subgraph", "train", "--config", str(config), "--quiet", "--out", str(out)]) == 0
    saved = run_config(out)
    assert saved["subgraph"]["hidden"] == 8 and saved["seeds"] == [0, 1]
    assert saved["train"]["class_weights"] is False
    rerun = tmp_path / "sub2"
    assert (
        main(
            ["subgraph", "train", "--config", str(out / "config.yaml"), "--quiet"]
            + ["--out", str(rerun)]
        )
        == 0
    )
    assert json.loads((rerun / "metrics.json").read_text()) == json.loads(
        (out / "metrics.json").read_text()
    )

    config = tmp_path / "emb.yaml"
    config.write_text(
        f"data: {card}\nobjective: node2vec\ndim: 8\nepochs: 1\nwalk-length: 5\n"
        "context-size: 3\nwalks-per-node: 1\n"
    )
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    assert main(["embed", "--config", str(config), "--out", str(a), "--quiet"]) == 0
    assert main(["embed", "--config", str(config), "--dim", "4", "--out", str(b), "--quiet"]) == 0
    assert np.load(a).shape == (50, 8) and np.load(b).shape == (50, 4)


def test_a_train_run_seeds_embed_and_an_embed_run_seeds_train(card: Path, tmp_path: Path) -> None:
    """Each run writes the trainer's batch size null (full batch), and an embed run its
    patience null: settings the other command cannot hold keep its defaults."""
    trained = tmp_path / "trained"
    assert main(["train", "--data", str(card), *TINY, "--hidden", "8", "--out", str(trained)]) == 0
    assert run_config(trained)["train"]["batch_size"] is None
    walks = ["--epochs", "1", "--walk-length", "4", "--context-size", "3", "--quiet"]
    embed = ["embed", "--config", str(trained / "config.yaml"), "--encoder", "gnn", *walks]
    saved = tmp_path / "n2v"
    out = tmp_path / "e.npy"
    assert main([*embed, "--save-run", str(saved), "--out", str(out)]) == 0
    assert np.load(out).shape == (50, 8)  # the train run's --hidden
    assert run_config(saved)["train"]["patience"] is None
    again = tmp_path / "again"
    assert main(["train", "--config", str(saved / "config.yaml"), *TINY, "--out", str(again)]) == 0
    assert run_config(again)["train"]["patience"] == 50  # train's own default
    # the embed run's config embeds with its GNN again (not with shallow tables)
    rerun = tmp_path / "rerun.npy"
    assert main(["embed", "--config", str(saved / "config.yaml"), *walks, "--out", str(rerun)]) == 0
    np.testing.assert_array_equal(np.load(rerun), np.load(out))


def test_a_run_config_of_the_other_kind_of_task_is_named(
    card: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "cut"
    gen = ["subgraph", "generate", "--task", "cut_ratio", "--nodes", "80", "--subgraphs", "30"]
    assert main([*gen, "--out", str(folder)]) == 0
    sub = tmp_path / "sub"
    args = ["subgraph", "train", "--data", str(folder), "--hidden", "8", "--epochs", "1"]
    assert main([*args, "--quiet", "--out", str(sub)]) == 0
    capsys.readouterr()
    for command in (["train"], ["embed"]):
        code = main([*command, "--config", str(sub / "config.yaml"), "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert (
            "a `mmgraph subgraph train` run" in err and "`mmgraph subgraph train --config`" in err
        )
    node = tmp_path / "node"
    assert main(["train", "--data", str(card), *TINY, "--hidden", "8", "--out", str(node)]) == 0
    capsys.readouterr()
    code = main(["subgraph", "train", "--config", str(node / "config.yaml"), "--out", str(sub)])
    err = capsys.readouterr().err
    assert code == 2 and "a node run" in err and "`mmgraph train --config`" in err, err
    assert not (tmp_path / "o").exists()


def test_fusion_and_coordination_options_from_flags_files_and_run_configs(
    card: Path, tmp_path: Path, capsys
) -> None:
    base = ["train", "--data", str(card), *TINY, "--hidden", "8"]
    lowrank = tmp_path / "lowrank"
    argv = [*base, "--fusion", "lowrank", "--fusion-options", "{rank: 3}"]
    argv += ["--coordination", "ranking", "--coordination-options", "{num_negatives: all}"]
    assert main([*argv, "--out", str(lowrank)]) == 0
    model = run_config(lowrank)["model"]
    assert model["fusion_options"] == {"rank": 3}
    assert model["coordination_options"] == {"num_negatives": "all"}
    again = tmp_path / "again"  # a run's config.yaml keeps them (they were dropped)
    assert main(["train", "--config", str(lowrank / "config.yaml"), "--out", str(again)]) == 0
    assert run_config(again)["model"]["fusion_options"] == {"rank": 3}
    assert run_config(again)["model"]["coordination_options"] == {"num_negatives": "all"}
    # another head or loss on the command line: the config's options of the old ones go
    other = tmp_path / "other"
    swap = ["--fusion", "tfn", "--coordination", "cosine", "--out", str(other)]
    assert main(["train", "--config", str(lowrank / "config.yaml"), *swap]) == 0
    model = run_config(other)["model"]
    assert model["fusion"] == "tfn" and "rank" not in model["fusion_options"]
    assert model["coordination"] == "cosine" and model["coordination_options"] == {}
    flat = tmp_path / "flat.yaml"
    flat.write_text(f"data: {card}\nfusion: tfn\nfusion-options: {{proj_dim: 5}}\n")
    tfn = tmp_path / "tfn"
    assert main(["train", "--config", str(flat), *TINY, "--out", str(tfn)]) == 0
    assert run_config(tfn)["model"]["fusion_options"] == {"proj_dim": 5}
    capsys.readouterr()
    refused = [
        (["--fusion", "lowrank", "--fusion-options", "{rnk: 3}"], "which --fusion lowrank does"),
        (["--fusion-options", "[1, 2]"], "expected a mapping of option names"),
        (["--coordination-options", "{margin: 0.5}"], "none is chosen: it would change nothing"),
        (["--coordination", "cosine", "--coordination-options", "{margin: 1}"], "(its options"),
    ]
    for extra, needle in refused:
        assert main([*base, *extra, "--out", str(tmp_path / "no")]) == 2
        assert needle in capsys.readouterr().err, extra
    assert not (tmp_path / "no").exists()


def test_relative_paths_in_a_config_file_are_read_from_its_folder(
    card: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Not from the working directory, which may hold another data set of the same name."""
    import shutil

    project = tmp_path / "project"
    shutil.copytree(card.parent, project / "data")  # (card: the card's dataset.yaml)
    (project / "cfg").mkdir()
    config = project / "cfg" / "exp.yaml"
    config.write_text("data: ../data\ntext-encoder: hashing\nimage-encoder: none\nepochs: 2\n")
    elsewhere = tmp_path / "elsewhere"
    decoy = make_social_graph(30, seed=9, image_size=8)
    save_card(decoy, elsewhere / "data")  # ../data from elsewhere/sub would be this one
    (elsewhere / "sub").mkdir()
    monkeypatch.chdir(elsewhere / "sub")
    out = tmp_path / "run"
    assert main(["train", "--config", str(config), "--quiet", "--out", str(out)]) == 0
    assert run_config(out)["data"]["source"] == str((project / "data").resolve())
    # a bare name stays a name unless the file's folder holds it; a missing path is named
    config.write_text("data: ../missing\nepochs: 2\n")
    assert main(["train", "--config", str(config), "--quiet", "--out", str(tmp_path / "r2")]) == 2
    assert str(project / "missing") in capsys.readouterr().err
    config.write_text(f"data: {card.parent.name}\ntext-encoder: hashing\nepochs: 2\n")
    monkeypatch.chdir(card.parent.parent)  # the card's folder name, found from here only
    assert main(["train", "--config", str(config), "--quiet", "--out", str(tmp_path / "r3")]) == 0
    assert run_config(tmp_path / "r3")["data"]["source"] == str(card.parent.resolve())
