r"""Subgraph and whole-graph classification by pooling node embeddings of any GNN or encoder."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.nn import AGGREGATORS, GNNStack
from mmgraph.resolver import lookup
from mmgraph.sampling.csr import CSRGraph
from mmgraph.subgraph._checks import check_fraction, check_positive
from mmgraph.subgraph.batch import SubgraphBatch
from mmgraph.subgraph.glass import SubgraphClassifier, cached_csr, make_head, norm_rows
from mmgraph.subgraph.inputs import node_rows
from mmgraph.subgraph.neighborhood import khop_neighborhoods
from mmgraph.subgraph.pooling import SubgraphPool

POOL_AGGREGATORS: tuple[str, ...] = tuple(AGGREGATORS)
"""The built-in aggregators (kept for ``mmgraph.subgraph``'s export): :class:`PoolGNN` takes
any name of :data:`mmgraph.nn.AGGREGATORS`, one registered later included."""


class PoolGNN(SubgraphClassifier):
    r"""Node embeddings from an input and aggregator layers, pooled per subgraph, then an MLP.

    .. math::
        \mathbf{H}^{(0)} = \operatorname{input}(\mathcal{G}), \quad
        \mathbf{H}^{(k)} = \operatorname{drop}\big(\sigma\big(\operatorname{BN}\big(
        \operatorname{layer}_k(\mathbf{H}^{(k-1)})\big)\big)\big), \quad
        \mathbf{s}_S = \big\Vert_{k \in K} \operatorname{pool}_{v \in S}\,
        \mathbf{h}^{(k)}_v, \quad \hat{\mathbf{y}}_S = \operatorname{MLP}(\mathbf{s}_S)

    with :math:`\operatorname{layer}_k` the :math:`k`-th layer of a
    :class:`~mmgraph.nn.GNNStack`, a batch norm (optional), then the stack's activation and
    dropout (not after the last layer), and :math:`K = \{L\}`, or every layer
    :math:`\{0, \dots, L\}` with ``jk=True`` (jumping knowledge: each layer's pooled
    output, the input projected to ``hidden_channels`` for :math:`k = 0`, as GIN's graph
    readout does). The layers are
    mmgraph's aggregators (:class:`~mmgraph.nn.GNNStack`: ``mean``, ``gcn``, ``ggnn``,
    relation-aware) or ``gin`` (:class:`~mmgraph.nn.GINConv`, sum aggregation
    and an MLP, the one that can count, for molecules); with ``num_layers=0`` the model
    pools the node inputs themselves, e.g. frozen embeddings from any encoder
    (:class:`~mmgraph.subgraph.inputs.PrecomputedInput`) or a trained
    :class:`~mmgraph.models.MultimodalGNN` (:class:`~mmgraph.subgraph.inputs.EncoderInput`).

    No node is labelled, so every subgraph sees the same node embeddings: the layers run
    once per batch, over the whole base graph, or for whole graphs of a disjoint union
    (``batch.whole_graphs``) over just the batch's graphs. This is the classic "GNN plus
    readout" of whole-graph classification (MUTAG, PTC) and the node-level baseline of
    subgraph classification.

    Args:
        node_input (torch.nn.Module): Maps a batch to base-node features :math:`(N, F)`
            (see :mod:`mmgraph.subgraph.inputs`), with an ``out_channels`` attribute.
        hidden_channels (int): Size :math:`C` of the node embeddings.
        num_classes (int): Output classes; ``0`` for an encoder without head.
        num_layers (int, optional): Aggregator layers :math:`L` (``0``: none).
            (default: :obj:`2`)
        aggregator (str, optional): A name in :data:`mmgraph.nn.AGGREGATORS` (``"mean"``,
            ``"gcn"``, ``"ggnn"``, ``"gin"``, or one registered there). (default: ``"mean"``)
        pool (str, optional): Pooling, one of :data:`~mmgraph.subgraph.POOLINGS`.
            (default: ``"sum"``)
        jk (bool, optional): Pool every layer and concatenate. (default: :obj:`True`)
        dropout (float, optional): Dropout between layers and in the head. (default: :obj:`0.0`)
        num_relations (int, optional): Edge types with their own weights. (default: :obj:`1`)
        head_layers (int, optional): Layers of the MLP head (1: linear). (default: :obj:`2`)
        head_dropout (float, optional): Dropout on the subgraph embeddings before the head
            (GIN's readout dropout; ``dropout`` then can stay low, since dropping node
            features between sum layers blurs the counts they carry). (default: :obj:`0.0`)
        norm (bool, optional): Batch-normalise every layer's output before its activation
            and dropout, as GIN does (not for ``"ggnn"``, whose GRU keeps its state in
            range). (default: :obj:`True`)
        use_edge_weight (bool, optional): Pass ``edge_weight`` to the aggregators.
            (default: :obj:`True`)

    Shapes:
        - **input:** a :class:`~mmgraph.subgraph.SubgraphBatch` of S subgraphs
        - **output:** logits :math:`(S, \text{num\_classes})`; :meth:`encode`:
          :math:`(S, C)` (:math:`(S, (L + 1) C)` with ``jk``)
    """

    def __init__(
        self,
        node_input: nn.Module,
        hidden_channels: int,
        num_classes: int,
        num_layers: int = 2,
        aggregator: str = "mean",
        pool: str = "sum",
        jk: bool = True,
        dropout: float = 0.0,
        num_relations: int = 1,
        head_layers: int = 2,
        head_dropout: float = 0.0,
        norm: bool = True,
        use_edge_weight: bool = True,
        **layer_kwargs: Any,
    ) -> None:
        super().__init__(node_input)
        in_channels = self.in_channels
        self.hidden_channels = check_positive(hidden_channels, "hidden_channels")
        self.num_classes = check_positive(num_classes, "num_classes", minimum=0)
        self.num_layers = check_positive(num_layers, "num_layers", minimum=0)
        self.head_layers = check_positive(head_layers, "head_layers")
        self.dropout = check_fraction(dropout, "dropout")
        self.num_relations = check_positive(num_relations, "num_relations")
        self.jk = bool(jk) and num_layers > 0
        self.use_edge_weight = use_edge_weight
        lookup(AGGREGATORS, aggregator, "aggregator")  # an unknown name fails here
        self._aggregator = aggregator
        self.gnn: GNNStack | None = None
        if num_layers > 0:
            self.gnn = GNNStack(
                aggregator,
                in_channels,
                hidden_channels,
                num_layers,
                num_relations=num_relations,
                dropout=dropout,
                **layer_kwargs,
            )
        self.input_proj = nn.Linear(in_channels, hidden_channels) if self.jk else None
        self.norm = bool(norm) and self.gnn is not None and not self.gnn.recurrent
        self.norms = nn.ModuleList(
            nn.BatchNorm1d(hidden_channels) for _ in range(num_layers if self.norm else 0)
        )
        pooled = in_channels if num_layers == 0 else hidden_channels
        self.pool = SubgraphPool(pool, pooled)
        self.out_channels = pooled * (num_layers + 1 if self.jk else 1)
        self.head_dropout = check_fraction(head_dropout, "head_dropout")
        self.head = make_head(
            self.out_channels, hidden_channels, num_classes, head_layers, dropout, head_dropout
        )
        self._csr: tuple[Tensor, CSRGraph] | None = None
        self.reset_parameters()

    @property
    def aggregator(self) -> str | None:
        """The aggregator's name (:obj:`None` without layers)."""
        return None if self.gnn is None else self._aggregator

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        modules = [
            self.node_input,
            self.pool,
            self.gnn,
            self.input_proj,
            *self.norms,
            *(self.head or []),
        ]
        for module in modules:
            reset = getattr(module, "reset_parameters", None)
            if module is not None and callable(reset):
                reset()

    def encode(self, batch: SubgraphBatch) -> Tensor:
        """Subgraph embeddings ``[S, out_channels]``."""
        s = int(batch.subgraph_id.numel())
        if self.gnn is None:
            x = node_rows(self.node_input, batch, batch.subgraph_nodes)
            return self.pool(x, batch.subgraph_index.to(x.device), s)
        if getattr(batch, "whole_graphs", False):
            # Whole graphs of a disjoint union: only the batch's graphs matter, and only
            # their nodes are encoded.
            hood = khop_neighborhoods(
                cached_csr(self, batch),
                batch.subgraph_nodes,
                torch.zeros_like(batch.subgraph_nodes),
                0,
                edges="induced",
            )
            h = node_rows(self.node_input, batch, hood.n_id)
            device = h.device
            e_id = hood.e_id.to(device)
            edge_index = hood.edge_index.to(device)
            # hood.n_id is sorted by node
            rows = torch.searchsorted(hood.n_id.to(device), batch.subgraph_nodes.to(device))
        else:
            h = self.node_input(batch)
            device = h.device
            e_id = None
            edge_index = batch.edge_index.to(device)
            rows = batch.subgraph_nodes.to(device)
        index = batch.subgraph_index.to(device)
        edge_type = getattr(batch, "edge_type", None) if self.num_relations > 1 else None
        edge_weight = getattr(batch, "edge_weight", None) if self.use_edge_weight else None
        if e_id is not None:
            edge_type = None if edge_type is None else edge_type.index_select(0, e_id)
            edge_weight = None if edge_weight is None else edge_weight.index_select(0, e_id)
        pooled = []
        if self.input_proj is not None:
            pooled.append(self.pool(self.input_proj(h).index_select(0, rows), index, s))
        gnn = self.gnn
        for i in range(self.num_layers):
            if self.norm:
                # Normalise before the activation and dropout (dropout before a batch norm
                # shifts its statistics between training and evaluation).
                h = norm_rows(self.norms[i], gnn.convs[i](h, edge_index, edge_type, edge_weight))
                if i < self.num_layers - 1:
                    h = F.dropout(gnn.act(h), p=self.dropout, training=self.training)
            else:
                h = gnn.forward_layer(i, h, edge_index, edge_type, edge_weight)
            if self.jk or i == self.num_layers - 1:
                pooled.append(self.pool(h.index_select(0, rows), index, s))
        return torch.cat(pooled, dim=-1)
