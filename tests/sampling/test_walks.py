from __future__ import annotations

from collections import Counter, defaultdict

import pytest
import torch
from scipy.stats import chi2, chisquare

from mmgraph.data import make_undirected
from mmgraph.sampling import CSRGraph, RandomWalker, random_walk
from mmgraph.sampling import walks as walks_module

# A small undirected graph with triangles, a hub, a pendant node (8) and an isolated one (9),
# so that every case of node2vec's bias (return, neighbour of t, farther) occurs.
UNDIRECTED = torch.tensor(
    [[0, 0, 1, 1, 2, 3, 4, 4, 5, 2, 6, 2, 0], [1, 2, 2, 3, 3, 4, 5, 6, 6, 5, 8, 4, 4]]
)
NUM_NODES = 10


def undirected_csr(weighted: bool = False) -> CSRGraph:
    gen = torch.Generator().manual_seed(7)
    weight = torch.rand(UNDIRECTED.size(1), generator=gen) * 2.5 + 0.5 if weighted else None
    edge_index, _, weight = make_undirected(UNDIRECTED, NUM_NODES, edge_weight=weight)
    return CSRGraph.from_edge_index(edge_index, NUM_NODES, edge_weight=weight)


def directed_csr() -> CSRGraph:
    # Directed, with a dead end (node 5 has no out-edges) and a two-cycle 0 <-> 1.
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4, 0, 2], [1, 0, 2, 3, 4, 0, 4, 5, 3, 0]])
    return CSRGraph.from_edge_index(edge_index, 6)


def adjacency(csr: CSRGraph, weighted: bool) -> dict[int, dict[int, float]]:
    adj: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    row, col = csr.row.tolist(), csr.col.tolist()
    weight = csr.edge_weight.tolist() if weighted and csr.edge_weight is not None else None
    for i, (u, v) in enumerate(zip(row, col)):
        adj[u][v] += 1.0 if weight is None else weight[i]
    return adj


def exact_transition(adj, t: int, v: int, p: float, q: float) -> dict[int, float]:
    """node2vec's P(x | t, v), written out from the definition."""
    scores = {}
    for x, w in adj[v].items():
        if x == t:
            alpha = 1.0 / p
        elif x in adj[t]:
            alpha = 1.0
        else:
            alpha = 1.0 / q
        scores[x] = w * alpha
    total = sum(scores.values())
    return {x: s / total for x, s in scores.items()}


def transition_counts(walks: torch.Tensor, order: int = 2) -> dict[tuple[int, int], Counter]:
    """Counts of each move x from each context (t, v) (t = -1 for first order)."""
    n = int(walks.max()) + 2
    t, v, x = walks[:, :-2].reshape(-1), walks[:, 1:-1].reshape(-1), walks[:, 2:].reshape(-1)
    if order == 1:  # first-order moves, including the first step of each walk
        t = torch.cat([torch.full_like(walks[:, 0], -1), torch.full_like(t, -1)])
        v = torch.cat([walks[:, 0], v])
        x = torch.cat([walks[:, 1], x])
    keep = x >= 0
    keys = ((t[keep] + 1) * n + v[keep]) * n + x[keep]
    count = torch.bincount(keys, minlength=(n + 1) * n * n)
    unique = count.nonzero().view(-1)
    counts: dict[tuple[int, int], Counter] = defaultdict(Counter)
    for key, c in zip(unique.tolist(), count[unique].tolist()):
        context, x_ = divmod(key, n)
        t_, v_ = divmod(context, n)
        counts[(t_ - 1, v_)][x_] += c
    return counts


def transition_pvalue(walks: torch.Tensor, adj, p: float, q: float, order: int = 2) -> float:
    """One chi-square p-value over all (t, v) contexts of the walks' moves.

    Move counts of a Markov chain given the context are multinomial, so the summed Pearson
    statistics are chi-square with the summed degrees of freedom (Anderson & Goodman, 1957).
    """
    stat, dof = 0.0, 0
    for (t, v), counter in transition_counts(walks, order).items():
        n = sum(counter.values())
        probs = exact_transition(adj, t, v, p, q) if order == 2 else first_order(adj, v)
        assert set(counter) <= set(probs), f"impossible move from {(t, v)}: {counter}"
        cells = pooled_cells(probs, n)
        if len(cells) < 2:
            continue
        f_obs = [sum(counter[x] for x in cell) for cell in cells]
        f_exp = [sum(probs[x] for x in cell) * n for cell in cells]
        stat += chisquare(f_obs, f_exp).statistic
        dof += len(cells) - 1
    assert dof >= 4, "too few contexts were tested"
    return float(chi2.sf(stat, dof))


