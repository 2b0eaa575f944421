r"""Synthetic subgraph classification tasks (SubGNN's four, mmgraph's position ones), any size.

`Alsentzer et al. (NeurIPS 2020) <https://arxiv.org/abs/2006.10538>`_ ("Subgraph Neural
Networks", appendix on synthetic data sets) built four tasks whose label is a structural
property of a node set inside a large base graph. The first four generators here follow the
recipes of their repository (``mims-harvard/SubGNN``, ``synthetic_graph/``), with its defaults:

* **density** (3 classes): a Barabási–Albert base graph (5,000 nodes, :math:`m = 5`); 250
  subgraphs of 20 nodes grown by breadth-first search (depth at most 3) from random nodes;
  each subgraph is pushed towards a density drawn from ``{0.05, 0.25, 0.45}`` by removing
  random internal edges or adding random internal pairs (at most 100 tries, stopping within
  0.01). Label: the tertile of the final density.
* **cut_ratio** (3 classes): a Barabási–Albert base graph (5,000 nodes, :math:`m = 5`);
  250 complete graphs of 20 nodes planted on random node sets (their edges merged into the
  base graph); each is pushed towards a cut ratio :math:`|\partial S| / (|S| (N - |S|))`
  drawn from ``{0.005, 0.0125, 0.02}`` by removing random boundary edges or adding random
  edges to outside nodes (at most 100 tries, stopping within 0.001). Label: the tertile of
  the final cut ratio.
* **coreness** (3 classes): a duplication–divergence base graph (5,000 nodes,
  :math:`p = 0.7`); for every core number :math:`k` of the base graph, up to 30 subgraphs of
  20 nodes whose base core number is :math:`k` (each node used once), with a
  duplication–divergence graph of 20 nodes planted on them. Label: the tertile of the
  average core number of the subgraph's induced graph.
* **component** (2 classes): a Barabási–Albert base graph (1,000 nodes, :math:`m = 5`);
  each of 250 subgraphs is 1 or 5–10 new connected components (extended Barabási–Albert
  graphs of 15 nodes), each "stapled" to the base graph by a single edge; the components
  after the first are stapled to nodes a chosen number of hops (a fraction 0.12, 0.5 or 1 of
  the base graph's diameter) from the first one's attachment point. Label: one component
  (``A``) or more (``B``).
* **position** (3 classes): a planted-partition base graph (30 blocks of 150 nodes, edge
  probability 0.05 inside a block and 0.0006 between blocks: average degree about 10, about
  a quarter of each node's edges leaving its block); the blocks are dealt at random to the
  classes, several scattered blocks per class; 250 subgraphs of 10–20 nodes grown from random
  nodes, each step adding a random frontier node of the seed's block with probability 0.8
  and one outside it otherwise. Label: the class of the block holding most of the
  subgraph's nodes. The label is a property of *where* a subgraph lies, not of its shape, as
  in SubGNN's real data sets (PPI-BP, HPO-METAB, HPO-NEURO, EM-USER), whose node sets
  cluster in regions of the base graph: a model that sees only structure is near chance,
  one with positional node inputs (an embedding per node) can learn it.
* **position_multilabel** (6 labels, multi-label): position's base graph with the blocks
  dealt to 6 classes; each subgraph (10–20 nodes) is grown from 1, 2 or 3 random seeds
  (probabilities 0.5, 0.35, 0.15), its size shared among them, so it may be scattered over
  several regions. Labels: the classes of the blocks holding at least a quarter of its nodes
  (at least the majority block's), as HPO-NEURO lists several disease categories per gene
  set.

**position** and **position_multilabel** are mmgraph's own tasks, not SubGNN's.

Afterwards the graph is cut to its largest connected component (the first four are connected
by construction; the position tasks' subgraphs are grown inside it) and relabelled
``0 .. N - 1``; subgraphs are split 80/10/10 at random into train/val/test. Class names are
``A``, ``B``, ``C`` in increasing order of the property (position tasks: of the class id
dealt to the blocks), as in SubGNN's files. Every generator is seeded (``seed``) and draws
from one random stream, so a seed always gives the same data set; any size can be asked for.

Where the recipe left a detail open, these choices were made: the BFS of ``density`` keeps
the first 20 nodes in breadth-first order; the extra components of ``component`` go to
nodes at exactly the chosen hop count from the first attachment point (the farthest nodes
within it when there are none), never to nodes of the same subgraph; the coreness label is
computed on the final graph, after all subgraphs are planted.
"""

from __future__ import annotations

import logging
import random
import warnings
from collections.abc import Callable, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import torch

from mmgraph.data._checks import check_int, check_seed
from mmgraph.data.edges import make_undirected
from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.split import SPLIT_NAMES
from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.names import SYNTHETIC_TASKS as SYNTHETIC_TASKS
from mmgraph.seed import make_generator

log = logging.getLogger(__name__)


DEFAULT_SPLIT: tuple[float, float, float] = (0.8, 0.1, 0.1)
"""SubGNN's train/val/test fractions of the subgraphs."""


# ---------------------------------------------------------------------------- helpers
def _check_values(values: Sequence[float], name: str) -> list[float]:
    out = [float(v) for v in values]
    if not out or any(not v > 0 for v in out):
        raise ValueError(
            f"Expected '{name}' to be a non-empty list of positive numbers (got {out})"
        )
    return out


def _check_split(split: Sequence[float]) -> tuple[float, float, float]:
    if len(split) != 3 or any(not 0.0 <= float(f) <= 1.0 for f in split):
        raise ValueError(
            f"Expected 'split' to be three fractions train/val/test in [0, 1] (got {list(split)})"
        )
    if sum(float(f) for f in split) > 1.0 + 1e-9:
        raise ValueError(f"Expected the 'split' fractions to sum to at most 1 (got {list(split)})")
    train, val, test = (float(f) for f in split)
    return train, val, test


