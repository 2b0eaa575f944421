"""Fusion heads, coordination and autoencoder pretraining inside MultimodalGNN and the trainer,
and smoke tests of benchmarks/fusion.py (loaded by path; benchmarks/ is not a package)."""

from __future__ import annotations

import importlib.util
import math
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
import torch

from mmgraph import seed_everything
from mmgraph.coordination import LinearCCA
from mmgraph.data import MultimodalGraph
from mmgraph.data.synthetic import make_social_graph
from mmgraph.eval import retrieval_metrics
from mmgraph.models import FeatureConfig, ModelConfig, MultimodalGNN, featurize
from mmgraph.objectives.autoencoder import AutoencoderPretraining
from mmgraph.train import TrainConfig, Trainer

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
HEADS = (
    "concat",
    "product",
    "bilinear",
    "tfn",
    "lowrank",
    "gated",
    "late",
    "autoencoder",
    "boltzmann",
)


@cache
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_bench_fusion", BENCHMARKS / "fusion.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@cache
def _social() -> MultimodalGraph:
    g = make_social_graph(80, image_size=8, missing_rate=0.25, seed=3)
    return featurize(
        g,
        FeatureConfig(text_encoder="hashing", image_encoder="cnn-e2e", image_size=8),
        progress=False,
    )


def social() -> MultimodalGraph:
    return _social().clone()


def small_model(graph: MultimodalGraph, fusion: str, **overrides) -> MultimodalGNN:
    seed_everything(0)
    settings = {
        "modality_dim": 4,
        "hidden": 8,
        "cnn_channels": [4],
        "aggregator": "mean",
        "numeric_scaling": "standard",
        "missing_indicator": True,
        "fusion": fusion,
        "fusion_options": {"rank": 2} if fusion == "lowrank" else {},
    }
    return MultimodalGNN.from_graph(graph, **{**settings, **overrides})


@pytest.mark.parametrize("fusion", HEADS)
def test_absent_modalities_get_no_gradient_through_the_whole_model(fusion: str) -> None:
    g = social()
    model = small_model(g, fusion).train()
    g.x_text = g.x_text.clone().requires_grad_()
    g.image = g.image.clone().requires_grad_()
    model(g).square().sum().backward()
    for field, present in (("x_text", g.text_present), ("image", g.image_present)):
        grad = getattr(g, field).grad
        assert bool((~present).any()) and bool(present.any())
        assert torch.count_nonzero(grad[~present]) == 0, field
        assert torch.count_nonzero(grad[present]) > 0, field


@pytest.mark.parametrize("fusion", ["tfn", "lowrank", "autoencoder"])
def test_heads_train_through_the_trainer(fusion: str) -> None:
    g = social()
    model = small_model(g, fusion)
    if fusion == "autoencoder":
        config = TrainConfig(epochs=5, patience=None, progress=False)
        Trainer(model, config).fit(g, objective=AutoencoderPretraining())
    trainer = Trainer(model, TrainConfig(epochs=20, patience=None, progress=False)).fit(g)
    losses = [r["train_loss"] for r in trainer.history]
    # Dropout makes single epochs noisy: compare the first and last few.
    assert sum(losses[-3:]) < sum(losses[:3])
    assert 0.0 <= trainer.evaluate(g, "test_mask")["accuracy"] <= 1.0