def pooled_cells(probs: dict[int, float], n: int) -> list[list[int]]:
    """Group moves into cells of expected count >= 5, pooling the rarest ones together."""
    order = sorted(probs, key=probs.get)
    cells: list[list[int]] = []
    pool: list[int] = []
    for x in order:
        pool.append(x)
        if sum(probs[y] for y in pool) * n >= 5:
            cells.append(pool)
            pool = []
    if pool and cells:
        cells[-1] += pool
    return cells


def first_order(adj, v: int) -> dict[int, float]:
    total = sum(adj[v].values())
    return {x: w / total for x, w in adj[v].items()}


@pytest.mark.parametrize(
    "p, q",
    [
        (1.0, 0.5),  # q < max(p, 1): where torch-cluster's walker is wrong
        (2.0, 0.5),
        (4.0, 1.0),
        (0.5, 2.0),  # 1/p largest: the return strip
        (0.25, 4.0),
        (1.0, 2.0),
        (0.5, 0.5),
        (1000.0, 1000.0),  # tiny acceptance rates: the exact direct draw takes over
        (1.0, 0.001),
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_node2vec_transitions_match_exact_probabilities(p: float, q: float, weighted: bool):
    csr = undirected_csr(weighted)
    start = torch.arange(NUM_NODES).repeat(800)
    walks = random_walk(csr, start, 12, p=p, q=q, weighted=weighted, seed=3)
    adj = adjacency(csr, weighted)
    assert transition_pvalue(walks, adj, p, q) > 1e-4
    # The test has power: the uniform walk (what torch-cluster gives here) fails it.
    if (p, q) != (1.0, 1.0):
        uniform = random_walk(csr, start, 12, weighted=weighted, seed=3)
        assert transition_pvalue(uniform, adj, p, q) < 1e-6


@pytest.mark.parametrize("p, q", [(2.0, 0.5), (0.5, 2.0), (1.0, 1.0)])
def test_node2vec_on_a_directed_graph_uses_out_edges_of_t(p: float, q: float):
    csr = directed_csr()
    walks = random_walk(csr, torch.arange(6).repeat(3000), 8, p=p, q=q, seed=5)
    assert transition_pvalue(walks, adjacency(csr, weighted=False), p, q) > 1e-4


def test_uniform_walk_is_first_order_and_uniform():
    csr = undirected_csr()
    walks = random_walk(csr, torch.arange(NUM_NODES).repeat(500), 10, seed=11)
    adj = adjacency(csr, weighted=False)
    assert transition_pvalue(walks, adj, 1.0, 1.0, order=1) > 1e-4
    # Second order too: with p = q = 1 the exact node2vec law is the uniform one.
    assert transition_pvalue(walks, adj, 1.0, 1.0, order=2) > 1e-4


def test_weighted_walk_follows_weights_and_unweighted_ignores_them():
    csr = undirected_csr(weighted=True)
    start = torch.arange(NUM_NODES).repeat(500)
    weighted = random_walk(csr, start, 10, seed=2)
    assert transition_pvalue(weighted, adjacency(csr, True), 1.0, 1.0, order=1) > 1e-4
    plain = random_walk(csr, start, 10, weighted=False, seed=2)
    assert transition_pvalue(plain, adjacency(csr, False), 1.0, 1.0, order=1) > 1e-4
    # ...and the two laws differ enough to tell apart.
    assert transition_pvalue(plain, adjacency(csr, True), 1.0, 1.0, order=1) < 1e-6


def test_zero_weight_edges_are_never_taken():
    edge_index = torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]])
    weight = torch.tensor([1.0, 0.0, 2.0, 1.0, 1.0, 0.0])  # 3 -> 0 weighs 0: 3 is a dead end
    csr = CSRGraph.from_edge_index(edge_index, 4, edge_weight=weight)
    walks = random_walk(csr, torch.zeros(2000, dtype=torch.long), 4, p=0.5, q=2.0, seed=0)
    assert not bool((walks[:, 1] == 2).any())
    stopped = walks[:, 1] == 3
    assert bool(stopped.any()) and bool((walks[stopped, 2:] == -1).all())