def _rng(seed: int | None) -> random.Random:
    """A Python random stream (the one networkx's generators take), seeded via ``seed``."""
    check_seed(seed)
    gen = make_generator(seed)
    return random.Random(int(torch.randint(0, 2**62, (1,), generator=gen)))


def _check_sizes(
    num_nodes: int, num_subgraphs: int, size: int, m: int, size_name: str = "subgraph_size"
) -> None:
    """Check the sizes the Barabási–Albert tasks share (``size`` is nodes per subgraph)."""
    check_int(num_nodes, "num_nodes", 2)
    check_int(num_subgraphs, "num_subgraphs", 1)
    check_int(size, size_name, 2)
    check_int(m, "m", 1)
    if size > num_nodes:
        raise ValueError(
            f"Expected '{size_name}' <= 'num_nodes' (got {size} > {num_nodes}): a subgraph "
            "cannot hold more nodes than the base graph; raise num_nodes (--nodes) or lower "
            f"{size_name}"
        )


def _check_m(m: int, num_nodes: int) -> None:
    if m >= num_nodes:
        raise ValueError(
            f"The base graph needs more than {m} nodes (got num_nodes={num_nodes}): each new "
            f"node of the Barabási–Albert graph attaches to m={m} earlier ones; raise "
            f"num_nodes (--nodes on the command line) above {m}"
        )


def _barabasi_albert(
    num_nodes: int, m: int, split: Sequence[float], seed: int | None
) -> tuple[Any, tuple[float, float, float], random.Random]:
    """The checked split, the random stream, and the Barabási–Albert base graph drawn from it."""
    import networkx as nx

    fractions = _check_split(split)
    rng = _rng(seed)
    return nx.barabasi_albert_graph(num_nodes, m, seed=rng), fractions, rng


def quantile_labels(values: Sequence[float], num_classes: int) -> list[int]:
    r"""Bin values into ``num_classes`` classes at their quantiles (SubGNN's binning).

    The thresholds are the sorted values at positions :math:`\lfloor S i / K \rfloor - 1`
    for :math:`i = 1 .. K - 1` (duplicates merged); a value equal to a threshold goes to the
    upper class. Ties can leave fewer classes than asked for; classes are numbered
    ``0 .. len(thresholds)`` in increasing order of the values.

    Args:
        values (Sequence[float]): One value per subgraph.
        num_classes (int): Number of bins :math:`K`.
    """
    check_int(num_classes, "num_classes", 1)
    ordered = sorted(float(v) for v in values)
    if not ordered:
        return []
    s = len(ordered)
    cuts = sorted({ordered[max(int(s * i / num_classes) - 1, 0)] for i in range(1, num_classes)})
    return [sum(v >= c for c in cuts) for v in values]


def _split_labels(n: int, split: tuple[float, float, float], rng: random.Random) -> list[str]:
    order = list(range(n))
    rng.shuffle(order)
    n_train = int(n * split[0])
    n_val = min(int(round(n * split[1])), n - n_train)
    if abs(sum(split) - 1.0) < 1e-9:  # the rest, as SubGNN's split does
        n_test = n - n_train - n_val
    else:
        n_test = min(int(round(n * split[2])), n - n_train - n_val)
    out = [""] * n
    for i in order[:n_train]:
        out[i] = "train"
    for i in order[n_train : n_train + n_val]:
        out[i] = "val"
    for i in order[n_train + n_val : n_train + n_val + n_test]:
        out[i] = "test"
    return out


def _finish(
    graph: Any,
    node_sets: list[list[int]],
    value_fn: Callable[[Any, list[int]], Any],
    num_classes: int,
    split: tuple[float, float, float],
    rng: random.Random,
    name: str,
    label_fn: Callable[[list[Any]], list[Any]] | None = None,
    node_attrs: Sequence[str] = (),
) -> SubgraphDataset:
    """Largest component, relabelled nodes, labels from the property values, a split.

    ``label_fn`` maps the values to one class id per subgraph (class names ``A``, ``B``, ...
    up to the largest id), or to a list of class ids per subgraph: a multi-label data set
    (``y`` ``[S, C]``) over the ``num_classes`` classes. Each of ``node_attrs`` (an int
    attribute of every node of ``graph``) becomes a long ``[N]`` field of the same name on
    the base graph, in the new node order.
    """
    import networkx as nx

    keep = max(nx.connected_components(graph), key=len) if graph.number_of_nodes() else set()
    total = graph.number_of_nodes()
    if len(keep) < graph.number_of_nodes():
        graph = graph.subgraph(keep).copy()
    sets = [[v for v in nodes if v in keep] for nodes in node_sets]
    shrunk = sum(0 < len(kept) < len(nodes) for kept, nodes in zip(sets, node_sets))
    sets = [nodes for nodes in sets if nodes]
    if len(sets) < len(node_sets) or 10 * shrunk > len(node_sets):
        message = (
            f"The {name} generator's base graph is not connected: "
            f"{len(node_sets) - len(sets)} of its {len(node_sets)} subgraphs lay outside its "
            f"largest component ({len(keep)} of {total} nodes) and were left "
            f"out, and {shrunk} lost nodes there. Raise 'num_nodes' (`mmgraph subgraph generate "
            "--nodes`) for a connected base graph"
        )
        if 2 * len(keep) < total:  # most of the graph lost: not the task asked for
            raise ValueError(message)
        warnings.warn(message, UserWarning, stacklevel=3)
    if not sets:
        raise ValueError(
            f"The {name} generator made no subgraphs: raise the number of nodes or subgraphs"
        )
    values = [value_fn(graph, nodes) for nodes in sets]
    labels: list[Any] = (
        label_fn(values) if label_fn is not None else quantile_labels(values, num_classes)
    )
    multi = isinstance(labels[0], list)
    made = len(set(labels)) if not multi else num_classes
    if made < num_classes:
        warnings.warn(
            f"The {name} generator was asked for {num_classes} classes and its {len(sets)} "
            f"subgraphs make {made}: the property's values tie (or there are fewer subgraphs "
            "than classes). Raise the number of subgraphs (`mmgraph subgraph generate "
            "--subgraphs`) or of nodes",
            UserWarning,
            stacklevel=3,
        )
    index = {v: i for i, v in enumerate(graph.nodes)}
    pairs = [(index[u], index[v]) for u, v in graph.edges]
    edge_index = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t()
    n = len(index)
    edge_index, _, _ = make_undirected(edge_index, n)
    names = [chr(ord("A") + k) for k in range(num_classes if multi else max(labels) + 1)]
    base = MultimodalGraph(edge_index, num_nodes=n, name=name)
    for key in node_attrs:
        values = [int(graph.nodes[v][key]) for v in index]
        setattr(base, key, torch.tensor(values, dtype=torch.long))
    return SubgraphDataset.from_lists(
        base,
        [[index[v] for v in nodes] for nodes in sets],
        [[names[k] for k in ks] if multi else names[ks] for ks in labels],
        split=_split_labels(len(sets), split, rng),
        class_names=names,
        name=name,
    )


