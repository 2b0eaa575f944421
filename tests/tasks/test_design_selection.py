"""Designs chosen on validation data: ``num_layers``/``head``/``modality_dim`` = ``"auto"``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from mmgraph.cli import main
from mmgraph.data import MultimodalGraph, save_card
from mmgraph.data.synthetic import make_social_graph
from mmgraph.models import ModelConfig
from mmgraph.models.auto import DESIGNS, design_candidates
from mmgraph.tasks import DataSpec, train_node_classifier
from mmgraph.tasks.node_classification import (
    SELECTION,
    describe_selection,
    design_choices,
    min_val_loss,
)
from mmgraph.train import TrainConfig


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    graph = make_social_graph(120, seed=4, image_size=8)
    del graph.train_mask, graph.val_mask, graph.test_mask  # let `train` split it
    return save_card(graph, tmp_path_factory.mktemp("card"))


AUTO_DESIGN = {"num_layers": "auto", "head": "auto", "modality_dim": "auto"}


def two_blocks(n: int = 120, seed: int = 0) -> MultimodalGraph:
    """Two classes, mostly joined within a class, with noisy numeric features."""
    g = torch.Generator().manual_seed(seed)
    y = (torch.arange(n) >= n // 2).long()
    src = torch.randint(0, n, (6 * n,), generator=g)
    dst = torch.randint(0, n, (6 * n,), generator=g)
    keep = (y[src] == y[dst]) | (torch.rand(6 * n, generator=g) < 0.2)
    src, dst = src[keep], dst[keep]
    edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    numeric = torch.randn(n, 6, generator=g) + 0.7 * y[:, None].float()
    graph = MultimodalGraph(edge_index, numeric=numeric, y=y)
    graph.set_split(0.5, 0.25, 0.25, seed=seed)
    return graph


def train_config(**kwargs) -> TrainConfig:
    return TrainConfig(epochs=15, patience=None, progress=False, **kwargs)


def test_candidates_follow_the_auto_options() -> None:
    assert design_candidates({"hidden": 8}) == [{"hidden": 8}]
    every = design_candidates({"hidden": 8, **AUTO_DESIGN})
    assert every == [{"hidden": 8, **design} for design in DESIGNS]
    # --layers 3, the rest auto: the designs with three layers (the one-hop design is then
    # the projected one, kept once)
    three = design_candidates({**AUTO_DESIGN, "num_layers": 3})
    assert [c["num_layers"] for c in three] == [3, 3]
    assert [(c["head"], c["modality_dim"]) for c in three] == [("linear", 64), ("conv", None)]
    # only the layers auto, the rest fixed: two candidates differing in depth
    depth = design_candidates({"num_layers": "auto", "head": "linear", "modality_dim": 16})
    assert depth == [
        {"num_layers": 2, "head": "linear", "modality_dim": 16},
        {"num_layers": 1, "head": "linear", "modality_dim": 16},
    ]
    # a design the other options rule out is left out (GGNN has no conv head)
    assert design_choices({**AUTO_DESIGN, "aggregator": "ggnn"}) == [
        {**DESIGNS[0], "aggregator": "ggnn"},
        {**DESIGNS[2], "aggregator": "ggnn"},
    ]


def test_a_model_refuses_auto_designs_naming_training() -> None:
    with pytest.raises(ValueError, match="chosen on validation data by training"):
        ModelConfig(num_layers="auto")  # type: ignore[arg-type]


def test_the_best_validation_design_is_kept_and_the_test_split_plays_no_part() -> None:
    graph = two_blocks()
    spec = DataSpec("two-blocks")
    options = {"hidden": 8, **AUTO_DESIGN}
    result = train_node_classifier(
        spec, model_options=options, train=train_config(), graph=graph.clone(), progress=False
    )
    selection = result.selection
    assert selection is not None and len(selection) == len(DESIGNS)
    assert [s["options"] for s in selection] == [
        {k: d[k] for k in ("num_layers", "head", "modality_dim")} for d in DESIGNS
    ]
    # the highest validation accuracy, ties broken by the lowest loss, then the order
    keys = [(-s["val_accuracy"], s["val_loss"], i) for i, s in enumerate(selection)]
    chosen = [s["chosen"] for s in selection]
    assert chosen.count(True) == 1 and keys[chosen.index(True)] == min(keys)
    assert result.metrics["val"]["accuracy"] == max(s["val_accuracy"] for s in selection)
    assert min_val_loss(result.trainer) == selection[chosen.index(True)]["val_loss"]
    # each score is that design trained on its own: the same seeded run
    for design, entry in zip(DESIGNS, selection, strict=True):
        alone = train_node_classifier(
            spec,
            model_options={"hidden": 8, **design},
            train=train_config(),
            graph=graph.clone(),
            progress=False,
        )
        assert alone.selection is None
        assert min_val_loss(alone.trainer) == pytest.approx(entry["val_loss"])
        assert alone.metrics["val"]["accuracy"] == entry["val_accuracy"]
    # other labels on the test nodes: the same scores, the same choice
    shuffled = graph.clone()
    test = shuffled.test_mask
    shuffled.y[test] = 1 - shuffled.y[test]
    again = train_node_classifier(
        spec, model_options=options, train=train_config(), graph=shuffled, progress=False
    )
    assert again.selection == selection


def test_a_choice_that_may_take_long_says_so_and_how_to_train_one(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from mmgraph.tasks import node_classification

    options = {"hidden": 8, **AUTO_DESIGN}
    with caplog.at_level("WARNING", logger="mmgraph"):
        train_node_classifier(
            DataSpec("two-blocks"), model_options=options, train=train_config(),
            graph=two_blocks(), progress=False,
        )  # fmt: skip
    assert "Choosing the model" not in caplog.text  # a second or two: nothing to say
    monkeypatch.setattr(node_classification, "CHOICE_WARNING_SECONDS", 0.0)
    with caplog.at_level("WARNING", logger="mmgraph"):
        train_node_classifier(
            DataSpec("two-blocks"), model_options=options, train=train_config(),
            graph=two_blocks(), progress=False,
        )  # fmt: skip
    said = [r.getMessage() for r in caplog.records if "Choosing the model" in r.getMessage()]
    assert len(said) == 1  # once, after the first candidate's third epoch
    assert said[0].startswith(
        f"Choosing the model trains {len(DESIGNS)} candidates ({len(DESIGNS)} designs) of up "
        "to 15 epochs each: at "
    )
    assert said[0].endswith("fix them: --layers 1 --head linear --modality-dim 64 (or another "
                            "design's three options)")  # fmt: skip


def test_a_run_folder_holds_the_chosen_design(tmp_path: Path) -> None:
    graph = two_blocks(seed=1)
    spec = DataSpec("two-blocks")
    options = {"hidden": 8, **AUTO_DESIGN}
    memory = train_node_classifier(
        spec, model_options=options, train=train_config(), graph=graph.clone(), progress=False
    )
    out = tmp_path / "run"
    written = train_node_classifier(
        spec,
        model_options=options,
        train=train_config(),
        graph=graph.clone(),
        out=out,
        progress=False,
    )
    assert written.metrics == memory.metrics and written.selection == memory.selection
    assert json.loads((out / SELECTION).read_text()) == memory.selection
    model = yaml.safe_load((out / "config.yaml").read_text())["model"]
    chosen = next(s["options"] for s in memory.selection if s["chosen"])
    assert {k: model[k] for k in chosen} == chosen


def test_train_prints_the_design_chosen(card: Path, tmp_path: Path, capsys) -> None:
    args = ["train", "--data", str(card), "--text-encoder", "hashing", "--image-size", "8"]
    args += ["--epochs", "2", "--hidden", "8", "--quiet", "--out", str(tmp_path / "run")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert (
        "design chosen on validation accuracy/loss: 2 layers, linear head, modality dim 64 0."
        in out
    )
    assert "1 layer, conv head, no projection" in out and "(chosen)" in out
    model = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["model"]
    assert model["head"] in ("linear", "conv")
    # an explicit design trains once, choosing nothing
    args[args.index(str(tmp_path / "run"))] = str(tmp_path / "fixed")
    assert main([*args, "--layers", "1", "--head", "conv", "--modality-dim", "0"]) == 0
    assert "design chosen" not in capsys.readouterr().out
    assert not (tmp_path / "fixed" / SELECTION).exists()


def test_the_selection_line_never_prints_a_false_tie() -> None:
    design = {"num_layers": 1, "head": "conv", "modality_dim": None}

    def row(accuracy: float, loss: float, chosen: bool = False) -> dict:
        return {"options": design, "val_accuracy": accuracy, "val_loss": loss, "chosen": chosen}

    line = describe_selection([row(0.9995, 0.0009), row(1.0, 0.0047, True), row(0.82, 0.4)])
    assert " 0.9995/0.0009;" in line and " 1.0000/0.0047 (chosen)" in line
    assert " 0.845/0.3723 (chosen)" in describe_selection([row(0.845, 0.3723, True), row(0.82, 1)])
    assert describe_selection([row(0.5, 0.7), row(0.5, 0.6, True)]).count(" 0.500/") == 2


def test_callbacks_see_every_candidate_numbered_across_the_choice() -> None:
    records: list[dict] = []
    train = train_config()
    result = train_node_classifier(
        DataSpec("two-blocks"),
        model_options={"hidden": 8, **AUTO_DESIGN},
        train=train,
        graph=two_blocks(),
        progress=False,
        callbacks=[lambda trainer, record: records.append(record)],
    )
    assert result.selection is not None
    candidates = [r["candidate"] for r in records]
    assert sorted(set(candidates)) == list(range(len(DESIGNS))) and candidates == sorted(candidates)
    steps = [r["step"] for r in records]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)  # one count across them
    assert all(r["step"] == r["candidate"] * train.epochs + r["epoch"] for r in records)
    # the losses they saw are the ones the choice compared
    for i, s in enumerate(result.selection):
        seen = [r["val_loss"] for r in records if r["candidate"] == i and "val_loss" in r]
        assert min(seen) == pytest.approx(s["val_loss"])


def test_a_callback_can_stop_the_choice() -> None:
    class Stop(Exception):
        pass

    def stop_in_the_second(trainer, record) -> None:  # noqa: ANN001
        if record["candidate"] == 1:
            raise Stop

    with pytest.raises(Stop):
        train_node_classifier(
            DataSpec("two-blocks"),
            model_options={"hidden": 8, **AUTO_DESIGN},
            train=train_config(),
            graph=two_blocks(),
            progress=False,
            callbacks=[stop_in_the_second],
        )


def test_designs_reading_more_hops_than_sampled_are_left_out() -> None:
    from mmgraph.tasks.node_classification import design_choices

    auto = {"num_layers": "auto", "head": "auto", "modality_dim": "auto"}
    assert len(design_choices(auto, hops=2)) == 3  # 2 layers; 1 layer + the conv head; 1
    two = design_choices({**auto, "num_layers": 2}, hops=2)
    assert [d["head"] for d in two] == ["linear"]  # 2 layers + conv would read 3 hops
    with pytest.raises(ValueError, match="reads 3 hops and the mini-batches sample 2"):
        design_choices({"num_layers": 2, "head": "conv"}, hops=2)
