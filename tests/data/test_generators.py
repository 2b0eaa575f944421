from __future__ import annotations

import itertools
from collections import Counter

import pytest
import torch
from scipy.stats import chi2, chisquare

from mmgraph.data.generators import (
    GeneratedGraph,
    _chung_lu_pairs,
    chung_lu_power_law,
    erdos_renyi_gnm,
    power_law_weights,
)


def assert_simple(edge_index: torch.Tensor, n: int, undirected: bool) -> None:
    assert edge_index.dtype == torch.long and edge_index.dim() == 2 and edge_index.size(0) == 2
    assert bool((edge_index >= 0).all()) and bool((edge_index < n).all())
    assert not bool((edge_index[0] == edge_index[1]).any()), "self loop"
    key = edge_index[0] * n + edge_index[1]
    assert bool((key[1:] > key[:-1]).all()), "not sorted by (source, target) or duplicated"
    if undirected:
        reverse = (edge_index[1] * n + edge_index[0]).sort().values
        assert torch.equal(reverse, key)


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("n, m", [(50, 100), (20, 150), (6, 15), (1, 0), (2000, 30000)])
def test_gnm_has_exactly_m_edges_and_is_simple(n: int, m: int, directed: bool):
    if not directed and m > n * (n - 1) // 2:
        m = n * (n - 1) // 2
    graph = erdos_renyi_gnm(n, m, directed=directed, seed=0)
    assert isinstance(graph, GeneratedGraph) and graph.num_nodes == n
    edge_index, _ = graph
    assert edge_index.size(1) == (m if directed else 2 * m)
    assert_simple(edge_index, n, undirected=not directed)


@pytest.mark.parametrize("m", [2, 8])  # the sparse path (m <= 5) and the dense path
def test_gnm_is_uniform_over_graphs(m: int):
    # 5 nodes, 10 pairs: every m-subset of pairs is one graph, all equally likely.
    pairs = list(itertools.combinations(range(5), 2))
    graphs = list(itertools.combinations(pairs, m))
    index = {g: i for i, g in enumerate(graphs)}
    counts: Counter[int] = Counter()
    samples = 40 * len(graphs)
    for seed in range(samples):
        edge_index, _ = erdos_renyi_gnm(5, m, seed=seed)
        kept = edge_index[:, edge_index[0] < edge_index[1]].t().tolist()
        counts[index[tuple(map(tuple, kept))]] += 1
    assert chisquare([counts[i] for i in range(len(graphs))]).pvalue > 1e-4


def test_gnm_seeding():
    a = erdos_renyi_gnm(300, 900, seed=1).edge_index
    assert torch.equal(a, erdos_renyi_gnm(300, 900, seed=1).edge_index)
    assert not torch.equal(a, erdos_renyi_gnm(300, 900, seed=2).edge_index)
    state = torch.get_rng_state()
    erdos_renyi_gnm(300, 900, seed=3)
    assert torch.equal(state, torch.get_rng_state())


def test_gnm_validation_errors():
    with pytest.raises(ValueError, match="at most 10 edges"):
        erdos_renyi_gnm(5, 11)
    with pytest.raises(ValueError, match="at most 20 edges"):
        erdos_renyi_gnm(5, 21, directed=True)
    with pytest.raises(ValueError, match="'num_nodes' to be at least 1"):
        erdos_renyi_gnm(0, 0)
    with pytest.raises(ValueError, match="'num_edges' to be at least 0"):
        erdos_renyi_gnm(5, -1)
    with pytest.raises(TypeError, match="'num_edges' to be an int"):
        erdos_renyi_gnm(5, 2.0)  # type: ignore[arg-type]


def test_power_law_weights():
    w = power_law_weights(1000, gamma=2.5, avg_degree=8.0)
    assert w.dtype == torch.float64 and w.shape == (1000,)
    assert torch.allclose(w.mean(), torch.tensor(8.0, dtype=torch.float64))
    assert bool((w[1:] <= w[:-1]).all())
    ratio = w[0] / w[999]  # w_i ~ (i + 1)^(-1 / (gamma - 1))
    assert torch.allclose(ratio, torch.tensor(1000.0 ** (1 / 1.5), dtype=torch.float64))
    with pytest.raises(ValueError, match="'gamma' > 1"):
        power_law_weights(10, gamma=1.0)
    with pytest.raises(ValueError, match=r"'avg_degree' in \(0, num_nodes - 1\]"):
        power_law_weights(10, avg_degree=10.0)


def test_chung_lu_is_simple_symmetric_and_seeded():
    edge_index, n = chung_lu_power_law(5000, gamma=2.5, avg_degree=10, seed=0)
    assert n == 5000
    assert_simple(edge_index, n, undirected=True)
    assert torch.equal(edge_index, chung_lu_power_law(5000, seed=0).edge_index)
    assert not torch.equal(edge_index, chung_lu_power_law(5000, seed=1).edge_index)
    # The realised mean degree is close to the requested one (hub pairs saturate a bit).
    mean_degree = edge_index.size(1) / n
    assert 9.0 < mean_degree <= 10.0
    # Heavy tail: the largest degree is far above the mean.
    assert int(torch.bincount(edge_index[0]).max()) > 20 * mean_degree


def test_chung_lu_edge_probabilities_match_min_one_wiwj_over_s():
    # Small and dense enough that hub pairs have p > 1/2 (listed one by one) and the others
    # p <= 1/2 (drawn in bulk, then thinned): both against p_ij = min(1, w_i w_j / S).
    n, runs = 30, 600
    w = power_law_weights(n, gamma=2.2, avg_degree=6.0)
    p = (w.view(-1, 1) * w.view(1, -1) / w.sum()).clamp(max=1.0)
    upper = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
    assert bool((p[upper] == 1).any()) and bool(((p[upper] > 0.5) & (p[upper] < 1)).any())
    gen = torch.Generator().manual_seed(0)
    keys = torch.cat([_chung_lu_pairs(w, gen) for _ in range(runs)])
    counts = torch.bincount(keys, minlength=n * n).view(n, n).double()
    assert float(counts[~upper].sum()) == 0  # i < j only: no self loops, no lower half
    assert bool((counts[upper & (p == 1)] == runs).all())
    # Edges are independent: each pair's count is Binomial(runs, p_ij).
    mid = upper & (runs * p >= 5) & (runs * (1 - p) >= 5)
    assert int(mid.sum()) > 100
    expected = runs * p[mid]
    stat = float(((counts[mid] - expected) ** 2 / (expected * (1 - p[mid]))).sum())
    assert chi2.sf(stat, int(mid.sum())) > 1e-4
    total = float(counts[upper].sum())
    mean = runs * float(p[upper].sum())
    assert abs(total - mean) < 4 * float((runs * p[upper] * (1 - p[upper])).sum()) ** 0.5