# ------------------------------------------------------------------------ properties
def subgraph_density(graph: Any, nodes: Sequence[int]) -> float:
    """Edges among ``nodes`` over the :math:`k (k - 1) / 2` possible (0 for one node)."""
    k = len(set(nodes))
    if k < 2:
        return 0.0
    return graph.subgraph(nodes).number_of_edges() / (k * (k - 1) / 2)


def subgraph_cut_ratio(graph: Any, nodes: Sequence[int]) -> float:
    r"""Boundary edges over the possible ones: :math:`|\partial S| / (|S| (N - |S|))`."""
    inside = set(nodes)
    outside = graph.number_of_nodes() - len(inside)
    if outside <= 0:
        return 0.0
    boundary = sum(1 for v in inside for u in graph.neighbors(v) if u not in inside)
    return boundary / (len(inside) * outside)


def subgraph_coreness(graph: Any, nodes: Sequence[int]) -> float:
    """Average core number of the nodes in the graph induced by ``nodes``."""
    import networkx as nx

    cores = nx.core_number(nx.Graph(graph.subgraph(nodes)))
    return sum(cores.values()) / max(len(cores), 1)


def subgraph_components(graph: Any, nodes: Sequence[int]) -> int:
    """Number of connected components of the graph induced by ``nodes``."""
    import networkx as nx

    return nx.number_connected_components(graph.subgraph(nodes))


# ------------------------------------------------------------------------ generators
def make_density(
    num_nodes: int = 5000,
    num_subgraphs: int = 250,
    subgraph_size: int = 20,
    m: int = 5,
    max_depth: int = 3,
    targets: Sequence[float] = (0.05, 0.25, 0.45),
    tolerance: float = 0.01,
    max_tries: int = 100,
    num_classes: int = 3,
    split: Sequence[float] = DEFAULT_SPLIT,
    seed: int | None = None,
) -> SubgraphDataset:
    """SubGNN's ``density`` task: BFS subgraphs of a Barabási–Albert graph, re-densified.

    Args:
        num_nodes (int, optional): Nodes of the base graph. (default: :obj:`5000`)
        num_subgraphs (int, optional): Subgraphs. (default: :obj:`250`)
        subgraph_size (int, optional): Nodes per subgraph. (default: :obj:`20`)
        m (int, optional): Edges of each new Barabási–Albert node. (default: :obj:`5`)
        max_depth (int, optional): Depth limit of the BFS. (default: :obj:`3`)
        targets (Sequence[float], optional): Densities drawn from. (default:
            ``(0.05, 0.25, 0.45)``)
        tolerance (float, optional): Stop within this distance of the target.
            (default: :obj:`0.01`)
        max_tries (int, optional): Edge edits per subgraph at most. (default: :obj:`100`)
        num_classes (int, optional): Quantile bins of the density. (default: :obj:`3`)
        split (Sequence[float], optional): Train/val/test fractions. (default: 0.8/0.1/0.1)
        seed (int, optional): Seed. (default: :obj:`None`)
    """
    import networkx as nx

    _check_sizes(num_nodes, num_subgraphs, subgraph_size, m)
    check_int(max_depth, "max_depth", 1)
    check_int(max_tries, "max_tries", 0)
    _check_m(m, num_nodes)
    targets = _check_values(targets, "targets")
    graph, fractions, rng = _barabasi_albert(num_nodes, m, split, seed)
    nodes_list = list(graph.nodes)
    node_sets = []
    for _ in range(num_subgraphs):
        start = rng.choice(nodes_list)
        edges = nx.bfs_edges(graph, start, depth_limit=max_depth)
        node_sets.append([start] + [v for _, v in islice(edges, subgraph_size - 1)])
    for nodes in node_sets:
        target = rng.choice(targets)
        k = len(nodes)
        possible = k * (k - 1) / 2
        internal = sorted(tuple(sorted(e)) for e in graph.subgraph(nodes).edges)
        for _ in range(max_tries):
            density = len(internal) / possible
            if abs(density - target) < tolerance:
                break
            if density > target:
                u, v = internal.pop(rng.randrange(len(internal)))
                graph.remove_edge(u, v)
            else:
                u, v = rng.sample(nodes, 2)
                if not graph.has_edge(u, v):
                    graph.add_edge(u, v)
                    internal.append((min(u, v), max(u, v)))
    return _finish(graph, node_sets, subgraph_density, num_classes, fractions, rng, "density")


