"""Mini-batches of sampled neighbourhoods of a multimodal graph, ready for a GNN."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data

from mmgraph.sampling.csr import CSRGraph
from mmgraph.sampling.neighbor import NeighborSampler, RelationFanouts, SampledSubgraph
from mmgraph.seed import as_generator


def _input_index(input_nodes: Tensor | None, num_nodes: int) -> Tensor:
    if input_nodes is None:
        return torch.arange(num_nodes)
    if not isinstance(input_nodes, Tensor):
        raise TypeError(
            "Expected 'input_nodes' to be None, a bool mask or a tensor of node ids "
            f"(got {type(input_nodes).__name__!r})"
        )
    if input_nodes.dtype == torch.bool:
        if input_nodes.shape != (num_nodes,):
            raise ValueError(
                f"Expected the 'input_nodes' mask to have shape [{num_nodes}] "
                f"(got {list(input_nodes.shape)})"
            )
        return input_nodes.nonzero().view(-1)
    if input_nodes.is_floating_point() or input_nodes.is_complex():
        raise TypeError(
            f"Expected 'input_nodes' to be a bool mask or integer node ids "
            f"(got '{input_nodes.dtype}')"
        )
    if input_nodes.dim() != 1:
        raise ValueError(
            f"Expected 'input_nodes' to have shape [B] (got {list(input_nodes.shape)})"
        )
    index = input_nodes.long()
    if index.numel():
        lo, hi = int(index.min()), int(index.max())
        if lo < 0 or hi >= num_nodes:
            raise ValueError(
                f"Found input node {lo if lo < 0 else hi} but the graph has {num_nodes} nodes: "
                f"node ids must be in [0, {num_nodes})"
            )
        if int(torch.bincount(index, minlength=num_nodes).max()) > 1:
            raise ValueError(
                "Found repeated ids in 'input_nodes': each node can be a seed once; pass "
                "`input_nodes.unique()`"
            )
    return index


def select_subgraph(graph: Data, sub: SampledSubgraph) -> Data:
    """The sampled subgraph of ``graph`` as a graph of the same class.

    Node-level fields are selected by ``sub.n_id`` (tensors by ``index_select``, lists by
    comprehension), edge-level fields by ``sub.e_id``, graph-level fields (metadata) shared.
    The batch also holds ``n_id``, ``e_id``, ``batch_size``, ``num_sampled_nodes`` and
    ``num_sampled_edges``; its first ``batch_size`` nodes are the seeds.
    """
    batch = graph.__class__()
    n_id, e_id = sub.n_id, sub.e_id
    index: list[int] | None = None
    for key, value in graph:
        if key in ("edge_index", "num_nodes"):
            continue
        if graph.is_node_attr(key):
            if isinstance(value, Tensor):
                batch[key] = value.index_select(0, n_id)
            else:
                index = n_id.tolist() if index is None else index
                batch[key] = [value[i] for i in index]
        elif graph.is_edge_attr(key):
            if isinstance(value, Tensor):
                batch[key] = value.index_select(0, e_id)
            else:
                batch[key] = [value[i] for i in e_id.tolist()]
        else:
            batch[key] = value
    batch.edge_index = sub.edge_index
    batch.num_nodes = n_id.numel()
    batch.n_id = n_id
    batch.e_id = e_id
    batch.batch_size = sub.batch_size
    batch.num_sampled_nodes = sub.num_sampled_nodes
    batch.num_sampled_edges = sub.num_sampled_edges
    return batch


class NeighborLoader:
    r"""Iterates over mini-batches of seed nodes with their sampled neighbourhoods.

    `"Inductive Representation Learning on Large Graphs"
    <https://arxiv.org/abs/1706.02216>`_. Each batch is a graph of the input's class (a
    :class:`~mmgraph.data.MultimodalGraph` stays one) over the sampled nodes, seeds first:
    node fields (modalities, presence masks, labels, split masks, ``node_id``) selected for
    ``n_id``, edge fields for ``e_id``, plus ``n_id`` (global ids), ``e_id``, ``input_id``
    (position of each seed in the input node list), ``batch_size``, ``num_sampled_nodes``
    and ``num_sampled_edges``. A model reads its predictions from the first ``batch_size``
    rows. Sampling is done by :class:`NeighborSampler` (see there).

    Args:
        graph (torch_geometric.data.Data): The graph (a MultimodalGraph or any PyG ``Data``).
        fanouts (Sequence[int]): Neighbours per node and hop, ``-1`` for all.
        input_nodes (torch.Tensor, optional): The seed nodes: a bool mask ``[N]``, distinct
            node ids, or :obj:`None` for all nodes. (default: :obj:`None`)
        batch_size (int, optional): Seeds per batch. (default: :obj:`1024`)
        shuffle (bool, optional): Shuffle the seeds at every epoch. (default: :obj:`False`)
        replace (bool, optional): Sample with replacement. (default: :obj:`False`)
        relation_fanouts (Mapping or Sequence, optional): Per-relation fan-outs, see
            :class:`NeighborSampler`. (default: :obj:`None`)
        drop_last (bool, optional): Drop the last, smaller batch. (default: :obj:`False`)
        seed (int, optional): Seed of the shuffling and sampling; epochs continue one random
            stream, so they differ but a run is reproducible. (default: :obj:`None`)
        backend (str, optional): ``"auto"``, ``"torch"`` or ``"pyg-lib"``: who samples, see
            :class:`NeighborSampler` (``"auto"`` uses pyg-lib only when it is importable, no
            ``relation_fanouts`` and no ``seed`` are given). (default: :obj:`"auto"`)

    Shapes:
        N nodes; each batch holds ``batch_size`` seeds and their sampled neighbourhoods.
    """

    def __init__(
        self,
        graph: Data,
        fanouts: Sequence[int],
        input_nodes: Tensor | None = None,
        batch_size: int = 1024,
        shuffle: bool = False,
        replace: bool = False,
        relation_fanouts: RelationFanouts | None = None,
        drop_last: bool = False,
        seed: int | None = None,
        backend: str = "auto",
    ) -> None:
        if not isinstance(graph, Data):
            raise TypeError(
                f"Expected 'graph' to be a MultimodalGraph or PyG Data (got "
                f"{type(graph).__name__!r})"
            )
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"Expected 'batch_size' to be a positive int (got {batch_size!r})")
        num_nodes = graph.num_nodes
        if num_nodes is None:
            raise ValueError("The graph has no nodes: set 'num_nodes' or give node fields")
        self.graph = graph
        self.input_nodes = _input_index(input_nodes, num_nodes)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = as_generator(seed, None)
        self.csr = CSRGraph.from_graph(graph, by="target")
        self.sampler = NeighborSampler(
            self.csr,
            fanouts,
            replace=replace,
            relation_fanouts=relation_fanouts,
            # Without a seed the sampler draws from its own generator, so that "auto" may
            # pick pyg-lib; with one it shares the loader's stream.
            generator=self.generator if seed is not None else None,
            backend=backend,
        )

    def __len__(self) -> int:
        n = self.input_nodes.numel()
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = self.input_nodes.numel()
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for i in range(len(self)):
            input_id = order[i * self.batch_size : (i + 1) * self.batch_size]
            sub = self.sampler.sample(self.input_nodes.index_select(0, input_id))
            batch = select_subgraph(self.graph, sub)
            batch.input_id = input_id
            yield batch

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(fanouts={self.sampler.fanouts}, "
            f"batch_size={self.batch_size}, num_input_nodes={self.input_nodes.numel()}, "
            f"shuffle={self.shuffle}, replace={self.sampler.replace}"
            + (", backend='pyg-lib')" if self.sampler.backend == "pyg-lib" else ")")
        )
