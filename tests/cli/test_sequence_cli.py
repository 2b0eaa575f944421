"""The command line with sequences: --fusion mvlstm, its topology and gates, --sequence-encoder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mmgraph.cli import main
from mmgraph.data import save_card
from mmgraph.data.synthetic import make_social_graph

TINY = ["--text-encoder", "hashing", "--image-encoder", "none", "--epochs", "2", "--quiet"]
TINY += ["--hidden", "8", "--modality-dim", "4", "--layers", "1", "--head", "linear"]


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    graph = make_social_graph(80, seed=1, image_size=8, with_activity=True, activity_days=6)
    return save_card(graph, tmp_path_factory.mktemp("activity-card"))


def test_train_with_mvlstm_records_the_topology_and_reruns(
    card: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "mvlstm"
    args = ["train", "--data", str(card), *TINY, "--out", str(out), "--fusion", "mvlstm"]
    assert main([*args, "--mvlstm-topology", "coupled", "--mvlstm-gates"]) == 0
    assert "run written to" in capsys.readouterr().out
    model = yaml.safe_load((out / "config.yaml").read_text())["model"]
    assert model["fusion"] == "mvlstm" and model["modalities"][-1] == "sequence"
    assert model["fusion_options"] == {"alpha": 0.0, "beta": 1.0, "learn_gates": True}
    assert model["sequence_views"] == {"posts": 1, "replies": 1, "likes": 1}
    assert main(["evaluate", "--run", str(out), "--quiet"]) == 0
    plain = make_social_graph(80, seed=1, image_size=8)  # the same nodes, without sequences
    other = save_card(plain, tmp_path / "plain")
    with pytest.warns(UserWarning, match=r"\['sequence'\] on every node.*multi-view LSTM"):
        code = main(
            ["predict", "--run", str(out), "--data", str(other), "--out", str(tmp_path / "p.csv")]
        )
    assert code == 0
    again = tmp_path / "again"
    assert main(["train", "--config", str(out / "config.yaml"), "--out", str(again)]) == 0
    assert yaml.safe_load((again / "config.yaml").read_text())["model"]["fusion_options"] == {
        "alpha": 0.0,
        "beta": 1.0,
        "learn_gates": True,
    }


def test_a_sequence_encoder_and_the_refusals(
    card: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "conv"
    args = ["train", "--data", str(card), *TINY, "--out", str(out)]
    # --text-encoder would change nothing with the sequence alone: refused, then left out
    assert main([*args, "--sequence-encoder", "conv", "--modalities", "sequence"]) == 2
    assert "--text-encoder is read for the text modality" in capsys.readouterr().err
    sequence_only = ["train", "--data", str(card), *TINY[2:], "--out", str(out)]
    assert main([*sequence_only, "--sequence-encoder", "conv", "--modalities", "sequence"]) == 0
    model = yaml.safe_load((out / "config.yaml").read_text())["model"]
    assert (model["sequence_encoder"], model["modalities"]) == ("conv", ["sequence"])
    capsys.readouterr()
    assert main([*args, "--overwrite", "--mvlstm-gates"]) == 2
    assert "Options of --fusion mvlstm given with fusion 'concat': --mvlstm-gates" in (
        capsys.readouterr().err
    )
    refused = [*args, "--overwrite", "--fusion", "mvlstm", "--modalities", "text", "attributes"]
    assert main(refused) == 2
    assert "has no 'sequence' modality" in capsys.readouterr().err
    # A sequence encoder for a model without the sequence modality would change nothing.
    ignored = [*args, "--overwrite", "--sequence-encoder", "lstm", "--modalities", "text"]
    assert main(ignored) == 2
    err = capsys.readouterr().err
    assert "sequence_encoder='lstm' encodes the 'sequence' modality" in err
    assert "its modalities: ['text']" in err and "Drop --sequence-encoder" in err
