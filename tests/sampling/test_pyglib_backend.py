"""The pyg-lib backend of the samplers, against a fake ``pyg_lib`` written in plain Python.

pyg-lib cannot be installed here, so ``fake_pyg_lib`` stands in for it: it follows the
documented API of ``pyg_lib.sampler.neighbor_sample`` and ``random_walk`` (CSR rows are the
sampling nodes; outputs row = local sampling node, col = local neighbour, node ids with the
seeds first, CSR positions, per-hop counts; walks that stay on a node without out-edges) and
draws from PyTorch's global generator, as pyg-lib does.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest
import torch

from mmgraph.data import MultimodalGraph
from mmgraph.sampling import CSRGraph, NeighborLoader, NeighborSampler, RandomWalker, random_walk

NUM_NODES = 40


def graph() -> tuple[torch.Tensor, torch.Tensor]:
    """A directed graph with two relations, parallel edges allowed; node 39 is isolated."""
    gen = torch.Generator().manual_seed(0)
    edge_index = torch.randint(0, NUM_NODES - 1, (2, 260), generator=gen)
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    return edge_index, torch.randint(0, 2, (edge_index.size(1),), generator=gen)


def target_csr() -> CSRGraph:
    edge_index, edge_type = graph()
    return CSRGraph.from_edge_index(edge_index, NUM_NODES, edge_type=edge_type, by="target")


def fake_pyg_lib(monkeypatch: pytest.MonkeyPatch, outputs: int = 6, walk_tuple: bool = True):
    """Install a fake ``pyg_lib`` in ``sys.modules``; returns the list of calls it records."""
    calls: list[dict[str, Any]] = []

    def neighbor_sample(
        rowptr,
        col,
        seed,
        num_neighbors,
        node_time=None,
        edge_time=None,
        seed_time=None,
        edge_weight=None,
        csc=False,
        replace=False,
        directed=True,
        disjoint=False,
        temporal_strategy="uniform",
        return_edge_id=True,
    ):
        calls.append(
            dict(
                function="neighbor_sample",
                rowptr=rowptr,
                col=col,
                num_neighbors=num_neighbors,
                csc=csc,
                replace=replace,
                directed=directed,
                disjoint=disjoint,
                return_edge_id=return_edge_id,
            )
        )
        ptr, nbr = rowptr.tolist(), col.tolist()
        nodes = seed.tolist()
        local = {v: i for i, v in enumerate(nodes)}
        rows, cols, edges = [], [], []
        num_nodes, num_edges = [len(nodes)], []
        begin, end = 0, len(nodes)
        for k in num_neighbors:
            before = len(rows)
            for i in range(begin, end):
                lo, hi = ptr[nodes[i]], ptr[nodes[i] + 1]
                size = hi - lo
                if k == 0 or size == 0:
                    continue
                if k < 0 or (not replace and k >= size):
                    picks = list(range(size))
                elif replace:
                    picks = torch.randint(size, (k,)).tolist()
                else:
                    picks = torch.randperm(size)[:k].tolist()
                for offset in picks:
                    v = nbr[lo + offset]
                    if v not in local:
                        local[v] = len(nodes)
                        nodes.append(v)
                    rows.append(i), cols.append(local[v]), edges.append(lo + offset)
            num_edges.append(len(rows) - before)
            num_nodes.append(len(nodes) - end)
            begin, end = end, len(nodes)

        def as_tensor(x: list[int]) -> torch.Tensor:
            return torch.tensor(x, dtype=torch.long)

        edge_id = as_tensor(edges) if return_edge_id else None
        out = (as_tensor(rows), as_tensor(cols), as_tensor(nodes), edge_id, num_nodes, num_edges)
        return out[:outputs]

    def random_walk(rowptr, col, seed, walk_length, p=1.0, q=1.0):
        calls.append(dict(function="random_walk", p=p, q=q, walk_length=walk_length))
        if p != 1 or q != 1:
            raise RuntimeError("Uniform sampling required for now")
        ptr, nbr = rowptr.tolist(), col.tolist()
        node_seq = torch.empty(seed.numel(), walk_length + 1, dtype=torch.long)
        edge_seq = torch.full((seed.numel(), walk_length), -1, dtype=torch.long)
        for i, v in enumerate(seed.tolist()):
            node_seq[i, 0] = v
            for j in range(walk_length):
                lo, hi = ptr[v], ptr[v + 1]
                if hi > lo:  # a node without out-edges is repeated
                    e = lo + int(torch.randint(hi - lo, ()))
                    v, edge_seq[i, j] = nbr[e], e
                node_seq[i, j + 1] = v
        return (node_seq, edge_seq) if walk_tuple else node_seq

    sampler = types.ModuleType("pyg_lib.sampler")
    sampler.neighbor_sample = neighbor_sample  # type: ignore[attr-defined]
    sampler.random_walk = random_walk  # type: ignore[attr-defined]
    package = types.ModuleType("pyg_lib")
    package.sampler = sampler  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyg_lib", package)
    monkeypatch.setitem(sys.modules, "pyg_lib.sampler", sampler)
    return calls


def no_pyg_lib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import pyg_lib`` fail, whatever is installed."""
    monkeypatch.setitem(sys.modules, "pyg_lib", None)
    monkeypatch.setitem(sys.modules, "pyg_lib.sampler", None)


