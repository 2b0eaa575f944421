"""A model trained from Python, saved as a run the commands open (`save_run`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from mmgraph.cli import main
from mmgraph.data import load_card, save_card
from mmgraph.data.synthetic import make_social_graph
from mmgraph.errors import InputError
from mmgraph.models import FeatureConfig, MultimodalGNN, featurize
from mmgraph.tasks import DataSpec, load_run, save_run
from mmgraph.train import TrainConfig, Trainer

FEATURES = FeatureConfig(text_encoder="tfidf", text_dim=16, image_encoder=None)


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    graph = make_social_graph(120, seed=5, image_size=8)
    del graph.train_mask, graph.val_mask, graph.test_mask  # a card without a split
    return save_card(graph, tmp_path_factory.mktemp("card"))


def train(card: Path, folder: Path, seed: int = 0, state: bool = True):
    graph = load_card(card).set_split(0.6, 0.2, 0.2, seed=seed)
    featured = featurize(graph, FEATURES, progress=False, state_dir=folder if state else None)
    model = MultimodalGNN.from_graph(featured, hidden=8, modality_dim=8)
    config = TrainConfig(epochs=3, progress=False)
    return Trainer(model, config, out_dir=folder).fit(featured), featured


def test_a_python_run_opens_in_the_commands(card: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    trainer, featured = train(card, folder)
    assert save_run(folder, trainer, featured, FEATURES, data=card) == folder
    saved = json.loads((folder / "metrics.json").read_text())
    assert saved["test"]["accuracy"] == pytest.approx(
        trainer.evaluate(featured, "test_mask")["accuracy"]
    )
    assert main(["evaluate", "--run", str(folder), "--quiet"]) == 0  # rewrites metrics.json
    again = json.loads((folder / "metrics.json").read_text())
    for split in ("val", "test"):
        for key, value in saved[split].items():
            assert again[split][key] == pytest.approx(value, abs=1e-6), key
    out = tmp_path / "e.npy"
    assert main(["embed", "--run", str(folder), "--out", str(out), "--quiet"]) == 0
    np.testing.assert_allclose(np.load(out), trainer.embed(featured).numpy(), atol=1e-5)
    assert load_run(folder).model.config == trainer.model.config
    with pytest.raises(InputError, match="holds a run already: pass overwrite=True"):
        save_run(folder, trainer, featured, FEATURES, data=card)
    save_run(folder, trainer, featured, FEATURES, data=card, overwrite=True)


def test_a_split_the_data_does_not_give_is_refused(card: Path, tmp_path: Path) -> None:
    folder = tmp_path / "seed1"
    trainer, featured = train(card, folder, seed=1)
    with pytest.raises(InputError, match=r"train_mask is not the split.*split_seed=seed"):
        save_run(folder, trainer, featured, FEATURES, data=card)
    save_run(folder, trainer, featured, FEATURES, data=DataSpec(str(card), split_seed=1))
    assert main(["evaluate", "--run", str(folder), "--quiet"]) == 0


def test_an_unsaved_fitted_encoder_and_foreign_files_are_refused(card: Path, tmp_path: Path):
    folder = tmp_path / "nostate"
    trainer, featured = train(card, folder, state=False)
    with pytest.raises(InputError, match=r"tfidf text encoder .*featurize\(graph, features"):
        save_run(folder, trainer, featured, FEATURES, data=card)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds other files"):
        save_run(other, trainer, featured, FeatureConfig(text_encoder="hashing"), data=card)
    with pytest.raises(InputError, match="loads 120 nodes, the graph has 40"):
        save_run(tmp_path / "x", trainer, featured.subgraph(torch.arange(40)), FEATURES, data=card)


def test_features_or_labels_the_data_does_not_give_are_refused(card: Path, tmp_path: Path):
    folder = tmp_path / "mine"
    trainer, featured = train(card, folder)
    other = FeatureConfig(text_encoder="hashing", image_encoder=None)  # not the graph's
    with pytest.raises(InputError, match=r"do not reproduce the graph's x_text \(width \[16\]"):
        save_run(folder, trainer, featured, other, data=card)
    relabelled = make_social_graph(120, seed=5, image_size=8)
    relabelled.y = 1 - relabelled.y
    del relabelled.train_mask, relabelled.val_mask, relabelled.test_mask
    flipped = save_card(relabelled, tmp_path / "flipped")
    with pytest.raises(InputError, match="gives other labels than the graph's"):
        save_run(folder, trainer, featured, FEATURES, data=flipped)


def readme_block(containing: str) -> str:
    """The README's Python block that holds ``containing``."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    return next(b for b in blocks if containing in b)


@pytest.mark.parametrize("own_split", [True, False], ids=["card-split", "no-split"])
def test_the_readme_python_training_block_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, own_split: bool
) -> None:
    """Its card has text, images (the default cnn encoder, fitted) and attributes."""
    graph = make_social_graph(60, seed=1, image_size=8)
    if not own_split:
        del graph.train_mask, graph.val_mask, graph.test_mask
    save_card(graph, tmp_path)
    monkeypatch.chdir(tmp_path)  # the block reads "dataset.yaml" and writes "runs/mine"
    exec(compile(readme_block("save_run("), "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "'accuracy'" in printed
    assert (tmp_path / "runs" / "mine" / "image_encoder").is_dir()
    assert main(["evaluate", "--run", "runs/mine", "--quiet"]) == 0
    scored = json.loads((tmp_path / "runs" / "mine" / "metrics.json").read_text())
    assert f"{scored['test']['accuracy']:.3f}" in capsys.readouterr().out
