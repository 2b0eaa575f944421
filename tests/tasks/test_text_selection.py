"""``text_encoder="auto"``: the text features chosen with the design on validation data."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch
import yaml

from mmgraph.cli import main
from mmgraph.data import save_card
from mmgraph.data.synthetic import make_social_graph
from mmgraph.encoders.text import BagOfWordsTextEncoder
from mmgraph.encoders.text.tfidf import vocabulary_size
from mmgraph.errors import InputError
from mmgraph.models import FeatureConfig, featurize
from mmgraph.models import auto as auto_module
from mmgraph.models.auto import DESIGNS, TEXT_CANDIDATES, text_candidates
from mmgraph.tasks import DataSpec, train_node_classifier
from mmgraph.tasks.node_classification import SELECTION, min_val_loss
from mmgraph.train import TrainConfig

AUTO_DESIGN = {"num_layers": "auto", "head": "auto", "modality_dim": "auto"}
FAST_TEXTS = ({"text_encoder": "hashing"}, {"text_encoder": "bow", "text_dim": None})
"""Two text features that need no model download, standing in for TEXT_CANDIDATES."""


@pytest.fixture()
def fast_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auto_module, "TEXT_CANDIDATES", FAST_TEXTS)


def social(n: int = 90, seed: int = 3):
    graph = make_social_graph(n, seed=seed, image_size=8)
    graph.set_split(0.5, 0.25, 0.25, seed=seed, replace=True)  # smaller validation
    return graph


def train_config() -> TrainConfig:
    return TrainConfig(epochs=6, patience=None, progress=False)


def test_candidates_by_the_graph() -> None:
    graph = social()
    auto = FeatureConfig(text_encoder="auto")
    found = text_candidates(auto, graph)
    assert [(f.text_encoder, f.text_dim) for f in found] == [
        (c["text_encoder"], c.get("text_dim", 128)) for c in TEXT_CANDIDATES
    ]
    given = FeatureConfig(text_encoder="tfidf")
    assert text_candidates(given, graph) == [given]
    # without text there is nothing to choose: the sentence encoder stands (never used)
    no_text = graph.clone()
    del no_text.text
    assert [f.text_encoder for f in text_candidates(auto, no_text)] == [
        TEXT_CANDIDATES[0]["text_encoder"]
    ]
    empty = graph.clone()  # a text column empty on every node: nothing to choose either
    empty.text = [None] * empty.num_nodes
    empty.text_present = empty.text_present & False
    assert [f.text_encoder for f in text_candidates(auto, empty)] == [
        TEXT_CANDIDATES[0]["text_encoder"]
    ]
    # a model that reads no text (--modalities image) encodes none: no choice to make
    assert [f.text_encoder for f in text_candidates(auto, graph, ["image"])] == [None]
    assert len(text_candidates(auto, graph, ["text", "image"])) == len(TEXT_CANDIDATES)


def test_no_raw_words_on_a_large_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    graph = social()
    words = vocabulary_size(graph.text, graph.train_mask, limit=None)
    assert 2 < words < 20000
    # a full vocabulary would not fit, the graph's own does: both candidates
    monkeypatch.setattr(auto_module, "RAW_WORDS_MAX_VALUES", words * graph.num_nodes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = text_candidates(FeatureConfig(text_encoder="auto"), graph)
    assert [f.text_encoder for f in found] == [c["text_encoder"] for c in TEXT_CANDIDATES]
    # one word more than fits: the sentence encoder alone, with a warning that says why
    monkeypatch.setattr(auto_module, "RAW_WORDS_MAX_VALUES", words * graph.num_nodes - 1)
    with pytest.warns(UserWarning, match=rf"has {graph.num_nodes} nodes and more than") as w:
        found = text_candidates(FeatureConfig(text_encoder="auto"), graph)
    assert [f.text_encoder for f in found] == [TEXT_CANDIDATES[0]["text_encoder"]]
    assert "--text-encoder tfidf gives word features" in str(w[0].message)


def test_vocabulary_size_is_the_fitted_vocabulary() -> None:
    texts = ["The cat sat", ["on the mat", "a cat"], None, "Dogs, dogs and CATS", "x y"]
    mask = torch.tensor([True, True, True, False, True])
    for m in (None, mask):
        bow = BagOfWordsTextEncoder(out_channels=None).fit(texts, mask=m)
        assert vocabulary_size(texts, m) == bow.out_channels
    assert vocabulary_size(texts, mask) == 5  # the, cat, sat, on, mat: "a", "x", "y" too short
    assert vocabulary_size(texts, limit=3) == 3
    assert vocabulary_size([None, ""]) == 0


def test_featurize_refuses_auto_naming_train() -> None:
    with pytest.raises(InputError, match="chosen on validation data by `mmgraph train`"):
        featurize(social(), FeatureConfig(text_encoder="auto"), progress=False)
    with pytest.raises(InputError, match="once per text candidate"):
        train_node_classifier(
            DataSpec("social"),
            FeatureConfig(text_encoder="auto"),
            train=train_config(),
            graph=social(),
            prefeaturized=True,
            progress=False,
        )


def test_text_and_design_chosen_together_on_validation(fast_texts: None, tmp_path: Path) -> None:
    graph = social()
    spec = DataSpec("social")
    options = {"hidden": 8, **AUTO_DESIGN}
    features = FeatureConfig(text_encoder="auto", image_encoder=None)
    out = tmp_path / "run"
    result = train_node_classifier(
        spec, features, options, train_config(), graph=graph.clone(), out=out, progress=False
    )
    selection = result.selection
    assert selection is not None and len(selection) == len(FAST_TEXTS) * len(DESIGNS)
    assert [(s["options"]["text_encoder"], s["options"].get("text_dim")) for s in selection] == [
        (t["text_encoder"], t.get("text_dim")) for t in FAST_TEXTS for _ in DESIGNS
    ]
    keys = [(-s["val_accuracy"], s["val_loss"], i) for i, s in enumerate(selection)]
    chosen = next(s for s in selection if s["chosen"])
    assert keys[selection.index(chosen)] == min(keys)
    assert chosen["val_loss"] == min_val_loss(result.trainer)
    assert chosen["val_accuracy"] == result.metrics["val"]["accuracy"]
    # the run folder holds the chosen text features and design, resolved
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["features"]["text_encoder"] == chosen["options"]["text_encoder"]
    if chosen["options"]["text_encoder"] == "bow":
        assert config["features"]["text_dim"] == chosen["options"]["text_dim"]
    assert config["model"]["num_layers"] == chosen["options"]["num_layers"]
    assert (out / SELECTION).exists()
    # each score is that pair trained alone
    for entry in selection[:: len(DESIGNS)][:2]:
        o = entry["options"]
        alone = train_node_classifier(
            spec,
            FeatureConfig(
                text_encoder=o["text_encoder"], text_dim=o.get("text_dim", 128), image_encoder=None
            ),
            {"hidden": 8, **{k: o[k] for k in AUTO_DESIGN}},
            train_config(),
            graph=graph.clone(),
            progress=False,
        )
        assert min_val_loss(alone.trainer) == pytest.approx(entry["val_loss"])
        assert alone.metrics["val"]["accuracy"] == entry["val_accuracy"]
    # other labels on the test nodes: the same scores, the same choice
    shuffled = graph.clone()
    shuffled.y[shuffled.test_mask] = 1 - shuffled.y[shuffled.test_mask]
    again = train_node_classifier(
        spec, features, options, train_config(), graph=shuffled, progress=False
    )
    assert again.selection == selection
    with pytest.raises(InputError, match="resume"):
        train_node_classifier(
            spec, features, {"hidden": 8}, train_config(), graph=graph.clone(), out=out,
            resume=True, progress=False,
        )  # fmt: skip


@pytest.mark.parametrize("encoder", ["tfidf", "bow"])
def test_cli_text_dim(encoder: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = make_social_graph(80, seed=1, image_size=8)
    del graph.train_mask, graph.val_mask, graph.test_mask
    card = save_card(graph, tmp_path / "card")
    base = ["train", "--data", str(card), "--image-encoder", "none", "--epochs", "2"]
    base += ["--hidden", "8", "--quiet", "--layers", "1", "--head", "linear"]
    base += ["--modality-dim", "16"]
    assert (
        main([*base, "--text-encoder", encoder, "--text-dim", "0", "--out", str(tmp_path / "a")])
        == 0
    )
    config = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())
    assert config["features"]["text_encoder"] == encoder and config["features"]["text_dim"] is None
    # the run reloads its fitted words (the bag of words as such): the same metrics
    scores = tmp_path / "scores.json"
    assert main(["evaluate", "--run", str(tmp_path / "a"), "--out", str(scores), "--quiet"]) == 0
    trained = json.loads((tmp_path / "a" / "metrics.json").read_text())
    evaluated = json.loads(scores.read_text())
    for split in ("val", "test"):
        assert evaluated[split]["accuracy"] == pytest.approx(trained[split]["accuracy"], abs=1e-9)
        assert evaluated[split]["macro_f1"] == pytest.approx(trained[split]["macro_f1"], abs=1e-9)
    # the run's config.yaml gives the same options back
    assert (
        main(
            [
                "train",
                "--config",
                str(tmp_path / "a" / "config.yaml"),
                "--quiet",
                "--out",
                str(tmp_path / "b"),
            ]
        )
        == 0
    )
    again = yaml.safe_load((tmp_path / "b" / "config.yaml").read_text())
    assert again["features"] == config["features"]
    # --text-dim with another encoder would do nothing: refused
    assert (
        main([*base, "--text-encoder", "hashing", "--text-dim", "32", "--out", str(tmp_path / "c")])
        != 0
    )
    assert "--text-encoder tfidf (or bow)" in capsys.readouterr().err
