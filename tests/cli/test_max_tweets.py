"""``--max-tweets``: TwiBot's tweets kept per user, recorded by a run and kept by its users."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mmgraph.cli import main
from mmgraph.data import load_dataset
from mmgraph.data.registry import is_twibot
from mmgraph.tasks import DataSpec
from mmgraph.tasks.node_classification import load_run, with_run_loader_options

SMALL = ["--text-encoder", "hashing", "--hidden", "8", "--modality-dim", "8", "--quiet"]


@pytest.fixture(scope="module")
def labelled(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The TwiBot-20 sample with made-up labels (the sample has none)."""
    users = json.loads((shared_data / "twibot20-sample" / "TwiBot-20_sample.json").read_text())
    for i, user in enumerate(users):
        user["label"] = str(i % 2)
    path = tmp_path_factory.mktemp("tw") / "labelled.json"
    path.write_text(json.dumps(users))
    return path


@pytest.fixture(scope="module")
def run(labelled: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "capped"
    argv = ["train", "--data", str(labelled), "--max-tweets", "2", "--epochs", "3", *SMALL]
    assert main([*argv, "--out", str(out)]) == 0
    return out


def test_the_loader_keeps_that_many_tweets(labelled: Path) -> None:
    full = load_dataset(labelled)
    capped = load_dataset(labelled, max_tweets=2)
    n_full = sum(len(t or []) for t in full.text)
    n_capped = sum(len(t or []) for t in capped.text)
    assert n_capped <= 3 * full.num_nodes < n_full  # a description and two tweets at most


def test_the_run_records_it_and_its_config_gives_it_back(
    run: Path, labelled: Path, tmp_path: Path
) -> None:
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["data"]["options"] == {"max_tweets": 2}
    again = tmp_path / "again"
    argv = ["train", "--config", str(run / "config.yaml"), "--quiet"]
    assert main([*argv, "--out", str(again)]) == 0
    redone = yaml.safe_load((again / "config.yaml").read_text())
    assert redone["data"]["options"] == {"max_tweets": 2}
    first = json.loads((run / "metrics.json").read_text())
    second = json.loads((again / "metrics.json").read_text())
    assert first["test"] == second["test"]


def test_predict_on_new_twibot_files_keeps_the_runs_cap(
    run: Path, labelled: Path, tmp_path: Path
) -> None:
    own, given = tmp_path / "own.csv", tmp_path / "given.csv"
    assert main(["predict", "--run", str(run), "--out", str(own), "--quiet"]) == 0
    argv = ["predict", "--run", str(run), "--data", str(labelled), "--quiet"]
    assert main([*argv, "--out", str(given)]) == 0
    # all tweets would give other text features, so other probabilities
    pd.testing.assert_frame_equal(pd.read_csv(own), pd.read_csv(given))
    loaded = load_run(run)
    spec = with_run_loader_options(DataSpec(str(labelled)), loaded)
    assert spec is not None and spec.options == {"max_tweets": 2}
    own_cap = with_run_loader_options(DataSpec(str(labelled), options={"max_tweets": 5}), loaded)
    assert own_cap is not None and own_cap.options == {"max_tweets": 5}
    assert with_run_loader_options(DataSpec("cora"), loaded) == DataSpec("cora")
    uncapped = tmp_path / "uncapped.csv"
    assert main([*argv, "--max-tweets", "200", "--out", str(uncapped)]) == 0
    probabilities = [c for c in pd.read_csv(own).columns if c.startswith("prob")]
    assert not np.allclose(
        pd.read_csv(own)[probabilities].to_numpy(), pd.read_csv(uncapped)[probabilities].to_numpy()
    )


def test_embed_with_the_gnn_reads_it_and_the_shallow_tables_refuse_it(
    labelled: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["embed", "--data", str(labelled), "--max-tweets", "1", "--epochs", "1"]
    assert main([*argv, "--out", str(tmp_path / "shallow")]) == 2
    assert "does not read --max-tweets" in capsys.readouterr().err
    gnn = [*argv, "--encoder", "gnn", "--text-encoder", "hashing", "--hidden", "8", "--quiet"]
    assert main([*gnn, "--out", str(tmp_path / "e"), "--save-run", str(tmp_path / "r")]) == 0
    config = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())
    assert config["data"]["options"] == {"max_tweets": 1}


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["info", "--data", "cora"], "--data cora is not TwiBot data; drop --max-tweets"),
        (["train", "--data", "texas", "--out", "o"], "--data texas is not TwiBot data"),
        (["tune", "--data", "mutag", "--trials", "1", "--out", "o"], "--data mutag is not"),
        (["predict", "--run", "r", "--out", "p.csv"], "and none is given"),
    ],
)
def test_data_other_than_twibot_is_refused(
    argv: list[str], said: str, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = [a if a not in ("o", "r", "p.csv") else str(tmp_path / a) for a in argv]
    root = ["--root", str(shared_data)] if "--data" in argv else []
    assert main([*argv, *root, "--max-tweets", "3"]) == 2
    err = capsys.readouterr().err
    assert said in err, err


def test_a_config_for_other_data_names_its_file(
    run: Path, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["train", "--config", str(run / "config.yaml"), "--data", "cornell"]
    assert main([*argv, "--root", str(shared_data), "--out", str(tmp_path / "o")]) == 2
    assert "remove 'max_tweets' from that file" in capsys.readouterr().err


def test_the_subgraph_commands_do_not_take_it(capsys: pytest.CaptureFixture) -> None:
    argv = ["subgraph", "train", "--data", "density", "--out", "x", "--max-tweets", "2"]
    assert main(argv) == 2
    assert "unrecognized arguments: --max-tweets" in capsys.readouterr().err


def test_is_twibot_tells_the_formats(labelled: Path, shared_data: Path, tmp_path: Path) -> None:
    assert is_twibot(labelled)
    assert is_twibot("twibot20-sample", shared_data)
    assert not is_twibot("cora", shared_data)
    assert not is_twibot("synthetic")
    assert not is_twibot(shared_data / "country-flags")
    folder = tmp_path / "full"
    folder.mkdir()
    (folder / "train.json").write_text("[]")
    assert is_twibot(folder)
    assert not is_twibot(tmp_path / "missing.json")


def test_tune_searches_and_writes_it(labelled: Path, tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(
        "text_encoder: hashing\nimage_encoder: none\nepochs: 2\nmodality_dim: 8\nlayers: 1\n"
        "head: linear\nhidden: {low: 4, high: 8}\n"
    )
    out = tmp_path / "tune"
    argv = ["tune", "--data", str(labelled), "--max-tweets", "2", "--trials", "1"]
    assert main([*argv, "--seeds", "1", "--space", str(space), "--out", str(out), "--quiet"]) == 0
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert best["max_tweets"] == 2
    runs = sorted((out / "runs").rglob("config.yaml"))
    assert runs and all(
        yaml.safe_load(p.read_text())["data"]["options"] == {"max_tweets": 2} for p in runs
    )
    again = tmp_path / "again"
    assert main(["train", "--config", str(out / "best.yaml"), "--out", str(again), "--quiet"]) == 0
    assert (
        json.loads((again / "metrics.json").read_text())["test"]
        == json.loads((out / "metrics.json").read_text())["test"]
    )
