"""Layer-wise full-graph inference: exact embeddings of every node, in bounded memory."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data
from tqdm.auto import tqdm

from mmgraph.nn.functional import dense
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


class _Neighbourhoods:
    """Every node's in-neighbourhood, for running layers chunk by chunk of target nodes.

    Holds the graph's edges by target (CSR) and the edge types and weights the model reads.
    """

    def __init__(self, model: Any, graph: Data) -> None:
        n = int(graph.num_nodes)
        self.num_nodes = n
        self.edge_index = graph.edge_index
        self.edge_type, self.edge_weight = model.edge_inputs(graph)
        self.csr = CSRGraph.from_edge_index(graph.edge_index, n, by="target")
        self.position = torch.full((n,), -1, dtype=torch.long)
        self.degrees: dict[type, Tensor] = {}

    def apply(
        self,
        layer: Callable[..., Tensor],
        h: Tensor,
        batch_size: int,
        desc: str,
        progress: bool,
        deg: Tensor | None = None,
    ) -> Tensor:
        """``layer(h, edge_index, edge_type, edge_weight[, deg=...])`` of every node, exactly.

        Each chunk of ``batch_size`` target nodes runs on the subgraph of its targets and all
        their in-neighbours; ``deg`` (the whole graph's degrees, for a layer that reads them)
        is passed on for the chunk's rows.
        """
        csr, position = self.csr, self.position
        out = []
        for targets in tqdm(
            chunks(self.num_nodes, batch_size), desc=desc, disable=not progress, leave=False
        ):
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
            y = layer(
                h[local],
                local_edges,
                None if self.edge_type is None else self.edge_type[ids],
                None if self.edge_weight is None else self.edge_weight[ids],
                **kwargs,
            )
            out.append(y[: targets.numel()])
            position[local] = -1
        return torch.cat(out) if out else h.new_empty(0, 0)

    def degree(self, conv: Any, dtype: torch.dtype) -> Tensor | None:
        """The whole graph's degrees ``[N]`` that ``conv`` reads, else :obj:`None`.

        Read from the layer's ``needs_degree`` flag, computed by its ``degree`` once per
        kind of layer (the GCN layers and a GCN head share them).
        """
        if not getattr(conv, "needs_degree", False):
            return None
        key = type(conv)
        if key not in self.degrees:
            self.degrees[key] = conv.degree(
                self.edge_index, self.edge_weight, self.num_nodes, dtype
            )
        return self.degrees[key]


def _layerwise(model: Any, graph: Data, batch_size: int, progress: bool, logits: bool) -> Tensor:
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"Expected 'batch_size' to be a positive int (got {batch_size!r})")
    was_training = model.training
    model.eval()
    n = int(graph.num_nodes)
    parts = []
    for index in tqdm(chunks(n, batch_size), desc="encode", disable=not progress, leave=False):
        parts.append(dense(model.fuse(select_nodes(graph, index))))
    h = torch.cat(parts) if parts else torch.empty(0)
    gnn = model.gnn
    conv_head = logits and model.config.head == "conv"
    neighbourhoods = None
    passes_messages = getattr(gnn, "passes_messages", False)  # a GNNStack, not NodeLinear
    if passes_messages or conv_head:
        neighbourhoods = _Neighbourhoods(model, graph)
    if passes_messages:
        assert neighbourhoods is not None  # built just above
        deg = neighbourhoods.degree(gnn.convs[0], h.dtype)
        for i in range(gnn.num_layers):
            layer = functools.partial(gnn.forward_layer, i)
            desc = f"layer {i + 1}/{gnn.num_layers}"
            h = neighbourhoods.apply(layer, h, batch_size, desc, progress, deg)
    else:
        h = gnn(h)
    if conv_head and model.head is not None:
        assert neighbourhoods is not None  # built above
        deg = neighbourhoods.degree(model.head, h.dtype)
        h = neighbourhoods.apply(model.head, torch.relu(h), batch_size, "head", progress, deg)
    elif logits:
        h = model.classify(h)  # a linear head, or the error of a model without one
    model.train(was_training)
    return h


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
    with the degrees that layers read (``needs_degree``: GCN's normalisation) taken from the
    whole graph (so GCN is exact too). Memory is bounded by one layer's features of all nodes
    plus one chunk's neighbourhood, whatever the number of edges. The result equals
    ``model.encode(graph)`` in eval mode.
    """
    return _layerwise(model, graph, batch_size, progress, logits=False)


@torch.no_grad()
def layerwise_logits(
    model: Any,
    graph: Data,
    batch_size: int = 4096,
    progress: bool = False,
) -> Tensor:
    """Logits of a :class:`~mmgraph.models.MultimodalGNN` over the whole graph.

    The embeddings of :func:`layerwise_embeddings`, then the head: a linear head node by
    node, a conv head (``head="conv"``) as one more layer run chunk by chunk like the
    others, so the result equals ``model(graph)`` in eval mode.
    """
    return _layerwise(model, graph, batch_size, progress, logits=True)
