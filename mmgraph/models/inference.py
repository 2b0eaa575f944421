"""Layer-wise full-graph inference: exact embeddings of every node, in bounded memory."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data
from tqdm.auto import tqdm

from mmgraph.nn import GNNStack, gcn_degree
from mmgraph.nn.gcn_conv import GCNConv
from mmgraph.sampling import CSRGraph


def select_nodes(graph: Data, index: Tensor) -> Data:
    """The node-level fields of ``graph`` for the nodes ``index`` (no edges).

    Tensors are selected with ``index_select``, per-node lists by comprehension; graph-level
    fields are shared. Used to run per-node encoders over a large graph chunk by chunk.
    """
    out = graph.__class__()
    positions: list[int] | None = None
    for key, value in graph:
        if key in ("edge_index", "num_nodes") or graph.is_edge_attr(key):
            continue
        if graph.is_node_attr(key):
            if isinstance(value, Tensor):
                out[key] = value.index_select(0, index)
            else:
                positions = index.tolist() if positions is None else positions
                out[key] = [value[i] for i in positions]
        else:
            out[key] = value
    out.edge_index = torch.empty(2, 0, dtype=torch.long)
    out.num_nodes = index.numel()
    return out


def chunks(num: int, size: int) -> list[Tensor]:
    """``arange(num)`` cut into consecutive pieces of at most ``size``."""
    return list(torch.arange(num).split(size))


@torch.no_grad()
def layerwise_embeddings(
    model: Any,
    graph: Data,
    batch_size: int = 4096,
    progress: bool = False,
) -> Tensor:
    """Node embeddings of a :class:`~mmgraph.models.MultimodalGNN` over the whole graph.

    First the modality encoders and the fusion run on chunks of ``batch_size`` nodes; then
    each aggregator layer runs over every node, chunk by chunk of target nodes, each chunk on
    the subgraph of its targets and *all* their in-neighbours (so means and sums are exact),
    with GCN's normalisation degrees taken from the whole graph (so GCN is exact too). Memory
    is bounded by one layer's features of all nodes plus one chunk's neighbourhood, whatever
    the number of edges. The result equals ``model.encode(graph)`` in eval mode.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"Expected 'batch_size' to be a positive int (got {batch_size!r})")
    was_training = model.training
    model.eval()
    n = int(graph.num_nodes)
    parts = []
    for index in tqdm(chunks(n, batch_size), desc="encode", disable=not progress, leave=False):
        parts.append(model.fuse(select_nodes(graph, index)))
    h = torch.cat(parts) if parts else torch.empty(0)
    gnn = model.gnn
    if not isinstance(gnn, GNNStack):
        model.train(was_training)
        return gnn(h)
    cfg = model.config
    edge_index = graph.edge_index
    edge_type = getattr(graph, "edge_type", None) if cfg.num_relations > 1 else None
    edge_weight = getattr(graph, "edge_weight", None) if cfg.use_edge_weight else None
    csr = CSRGraph.from_edge_index(edge_index, n, by="target")
    deg = None
    if any(isinstance(conv, GCNConv) for conv in gnn.convs):
        deg = gcn_degree(edge_index, edge_weight, n, dtype=h.dtype)
    position = torch.full((n,), -1, dtype=torch.long)
    for i in range(gnn.num_layers):
        out = []
        desc = f"layer {i + 1}/{gnn.num_layers}"
        for targets in tqdm(chunks(n, batch_size), desc=desc, disable=not progress, leave=False):
            lo, hi = int(csr.rowptr[targets[0]]), int(csr.rowptr[targets[-1] + 1])
            src = csr.col[lo:hi]
            dst = torch.repeat_interleave(targets, csr.rowptr[targets + 1] - csr.rowptr[targets])
            ids = csr.e_id[lo:hi]
            position[targets] = torch.arange(targets.numel())
            others = src[position[src] < 0].unique()
            position[others] = torch.arange(targets.numel(), targets.numel() + others.numel())
            local = torch.cat([targets, others])
            local_edges = torch.stack([position[src], position[dst]])
            kwargs = {"deg": deg[local]} if deg is not None else {}
            y = gnn.forward_layer(
                i,
                h[local],
                local_edges,
                None if edge_type is None else edge_type[ids],
                None if edge_weight is None else edge_weight[ids],
                **kwargs,
            )
            out.append(y[: targets.numel()])
            position[local] = -1
        h = torch.cat(out)
    model.train(was_training)
    return h