def check_structure(sub, seeds, fanouts, replace) -> None:
    edge_index, edge_type = graph()
    n_id = sub.n_id
    assert torch.equal(n_id[: seeds.numel()], seeds) and sub.batch_size == seeds.numel()
    assert n_id.unique().numel() == n_id.numel()
    assert sum(sub.num_sampled_nodes) == n_id.numel()
    assert len(sub.num_sampled_nodes) == len(fanouts) + 1
    assert len(sub.num_sampled_edges) == len(fanouts)
    assert sum(sub.num_sampled_edges) == sub.edge_index.size(1) == sub.e_id.numel()
    # Every sampled edge exists, from the sampled neighbour to the node that sampled it.
    assert torch.equal(edge_index[:, sub.e_id], n_id[sub.edge_index])
    assert torch.equal(sub.edge_type, edge_type[sub.e_id])
    deg = torch.bincount(edge_index[1], minlength=NUM_NODES)
    node_bounds = torch.tensor([0, *sub.num_sampled_nodes]).cumsum(0).tolist()
    edge_bounds = torch.tensor([0, *sub.num_sampled_edges]).cumsum(0).tolist()
    for hop, k in enumerate(fanouts):
        lo, hi = node_bounds[hop], node_bounds[hop + 1]
        targets = sub.edge_index[1, edge_bounds[hop] : edge_bounds[hop + 1]]
        assert bool(((targets >= lo) & (targets < hi)).all())
        count = torch.bincount(targets - lo, minlength=hi - lo)
        d = deg[n_id[lo:hi]]
        if replace:
            expected = torch.where(d > 0, d if k < 0 else torch.full_like(d, k), 0)
        else:
            expected = d if k < 0 else d.clamp(max=k)
        assert torch.equal(count, expected)
        if not replace:
            hop_eid = sub.e_id[edge_bounds[hop] : edge_bounds[hop + 1]]
            assert hop_eid.unique().numel() == hop_eid.numel()


# ---------------------------------------------------------------------- neighbour sampling
@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("fanouts", [[3, 2], [-1, 1], [0, 4], [5, 5, 5]])
def test_auto_dispatches_to_pyg_lib_and_converts_its_output(monkeypatch, fanouts, replace):
    calls = fake_pyg_lib(monkeypatch)
    csr = target_csr()
    sampler = NeighborSampler(csr, fanouts, replace=replace)
    assert sampler.backend == "pyg-lib"
    assert (
        repr(sampler) == f"NeighborSampler(fanouts={fanouts}, replace={replace}, backend='pyg-lib')"
    )
    for seeds in (torch.tensor([0, 5, 39, 12]), torch.tensor([39]), torch.arange(NUM_NODES)):
        check_structure(sampler.sample(seeds), seeds, fanouts, replace)
    assert len(calls) == 3
    call = calls[0]
    assert call["rowptr"] is csr.rowptr and call["col"] is csr.col
    assert call["num_neighbors"] == fanouts and call["replace"] == replace
    assert call["directed"] and not call["disjoint"] and call["return_edge_id"]
    assert not call["csc"]  # rows are the sampling nodes: pyg-lib's default layout
    assert bool((sampler._local == -1).all())


def test_pyg_lib_results_match_a_known_draw(monkeypatch):
    # Node 0 has in-neighbours 1, 2 (entries 0, 1), node 1 has 3, node 3 has 0: with all
    # neighbours taken, the output is fixed.
    fake_pyg_lib(monkeypatch)
    edge_index = torch.tensor([[1, 2, 3, 0], [0, 0, 1, 3]])
    csr = CSRGraph.from_edge_index(edge_index, 4, by="target")
    sub = NeighborSampler(csr, [-1, -1], backend="pyg-lib").sample(torch.tensor([0]))
    assert sub.n_id.tolist() == [0, 1, 2, 3]
    assert sub.edge_index.tolist() == [[1, 2, 3], [0, 0, 1]]
    assert torch.equal(edge_index[:, sub.e_id], sub.n_id[sub.edge_index])
    assert sub.num_sampled_nodes == [1, 2, 1] and sub.num_sampled_edges == [2, 1]
    assert sub.edge_type is None