def make_cut_ratio(
    num_nodes: int = 5000,
    num_subgraphs: int = 250,
    subgraph_size: int = 20,
    m: int = 5,
    targets: Sequence[float] = (0.005, 0.0125, 0.02),
    tolerance: float = 0.001,
    max_tries: int = 100,
    num_classes: int = 3,
    split: Sequence[float] = DEFAULT_SPLIT,
    seed: int | None = None,
) -> SubgraphDataset:
    """SubGNN's ``cut_ratio`` task: planted cliques whose boundary is edited.

    Args:
        num_nodes (int, optional): Nodes of the base graph. (default: :obj:`5000`)
        num_subgraphs (int, optional): Subgraphs. (default: :obj:`250`)
        subgraph_size (int, optional): Nodes per subgraph. (default: :obj:`20`)
        m (int, optional): Edges of each new Barabási–Albert node. (default: :obj:`5`)
        targets (Sequence[float], optional): Cut ratios drawn from. (default:
            ``(0.005, 0.0125, 0.02)``)
        tolerance (float, optional): Stop within this distance of the target.
            (default: :obj:`0.001`)
        max_tries (int, optional): Boundary edits per subgraph at most. (default: :obj:`100`)
        num_classes (int, optional): Quantile bins of the cut ratio. (default: :obj:`3`)
        split (Sequence[float], optional): Train/val/test fractions. (default: 0.8/0.1/0.1)
        seed (int, optional): Seed. (default: :obj:`None`)
    """
    _check_sizes(num_nodes, num_subgraphs, subgraph_size, m)
    check_int(max_tries, "max_tries", 0)
    _check_m(m, num_nodes)
    if subgraph_size >= num_nodes:
        raise ValueError(
            f"Expected 'subgraph_size' < 'num_nodes' (got {subgraph_size} >= {num_nodes})"
        )
    targets = _check_values(targets, "targets")
    graph, fractions, rng = _barabasi_albert(num_nodes, m, split, seed)
    node_sets = []
    for _ in range(num_subgraphs):
        nodes = rng.sample(range(num_nodes), subgraph_size)
        graph.add_edges_from((u, v) for i, u in enumerate(nodes) for v in nodes[i + 1 :])
        node_sets.append(nodes)
    for nodes in node_sets:
        target = rng.choice(targets)
        inside = set(nodes)
        possible = len(inside) * (num_nodes - len(inside))
        boundary = [(v, u) for v in nodes for u in sorted(graph.neighbors(v)) if u not in inside]
        for _ in range(max_tries):
            ratio = len(boundary) / possible
            if abs(ratio - target) < tolerance:
                break
            if ratio > target:
                i = rng.randrange(len(boundary))
                boundary[i], boundary[-1] = boundary[-1], boundary[i]
                graph.remove_edge(*boundary.pop())
            else:
                v = rng.choice(nodes)
                u = rng.randrange(num_nodes)
                if u not in inside and not graph.has_edge(v, u):
                    graph.add_edge(v, u)
                    boundary.append((v, u))
    return _finish(graph, node_sets, subgraph_cut_ratio, num_classes, fractions, rng, "cut_ratio")


def make_coreness(
    num_nodes: int = 5000,
    subgraphs_per_core: int = 30,
    subgraph_size: int = 20,
    p: float = 0.7,
    num_classes: int = 3,
    split: Sequence[float] = DEFAULT_SPLIT,
    seed: int | None = None,
) -> SubgraphDataset:
    """SubGNN's ``coreness`` task: duplication–divergence graphs planted on same-core nodes.

    Args:
        num_nodes (int, optional): Nodes of the base graph. (default: :obj:`5000`)
        subgraphs_per_core (int, optional): Subgraphs per core number of the base graph, at
            most. (default: :obj:`30`)
        subgraph_size (int, optional): Nodes per subgraph. (default: :obj:`20`)
        p (float, optional): Retention probability of the duplication–divergence graphs.
            (default: :obj:`0.7`)
        num_classes (int, optional): Quantile bins of the average coreness.
            (default: :obj:`3`)
        split (Sequence[float], optional): Train/val/test fractions. (default: 0.8/0.1/0.1)
        seed (int, optional): Seed. (default: :obj:`None`)
    """
    import networkx as nx

    check_int(num_nodes, "num_nodes", 2)
    check_int(subgraphs_per_core, "subgraphs_per_core", 1)
    check_int(subgraph_size, "subgraph_size", 2)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"Expected 'p' in [0, 1] (got {p})")
    fractions = _check_split(split)
    rng = _rng(seed)
    graph = nx.duplication_divergence_graph(num_nodes, p, seed=rng)
    by_core: dict[int, list[int]] = {}
    for v, k in nx.core_number(graph).items():
        by_core.setdefault(k, []).append(v)
    node_sets = []
    for k in sorted(by_core):
        available = sorted(by_core[k])
        for _ in range(subgraphs_per_core):
            if len(available) < subgraph_size:
                break
            nodes = rng.sample(available, subgraph_size)
            planted = nx.duplication_divergence_graph(subgraph_size, p, seed=rng)
            mapping = dict(zip(sorted(planted.nodes), nodes))
            graph.add_edges_from((mapping[u], mapping[v]) for u, v in planted.edges)
            chosen = set(nodes)
            available = [v for v in available if v not in chosen]
            node_sets.append(nodes)
    if not node_sets:
        raise ValueError(
            f"No core number of the base graph has {subgraph_size} nodes: raise 'num_nodes' "
            "or lower 'subgraph_size'"
        )
    return _finish(graph, node_sets, subgraph_coreness, num_classes, fractions, rng, "coreness")


