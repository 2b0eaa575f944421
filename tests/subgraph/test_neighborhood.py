"""k-hop neighbourhoods of subgraphs against breadth-first search, and their cache."""

from __future__ import annotations

import networkx as nx
import pytest
import torch

from mmgraph.data import SubgraphDataset
from mmgraph.sampling.csr import CSRGraph
from mmgraph.subgraph import khop_neighborhoods
from mmgraph.subgraph.neighborhood import NeighborhoodCache

from .conftest import random_graph


def bfs_hops(graph: nx.DiGraph, seeds: list[int], hops: int) -> dict[int, int]:
    """Distance of every node reaching ``seeds`` within ``hops`` steps (edges reversed)."""
    return nx.multi_source_dijkstra_path_length(graph.reverse(), set(seeds), cutoff=hops)


@pytest.mark.parametrize("hops", [0, 1, 2])
def test_rows_and_edges_match_bfs(hops: int) -> None:
    base = random_graph(30, 45, seed=2)
    # Make it directed: drop one direction of some edges.
    keep = (base.edge_index[0] * 7 + base.edge_index[1]) % 3 != 0
    edge_index = base.edge_index[:, keep]
    csr = CSRGraph.from_edge_index(edge_index, 30, by="target")
    graph = nx.DiGraph()
    graph.add_nodes_from(range(30))
    graph.add_edges_from(edge_index.t().tolist())
    seed_sets = [[0, 1, 2], [5], [1, 9, 20, 21]]
    nodes = torch.tensor([v for s in seed_sets for v in s])
    group = torch.tensor([g for g, s in enumerate(seed_sets) for _ in s])
    hood = khop_neighborhoods(csr, nodes, group, hops)
    for g, seeds in enumerate(seed_sets):
        dist = bfs_hops(graph, seeds, hops)
        mine = hood.group == g
        assert sorted(hood.n_id[mine].tolist()) == sorted(dist)
        assert {v: h for v, h in zip(hood.n_id[mine].tolist(), hood.hop[mine].tolist())} == dist
        assert hood.inside[mine].sum() == len(set(seeds))
        # Receptive edges: every in-edge of every row less than `hops` away, nothing else.
        rows = mine.nonzero().view(-1)
        in_group = torch.isin(hood.edge_index[1], rows)
        got = {
            (int(hood.n_id[u]), int(hood.n_id[v]))
            for u, v in hood.edge_index[:, in_group].t().tolist()
        }
        want = {(u, v) for u, v in graph.edges if v in dist and dist[v] < hops}
        assert got == want
    # Edge ids point at the same edges of the base graph.
    ends = torch.stack([hood.n_id[hood.edge_index[0]], hood.n_id[hood.edge_index[1]]])
    assert torch.equal(edge_index[:, hood.e_id], ends)
    # Edges are sorted by target row.
    assert bool((hood.edge_index[1][1:] >= hood.edge_index[1][:-1]).all())


def test_induced_edges() -> None:
    base = random_graph(20, 40, seed=3)
    csr = CSRGraph.from_edge_index(base.edge_index, 20, by="target")
    seeds = torch.tensor([0, 3, 4, 7, 11])
    hood = khop_neighborhoods(csr, seeds, torch.zeros_like(seeds), 0, edges="induced")
    inside = set(seeds.tolist())
    want = {(u, v) for u, v in base.edge_index.t().tolist() if u in inside and v in inside}
    got = {(int(hood.n_id[u]), int(hood.n_id[v])) for u, v in hood.edge_index.t().tolist()}
    assert got == want and bool(hood.inside.all())


@pytest.mark.parametrize("hops", [1, 2])
@pytest.mark.parametrize("directed", [False, True])
def test_seed_edges_are_the_induced_edges_at_a_seed(hops: int, directed: bool) -> None:
    base = random_graph(30, 70, seed=4)
    if directed:  # drop one direction of some edges
        base.edge_index = base.edge_index[:, (base.edge_index[0] * 5 + base.edge_index[1]) % 3 != 0]
    csr = CSRGraph.from_edge_index(base.edge_index, 30, by="target")
    nodes = torch.tensor([0, 3, 4, 3, 9, 12])
    group = torch.tensor([0, 0, 0, 1, 1, 1])
    induced = khop_neighborhoods(csr, nodes, group, hops, edges="induced")
    seeds = khop_neighborhoods(csr, nodes, group, hops, edges="seeds")
    assert torch.equal(induced.n_id, seeds.n_id) and torch.equal(induced.hop, seeds.hop)
    at_seed = induced.inside[induced.edge_index[0]] | induced.inside[induced.edge_index[1]]
    assert 0 < int(at_seed.sum()) < at_seed.numel()  # some edges dropped, some kept
    assert torch.equal(seeds.edge_index, induced.edge_index[:, at_seed])
    assert torch.equal(seeds.e_id, induced.e_id[at_seed])
    # from the seeds' own in- and out-edges: the same edges in the same order
    out_csr = CSRGraph.from_edge_index(base.edge_index, 30, by="source")
    fast = khop_neighborhoods(csr, nodes, group, hops, edges="seeds", out_csr=out_csr)
    for a, b in zip(seeds, fast):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="by='source'"):
        khop_neighborhoods(csr, nodes, group, hops, edges="seeds", out_csr=csr)
    cache = NeighborhoodCache(_dataset(base, [[0, 3, 4], [3, 9, 12]]), hops, "seeds")
    for a, b in zip(seeds, cache.get([0, 1])):
        assert torch.equal(a, b)


def _dataset(graph: object, sets: list[list[int]]) -> SubgraphDataset:
    return SubgraphDataset.from_lists(graph, sets, ["a", "b"])


def test_cache_matches_direct_extraction(overlapping: SubgraphDataset) -> None:
    cache = NeighborhoodCache(overlapping, hops=2)
    csr = CSRGraph.from_edge_index(overlapping.graph.edge_index, 40, by="target")
    for ids in ([0, 1, 2, 3, 4, 5], [5, 2], [3, 3, 0]):
        nodes, group = overlapping.subgraph_index(ids)
        direct = khop_neighborhoods(csr, nodes, group, 2)
        cached = cache.get(ids)
        for a, b in zip(direct, cached):
            assert torch.equal(a, b)
    assert "cached=6" in repr(cache)


def test_errors(overlapping: SubgraphDataset) -> None:
    csr = CSRGraph.from_edge_index(overlapping.graph.edge_index, 40, by="source")
    seeds = torch.tensor([0])
    with pytest.raises(ValueError, match="by='target'"):
        khop_neighborhoods(csr, seeds, seeds, 1)
    csr = CSRGraph.from_edge_index(overlapping.graph.edge_index, 40, by="target")
    with pytest.raises(ValueError, match="'hops' to be a non-negative int"):
        khop_neighborhoods(csr, seeds, seeds, -1)
    with pytest.raises(ValueError, match="'receptive', 'induced', 'seeds'"):
        khop_neighborhoods(csr, seeds, seeds, 1, edges="all")
    with pytest.raises(ValueError, match="same shape"):
        khop_neighborhoods(csr, seeds, torch.tensor([0, 0]), 1)
    with pytest.raises(IndexError, match="out of range"):
        NeighborhoodCache(overlapping, 1).get([6])
    with pytest.raises(ValueError, match="'hops'"):
        NeighborhoodCache(overlapping, -2)
