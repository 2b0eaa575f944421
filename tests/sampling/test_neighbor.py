from __future__ import annotations

import pytest
import torch
from scipy.stats import chi2, chisquare

from mmgraph.data.generators import erdos_renyi_gnm
from mmgraph.sampling import CSRGraph, NeighborSampler


def typed_graph() -> tuple[torch.Tensor, torch.Tensor, int]:
    """A directed graph with two relations; node 0 has 12 in-neighbours over relation 0 and
    7 over relation 1, node 1 has 50 over relation 0, node 9 is isolated."""
    src, dst, rel = [], [], []
    for u in range(10, 22):
        src.append(u), dst.append(0), rel.append(0)
    for u in range(22, 29):
        src.append(u), dst.append(0), rel.append(1)
    for u in range(29, 79):
        src.append(u), dst.append(1), rel.append(0)
    gen = torch.Generator().manual_seed(0)
    extra = torch.randint(0, 79, (2, 300), generator=gen)
    extra = extra[:, (extra[0] != extra[1]) & (extra[1] != 9) & (extra[0] != 9)]
    edge_index = torch.cat([torch.tensor([src, dst]), extra], dim=1)
    edge_type = torch.cat([torch.tensor(rel), torch.randint(0, 2, (extra.size(1),), generator=gen)])
    # Drop duplicate (source, target) pairs so "no duplicate neighbour" is well defined.
    key = edge_index[0] * 100 + edge_index[1]
    first = torch.tensor(
        sorted({k: i for i, k in reversed(list(enumerate(key.tolist())))}.values())
    )
    return edge_index[:, first], edge_type[first], 79


def make_sampler(fanouts, **kwargs) -> tuple[NeighborSampler, torch.Tensor, torch.Tensor]:
    edge_index, edge_type, n = typed_graph()
    csr = CSRGraph.from_edge_index(
        edge_index, n, edge_type=edge_type, by="target", relation_names=["follows", "likes"]
    )
    return NeighborSampler(csr, fanouts, **kwargs), edge_index, edge_type