def test_walks_are_valid_paths_and_start_at_start():
    csr = undirected_csr()
    start = torch.tensor([0, 3, 3, 6, 2])
    walks = random_walk(csr, start, 15, p=0.5, q=2.0, seed=0)
    assert walks.shape == (5, 16) and walks.dtype == torch.long
    assert torch.equal(walks[:, 0], start)
    adj = adjacency(csr, weighted=False)
    for walk in walks.tolist():
        for a, b in zip(walk, walk[1:]):
            assert b in adj[a]


def test_isolated_start_and_dead_ends_pad_with_minus_one():
    csr = undirected_csr()
    walks = random_walk(csr, torch.tensor([9, 9, 0]), 5, seed=0)
    assert walks[:2].tolist() == [[9, -1, -1, -1, -1, -1]] * 2
    assert bool((walks[2] >= 0).all())
    directed = directed_csr()
    for p, q in ((1.0, 1.0), (0.5, 2.0), (2.0, 0.5)):
        walks = random_walk(directed, torch.tensor([4, 5, 3] * 50), 6, p=p, q=q, seed=0)
        assert walks[0].tolist() == [4, 5, -1, -1, -1, -1, -1]
        assert walks[1].tolist() == [5, -1, -1, -1, -1, -1, -1]
        # Once a walk stops, it stays stopped; node ids never exceed the graph.
        stopped = walks < 0
        assert torch.equal(stopped, stopped.cummax(dim=1).values)
        assert int(walks.max()) < 6


def test_seed_determinism_and_generator():
    csr = undirected_csr(weighted=True)
    start = torch.arange(NUM_NODES).repeat(20)
    for p, q in ((1.0, 1.0), (0.5, 2.0), (2.0, 0.5)):
        a = random_walk(csr, start, 10, p=p, q=q, seed=42)
        b = random_walk(csr, start, 10, p=p, q=q, seed=42)
        c = random_walk(csr, start, 10, p=p, q=q, seed=43)
        assert torch.equal(a, b)
        assert not torch.equal(a, c)
        d = random_walk(csr, start, 10, p=p, q=q, generator=torch.Generator().manual_seed(42))
        assert torch.equal(a, d)


def test_does_not_touch_global_rng_state():
    csr = undirected_csr()
    state = torch.get_rng_state()
    random_walk(csr, torch.arange(NUM_NODES), 5, p=0.5, q=2.0, seed=1)
    assert torch.equal(state, torch.get_rng_state())


def test_empty_start_and_zero_length():
    csr = undirected_csr()
    assert random_walk(csr, torch.empty(0, dtype=torch.long), 5, seed=0).shape == (0, 6)
    walks = random_walk(csr, torch.tensor([1, 2]), 0, seed=0)
    assert walks.tolist() == [[1], [2]]


def test_random_walker_all_nodes_and_batches():
    csr = undirected_csr()
    walker = RandomWalker(csr, walk_length=6, walks_per_node=3, p=0.5, q=2.0, seed=0)
    walks = walker.walk()
    assert walks.shape == (3 * NUM_NODES, 7)
    assert torch.equal(walks[:, 0], torch.arange(NUM_NODES).repeat(3))
    seen = []
    for batch, batch_walks in walker.iter_batches(batch_size=4):
        assert batch_walks.shape == (3 * batch.numel(), 7)
        assert torch.equal(batch_walks[:, 0], batch.repeat(3))
        seen.append(batch)
    assert sorted(torch.cat(seen).tolist()) == list(range(NUM_NODES))
    again = RandomWalker(csr, walk_length=6, walks_per_node=3, p=0.5, q=2.0, seed=0)
    assert torch.equal(again.walk(), walks)
    assert repr(walker) == (
        "RandomWalker(walk_length=6, walks_per_node=3, p=0.5, q=2, weighted=False)"
    )