def test_auto_falls_back_to_plain_pytorch(monkeypatch):
    calls = fake_pyg_lib(monkeypatch)
    csr = target_csr()
    seeds = torch.tensor([0, 5, 12])
    cases = [
        dict(seed=3),  # a seed must reproduce the plain-PyTorch draws
        dict(generator=torch.Generator().manual_seed(3)),
        dict(relation_fanouts={0: [2, 1]}),  # pyg-lib has no per-relation fan-outs
        dict(backend="torch"),
    ]
    for kwargs in cases:
        sampler = NeighborSampler(csr, [2, 2], **kwargs)
        assert sampler.backend == "torch", kwargs
        assert repr(sampler).endswith("replace=False)") or "relation_fanouts" in kwargs
        sampler.sample(seeds)
    assert calls == []


def test_auto_without_pyg_lib_gives_todays_results(monkeypatch):
    # "auto" with a seed never dispatches, installed or not: the same draws as "torch".
    csr = target_csr()
    seeds = torch.tensor([0, 5, 12, 20])
    expected = NeighborSampler(csr, [4, 3], seed=3, backend="torch").sample(seeds)
    for install in (no_pyg_lib, fake_pyg_lib):
        install(monkeypatch)
        got = NeighborSampler(csr, [4, 3], seed=3).sample(seeds)
        for key in ("n_id", "edge_index", "e_id", "edge_type"):
            assert torch.equal(getattr(got, key), getattr(expected, key)), key
        assert got.num_sampled_nodes == expected.num_sampled_nodes
        assert got.num_sampled_edges == expected.num_sampled_edges
    no_pyg_lib(monkeypatch)
    assert NeighborSampler(csr, [4, 3]).backend == "torch"


def test_explicit_pyg_lib_is_seeded_and_leaves_the_global_generator_alone(monkeypatch):
    fake_pyg_lib(monkeypatch)
    csr = target_csr()
    seeds = torch.arange(10)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = NeighborSampler(csr, [3, 3], seed=5, backend="pyg-lib").sample(seeds)
    b = NeighborSampler(csr, [3, 3], seed=5, backend="pyg-lib").sample(seeds)
    c = NeighborSampler(csr, [3, 3], seed=6, backend="pyg-lib").sample(seeds)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a.e_id, b.e_id) and torch.equal(a.n_id, b.n_id)
    assert not torch.equal(a.e_id, c.e_id)
    check_structure(a, seeds, [3, 3], replace=False)


def test_pyg_lib_errors(monkeypatch):
    csr = target_csr()
    no_pyg_lib(monkeypatch)
    with pytest.raises(ImportError, match=r"needs the 'pyg-lib' package.*pip install pyg-lib"):
        NeighborSampler(csr, [2], backend="pyg-lib")
    with pytest.raises(ValueError, match=r"Unknown backend 'cuda'; valid backends: \['auto'"):
        NeighborSampler(csr, [2], backend="cuda")
    fake_pyg_lib(monkeypatch)
    with pytest.raises(ValueError, match="cannot draw per-relation fan-outs; use backend='torch'"):
        NeighborSampler(csr, [2], relation_fanouts={0: [1]}, backend="pyg-lib")
    fake_pyg_lib(monkeypatch, outputs=4)  # pyg-lib 0.1.0 returned no per-hop counts
    sampler = NeighborSampler(csr, [2], backend="pyg-lib")
    with pytest.raises(RuntimeError, match="upgrade pyg-lib"):
        sampler.sample(torch.tensor([0, 1]))
    # Repeated seeds are refused before pyg-lib is called.
    with pytest.raises(ValueError, match="repeated seed nodes"):
        sampler.sample(torch.tensor([1, 1]))
    assert bool((sampler._local == -1).all())


def test_loader_passes_the_backend_through(monkeypatch):
    calls = fake_pyg_lib(monkeypatch)
    edge_index, edge_type = graph()
    data = MultimodalGraph(
        edge_index,
        numeric=torch.arange(NUM_NODES, dtype=torch.float).view(-1, 1),
        edge_type=edge_type,
        relation_names=["a", "b"],
    )
    loader = NeighborLoader(data, [3, 2], batch_size=16)
    assert loader.sampler.backend == "pyg-lib"
    assert repr(loader).endswith("backend='pyg-lib')")
    seen = []
    for batch in loader:
        assert torch.equal(batch.numeric.view(-1), batch.n_id.float())
        assert torch.equal(data.edge_index[:, batch.e_id], batch.n_id[batch.edge_index])
        seen.append(batch.n_id[: batch.batch_size])
    assert torch.equal(torch.cat(seen), torch.arange(NUM_NODES))
    assert len(calls) == len(loader)
    assert NeighborLoader(data, [3, 2], seed=0).sampler.backend == "torch"
    assert NeighborLoader(data, [3, 2], backend="torch").sampler.backend == "torch"