def latent_graph(n: int = 200, seed: int = 0) -> MultimodalGraph:
    """Text features and numeric attributes: two noisy linear views of one latent per node."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 4, generator=gen)
    src = torch.arange(n)
    g = MultimodalGraph(
        torch.stack([torch.cat([src, (src + 1) % n]), torch.cat([(src + 1) % n, src])]),
        numeric=z @ torch.randn(4, 6, generator=gen) + 0.05 * torch.randn(n, 6, generator=gen),
        y=(z[:, 0] > 0).long(),
        class_names=["neg", "pos"],
        train_mask=torch.arange(n) < n // 2,
    )
    g.x_text = z @ torch.randn(4, 10, generator=gen) + 0.05 * torch.randn(n, 10, generator=gen)
    g.text_present = torch.ones(n, dtype=torch.bool)
    return g


@torch.no_grad()
def text_to_attribute_recall(model: MultimodalGNN, g: MultimodalGraph, cca: bool) -> float:
    model.eval()
    xs, masks = model.modality_embeddings(g)
    assert model.projection is not None
    zs = model.projection(xs, masks)
    query, gallery = zs["text"], zs["attributes"]
    if cca:  # the CCA loss aligns the views only up to linear maps: fit them on half
        query, gallery = LinearCCA().fit(query, gallery, g.train_mask).transform(query, gallery)
    return retrieval_metrics(query, gallery, ks=(1,), mask=~g.train_mask)["recall@1"]


@pytest.mark.parametrize("loss", ["infonce", "ranking", "cca"])
def test_coordination_loss_in_training_aligns_the_modalities(loss: str) -> None:
    g = latent_graph()
    overrides = {"coordination": loss, "coordination_dim": 8, "coordination_weight": 1.0}
    model = small_model(g, "concat", **overrides)
    untrained = text_to_attribute_recall(model, g, cca=loss == "cca")
    Trainer(model, TrainConfig(epochs=40, patience=None, progress=False)).fit(g)
    trained = text_to_attribute_recall(model, g, cca=loss == "cca")
    assert trained > 10 / (g.num_nodes // 2)  # ten times chance among the held-out half
    assert trained > 2 * untrained


# ------------------------------------------------------------------------- the benchmark
def test_drop_modalities_removes_one_modality_from_a_fraction_of_nodes() -> None:
    b = bench()
    g = social()
    before = b.modality_presence(g)
    same = b.drop_modalities(g, 0.0, seed=0)
    assert torch.equal(b.modality_presence(same), before)
    out = b.drop_modalities(g, 0.5, seed=0)
    after = b.modality_presence(out)
    lost = (before & ~after).sum(dim=1)
    assert not bool((after & ~before).any())
    assert set(lost.tolist()) <= {0, 1}
    assert int(lost.sum()) == round(0.5 * g.num_nodes) - int((~before.any(dim=1)).sum())
    # Dropped attributes are NaN numeric rows and missing codes; dropped text is zeroed.
    gone = before[:, 2] & ~after[:, 2]
    assert bool(gone.any()) and bool(torch.isnan(out.numeric[gone]).all())
    assert not bool(out.categorical[gone].any())
    assert not bool(out.x_text[~out.text_present].any())
    # The input graph is untouched, and the draws are seeded.
    assert torch.equal(b.modality_presence(g), before)
    again = b.modality_presence(b.drop_modalities(g, 0.5, seed=0))
    assert torch.equal(again, after)
    with pytest.raises(ValueError, match=r"'fraction' in \[0, 1\] \(got 1.5\)"):
        b.drop_modalities(g, 1.5, seed=0)


def test_benchmark_runs_end_to_end_on_a_tiny_graph(tmp_path: Path) -> None:
    b = bench()
    settings = b.Settings(
        num_nodes=60,
        text_encoder="hashing",
        image_size=8,
        modality_dim=4,
        hidden=8,
        cnn_channels=(4,),
        epochs=2,
        pretrain_epochs=2,
        timing_repeats=1,
    )
    rows: list[dict] = []
    b.run_seed(0, settings, {}, rows.append, ("concat", "tfn", "autoencoder"), ("infonce",))
    parts = [(r["part"], r["name"]) for r in rows]
    assert parts == [
        ("fusion", "concat"),
        ("fusion", "tfn"),
        ("fusion", "autoencoder"),
        ("timing", "all"),
        ("retrieval", "infonce"),
    ]
    tfn = rows[1]
    assert tfn["fusion_params"] == (5**3) * 8 + 8  # prod(d + 1) -> hidden, with bias
    assert len(tfn["robustness"]) == len(b.FRACTIONS)
    assert set(rows[3]["cpu_s"]) == {"concat", "tfn", "autoencoder"}
    assert len(rows[3]["cpu_s"]["concat"]) == 2  # one step beside each other head
    assert 0.0 <= rows[4]["attr_r@1"] <= 1.0 and rows[4]["attr_gallery"] > 0
    # Finished runs are skipped.
    done = {(r["part"], r["seed"], r["name"]): r for r in rows}
    again: list[dict] = []
    b.run_seed(0, settings, done, again.append, ("concat", "tfn", "autoencoder"), ("infonce",))
    assert again == []


def _fake_rows() -> list[dict]:
    rows = []
    for seed in (0, 1):
        for head, acc, inter, params in (
            ("concat", 0.80, 0.60, 48),
            ("tfn", 0.85, 0.75, 1000),
            ("lowrank", 0.845, 0.74, 90),
            ("autoencoder", 0.82, 0.62, 500),
        ):
            curve = [acc - (0.01 if head == "autoencoder" else 0.05) * i for i in range(10)]
            rows.append(
                {
                    "part": "fusion",
                    "seed": seed,
                    "name": head,
                    "accuracy": acc,
                    "f1": acc - 0.1,
                    "inter_accuracy": inter,
                    "inter_f1": math.nan,
                    "params": 10 * params,
                    "fusion_params": params,
                    "robustness": curve,
                }
            )
        rows.append(
            {
                "part": "timing",
                "seed": seed,
                "name": "all",
                "cpu_s": {"concat": [0.1, 0.1], "tfn": [0.2, 0.3], "lowrank": [0.1, 0.15]},
            }
        )
        rows.append(
            {
                "part": "retrieval",
                "seed": seed,
                "name": "infonce",
                "accuracy": 0.8,
                **{f"{m}_{k}": 0.5 for m in ("attr", "image") for k in ("r@1", "r@10", "mrr")},
                "attr_gallery": 100.0,
                "image_gallery": 90.0,
            }
        )
    return rows


def test_benchmark_summaries_and_targets(tmp_path: Path) -> None:
    b = bench()
    rows = _fake_rows()
    table = {r["head"]: r for r in b.fusion_table(rows)}
    assert table["tfn"]["accuracy"] == "85.0 ± 0.0" and table["tfn"]["seeds"] == 2
    assert table["tfn"]["interaction F1"] == "-"
    assert table["tfn"]["CPU / concat"] == "2.50" and table["tfn"]["epoch CPU (ms)"] == "250"
    assert table["autoencoder"]["CPU / concat"] == "-"
    robust, curves = b.robustness_table(rows)
    assert robust[-1] == {
        "missing": "drop 0 -> 0.9",
        "concat": "45.0",
        "tfn": "45.0",
        "lowrank": "45.0",
        "autoencoder": "9.0",
    }
    assert set(curves) == {"concat", "tfn", "lowrank", "autoencoder"}  # heads with rows
    retrieval = b.retrieval_table(rows)
    assert retrieval[0]["text->attr R@1"] == "50.0 ± 0.0"
    assert retrieval[-1]["coordination"] == "chance (~100 items)"
    assert retrieval[-1]["text->attr R@10"] == "10.0"
    lines = b.target_lines(rows)
    assert "tfn beats concatenation on the interaction subgroup: +15.0 points" in lines[0]
    assert "(met)" in lines[1]
    assert "-0.5 points (met); fusion parameters 0.090 of Tensor Fusion's (met" in lines[2]
    assert "autoencoder degrades least" in lines[3] and "(met)" in lines[3]
    # The report: Markdown with the command, and the robustness PNG beside it.
    args = type("Args", (), {"seeds": [0, 1], "threads": 1, "out": tmp_path / "fusion.md"})()
    args.command = ".venv/bin/python benchmarks/fusion.py --seeds 0 1"
    b.write_report(rows, b.Settings(), args)
    text = (tmp_path / "fusion.md").read_text()
    assert "Command: `.venv/bin/python benchmarks/fusion.py --seeds 0 1`" in text
    assert "| tfn | 2 | 85.0 ± 0.0 |" in text
    assert (tmp_path / "fusion_robustness.png").stat().st_size > 0


def test_saved_fusion_options_with_the_old_size_names_build_the_same_model(
    tmp_path: Path,
) -> None:
    # Runs saved before issue 15 hold the old keys ("hidden", "out_dim") in fusion_options.
    g = social()
    old = small_model(g, "autoencoder", fusion_options={"hidden": [32], "out_dim": 16})
    new = small_model(
        g, "autoencoder", fusion_options={"hidden_channels": [32], "out_channels": 16}
    )
    assert old.config == new.config
    assert old.config.fusion_options == {"hidden_channels": [32], "out_channels": 16}
    assert repr(old.fusion) == repr(new.fusion)
    assert old.fusion.out_channels == 16
    assert old.state_dict().keys() == new.state_dict().keys()
    for key, value in old.state_dict().items():
        torch.testing.assert_close(value, new.state_dict()[key])
    # ... also when the config comes from a saved YAML file.
    path = tmp_path / "config.yaml"
    path.write_text("fusion: autoencoder\nfusion_options:\n  hidden: [32]\n  out_dim: 16\n")
    loaded = ModelConfig.from_yaml(path)
    assert loaded.fusion_options == {"hidden_channels": [32], "out_channels": 16}
    with pytest.raises(ValueError, match="'out_dim' .* and 'out_channels'"):
        ModelConfig(fusion_options={"out_dim": 4, "out_channels": 4})