def test_validation_errors():
    csr = undirected_csr()
    start = torch.arange(3)
    with pytest.raises(TypeError, match="Expected 'csr' to be a CSRGraph"):
        random_walk(UNDIRECTED, start, 5)  # type: ignore[arg-type]
    by_target = CSRGraph.from_edge_index(UNDIRECTED, NUM_NODES, by="target")
    with pytest.raises(ValueError, match="by='source'"):
        random_walk(by_target, start, 5)
    with pytest.raises(ValueError, match="'walk_length' to be at least 0"):
        random_walk(csr, start, -1)
    with pytest.raises(TypeError, match="'walk_length' to be an int"):
        random_walk(csr, start, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'p' to be a positive, finite float"):
        random_walk(csr, start, 5, p=0.0)
    with pytest.raises(ValueError, match="'q' to be a positive, finite float"):
        random_walk(csr, start, 5, q=float("inf"))
    with pytest.raises(TypeError, match="'start' to be of integer type"):
        random_walk(csr, start.float(), 5)
    with pytest.raises(ValueError, match=r"start nodes must be in \[0, 10\)"):
        random_walk(csr, torch.tensor([10]), 5)
    with pytest.raises(ValueError, match=r"shape \[B\]"):
        random_walk(csr, start.view(1, 3), 5)
    with pytest.raises(ValueError, match="either 'seed' or 'generator'"):
        random_walk(csr, start, 5, seed=1, generator=torch.Generator())
    negative = CSRGraph.from_edge_index(
        UNDIRECTED, NUM_NODES, edge_weight=-torch.ones(UNDIRECTED.size(1))
    )
    with pytest.raises(ValueError, match="non-negative weights"):
        random_walk(negative, start, 5)
    with pytest.raises(ValueError, match="'walks_per_node' to be at least 1"):
        RandomWalker(csr, 5, walks_per_node=0)
    with pytest.raises(ValueError, match="'batch_size' to be a positive int"):
        next(RandomWalker(csr, 5).iter_batches(0))


@pytest.mark.parametrize("p, q", [(2.0, 0.5), (0.5, 2.0), (1000.0, 1000.0)])
@pytest.mark.parametrize("weighted", [False, True])
def test_direct_draw_matches_exact_probabilities(monkeypatch, p: float, q: float, weighted: bool):
    # With no rejection rounds allowed, every second-order step scores all neighbours.
    monkeypatch.setattr(walks_module, "_MAX_ROUNDS", 0)
    csr = undirected_csr(weighted)
    walks = random_walk(csr, torch.arange(NUM_NODES).repeat(500), 12, p=p, q=q, seed=4)
    assert transition_pvalue(walks, adjacency(csr, weighted), p, q) > 1e-4


def test_neighbour_test_and_weight_search_match_brute_force():
    from mmgraph.data.generators import chung_lu_power_law
    from mmgraph.sampling.walks import _tables

    edge_index, n = chung_lu_power_law(400, gamma=2.1, avg_degree=6, seed=0)
    edge_index = torch.cat([edge_index, edge_index[:, :50]], dim=1)  # parallel edges
    gen = torch.Generator().manual_seed(0)
    weight = torch.rand(edge_index.size(1), generator=gen)
    csr = CSRGraph.from_edge_index(edge_index, n, edge_weight=weight)
    tables = _tables(csr, weighted=True)
    assert int(csr.degree.max()) > 64  # several binary-search rounds
    edges = set(map(tuple, edge_index.t().tolist()))
    t = torch.randint(0, n, (5000,), generator=gen)
    x = torch.randint(0, n, (5000,), generator=gen)
    t = torch.cat([t, edge_index[0]])  # plus every existing edge
    x = torch.cat([x, edge_index[1]])
    expected = torch.tensor([(a, b) in edges for a, b in zip(t.tolist(), x.tolist())])
    assert torch.equal(tables.is_neighbor(t, x), expected)
    # search_weight: the first entry of the row whose cumulative weight exceeds the target.
    rows = torch.randint(0, n, (2000,), generator=gen)
    rows = rows[csr.degree[rows] > 0]
    start, count = csr.rowptr[rows], csr.degree[rows]
    u = torch.rand(rows.numel(), dtype=torch.float64, generator=gen)
    cum = torch.cumsum(csr.edge_weight.double(), 0)
    base = torch.where(start > 0, cum[(start - 1).clamp(min=0)], 0.0)
    total = cum[start + count - 1] - base
    found = tables.search_weight(start, base + u * total)
    for s, c, target, f in zip(
        start.tolist(), count.tolist(), (u * total).tolist(), found.tolist()
    ):
        local = torch.cumsum(csr.edge_weight[s : s + c].double(), 0)
        assert f == s + int((local <= target).sum())


def test_node2vec_on_a_multigraph_with_self_loops():
    # Parallel edges weigh as many times as they appear; a self loop v -> v counts as a
    # move to a neighbour of t (t -> v exists).
    edge_index = torch.tensor(
        [[0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3], [1, 1, 2, 0, 2, 1, 0, 3, 3, 2, 0]]
    )
    csr = CSRGraph.from_edge_index(edge_index, 4)
    adj = adjacency(csr, weighted=False)
    for p, q in ((0.5, 2.0), (2.0, 0.5)):
        walks = random_walk(csr, torch.arange(4).repeat(1500), 10, p=p, q=q, seed=6)
        assert transition_pvalue(walks, adj, p, q) > 1e-4


def brute_force_common(csr: CSRGraph, weighted: bool) -> list[bool]:
    """For each entry t -> v: is there an x != t with t -> x and v -> x (v not a dead end)?"""
    adj = adjacency(csr, weighted=False)
    alive = adjacency(csr, weighted) if weighted else adj
    return [
        v in alive and sum(alive[v].values()) > 0 and any(x != t and x in adj[t] for x in adj[v])
        for t, v in zip(csr.row.tolist(), csr.col.tolist())
    ]


def multigraph_csr() -> CSRGraph:
    # Symmetric, with parallel edges, self loops (1 -> 1, 4 -> 4) and a triangle 0-1-2.
    edges = [(0, 1), (0, 1), (1, 2), (0, 2), (1, 1), (2, 3), (3, 4), (4, 4), (4, 5)]
    pairs = edges + [(b, a) for a, b in edges if a != b]
    return CSRGraph.from_edge_index(torch.tensor(pairs).t(), 7)


@pytest.mark.parametrize("graph", ["undirected", "weighted", "directed", "multigraph", "power"])
def test_common_neighbour_flags_match_brute_force(monkeypatch, graph: str):
    from mmgraph.data.generators import chung_lu_power_law
    from mmgraph.sampling.walks import _tables

    weighted = graph == "weighted"
    if graph == "power":
        edge_index, n = chung_lu_power_law(300, gamma=2.1, avg_degree=8, seed=1)
        csr = CSRGraph.from_edge_index(edge_index, n)
    else:
        csr = {
            "undirected": undirected_csr,
            "weighted": lambda: zero_weight_csr(),
            "directed": directed_csr,
            "multigraph": multigraph_csr,
        }[graph]()
    expected = torch.tensor(brute_force_common(csr, weighted))
    # Exact when nothing is assumed, and in small chunks.
    monkeypatch.setattr(walks_module, "_COMMON_CAP", 10**9)
    monkeypatch.setattr(walks_module, "_PAIRS_PER_CHUNK", 7)
    flags = fresh_tables(csr, weighted).entries()[:-1, 2].bool()
    assert torch.equal(flags, expected)
    # With a cap, entries between two nodes of larger degree may be flagged: never unflagged.
    monkeypatch.setattr(walks_module, "_COMMON_CAP", 2)
    capped = fresh_tables(csr, weighted).entries()[:-1, 2].bool()
    assert bool((capped | ~expected).all())
    assert _tables(csr, weighted).entries().shape == (csr.num_edges + 1, 3)


def fresh_tables(csr: CSRGraph, weighted: bool):
    return walks_module._WalkTables(csr, weighted and csr.edge_weight is not None)


def zero_weight_csr() -> CSRGraph:
    # Undirected with a triangle 0-1-2; node 3's out-edges all weigh 0 (a dead end).
    edges = torch.tensor([[0, 1, 0, 2, 3, 4], [1, 2, 2, 3, 4, 0]])
    edge_index = torch.cat([edges, edges.flip(0)], dim=1)
    weight = torch.tensor([1.0, 2.0, 0.5, 1.0, 0.0, 1.0, 1.0, 2.0, 0.5, 0.0, 1.0, 1.0])
    return CSRGraph.from_edge_index(edge_index, 5, edge_weight=weight)


# p < 1 < q (the return strip), p > 1 > q, q < 1 = p, p > 1 = q, p = q != 1, p = q = 1.
REGIMES = [(0.5, 2.0), (2.0, 0.5), (1.0, 0.5), (4.0, 1.0), (0.5, 0.5), (3.0, 3.0), (1.0, 1.0)]


@pytest.mark.parametrize("p, q", REGIMES)
@pytest.mark.parametrize("graph", ["directed", "multigraph", "tree", "clique"])
def test_node2vec_exact_with_and_without_common_neighbours(graph: str, p: float, q: float):
    # A tree has no common neighbours (one regime), a clique only common neighbours (the
    # other); the directed graph and the multigraph mix both, with dead ends and self loops.
    if graph == "tree":
        edges = torch.tensor([[0, 0, 0, 1, 1, 2, 5], [1, 2, 3, 4, 5, 6, 7]])
        csr = CSRGraph.from_edge_index(torch.cat([edges, edges.flip(0)], dim=1), 8)
    elif graph == "clique":
        idx = torch.arange(5)
        a, b = torch.meshgrid(idx, idx, indexing="ij")
        keep = a != b
        csr = CSRGraph.from_edge_index(torch.stack([a[keep], b[keep]]), 5)
    else:
        csr = directed_csr() if graph == "directed" else multigraph_csr()
    n = csr.num_nodes
    walks = random_walk(csr, torch.arange(n).repeat(3000 // n + 1), 10, p=p, q=q, seed=8)
    assert transition_pvalue(walks, adjacency(csr, weighted=False), p, q) > 1e-4


@pytest.mark.parametrize("round_size", [1, 10**6])
@pytest.mark.parametrize("p, q", [(0.5, 2.0), (2.0, 0.5), (1.0, 0.25)])
def test_node2vec_exact_for_any_number_of_proposals_per_round(monkeypatch, round_size, p, q):
    # One proposal per walker and round, or up to _MAX_REPEAT at once.
    monkeypatch.setattr(walks_module, "_ROUND_SIZE", round_size)
    csr = undirected_csr()
    walks = random_walk(csr, torch.arange(NUM_NODES).repeat(600), 12, p=p, q=q, seed=9)
    assert transition_pvalue(walks, adjacency(csr, weighted=False), p, q) > 1e-4


@pytest.mark.parametrize("p, q", [(0.5, 2.0), (2.0, 0.5), (1000.0, 1000.0)])
def test_weighted_node2vec_with_zero_weight_dead_end(p: float, q: float):
    csr = zero_weight_csr()
    walks = random_walk(csr, torch.arange(5).repeat(800), 8, p=p, q=q, seed=10)
    stopped = walks < 0
    assert torch.equal(stopped, stopped.cummax(dim=1).values)
    # Node 3 is entered and never left; every other move follows node2vec's weighted law.
    assert bool((walks == 3).any())
    after = walks[:, 1:][walks[:, :-1] == 3]
    assert bool((after == -1).all())
    assert transition_pvalue(walks, adjacency(csr, weighted=True), p, q) > 1e-4


def test_too_many_walks_at_once_are_refused_before_allocating() -> None:
    csr = CSRGraph.from_edge_index(torch.tensor([[0, 1], [1, 0]]), 2)
    walker = RandomWalker(csr, walk_length=3, walks_per_node=2**62, seed=0)
    with pytest.raises(ValueError, match="more than 2147483647 walks at once"):
        walker.walk()
