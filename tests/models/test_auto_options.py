"""The ``"auto"`` model options: resolved from training labels and feature values only."""

from __future__ import annotations

import math

import pytest
import torch

from mmgraph.data import MultimodalGraph
from mmgraph.models import ModelConfig, MultimodalGNN
from mmgraph.models.auto import (
    auto_aggregator,
    auto_missing_indicator,
    auto_numeric_scaling,
    training_homophily,
    two_hop_homophily,
)


def ring(n: int, labels: list[int], train: list[bool], numeric: torch.Tensor) -> MultimodalGraph:
    src = torch.arange(n)
    dst = (src + 1) % n
    edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    return MultimodalGraph(
        edge_index,
        numeric=numeric,
        y=torch.tensor(labels),
        train_mask=torch.tensor(train),
    )


def test_homophily_reads_training_edges_only() -> None:
    # Labels 0 0 1 1 0 0 1 1 ...: half the ring's edges join equal labels.
    n = 40
    labels = [(i // 2) % 2 for i in range(n)]
    g = ring(n, labels, [True] * n, torch.zeros(n, 1))
    h, m = training_homophily(g)
    assert m == 2 * n and h == pytest.approx(0.5)
    # Only nodes 0..9 are training nodes: edges 0-1, 1-2, ..., 8-9 both ways.
    train = [i < 10 for i in range(n)]
    g = ring(n, labels, train, torch.zeros(n, 1))
    h, m = training_homophily(g)
    same = sum(labels[i] == labels[i + 1] for i in range(9))
    assert m == 18 and h == pytest.approx(same / 9)
    # Changing labels outside the training nodes changes nothing.
    other = labels[:10] + [1 - v for v in labels[10:]]
    assert training_homophily(ring(n, other, train, torch.zeros(n, 1))) == (h, m)


def test_auto_aggregator_by_homophily() -> None:
    n = 40
    same = ring(n, [0] * 20 + [1] * 20, [True] * n, torch.zeros(n, 1))
    alternating = ring(n, [i % 2 for i in range(n)], [True] * n, torch.zeros(n, 1))
    few = ring(n, [0] * n, [i < 5 for i in range(n)], torch.zeros(n, 1))
    assert auto_aggregator(same) == "gcn"  # homophily 38/40
    assert auto_aggregator(alternating) == "mean"  # homophily 0
    assert auto_aggregator(few) == "mean"  # 8 training edges: too few to tell


def test_two_hop_homophily_by_hand() -> None:
    # A star: centre 0 (not a training node), leaves 1..4 with labels 0, 0, 0, 1.
    edge_index = torch.tensor([[0, 0, 0, 0, 1, 2, 3, 4], [1, 2, 3, 4, 0, 0, 0, 0]])
    g = MultimodalGraph(
        edge_index,
        numeric=torch.zeros(5, 1),
        y=torch.tensor([1, 0, 0, 0, 1]),
        train_mask=torch.tensor([False, True, True, True, True]),
    )
    assert training_homophily(g) == (None, 0)  # no edge joins two training nodes
    h, m = two_hop_homophily(g)
    # Ordered pairs of distinct leaves through the centre: 4 * 3 = 12; same label: 3 * 2 = 6.
    assert (h, m) == (pytest.approx(0.5), 12)


def test_few_training_edges_fall_back_to_two_steps() -> None:
    # A ring of alternating training / other nodes: no two training nodes are adjacent,
    # but training nodes two steps apart share labels (classes in long runs).
    n = 80
    labels = [(i // 20) % 2 for i in range(n)]
    g = ring(n, labels, [i % 2 == 0 for i in range(n)], torch.zeros(n, 1))
    assert training_homophily(g) == (None, 0)
    h, m = two_hop_homophily(g)
    assert m == 2 * 40 and h > 0.8
    assert auto_aggregator(g) == "gcn"


def test_auto_scaling_and_flags() -> None:
    gen = torch.Generator().manual_seed(0)
    words = (torch.rand(50, 200, generator=gen) < 0.05).float()
    assert auto_numeric_scaling(words) == "row"
    assert auto_numeric_scaling(words[:, :20]) == "standard"  # too few columns
    assert auto_numeric_scaling(words - 0.5) == "standard"  # negative values
    assert auto_numeric_scaling(torch.rand(50, 200, generator=gen)) == "standard"  # dense
    with_nan = words.clone()
    with_nan[0, 0] = math.nan
    assert auto_numeric_scaling(with_nan) == "standard"
    assert auto_missing_indicator(with_nan) and not auto_missing_indicator(words)
    assert not auto_missing_indicator(None)
    # A node without any value (a row of NaN, as CiteSeer's 15 featureless nodes) is told
    # by the presence mask: neither rule looks at it.
    absent = words.clone()
    absent[0] = math.nan
    assert auto_numeric_scaling(absent) == "row" and not auto_missing_indicator(absent)


def test_for_graph_resolves_and_explicit_values_win() -> None:
    n = 40
    numeric = torch.zeros(n, 2)
    numeric[3, 1] = math.nan
    g = ring(n, [0] * 20 + [1] * 20, [True] * n, numeric)
    config = ModelConfig.for_graph(g)
    assert (config.aggregator, config.numeric_scaling, config.missing_indicator) == (
        "gcn",
        "standard",
        True,
    )
    config = ModelConfig.for_graph(g, aggregator="mean", missing_indicator=False)
    assert config.aggregator == "mean" and config.missing_indicator is False
    model = MultimodalGNN.from_graph(g)
    assert model.config.aggregator == "gcn"  # saved resolved: a run reloads exactly


def test_unresolved_auto_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="for_graph"):
        MultimodalGNN.from_config(
            ModelConfig(aggregator="auto", num_numeric=2, modalities=["attributes"])
        )
    with pytest.raises(ValueError, match="Unknown aggregator"):
        ModelConfig(aggregator="sage")