def in_degree(edge_index: torch.Tensor, n: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    dst = edge_index[1] if mask is None else edge_index[1][mask]
    return torch.bincount(dst, minlength=n)


def check_structure(sub, seeds, edge_index, fanouts, replace=False):
    n_id = sub.n_id
    assert torch.equal(n_id[: seeds.numel()], seeds)
    assert sub.batch_size == seeds.numel()
    assert n_id.unique().numel() == n_id.numel()
    assert sum(sub.num_sampled_nodes) == n_id.numel()
    assert len(sub.num_sampled_nodes) == len(fanouts) + 1
    assert sum(sub.num_sampled_edges) == sub.edge_index.size(1) == sub.e_id.numel()
    # Every sampled edge exists, in the original direction (neighbour -> sampling node).
    src, dst = n_id[sub.edge_index[0]], n_id[sub.edge_index[1]]
    assert torch.equal(edge_index[:, sub.e_id], torch.stack([src, dst]))
    # Hop l's targets are exactly the nodes added in hop l - 1, each drawing min(k, deg).
    deg = in_degree(edge_index, int(edge_index.max()) + 1)
    node_bounds = torch.tensor([0, *sub.num_sampled_nodes]).cumsum(0)
    edge_bounds = torch.tensor([0, *sub.num_sampled_edges]).cumsum(0)
    for hop, k in enumerate(fanouts):
        lo, hi = int(node_bounds[hop]), int(node_bounds[hop + 1])
        e_lo, e_hi = int(edge_bounds[hop]), int(edge_bounds[hop + 1])
        targets = sub.edge_index[1, e_lo:e_hi]
        assert bool(((targets >= lo) & (targets < hi)).all())
        count = torch.bincount(targets - lo, minlength=hi - lo)
        frontier_deg = deg[n_id[lo:hi]]
        if replace:
            expected = torch.where(frontier_deg > 0, k if k >= 0 else frontier_deg, 0)
        else:
            expected = frontier_deg if k < 0 else frontier_deg.clamp(max=k)
        assert torch.equal(count, expected)
        if not replace:
            hop_eid = sub.e_id[e_lo:e_hi]
            assert hop_eid.unique().numel() == hop_eid.numel()
        # New nodes of this hop are neighbours sampled in it, not seen before.
        new = n_id[int(node_bounds[hop + 1]) : int(node_bounds[hop + 2])]
        assert set(new.tolist()) <= set(n_id[sub.edge_index[0, e_lo:e_hi]].tolist())


@pytest.mark.parametrize("fanouts", [[5, 3], [15, 10], [-1, 2], [0, 4], [3, 3, 3]])
def test_sampled_edges_exist_and_fanouts_are_respected(fanouts):
    sampler, edge_index, _ = make_sampler(fanouts, seed=0)
    for seeds in (torch.tensor([0, 1, 5, 9]), torch.tensor([9]), torch.arange(79)):
        check_structure(sampler.sample(seeds), seeds, edge_index, fanouts)
    # The scratch table is reset after every call.
    assert bool((sampler._local == -1).all())


def test_with_replacement_draws_exactly_k():
    sampler, edge_index, _ = make_sampler([20, 3], replace=True, seed=1)
    seeds = torch.tensor([0, 1, 30, 9])
    sub = sampler.sample(seeds)
    check_structure(sub, seeds, edge_index, [20, 3], replace=True)
    # Node 0 has 19 in-neighbours: 20 draws must repeat one.
    first_hop = sub.e_id[: sub.num_sampled_edges[0]]
    assert first_hop.unique().numel() < first_hop.numel()


def test_isolated_seed_and_empty_seeds():
    sampler, _, _ = make_sampler([4, 4], seed=0)
    sub = sampler.sample(torch.tensor([9]))
    assert sub.n_id.tolist() == [9]
    assert sub.edge_index.shape == (2, 0)
    assert sub.num_sampled_nodes == [1, 0, 0] and sub.num_sampled_edges == [0, 0]
    empty = sampler.sample(torch.empty(0, dtype=torch.long))
    assert empty.n_id.numel() == 0 and empty.batch_size == 0


def test_relation_fanouts_are_respected_per_relation():
    for relation_fanouts in (
        {"follows": [4, 2], 1: [-1, 0]},
        [{"follows": 4, 1: -1}, {1: 0, 0: 2}],
    ):
        sampler, edge_index, edge_type = make_sampler(
            [3, 3], relation_fanouts=relation_fanouts, seed=0
        )
        seeds = torch.tensor([0, 1, 5])
        sub = sampler.sample(seeds)
        assert torch.equal(sub.edge_type, edge_type[sub.e_id])
        deg = [in_degree(edge_index, 79, edge_type == r) for r in (0, 1)]
        table = {0: (4, -1), 1: (2, 0)}  # hop -> (k of relation 0, k of relation 1)
        node_bounds = torch.tensor([0, *sub.num_sampled_nodes]).cumsum(0)
        edge_bounds = torch.tensor([0, *sub.num_sampled_edges]).cumsum(0)
        for hop in (0, 1):
            lo, hi = int(node_bounds[hop]), int(node_bounds[hop + 1])
            e_lo, e_hi = int(edge_bounds[hop]), int(edge_bounds[hop + 1])
            for r in (0, 1):
                k = table[hop][r]
                in_hop = sub.edge_type[e_lo:e_hi] == r
                targets = sub.edge_index[1, e_lo:e_hi][in_hop] - lo
                count = torch.bincount(targets, minlength=hi - lo)
                d = deg[r][sub.n_id[lo:hi]]
                assert torch.equal(count, d if k < 0 else d.clamp(max=k))
        expected = int((deg[0][seeds].clamp(max=4) + deg[1][seeds]).sum())
        assert sub.num_sampled_edges[0] == expected


def pearson_without_replacement(counts: list[int], trials: int, k: int) -> float:
    """p-value of counts of each of d neighbours over trials of uniform k-subsets.

    Per trial the indicator vector has covariance a (I - 11'/d) with a = k (d - k) / (d (d - 1)),
    so sum (O - E)^2 / (trials a) is chi-square with d - 1 degrees of freedom.
    """
    d = len(counts)
    expected = trials * k / d
    a = k * (d - k) / (d * (d - 1))
    stat = sum((c - expected) ** 2 for c in counts) / (trials * a)
    return float(chi2.sf(stat, d - 1))


def stars(num_stars: int, degree: int) -> NeighborSampler:
    """Stars 0..T-1, star i with in-neighbours T + i * degree + j for j < degree."""
    src = torch.arange(num_stars * degree) + num_stars
    dst = torch.arange(num_stars).repeat_interleave(degree)
    n = num_stars * (degree + 1)
    return CSRGraph.from_edge_index(torch.stack([src, dst]), n, by="target")


@pytest.mark.parametrize("degree, k", [(12, 3), (12, 11), (50, 5), (50, 32), (50, 49), (90, 40)])
def test_sampling_without_replacement_is_uniform(degree: int, k: int):
    # One call samples 3000 independent stars: star i's picks, as offsets j, are one trial.
    # Fan-outs up to 32 use Floyd's algorithm, larger ones the smallest random keys.
    trials = 3000
    sampler = NeighborSampler(stars(trials, degree), [k], seed=7)
    sub = sampler.sample(torch.arange(trials))
    picked = sub.n_id[sub.edge_index[0]] - trials
    star, offset = picked // degree, picked % degree
    assert torch.equal(star, sub.n_id[sub.edge_index[1]])
    assert torch.equal(torch.bincount(star, minlength=trials), torch.full((trials,), k))
    assert int(torch.bincount(picked).max()) == 1  # no star picks a neighbour twice
    counts = torch.bincount(offset, minlength=degree).tolist()
    assert pearson_without_replacement(counts, trials, k) > 1e-4


def test_sampling_with_replacement_is_uniform():
    trials, degree, k = 1000, 20, 8
    sampler = NeighborSampler(stars(trials, degree), [k], replace=True, seed=3)
    sub = sampler.sample(torch.arange(trials))
    picked = sub.n_id[sub.edge_index[0]] - trials
    assert torch.equal(picked // degree, sub.n_id[sub.edge_index[1]])
    f_obs = torch.bincount(picked % degree, minlength=degree).tolist()
    assert sum(f_obs) == trials * k
    assert chisquare(f_obs).pvalue > 1e-4


def test_seed_determinism():
    seeds = torch.tensor([0, 1, 2, 3])
    a, _, _ = make_sampler([5, 5], seed=11)
    b, _, _ = make_sampler([5, 5], seed=11)
    c, _, _ = make_sampler([5, 5], seed=12)
    sa, sb, sc = a.sample(seeds), b.sample(seeds), c.sample(seeds)
    assert torch.equal(sa.n_id, sb.n_id) and torch.equal(sa.edge_index, sb.edge_index)
    assert torch.equal(sa.e_id, sb.e_id)
    assert not torch.equal(sa.e_id, sc.e_id)
    # A second call continues the stream.
    assert not torch.equal(a.sample(seeds).e_id, sa.e_id)


def test_larger_graph_matches_structure():
    edge_index, n = erdos_renyi_gnm(3000, 15000, seed=0)
    csr = CSRGraph.from_edge_index(edge_index, n, by="target")
    sampler = NeighborSampler(csr, [15, 10], seed=0)
    seeds = torch.randperm(n, generator=torch.Generator().manual_seed(0))[:256]
    check_structure(sampler.sample(seeds), seeds, edge_index, [15, 10])


def test_repr():
    sampler, _, _ = make_sampler([15, 10], seed=0)
    assert repr(sampler) == "NeighborSampler(fanouts=[15, 10], replace=False)"


def test_validation_errors():
    edge_index, edge_type, n = typed_graph()
    csr = CSRGraph.from_edge_index(edge_index, n, edge_type=edge_type, by="target")
    untyped = CSRGraph.from_edge_index(edge_index, n, by="target")
    with pytest.raises(TypeError, match="Expected 'csr' to be a CSRGraph"):
        NeighborSampler(edge_index, [3])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="by='target'"):
        NeighborSampler(CSRGraph.from_edge_index(edge_index, n), [3])
    with pytest.raises(ValueError, match="at least one hop"):
        NeighborSampler(csr, [])
    with pytest.raises(TypeError, match="list of ints"):
        NeighborSampler(csr, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="-1 \\(all neighbours\\) or at least 0"):
        NeighborSampler(csr, [3, -2])
    with pytest.raises(TypeError, match="fan-out of hop 0 to be an int"):
        NeighborSampler(csr, [2.5])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="no 'edge_type'"):
        NeighborSampler(untyped, [3], relation_fanouts={0: [1]})
    with pytest.raises(KeyError, match="Unknown relation id 5"):
        NeighborSampler(csr, [3], relation_fanouts={5: [1]})
    named = CSRGraph.from_edge_index(
        edge_index, n, edge_type=edge_type, by="target", relation_names=["follows", "likes"]
    )
    with pytest.raises(KeyError, match=r"valid relations: \['follows', 'likes'\]"):
        NeighborSampler(named, [3], relation_fanouts={"friend": [1]})
    with pytest.raises(ValueError, match="Expected 2 fan-outs"):
        NeighborSampler(csr, [3, 3], relation_fanouts={0: [1]})
    with pytest.raises(ValueError, match="Expected 2 per-hop dicts"):
        NeighborSampler(csr, [3, 3], relation_fanouts=[{0: 1}])
    sampler = NeighborSampler(csr, [3], seed=0)
    with pytest.raises(ValueError, match="repeated seed nodes"):
        sampler.sample(torch.tensor([1, 2, 1]))
    assert bool((sampler._local == -1).all())
    with pytest.raises(ValueError, match=r"seeds must be in \[0, 79\)"):
        sampler.sample(torch.tensor([79]))
    with pytest.raises(TypeError, match="'seeds' to be of integer type"):
        sampler.sample(torch.tensor([1.0]))
    with pytest.raises(ValueError, match=r"shape \[B\]"):
        sampler.sample(torch.tensor([[1]]))


def test_a_hop_with_every_relation_at_zero_samples_nothing():
    sampler, edge_index, _ = make_sampler([2, 2], relation_fanouts=[{}, {0: 0, 1: 0}], seed=0)
    seeds = torch.tensor([0, 1])
    sub = sampler.sample(seeds)
    assert sub.num_sampled_edges[1] == 0 and sub.num_sampled_nodes[2] == 0
    assert sub.num_sampled_edges[0] == 2 + 2 + 2 + 1  # node 1 has one neighbour over "likes"
    assert torch.equal(edge_index[:, sub.e_id], sub.n_id[sub.edge_index])