def make_component(
    num_nodes: int = 1000,
    num_subgraphs: int = 250,
    component_size: int = 15,
    m: int = 5,
    hop_fractions: Sequence[float] = (0.12, 0.5, 1.0),
    attach_probs: Sequence[float] = (0.1, 0.5, 0.9),
    component_counts: Sequence[int] = (1, 1, 1, 1, 5, 6, 7, 8, 9, 10),
    split: Sequence[float] = DEFAULT_SPLIT,
    seed: int | None = None,
) -> SubgraphDataset:
    """SubGNN's ``component`` task: subgraphs of 1 or several components stapled to the graph.

    Each component is an extended Barabási–Albert graph of ``component_size`` nodes (``m``
    edges per new node, probability ``attach_probs[i]`` of adding edges between existing
    nodes, paired with ``hop_fractions[i]``), attached by one edge. Label ``A``: one
    component, ``B``: more than one.

    Args:
        num_nodes (int, optional): Nodes of the base graph. (default: :obj:`1000`)
        num_subgraphs (int, optional): Subgraphs. (default: :obj:`250`)
        component_size (int, optional): Nodes per component. (default: :obj:`15`)
        m (int, optional): Edges of each new Barabási–Albert node, for the base graph and the
            components. (default: :obj:`5`)
        hop_fractions (Sequence[float], optional): Distances between the attachment points
            of a subgraph's components, as fractions of the base graph's diameter.
            (default: ``(0.12, 0.5, 1.0)``)
        attach_probs (Sequence[float], optional): The extended Barabási–Albert ``p`` paired
            with each hop fraction. (default: ``(0.1, 0.5, 0.9)``)
        component_counts (Sequence[int], optional): Numbers of components drawn from (with
            repetition, as weights). (default: ``(1, 1, 1, 1, 5, 6, 7, 8, 9, 10)``)
        split (Sequence[float], optional): Train/val/test fractions. (default: 0.8/0.1/0.1)
        seed (int, optional): Seed. (default: :obj:`None`)
    """
    import networkx as nx

    _check_sizes(num_nodes, num_subgraphs, component_size, m, size_name="component_size")
    if m >= num_nodes or m >= component_size:
        raise ValueError(
            f"Expected 'm' below 'num_nodes' and 'component_size' (got m={m}, "
            f"num_nodes={num_nodes}, component_size={component_size})"
        )
    if len(hop_fractions) != len(attach_probs) or not hop_fractions:
        raise ValueError(
            f"Expected one attach probability per hop fraction (got {len(hop_fractions)} "
            f"fractions and {len(attach_probs)} probabilities)"
        )
    if any(not 0.0 <= q < 1.0 for q in attach_probs):
        raise ValueError(f"Expected 'attach_probs' in [0, 1) (got {list(attach_probs)})")
    counts = [int(c) for c in component_counts]
    if not counts or any(c < 1 for c in counts):
        raise ValueError(f"Expected 'component_counts' of positive ints (got {counts})")
    graph, fractions, rng = _barabasi_albert(num_nodes, m, split, seed)
    diameter = nx.diameter(graph, usebounds=True)
    hops = [int(diameter * f) for f in hop_fractions]

    def staple(root: int, p: float) -> list[int]:
        component = nx.extended_barabasi_albert_graph(component_size, m, p, 0.0, seed=rng)
        offset = graph.number_of_nodes()
        ids = list(range(offset, offset + component_size))
        graph.add_nodes_from(ids)
        graph.add_edges_from((offset + u, offset + v) for u, v in component.edges)
        graph.add_edge(root, rng.choice(ids))
        return ids

    node_sets = []
    for _ in range(num_subgraphs):
        choice = rng.randrange(len(hops))
        k, p = hops[choice], float(attach_probs[choice])
        n_components = rng.choice(counts)
        root = rng.randrange(graph.number_of_nodes())
        nodes = staple(root, p)
        if n_components > 1:
            inside = set(nodes)
            dist = nx.single_source_shortest_path_length(graph, root, cutoff=k)
            outside = {v: d for v, d in dist.items() if v not in inside}
            candidates = sorted(v for v, d in outside.items() if d == k)
            if not candidates:
                far = max(outside.values())
                candidates = sorted(v for v, d in outside.items() if d == far)
            for _ in range(n_components - 1):
                nodes += staple(rng.choice(candidates), p)
        node_sets.append(nodes)
    return _finish(
        graph,
        node_sets,
        lambda g, nodes: float(subgraph_components(g, nodes)),
        2,
        fractions,
        rng,
        "component",
        label_fn=lambda vals: [int(v > 1) for v in vals],
    )


def _check_blocks(
    num_blocks: int,
    block_size: int,
    p_in: float,
    p_out: float,
    num_subgraphs: int,
    min_size: int,
    max_size: int,
    stay: float,
    num_classes: int,
) -> None:
    """Check the arguments the planted-partition tasks (``position``, its multi-label one) share."""
    check_int(num_classes, "num_classes", 2)
    check_int(num_blocks, "num_blocks", num_classes)
    check_int(block_size, "block_size", 2)
    check_int(num_subgraphs, "num_subgraphs", 1)
    check_int(min_size, "min_size", 2)
    check_int(max_size, "max_size", min_size)
    for value, name in ((p_in, "p_in"), (p_out, "p_out"), (stay, "stay")):
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"Expected '{name}' in [0, 1] (got {value})")