# ---------------------------------------------------------------------- random walks
def source_csr(weighted: bool = False) -> CSRGraph:
    # Node 5 has no out-edges (a dead end), node 6 is isolated.
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4, 0, 2], [1, 0, 2, 3, 4, 0, 4, 5, 3, 0]])
    weight = torch.linspace(0.5, 2.0, edge_index.size(1)) if weighted else None
    return CSRGraph.from_edge_index(edge_index, 7, edge_weight=weight)


@pytest.mark.parametrize("walk_tuple", [True, False])
def test_uniform_walks_dispatch_to_pyg_lib_with_our_dead_ends(monkeypatch, walk_tuple):
    calls = fake_pyg_lib(monkeypatch, walk_tuple=walk_tuple)
    csr = source_csr()
    start = torch.arange(7).repeat(20)
    walks = random_walk(csr, start, 6)
    assert len(calls) == 1 and calls[0]["walk_length"] == 6
    assert walks.shape == (140, 7) and walks.dtype == torch.long
    assert torch.equal(walks[:, 0], start)
    edges = set(map(tuple, csr.edge_index().t().tolist()))
    for walk in walks.tolist():
        nodes = [v for v in walk if v >= 0]
        assert walk[len(nodes) :] == [-1] * (len(walk) - len(nodes))  # -1 only at the end
        assert all((u, v) in edges for u, v in zip(nodes, nodes[1:]))
        # A walk stops exactly at a node without out-edges (5 or 6).
        assert len(nodes) == 7 or nodes[-1] in (5, 6)
    assert walks[start == 6, 1:].eq(-1).all() and walks[start == 5, 1:].eq(-1).all()
    # Empty start or zero steps never reach pyg-lib.
    assert random_walk(csr, torch.tensor([2, 3]), 0).tolist() == [[2], [3]]
    assert random_walk(csr, torch.empty(0, dtype=torch.long), 4).shape == (0, 5)
    assert len(calls) == 1


def test_walk_backend_choice(monkeypatch):
    calls = fake_pyg_lib(monkeypatch)
    csr, weighted = source_csr(), source_csr(weighted=True)
    start = torch.arange(7)
    walker = RandomWalker(csr, 4, walks_per_node=3)
    assert walker.backend == "pyg-lib"
    assert repr(walker) == (
        "RandomWalker(walk_length=4, walks_per_node=3, p=1, q=1, weighted=False, backend='pyg-lib')"
    )
    assert walker.walk(start).shape == (21, 5)
    assert RandomWalker(weighted, 4, weighted=False).backend == "pyg-lib"
    # node2vec bias, edge weights and seeds stay on the plain-PyTorch walker.
    for kwargs in (dict(p=2.0), dict(q=0.5), dict(seed=0)):
        assert RandomWalker(csr, 4, **kwargs).backend == "torch", kwargs
    assert RandomWalker(weighted, 4).backend == "torch"
    assert RandomWalker(csr, 4, backend="torch").backend == "torch"
    n = len(calls)
    random_walk(csr, start, 4, p=2.0)
    random_walk(weighted, start, 4)
    random_walk(csr, start, 4, seed=1)
    random_walk(csr, start, 4, generator=torch.Generator().manual_seed(1))
    assert len(calls) == n
    # Without pyg-lib, "auto" walks exactly as "torch" for the same seed.
    no_pyg_lib(monkeypatch)
    assert RandomWalker(csr, 4).backend == "torch"
    assert torch.equal(
        random_walk(csr, start, 5, seed=4), random_walk(csr, start, 5, seed=4, backend="torch")
    )


def test_walk_backend_errors(monkeypatch):
    csr, weighted = source_csr(), source_csr(weighted=True)
    start = torch.arange(7)
    no_pyg_lib(monkeypatch)
    with pytest.raises(
        ImportError, match="RandomWalker\\(backend='pyg-lib'\\) needs the 'pyg-lib'"
    ):
        RandomWalker(csr, 4, backend="pyg-lib")
    fake_pyg_lib(monkeypatch)
    with pytest.raises(ValueError, match="p=2, q=1 \\(it walks uniformly only\\)"):
        random_walk(csr, start, 4, p=2.0, backend="pyg-lib")
    with pytest.raises(ValueError, match="cannot follow edge weights"):
        random_walk(weighted, start, 4, backend="pyg-lib")
    with pytest.raises(ValueError, match="cannot reproduce a seed"):
        RandomWalker(csr, 4, seed=0, backend="pyg-lib")
    with pytest.raises(ValueError, match="Unknown backend 'fast'"):
        random_walk(csr, start, 4, backend="fast")