def _block_graph(
    num_blocks: int,
    block_size: int,
    p_in: float,
    p_out: float,
    num_classes: int,
    rng: random.Random,
) -> tuple[Any, list[int], list[int]]:
    """The planted-partition base graph, the class of each block, its largest component.

    The blocks are dealt to the classes in a random order, round robin; every node gets the
    int attributes ``block`` and ``block_class``. The component's nodes come sorted.
    """
    import networkx as nx

    graph = nx.planted_partition_graph(num_blocks, block_size, p_in, p_out, seed=rng)
    order = list(range(num_blocks))
    rng.shuffle(order)
    block_class = [0] * num_blocks
    for i, b in enumerate(order):
        block_class[b] = i % num_classes
    for v in graph.nodes:  # planted_partition_graph numbers the blocks' nodes in order
        graph.nodes[v]["block"] = v // block_size
        graph.nodes[v]["block_class"] = block_class[v // block_size]
    largest: set[int] = max(nx.connected_components(graph), key=len)
    component = sorted(largest)
    if len(component) < 2:
        raise ValueError(
            f"The base graph has no edges to grow subgraphs along (p_in={p_in}, "
            f"p_out={p_out}): raise 'p_in' or 'p_out'"
        )
    return graph, block_class, component


def _stay_walk(
    graph: Any,
    start: int,
    size: int,
    block_size: int,
    stay: float,
    rng: random.Random,
    taken: set[int] | frozenset[int] = frozenset(),
) -> list[int]:
    """Grow ``start`` to ``size`` nodes (fewer when the frontier runs out), in added order.

    Each step adds a random frontier node inside ``start``'s block with probability
    ``stay``, else one outside it (the other kind when one kind is empty). Nodes of
    ``taken`` are never added.
    """
    home = start // block_size
    nodes = [start]
    seen = {start}
    seen.update(taken)
    frontier: tuple[list[int], list[int]] = ([], [])  # inside, outside the seed's block
    while True:
        for u in sorted(graph.neighbors(nodes[-1])):
            if u not in seen:
                seen.add(u)
                frontier[u // block_size != home].append(u)
        if len(nodes) == size or not (frontier[0] or frontier[1]):
            return nodes
        side = frontier[0] if rng.random() < stay else frontier[1]
        side = side or frontier[0] or frontier[1]
        i = rng.randrange(len(side))
        side[i], side[-1] = side[-1], side[i]
        nodes.append(side.pop())


def _block_counts(graph: Any, nodes: list[int]) -> tuple[dict[int, int], int]:
    """Nodes per block (blocks in order of first appearance) and the majority block.

    A tie goes to the block that appears first in ``nodes``.
    """
    counts: dict[int, int] = {}
    for v in nodes:
        counts[graph.nodes[v]["block"]] = counts.get(graph.nodes[v]["block"], 0) + 1
    return counts, max(counts, key=counts.__getitem__)


def make_position(
    num_blocks: int = 30,
    block_size: int = 150,
    p_in: float = 0.05,
    p_out: float = 0.0006,
    num_subgraphs: int = 250,
    min_size: int = 10,
    max_size: int = 20,
    stay: float = 0.8,
    num_classes: int = 3,
    split: Sequence[float] = DEFAULT_SPLIT,
    seed: int | None = None,
) -> SubgraphDataset:
    """The ``position`` task (mmgraph's own): a subgraph's class is that of the region it is in.

    The base graph is a planted partition of ``num_blocks`` blocks of ``block_size`` nodes
    (an edge with probability ``p_in`` inside a block, ``p_out`` between blocks). The blocks
    are dealt to the ``num_classes`` classes in a random order, round robin, so each class
    owns several blocks scattered over the graph (their counts differ by one at most). Each
    subgraph is grown from a random node (the seed) of the graph's largest component to a
    size drawn uniformly from ``[min_size, max_size]``: every step adds a random node of the
    frontier (the neighbours of the nodes so far) inside the seed's block with probability
    ``stay``, else a random frontier node outside it (the other kind when one kind is
    empty). A subgraph is connected, its nodes distinct (subgraphs may overlap), and it stops
    short of its size only when its frontier runs out (never below 2 nodes). Its label is
    the class of the block holding most of its nodes (ties: the seed's block, then the block
    reached first).

    The base graph carries two extra long ``[N]`` fields: ``block`` (the block of each node)
    and ``block_class`` (the class id of that block). Each subgraph lists its seed first,
    then its nodes in the order they were added.

    Args:
        num_blocks (int, optional): Blocks of the base graph, at least ``num_classes``.
            (default: :obj:`30`)
        block_size (int, optional): Nodes per block. (default: :obj:`150`)
        p_in (float, optional): Edge probability inside a block. (default: :obj:`0.05`)
        p_out (float, optional): Edge probability between blocks. (default: :obj:`0.0006`)
        num_subgraphs (int, optional): Subgraphs. (default: :obj:`250`)
        min_size (int, optional): Smallest subgraph size drawn. (default: :obj:`10`)
        max_size (int, optional): Largest subgraph size drawn. (default: :obj:`20`)
        stay (float, optional): Probability that a step stays inside the seed's block.
            (default: :obj:`0.8`)
        num_classes (int, optional): Classes the blocks are dealt to. (default: :obj:`3`)
        split (Sequence[float], optional): Train/val/test fractions. (default: 0.8/0.1/0.1)
        seed (int, optional): Seed. (default: :obj:`None`)
    """
    _check_blocks(
        num_blocks, block_size, p_in, p_out, num_subgraphs, min_size, max_size, stay, num_classes
    )
    fractions = _check_split(split)
    rng = _rng(seed)
    graph, block_class, component = _block_graph(
        num_blocks, block_size, p_in, p_out, num_classes, rng
    )
    node_sets = []
    for _ in range(num_subgraphs):
        size = rng.randint(min_size, max_size)
        start = rng.choice(component)
        node_sets.append(_stay_walk(graph, start, size, block_size, stay, rng))

    def majority_class(g: Any, nodes: list[int]) -> int:
        return block_class[_block_counts(g, nodes)[1]]

    return _finish(
        graph,
        node_sets,
        majority_class,
        num_classes,
        fractions,
        rng,
        "position",
        label_fn=lambda vals: vals,
        node_attrs=("block", "block_class"),
    )


SEED_PROBS: tuple[float, ...] = (0.5, 0.35, 0.15)
"""Probabilities of 1, 2 and 3 seeds per subgraph in :func:`make_position_multilabel`."""


def make_position_multilabel(
    num_blocks: int = 30,
    block_size: int = 150,
    p_in: float = 0.05,
    p_out: float = 0.0006,
    num_subgraphs: int = 250,
    min_size: int = 10,
    max_size: int = 20,
    stay: float = 0.8,
    num_classes: int = 6,
    seed_probs: Sequence[float] = SEED_PROBS,
    min_share: float = 0.25,
    split: Sequence[float] = DEFAULT_SPLIT,
    seed: int | None = None,
) -> SubgraphDataset:
    """The multi-label ``position`` task (mmgraph's own), standing in for SubGNN's HPO-NEURO.

    HPO-NEURO's subgraphs are a patient's gene sets, scattered over the base graph, each
    with one or several disease categories. Here the base graph and its classes are those of
    :func:`make_position` (``num_blocks`` blocks of ``block_size`` nodes, dealt in a random
    order, round robin, to ``num_classes`` classes). Each subgraph draws a size uniformly
    from ``[min_size, max_size]`` and a number of seeds :math:`k` (``1 .. len(seed_probs)``
    with probabilities ``seed_probs``, default 1, 2, 3 with 0.5, 0.35, 0.15); the :math:`k`
    seeds are distinct random nodes of the largest component (fewer when it has fewer
    nodes). The size is divided among them as evenly as possible (the earlier parts get the
    extra nodes; a part that stops short leaves its nodes to the later parts), and each part
    is grown from its seed by :func:`make_position`'s walk (staying in the seed's block with
    probability ``stay``), never taking a node of another part or another part's seed. The
    subgraph is the union of the parts, its nodes distinct; it may be disconnected, as
    HPO-NEURO's are.

    Its labels are the classes of the blocks holding at least ``min_share`` of its nodes,
    and always the class of the block holding most of them (ties: the first seed's block,
    then the block reached first), so every subgraph has one label at least. The data set
    is multi-label (``y`` is a long 0/1 ``[S, num_classes]``; class names ``A``, ``B``, ...
    as in :func:`make_position`); the split is a seeded random one, as for the other tasks.
    With the defaults about three subgraphs in five have one label and the rest two or
    three (seed 0: 156 subgraphs with one label, 81 with two, 13 with three).

    :func:`save_subgnn` writes a subgraph's labels joined by ``-`` (``A-C``) as HPO-NEURO's
    file does, and :func:`mmgraph.data.load_subgnn` reads such a file back as multi-label
    when some joined label is made of labels that also occur alone: with the defaults every
    class is the only label of many subgraphs, so the file always round-trips.

    The base graph carries the long ``[N]`` fields ``block`` and ``block_class`` of
    :func:`make_position`. Each subgraph lists its parts one after the other, each its seed
    first, then its nodes in the order they were added.

    Args:
        num_blocks (int, optional): Blocks of the base graph, at least ``num_classes``.
            (default: :obj:`30`)
        block_size (int, optional): Nodes per block. (default: :obj:`150`)
        p_in (float, optional): Edge probability inside a block. (default: :obj:`0.05`)
        p_out (float, optional): Edge probability between blocks. (default: :obj:`0.0006`)
        num_subgraphs (int, optional): Subgraphs. (default: :obj:`250`)
        min_size (int, optional): Smallest subgraph size drawn, at least
            ``len(seed_probs)`` (a node per seed). (default: :obj:`10`)
        max_size (int, optional): Largest subgraph size drawn. (default: :obj:`20`)
        stay (float, optional): Probability that a step stays inside the seed's block.
            (default: :obj:`0.8`)
        num_classes (int, optional): Classes the blocks are dealt to. (default: :obj:`6`)
        seed_probs (Sequence[float], optional): Weights of 1, 2, ... seeds per subgraph
            (normalised to sum 1). (default: :data:`SEED_PROBS`, ``(0.5, 0.35, 0.15)``)
        min_share (float, optional): Share of a subgraph's nodes a block needs for its
            class to be a label, in ``(0, 1]``. (default: :obj:`0.25`)
        split (Sequence[float], optional): Train/val/test fractions. (default: 0.8/0.1/0.1)
        seed (int, optional): Seed. (default: :obj:`None`)
    """
    _check_blocks(
        num_blocks, block_size, p_in, p_out, num_subgraphs, min_size, max_size, stay, num_classes
    )
    probs = [float(q) for q in seed_probs]
    if not probs or any(not q >= 0.0 for q in probs) or not sum(probs) > 0.0:
        raise ValueError(
            "Expected 'seed_probs' to be a non-empty list of non-negative numbers with a "
            f"positive sum (got {probs})"
        )
    if min_size < len(probs):
        raise ValueError(
            f"Expected 'min_size' to be at least len('seed_probs') = {len(probs)}, a node per "
            f"seed (got {min_size}): raise 'min_size' or shorten 'seed_probs'"
        )
    if not 0.0 < float(min_share) <= 1.0:
        raise ValueError(f"Expected 'min_share' in (0, 1] (got {min_share})")
    fractions = _check_split(split)
    rng = _rng(seed)
    graph, block_class, component = _block_graph(
        num_blocks, block_size, p_in, p_out, num_classes, rng
    )
    seed_counts = range(1, len(probs) + 1)
    node_sets = []
    for _ in range(num_subgraphs):
        size = rng.randint(min_size, max_size)
        k = min(rng.choices(seed_counts, weights=probs)[0], len(component))
        starts = rng.sample(component, k)
        taken = set(starts)
        nodes: list[int] = []
        for i, start in enumerate(starts):
            part_size = -(-(size - len(nodes)) // (k - i))  # ceil: the rest, shared evenly
            part = _stay_walk(graph, start, part_size, block_size, stay, rng, taken)
            taken.update(part)
            nodes += part
        node_sets.append(nodes)

    def label_set(g: Any, nodes: list[int]) -> list[int]:
        counts, majority = _block_counts(g, nodes)
        blocks = [b for b, c in counts.items() if c >= min_share * len(nodes)]
        return sorted({block_class[b] for b in [majority, *blocks]})

    return _finish(
        graph,
        node_sets,
        label_set,
        num_classes,
        fractions,
        rng,
        "position_multilabel",
        label_fn=lambda vals: vals,
        node_attrs=("block", "block_class"),
    )


_MAKERS: dict[str, Callable[..., SubgraphDataset]] = {
    "density": make_density,
    "cut_ratio": make_cut_ratio,
    "coreness": make_coreness,
    "component": make_component,
    "position": make_position,
    "position_multilabel": make_position_multilabel,
}


def make_synthetic_subgraphs(task: str, seed: int | None = None, **kwargs: Any) -> SubgraphDataset:
    """Generate one of the synthetic tasks by name (see :data:`SYNTHETIC_TASKS`).

    Args:
        task (str): ``"density"``, ``"cut_ratio"`` (or ``"cut-ratio"``), ``"coreness"``,
            ``"component"``, ``"position"`` or ``"position_multilabel"`` (or
            ``"position-multilabel"``; multi-label, ``y`` of shape ``[S, C]``).
        seed (int, optional): Seed. (default: :obj:`None`)
        **kwargs: Passed to the task's generator (e.g. ``num_nodes``, ``num_subgraphs``).
    """
    key = str(task).strip().lower().replace("-", "_")
    if key not in _MAKERS:
        raise ValueError(
            f"Unknown synthetic subgraph task {task!r}; expected one of {SYNTHETIC_TASKS}"
        )
    return _MAKERS[key](seed=seed, **kwargs)


def save_subgnn(dataset: SubgraphDataset, folder: str | Path) -> Path:
    """Write a data set in SubGNN's format (``edge_list.txt``, ``subgraphs.pth``).

    Each undirected edge is written once (``u v`` with ``u < v``); each subgraph as
    ``n1-n2-...<TAB>label<TAB>split``. :func:`mmgraph.data.load_subgnn` reads it back (when
    every node of the base graph has an edge or is in a subgraph).

    A multi-label data set is written as SubGNN's HPO-NEURO is: a subgraph's labels joined
    by ``-`` in class order (``A-C``). The loader reads it back as the same multi-label
    ``y`` and class names when the class names are sorted (as the loader sorts them), every
    class is a label of some subgraph, and some subgraph's labels also occur as the only
    label of other subgraphs (the loader's rule for telling a multi-label file):
    :func:`make_position_multilabel`'s defaults always give all three; a warning is logged
    when one of the last two fails.

    Args:
        dataset (SubgraphDataset): The data set; every subgraph needs a label (one at least,
            when multi-label) and a split; multi-label class names must not hold ``-``.
        folder (str or Path): The folder to write (created if needed).

    Returns:
        Path: The folder.
    """
    if not isinstance(dataset, SubgraphDataset):
        raise TypeError(f"Expected a SubgraphDataset (got {type(dataset).__name__!r})")
    names = dataset.class_names or [str(k) for k in range(dataset.num_classes)]
    multi = dataset.multi_label
    if multi and any("-" in name for name in names):
        raise ValueError(
            f"Expected multi-label class names without '-' (got {names}): SubGNN's format "
            "joins a subgraph's labels with '-'; rename the classes"
        )
    labelled = dataset.labelled
    if multi:  # a row of 0s has no label to write
        labelled = labelled & (dataset.y.sum(dim=1) > 0)
    splits = []
    for i in range(len(dataset)):
        split = next(
            (
                name
                for name in SPLIT_NAMES
                if getattr(dataset, f"{name}_mask") is not None
                and bool(getattr(dataset, f"{name}_mask")[i])
            ),
            None,
        )
        if split is None or not bool(labelled[i]):
            raise ValueError(
                f"Subgraph {i} has no label or no split: SubGNN's format needs both for every "
                "subgraph"
            )
        splits.append(split)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    edge_index = dataset.graph.edge_index
    keep = edge_index[0] < edge_index[1]
    pairs = edge_index[:, keep].t().tolist()
    (out / "edge_list.txt").write_text("".join(f"{u} {v}\n" for u, v in pairs))
    if multi:
        labels = ["-".join(names[k] for k in row.nonzero().view(-1).tolist()) for row in dataset.y]
        _warn_unless_multi_label(labels, names)
    else:
        labels = [names[int(label)] for label in dataset.y]
    lines = [
        "-".join(str(v) for v in nodes.tolist()) + f"\t{label}\t{split}\n"
        for nodes, label, split in zip(dataset.subgraphs, labels, splits)
    ]
    (out / "subgraphs.pth").write_text("".join(lines))
    return out


def _warn_unless_multi_label(labels: list[str], names: list[str]) -> None:
    """Log when :func:`mmgraph.data.load_subgnn` would not read ``labels`` back as written.

    The loader reads a file as multi-label when one of its labels joins labels that also
    occur alone, and takes the class names from the labels it finds.
    """
    from mmgraph.data.loaders.subgnn import joins_labels

    if not joins_labels(labels):
        log.warning(
            "No subgraph's labels all occur alone as other subgraphs' labels: load_subgnn "
            "will read the written file as single-label"
        )
    found = {part for t in labels for part in t.split("-")}
    missing = [name for name in names if name not in found]
    if missing:
        log.warning(
            "Classes %s label no subgraph: load_subgnn will read the written file without them",
            missing,
        )
