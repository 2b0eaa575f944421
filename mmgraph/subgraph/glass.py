r"""A labelling-trick subgraph GNN in the spirit of GLASS (Wang & Zhang, ICLR 2022).

The nodes of the subgraph carry a label :math:`z_v = 1` (0 for the others), and every
layer transforms inside and outside nodes with different weights, so that message passing
knows what belongs to the subgraph: a density, a boundary, a component count become
countable. The node embeddings of the subgraph's nodes are then pooled.

GLASS labels the union of a mini-batch's subgraphs and runs over the whole base graph.
Here each subgraph is labelled on its own (the exact labelling trick): a batch is the
disjoint union of the subgraphs' :math:`L`-hop neighbourhoods
(:func:`~mmgraph.subgraph.neighborhood.khop_neighborhoods`), so a subgraph's prediction
never depends on which other subgraphs share its batch, and the work is proportional to
the neighbourhoods, not to the base graph.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph import names
from mmgraph.nn import ACTIVATIONS
from mmgraph.nn.functional import dropout
from mmgraph.resolver import resolve
from mmgraph.sampling.csr import CSRGraph, expand_rows
from mmgraph.subgraph._checks import check_fraction, check_positive
from mmgraph.subgraph._sparse import AGGREGATIONS, Adjacency, is_sorted
from mmgraph.subgraph.batch import SubgraphBatch
from mmgraph.subgraph.inputs import ConstantInput
from mmgraph.subgraph.neighborhood import NeighborhoodCache, Neighborhoods, khop_neighborhoods
from mmgraph.subgraph.pooling import SubgraphPool

GLASS_AGGREGATORS: tuple[str, ...] = AGGREGATIONS
"""GLASS's neighbour aggregations, ``"sum"``, ``"mean"`` and ``"gcn"``: its own sparse
products, not the layers of :data:`mmgraph.nn.AGGREGATORS`."""

SUBGRAPH_NORMS: tuple[str, ...] = names.SUBGRAPH_NORMS
"""The ``norm`` options of ``mmgraph subgraph train``: batch norms in the layers of
:class:`GLASS` and :class:`~mmgraph.subgraph.PoolGNN` (``norm=True``) normalising with
batch statistics throughout training, or with them for the first quarter of the epochs and
then with their running statistics, frozen (``TrainConfig.freeze_norm_epoch``); or no
norms."""


def _stable_order(key: Tensor, num_keys: int) -> Tensor:
    """The stable sorting permutation of ``key``, small integers in ``[0, num_keys)``.

    One pass per value instead of a general sort.
    """
    order = torch.cat([(key == k).nonzero().view(-1) for k in range(num_keys)])
    if order.numel() != key.numel():  # a key out of range: a general sort
        return torch.argsort(key, stable=True)
    return order


class _Layout(NamedTuple):
    prefix: list[int]  # rows within k hops: the first prefix[k]
    n_id: Tensor
    group: Tensor
    edge_index: Tensor  # sorted by target row
    e_id: Tensor


def _layout(hood: Neighborhoods, num_layers: int) -> _Layout:
    """The rows of ``hood`` in hop-major order, its edges renumbered and sorted by target.

    The rows within k hops of the seeds are a prefix: layer i only computes the rows within
    L - 1 - i hops, the ones used later.
    """
    order = _stable_order(hood.hop, num_layers + 1)
    position = torch.empty_like(order)
    position[order] = torch.arange(order.numel())
    prefix = torch.cumsum(torch.bincount(hood.hop, minlength=num_layers + 1), 0).tolist()
    edge_index = position[hood.edge_index]
    if is_sorted(hood.edge_index[1]):
        # Sorted by target row (as extracted): the order by target hop keeps each hop's
        # edges sorted by their new positions, which rise with the row within a hop.
        by_target = _stable_order(hood.hop.index_select(0, hood.edge_index[1]), num_layers + 1)
    else:
        by_target = torch.argsort(edge_index[1], stable=True)
    return _Layout(
        prefix, hood.n_id[order], hood.group[order], edge_index[:, by_target], hood.e_id[by_target]
    )


class _Caches(dict[Any, Any]):
    """What a model keeps between batches; copies and pickles are empty.

    Its neighbourhood caches by (hops, edges), and the base graph's adjacency.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> _Caches:
        return _Caches()

    def __reduce__(self) -> tuple[type, tuple[()]]:
        return (_Caches, ())


class _Unlabelled(NamedTuple):
    layers: list[tuple[Tensor, Tensor, Tensor]]  # per layer: input, messages, aggregate
    weight: Tensor  # each base edge's coefficient in the aggregation


def norm_rows(norm: nn.Module | None, x: Tensor) -> Tensor:
    """Apply ``norm``; a batch norm in training normalises a lone row with running statistics."""
    if norm is None:
        return x
    if isinstance(norm, nn.BatchNorm1d) and norm.training and x.size(0) < 2:
        return F.batch_norm(
            x, norm.running_mean, norm.running_var, norm.weight, norm.bias, False, 0.0, norm.eps
        )
    return norm(x)


def _mix(inside: Tensor, a: Tensor, b: Tensor, ratio: float) -> Tensor:
    """``ratio * a + (1 - ratio) * b`` inside the subgraph, the reverse outside."""
    share = torch.where(inside, ratio, 1.0 - ratio).to(a.dtype).unsqueeze(-1)
    return torch.lerp(b, a, share)


def _mix_of(
    inside: Tensor, f: Callable[[Tensor], Tensor], g: Callable[[Tensor], Tensor], x: Tensor,
    ratio: float,
) -> Tensor:  # fmt: skip
    """``_mix(inside, f(x), g(x), ratio)``; with ``ratio`` 1, each row through one of them.

    Inside rows then take ``f`` alone and outside rows ``g`` alone: half the work of both
    on every row.
    """
    if ratio != 1.0:
        return _mix(inside, f(x), g(x), ratio)
    rows_in = inside.nonzero().view(-1)
    if rows_in.numel() == inside.numel():
        return f(x)
    if rows_in.numel() == 0:
        return g(x)
    rows_out = (~inside).nonzero().view(-1)
    out_in, out_out = f(x.index_select(0, rows_in)), g(x.index_select(0, rows_out))
    out = out_out.new_zeros(x.size(0), out_out.size(1))
    return out.index_copy(0, torch.cat([rows_in, rows_out]), torch.cat([out_in, out_out]))


class GLASSConv(nn.Module):
    r"""The labelled message passing layer of GLASS.

    From `"GLASS: GNN with Labeling Tricks for Subgraph Representation Learning"
    <https://openreview.net/forum?id=XLxhEjKNbXj>`_ (Wang & Zhang, ICLR 2022).

    With :math:`z_v \in \{0, 1\}` the node's label and the mixing
    :math:`\operatorname{mix}_z(\mathbf{a}, \mathbf{b}) = r\,\mathbf{a} + (1 - r)\,\mathbf{b}`
    for :math:`z = 1` and :math:`r\,\mathbf{b} + (1 - r)\,\mathbf{a}` for :math:`z = 0`
    (``z_ratio`` :math:`r \in [0.5, 1]`):

    .. math::
        \mathbf{t}_u &= \operatorname{mix}_{z_u}\big(\sigma(\mathbf{W}_1 \mathbf{x}_u),
            \sigma(\mathbf{W}_0 \mathbf{x}_u)\big) \\
        \mathbf{m}_v &= \operatorname{drop}\Big(\operatorname{BN}\Big(
            \sum_{u \in \mathcal{N}(v)} a_{vu}\, \mathbf{t}_u\Big)\Big) \\
        \mathbf{x}'_v &= \operatorname{mix}_{z_v}\big(\mathbf{U}_1 [\mathbf{m}_v \,\|\,
            \mathbf{x}_v] + \mathbf{c}_1,\; \mathbf{U}_0 [\mathbf{m}_v \,\|\, \mathbf{x}_v]
            + \mathbf{c}_0\big)

    with :math:`a_{vu}` the ``aggregator`` coefficients (see
    :class:`~mmgraph.subgraph._sparse.Adjacency`), :math:`\mathbf{W}` with biases, and a
    batch norm over the rows whose messages are used. GLASS normalises with GraphNorm over
    the whole base graph, where one subgraph's nodes hardly move the statistics: a batch
    norm (with running statistics at evaluation) is the same global standardisation, and
    keeps a subgraph's prediction independent of its batch. With :math:`r = 1` inside and
    outside nodes use fully separate weights; with :math:`r = 0.5` the label is ignored.

    Args:
        in_channels (int): Size :math:`F` of the input features.
        out_channels (int): Size :math:`C` of the output features.
        aggregator (str, optional): ``"sum"``, ``"mean"`` or ``"gcn"``. (default: ``"sum"``)
        z_ratio (float, optional): The mixing ratio :math:`r`. (default: :obj:`0.8`)
        dropout (float, optional): Dropout on the aggregated messages. (default: :obj:`0.0`)
        act (str, optional): The activation :math:`\sigma`, a name in
            :data:`mmgraph.nn.ACTIVATIONS`. (default: ``"elu"``)
        norm (bool, optional): Batch-normalise the messages. (default: :obj:`True`)
        split (bool, optional): Aggregate the messages of inside and outside neighbours
            apart, :math:`\mathbf{m}_v = [\sum_{u \in \mathcal{N}(v), z_u = 1} a_{vu}
            \mathbf{t}_u \,\|\, \sum_{u \in \mathcal{N}(v), z_u = 0} a_{vu}
            \mathbf{t}_u]` (:math:`2C` channels): counts inside the subgraph stay apart from
            the often far larger counts outside it, where GLASS adds them up and the weights
            must cancel the outside ones to read the inside ones. (default: :obj:`False`)

    Shapes:
        - **input:** features :math:`(R, F)` of the source rows, the
          :class:`~mmgraph.subgraph._sparse.Adjacency` from them to the :math:`T \le R`
          target rows (the first :math:`T` source rows), labels :math:`(R)` (bool);
          optionally ``n_id`` :math:`(R)`, and then features :math:`(N, F)` of base nodes,
          row :math:`r` being node ``n_id[r]`` (the first layer: rows are copies of base
          nodes, so the transforms run once per distinct node instead of once per row)
        - **output:** :math:`(T, C)`, the target rows
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        aggregator: str = "sum",
        z_ratio: float = 0.8,
        dropout: float = 0.0,
        act: str = "elu",
        norm: bool = True,
        split: bool = False,
    ) -> None:
        super().__init__()
        if aggregator not in AGGREGATIONS:
            raise ValueError(
                f"Unknown aggregation {aggregator!r}; expected one of {list(AGGREGATIONS)}"
            )
        self.act = resolve(ACTIVATIONS, act, what="activation")
        z_ratio = check_fraction(z_ratio, "z_ratio", closed=True)
        if z_ratio < 0.5:
            raise ValueError(f"Expected 'z_ratio' in [0.5, 1] (got {z_ratio})")
        self.in_channels = check_positive(in_channels, "in_channels")
        self.out_channels = check_positive(out_channels, "out_channels")
        self.aggregator = aggregator
        self.z_ratio = z_ratio
        self.dropout = check_fraction(dropout, "dropout")
        self.act_name = act
        self.split = bool(split)
        messages = out_channels * (2 if self.split else 1)
        self.trans = nn.ModuleList([nn.Linear(in_channels, out_channels) for _ in range(2)])
        self.comb = nn.ModuleList(
            [nn.Linear(in_channels + messages, out_channels) for _ in range(2)]
        )
        self.norm = nn.BatchNorm1d(messages) if norm else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the four linear maps and the norm."""
        for lin in [*self.trans, *self.comb]:
            lin.reset_parameters()
        if self.norm is not None:
            self.norm.reset_parameters()

    def forward(
        self, x: Tensor, adj: Adjacency, inside: Tensor, n_id: Tensor | None = None
    ) -> Tensor:
        """Apply the layer; ``adj`` maps the rows of ``x`` to the first ``adj.shape[0]``.

        With ``n_id``, ``x`` holds base-node features and the rows are ``x[n_id]``.
        """
        targets = adj.shape[0]
        if n_id is None:
            t = self.messages(x, inside)
            own = x[:targets]
        else:
            # Both mixes once per distinct node, then one gather: [outside; inside] by row.
            nodes, row_node = torch.unique(n_id, return_inverse=True)
            base = x.index_select(0, nodes)
            t1, t0 = self.act(self.trans[1](base)), self.act(self.trans[0](base))
            both = torch.cat([torch.lerp(t1, t0, self.z_ratio), torch.lerp(t0, t1, self.z_ratio)])
            t = self._split(both.index_select(0, row_node + inside.long() * nodes.numel()), inside)
            own = base.index_select(0, row_node[:targets])
        return self.combine(adj @ t, own, inside[:targets])

    def messages(self, x: Tensor, inside: Tensor) -> Tensor:
        """The message of each row of ``x`` (labels ``inside``), before aggregation."""
        act, trans = self.act, self.trans
        t = _mix_of(inside, lambda r: act(trans[1](r)), lambda r: act(trans[0](r)), x, self.z_ratio)
        return self._split(t, inside)

    def outside_messages(self, x: Tensor) -> Tensor:
        r""":meth:`messages` of rows all outside the subgraph.

        With ``z_ratio`` 1 an outside row's message is :math:`\sigma(\mathbf{W}_0
        \mathbf{x})` alone: the other transform is not computed.
        """
        t0 = self.act(self.trans[0](x))
        if self.z_ratio != 1.0:
            t0 = torch.lerp(t0, self.act(self.trans[1](x)), 1.0 - self.z_ratio)
        return self._split(t0, torch.zeros(x.size(0), dtype=torch.bool, device=x.device))

    def _split(self, t: Tensor, inside: Tensor) -> Tensor:
        if not self.split:
            return t
        keep = inside.to(t.dtype).unsqueeze(-1)  # [inside messages | outside messages]
        return torch.cat([t * keep, t * (1.0 - keep)], dim=-1)

    def combine(self, aggregated: Tensor, own: Tensor, inside: Tensor) -> Tensor:
        """The output of target rows.

        From their aggregated messages (``adj @ messages``), own features and labels.
        """
        m = norm_rows(self.norm, aggregated)
        m = dropout(m, p=self.dropout, training=self.training)
        h = torch.cat([m, own], dim=-1)
        return _mix_of(inside, self.comb[1], self.comb[0], h, self.z_ratio)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
            f"aggregator={self.aggregator!r}, "
            f"z_ratio={self.z_ratio:g}{', split=True' if self.split else ''})"
        )


class SubgraphClassifier(nn.Module):
    """What :class:`GLASS` and :class:`~mmgraph.subgraph.PoolGNN` share.

    A ``node_input`` module (base-node features, with an int ``out_channels``), an
    ``encode(batch)`` giving subgraph embeddings, and an MLP ``head`` (:obj:`None` without
    classes) that :meth:`forward` applies to them.

    Args:
        node_input (torch.nn.Module): Maps a batch to base-node features :math:`(N, F)`.
    """

    head: nn.Sequential | None

    def __init__(self, node_input: nn.Module) -> None:
        super().__init__()
        in_channels = getattr(node_input, "out_channels", None)
        if not isinstance(in_channels, int):
            raise TypeError(
                f"Expected 'node_input' to have an int 'out_channels' (got {in_channels!r})"
            )
        self.node_input = node_input
        self.in_channels = in_channels

    def encode(self, batch: SubgraphBatch) -> Tensor:
        """Subgraph embeddings ``[S, out_channels]`` (subclasses implement it)."""
        raise NotImplementedError

    def forward(self, batch: SubgraphBatch) -> Tensor:
        """Logits ``[S, num_classes]``, one row per subgraph of the batch."""
        if self.head is None:
            raise RuntimeError("This model has no head (num_classes=0): use `encode`")
        return self.head(self.encode(batch))

    def extra_repr_args(self) -> list[str]:
        """Options shown by ``repr`` after the pooling."""
        return []

    def __repr__(self) -> str:
        args = [
            repr(self.node_input),
            f"hidden_channels={self.hidden_channels}",
            f"num_layers={self.num_layers}",
            f"aggregator={self.aggregator!r}",
            f"pool={self.pool.mode!r}",
            *self.extra_repr_args(),
            f"jk={self.jk}",
            f"num_classes={self.num_classes}",
        ]
        return f"{type(self).__name__}({', '.join(args)})"


class GLASS(SubgraphClassifier):
    r"""Subgraph classification with labelled message passing and pooling (GLASS).

    `"GLASS: GNN with Labeling Tricks for Subgraph Representation Learning"
    <https://openreview.net/forum?id=XLxhEjKNbXj>`_ (Wang & Zhang, ICLR 2022):

    .. math::
        \mathbf{H}^{(0)} = \operatorname{input}(\mathcal{G}), \quad
        \mathbf{H}^{(k)} = \operatorname{drop}\big(\sigma\big(\operatorname{BN}
        \big(\operatorname{GLASSConv}_k(\mathbf{H}^{(k-1)}, \mathbf{z})\big)\big)\big), \quad
        \mathbf{s}_S = \operatorname{pool}_{v \in S}\, \mathbf{h}^{(L)}_v, \quad
        \hat{\mathbf{y}}_S = \operatorname{MLP}(\mathbf{s}_S)

    (no activation or dropout after the last layer, only its norm; ``norm=False`` drops both
    batch norms, the layer's and the conv's; with ``jk=True`` the
    pooled outputs of all layers are concatenated). Each subgraph :math:`S` of a batch is
    labelled on its own, :math:`z_v = [v \in S]`, on its :math:`L`-hop neighbourhood
    (see the module docstring); batches of many subgraphs are processed ``chunk_size``
    subgraphs at a time.

    :meth:`encode` returns the subgraph embeddings :math:`\mathbf{s}_S`, :meth:`forward`
    the logits, one row per subgraph of the :class:`~mmgraph.subgraph.SubgraphBatch`, so
    the model trains with :class:`~mmgraph.train.Trainer` and
    :class:`~mmgraph.objectives.SupervisedObjective`.

    Args:
        node_input (torch.nn.Module): Maps a batch to base-node features :math:`(N, F)`
            (see :mod:`mmgraph.subgraph.inputs`), with an ``out_channels`` attribute.
        hidden_channels (int): Size :math:`C` of the node embeddings.
        num_classes (int): Output classes; ``0`` for an encoder without head.
        num_layers (int, optional): Number :math:`L` of GLASS layers. (default: :obj:`2`)
        aggregator (str, optional): Neighbour aggregation, ``"sum"``, ``"mean"`` or
            ``"gcn"`` (:data:`~mmgraph.subgraph._sparse.AGGREGATIONS`). (default: ``"sum"``)
        pool (str, optional): Pooling, one of :data:`~mmgraph.subgraph.POOLINGS`.
            (default: ``"mean"``)
        z_ratio (float, optional): Mixing ratio of the inside/outside weights.
            (default: :obj:`0.8`)
        dropout (float, optional): Dropout between layers and in the head. (default: :obj:`0.0`)
        act (str, optional): Activation, a name in :data:`mmgraph.nn.ACTIVATIONS`.
            (default: ``"elu"``)
        jk (bool, optional): Concatenate the pooled outputs of all layers. (default: :obj:`False`)
        head_layers (int, optional): Layers of the MLP head (1: linear). (default: :obj:`1`)
        head_dropout (float, optional): Dropout on the subgraph embeddings before the head.
            (default: :obj:`0.0`)
        use_edge_weight (bool, optional): Weight messages by ``edge_weight``.
            (default: :obj:`True`)
        norm (bool, optional): Batch-normalise the messages and every layer's output;
            :obj:`False` uses neither norm. (default: :obj:`True`)
        split_messages (bool, optional): Aggregate inside and outside neighbours apart
            (:class:`GLASSConv`'s ``split``). (default: :obj:`False`)
        chunk_size (int, optional): Subgraphs per neighbourhood extraction. (default: :obj:`64`)

    Shapes:
        - **input:** a :class:`~mmgraph.subgraph.SubgraphBatch` of S subgraphs
        - **output:** logits :math:`(S, \text{num\_classes})`; :meth:`encode`:
          :math:`(S, C)` (:math:`(S, L C)` with ``jk``)
    """

    def __init__(
        self,
        node_input: nn.Module,
        hidden_channels: int,
        num_classes: int,
        num_layers: int = 2,
        aggregator: str = "sum",
        pool: str = "mean",
        z_ratio: float = 0.8,
        dropout: float = 0.0,
        act: str = "elu",
        jk: bool = False,
        head_layers: int = 1,
        head_dropout: float = 0.0,
        use_edge_weight: bool = True,
        norm: bool = True,
        split_messages: bool = False,
        chunk_size: int = 64,
    ) -> None:
        super().__init__(node_input)
        in_channels = self.in_channels
        self.hidden_channels = check_positive(hidden_channels, "hidden_channels")
        self.num_classes = check_positive(num_classes, "num_classes", minimum=0)
        self.num_layers = check_positive(num_layers, "num_layers")
        self.head_layers = check_positive(head_layers, "head_layers")
        self.chunk_size = check_positive(chunk_size, "chunk_size")
        self.dropout = check_fraction(dropout, "dropout")
        self.jk = bool(jk)
        self.use_edge_weight = use_edge_weight
        self.convs = nn.ModuleList(
            GLASSConv(
                in_channels if i == 0 else hidden_channels,
                hidden_channels,
                aggregator=aggregator,
                z_ratio=z_ratio,
                dropout=dropout,
                act=act,
                norm=norm,
                split=split_messages,
            )
            for i in range(num_layers)
        )
        self.norm = bool(norm)
        self.norms = nn.ModuleList(
            nn.BatchNorm1d(hidden_channels) for _ in range(num_layers if self.norm else 0)
        )
        self.act = resolve(ACTIVATIONS, act, what="activation")
        self.pool = SubgraphPool(pool, hidden_channels)
        self.out_channels = hidden_channels * (num_layers if jk else 1)
        self.head_dropout = check_fraction(head_dropout, "head_dropout")
        self.head = make_head(
            self.out_channels, hidden_channels, num_classes, head_layers, dropout, head_dropout
        )
        self._csr: tuple[Tensor, CSRGraph] | None = None
        self._degree: tuple[Tensor, Tensor] | None = None
        self._caches = _Caches()
        self.reset_parameters()

    @property
    def aggregator(self) -> str:
        """The neighbour aggregation."""
        return self.convs[0].aggregator  # type: ignore[return-value]

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        for module in [self.node_input, *self.convs, *self.norms, self.pool]:
            module.reset_parameters()
        if self.head is not None:
            for layer in self.head:
                if isinstance(layer, nn.Linear):
                    layer.reset_parameters()

    # ------------------------------------------------------------------ forward
    def encode(self, batch: SubgraphBatch) -> Tensor:
        """Subgraph embeddings ``[S, out_channels]``."""
        x = self.node_input(batch)
        s = int(batch.subgraph_id.numel())
        cache = getattr(batch, "neighborhoods", None)
        if not isinstance(cache, NeighborhoodCache):
            cache = None
        exact = self._unlabelled_exact()
        one_layer = self._seeds_exact()
        embed_seeds = self._embed_constant if self._constant_exact() else self._embed_seeds
        out = []
        unlabelled: _Unlabelled | None = None
        for lo in range(0, s, self.chunk_size):
            hi = min(lo + self.chunk_size, s)
            if one_layer:
                seeds = self._hood(batch, cache, lo, hi, 0, "induced")
                out.append(embed_seeds(x, seeds, hi - lo, batch))
                continue
            if exact:
                edges = "seeds" if self.num_layers == 2 else "induced"  # all two layers read
                near = self._hood(batch, cache, lo, hi, self.num_layers // 2, edges)
                if unlabelled is not None or self._unlabelled_pays(near, batch):
                    if unlabelled is None:
                        unlabelled = self._unlabelled(x, batch)
                    out.append(self._embed_delta(near, hi - lo, unlabelled))
                    continue
            hood = self._hood(batch, cache, lo, hi, self.num_layers, "receptive")
            out.append(self._embed(x, hood, hi - lo, batch))
        return torch.cat(out) if out else x.new_zeros(0, self.out_channels)

    def _hood(
        self,
        batch: SubgraphBatch,
        cache: NeighborhoodCache | None,
        lo: int,
        hi: int,
        hops: int,
        edges: str,
    ) -> Neighborhoods:
        """The neighbourhoods of the batch's subgraphs ``lo:hi``.

        From the batch's cache when it fits, else from one this model keeps for that data set.
        """
        if cache is not None and (cache.hops, cache.edges) != (hops, edges):
            kept = self._caches.get((hops, edges))
            if kept is None or kept.dataset is not cache.dataset:
                kept = NeighborhoodCache(cache.dataset, hops, edges)
                self._caches[(hops, edges)] = kept
            cache = kept
        if cache is not None:
            return cache.get(batch.subgraph_id[lo:hi])
        keep = (batch.subgraph_index >= lo) & (batch.subgraph_index < hi)
        return khop_neighborhoods(
            cached_csr(self, batch),
            batch.subgraph_nodes[keep],
            batch.subgraph_index[keep] - lo,
            hops,
            edges,
        )

    def _unlabelled_exact(self) -> bool:
        """Whether :meth:`_embed_delta` gives this model's outputs (two layers or more).

        Always for two layers: the unlabelled pass is then the first layer's messages and
        their aggregate alone, and every row the receptive fields normalise (those within
        a hop of the seeds) is computed, so batch statistics are taken over the same rows,
        and dropout falls on the same rows (the input per base node, as there). From three
        layers, exact when nothing depends on which rows share a batch: no batch norm using
        batch statistics, and no dropout in training.
        """
        if self.num_layers < 2:
            return False
        if self.num_layers == 2:
            return True
        if self._drops:
            return False
        return not any(
            isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in self.modules()
        )

    @property
    def _drops(self) -> bool:
        """Whether dropout acts now: in training, at a positive rate."""
        return self.training and self.dropout > 0

    def _constant_exact(self) -> bool:
        """Whether :meth:`_embed_constant` gives this model's outputs.

        Where :meth:`_embed_seeds` does, on a constant input
        (:class:`~mmgraph.subgraph.inputs.ConstantInput`, one of the inputs
        ``node_input="auto"`` tries on a graph without features) aggregating by sum or mean:
        every node then sends one of two messages, by its label, so a seed's aggregate
        needs only its in-degree and its in-edges from its own subgraph. Not with dropout in
        training, which makes the input's rows differ.
        """
        return (
            self._seeds_exact()
            and isinstance(self.node_input, ConstantInput)
            and self.aggregator in ("sum", "mean")
            and not self._drops
        )

    def _seeds_exact(self) -> bool:
        """Whether :meth:`_embed_seeds` gives this model's outputs.

        One layer: a seed's output then reads only its own in-edges, whatever the input and
        the aggregator. Dropout in training falls as in the receptive fields: on the input
        per base node (:meth:`_embed_seeds` drops the rows it reads, one mask a node) and
        on each seed row's aggregate (:meth:`GLASSConv.combine`).
        """
        return self.num_layers == 1

    def _embed_seeds(self, x: Tensor, seeds: Neighborhoods, s: int, batch: SubgraphBatch) -> Tensor:
        r"""The embeddings of one layer, from each seed's in-edges in the base graph's CSR.

        Seed :math:`v` of subgraph :math:`S` aggregates :math:`\sum_u a_{vu} t_0(x_u)` over
        all its in-edges (every sender taken as outside) plus :math:`\sum_{u \in S} a_{vu}
        (t_1(x_u) - t_0(x_u))` over its in-edges from :math:`S` (``seeds``: the subgraphs'
        nodes and their induced edges), with the coefficients :math:`a_{vu}` of
        :class:`~mmgraph.subgraph._sparse.Adjacency` from the base graph's weighted
        in-degrees. Same outputs as :meth:`_embed` (up to float rounding) without building
        receptive fields: on a graph of millions of edges the fields cost most of an epoch.
        """
        device = x.device
        conv = self._glass_convs()[0]
        n_id, group = seeds.n_id.to(device), seeds.group.to(device)
        rows = n_id.numel()
        csr = cached_csr(self, batch)
        degree = cached_degree(self, batch)
        cpu_ids = seeds.n_id.cpu()
        target, pos = expand_rows(
            csr.rowptr.index_select(0, cpu_ids), csr.degree.index_select(0, cpu_ids)
        )
        source = csr.col.index_select(0, pos).to(device)
        target = target.to(device)
        e_id = csr.e_id.index_select(0, pos)
        all_in = self._coefficients(batch, e_id, source, n_id.index_select(0, target), degree)
        src_row, dst_row = (i.to(device) for i in seeds.edge_index)
        own_in = self._coefficients(
            batch, seeds.e_id, n_id.index_select(0, src_row), n_id.index_select(0, dst_row), degree
        )
        # Each sender's outside message once, then one sparse product (senders to seeds). In
        # training with dropout, the rows read (senders and seeds) are dropped out with one
        # mask a base node, as the receptive fields drop the input: those rows alone where
        # they are fewer than the base graph's nodes, else all of them.
        if source.numel() < x.size(0) and self._drops:
            read, inverse = torch.unique(torch.cat([source, n_id]), return_inverse=True)
            x_send = dropout(x.index_select(0, read), p=self.dropout, training=True)
            column = inverse[: source.numel()]
            own = x_send.index_select(0, inverse[source.numel() :])
        elif source.numel() < x.size(0):
            senders, column = torch.unique(source, return_inverse=True)
            x_send, own = x.index_select(0, senders), x.index_select(0, n_id)
        else:
            x_send = dropout(x, p=self.dropout, training=self._drops)
            column, own = source, x_send.index_select(0, n_id)
        adj = Adjacency(torch.stack([column, target]), (rows, x_send.size(0)), "sum", all_in)
        labels = torch.ones(rows, dtype=torch.bool, device=device)
        change = conv.messages(own, labels) - conv.outside_messages(own)
        aggregated = (adj @ conv.outside_messages(x_send)).index_add(
            0, dst_row, own_in.unsqueeze(-1) * change.index_select(0, src_row)
        )
        h = conv.combine(aggregated, own, labels)
        if self.norm:
            h = norm_rows(self.norms[0], h)
        return self.pool(h, group, s)

    def _coefficients(
        self, batch: SubgraphBatch, e_id: Tensor, source: Tensor, target: Tensor, degree: Tensor
    ) -> Tensor:
        """The aggregation coefficient of base-graph edges ``e_id`` (``source -> target``).

        As :class:`~mmgraph.subgraph._sparse.Adjacency` over every in-edge of the targets:
        the weight (1 without ``edge_weight``), over the target's weighted in-degree for the
        mean, over the root of both ends' for ``gcn``.
        """
        device = degree.device
        edge_weight = getattr(batch, "edge_weight", None) if self.use_edge_weight else None
        if edge_weight is None:
            weight = torch.ones(e_id.numel(), device=device)
        else:
            weight = edge_weight.index_select(0, e_id.to(edge_weight.device)).float().to(device)
        if self.aggregator == "mean":
            return weight / degree.index_select(0, target).float().clamp(min=1e-12)
        if self.aggregator == "gcn":
            inv = degree.float().clamp(min=1e-12).rsqrt()
            return weight * inv.index_select(0, source) * inv.index_select(0, target)
        return weight

    def _embed_constant(
        self, x: Tensor, seeds: Neighborhoods, s: int, batch: SubgraphBatch
    ) -> Tensor:
        r"""The embeddings of one layer on a constant input, from degrees alone.

        With every row of ``x`` the same vector, a node's message is :math:`t_1` inside the
        subgraph and :math:`t_0` outside, so seed :math:`v` aggregates
        :math:`a_v t_0 + b_v (t_1 - t_0)`: :math:`a_v` the sum of its coefficients over all
        its in-edges (the weighted in-degree; 1 for the mean, 0 without in-edges) and
        :math:`b_v` over those from its own subgraph (``seeds``: the subgraphs' nodes and
        their induced edges). Same outputs as :meth:`_embed` (up to float rounding) with
        work proportional to the subgraphs' sizes instead of their receptive fields: on a
        graph of 3 million edges, each seed reads hundreds of in-edges there.
        """
        device = x.device
        conv = self._glass_convs()[0]
        n_id, group = seeds.n_id.to(device), seeds.group.to(device)
        rows = n_id.numel()
        degree = cached_degree(self, batch)
        src, dst = (i.to(device) for i in seeds.edge_index)
        own_in = self._coefficients(
            batch, seeds.e_id, n_id.index_select(0, src), n_id.index_select(0, dst), degree
        )
        inner = torch.zeros(rows, device=device).index_add_(0, dst, own_in)
        total = degree.index_select(0, n_id).float()
        if self.aggregator == "mean":  # the coefficients of all in-edges sum to 1
            total = (total > 0).float()
        labels = torch.tensor([False, True], device=device)
        t_out, t_in = conv.messages(x[:1].expand(2, -1), labels)
        aggregated = total.unsqueeze(-1) * t_out + inner.unsqueeze(-1) * (t_in - t_out)
        own = x[:1].expand(rows, -1)
        h = conv.combine(aggregated, own, torch.ones(rows, dtype=torch.bool, device=device))
        if self.norm:
            h = norm_rows(self.norms[0], h)
        return self.pool(h, group, s)

    def _unlabelled_pays(self, near: Neighborhoods, batch: SubgraphBatch) -> bool:
        """Whether the receptive fields hold at least half as many edges as the base graph.

        Counts the in-edges of the rows of ``near``, those within ``num_layers // 2`` hops:
        the receptive fields' edges for two layers, fewer than them for more.
        """
        degree = cached_csr(self, batch).degree
        return 2 * int(degree.index_select(0, near.n_id).sum()) >= batch.edge_index.size(1)

    def _glass_convs(self) -> list[GLASSConv]:
        return cast("list[GLASSConv]", list(self.convs))

    def _unlabelled(self, x: Tensor, batch: SubgraphBatch) -> _Unlabelled:
        """Every layer but the last on the whole base graph with no node labelled inside.

        The last layer's targets are the seeds, whose in-neighbours are all computed rows:
        :meth:`_embed_delta` aggregates them directly. The input is dropped out per base
        node, as :meth:`_embed` does.
        """
        n = int(batch.num_nodes)
        adj = self._base_adjacency(batch)
        outside = torch.zeros(n, dtype=torch.bool, device=x.device)
        layers = []
        same = isinstance(self.node_input, ConstantInput) and not self._drops
        h = dropout(x, p=self.dropout, training=self.training)
        for i, conv in enumerate(self._glass_convs()[: self.num_layers - 1]):
            if i == 0 and same:  # one message for every node: A @ t is A's row sums times it
                t = conv.outside_messages(h[:1]).expand(n, -1)
                aggregated = self._base_row_sums(batch).unsqueeze(-1) * t
            else:
                t = conv.messages(h, outside)
                aggregated = adj @ t
            layers.append((h, t, aggregated))
            if i < self.num_layers - 2:  # the next layer's input
                h = conv.combine(aggregated, h, outside)
                if self.norm:
                    h = norm_rows(self.norms[i], h)
                h = self.act(h)
        return _Unlabelled(layers, adj.weight)

    def _base_adjacency(self, batch: SubgraphBatch) -> Adjacency:
        """The base graph's :class:`~mmgraph.subgraph._sparse.Adjacency`, cached on the model.

        Kept while the edges (and their weights) stay the same: both its CSRs are built once.
        """
        edge_index = batch.edge_index
        weight = getattr(batch, "edge_weight", None) if self.use_edge_weight else None
        cached = self._caches.get("adjacency")
        if cached is not None and cached[0] is edge_index and cached[1] is weight:
            return cast("Adjacency", cached[2])
        n = int(batch.num_nodes)
        degree = cached_degree(self, batch)
        adj = Adjacency(edge_index, (n, n), self.aggregator, weight, (degree, degree))
        self._caches["adjacency"] = (edge_index, weight, adj)
        self._caches.pop("row_sums", None)
        return adj

    def _base_row_sums(self, batch: SubgraphBatch) -> Tensor:
        """Each node's sum of its in-edge coefficients in :meth:`_base_adjacency` (cached)."""
        adj = self._base_adjacency(batch)
        sums = self._caches.get("row_sums")
        if sums is None:
            dst = batch.edge_index[1].to(adj.weight.device)
            sums = torch.zeros(adj.shape[0], device=adj.weight.device).index_add_(
                0, dst, adj.weight
            )
            self._caches["row_sums"] = sums
        return cast("Tensor", sums)

    def _embed_delta(self, hood: Neighborhoods, s: int, unlabelled: _Unlabelled) -> Tensor:
        r"""The subgraph embeddings from the unlabelled layers and each row's difference.

        A row :math:`k` hops from its seeds enters layer :math:`i` unchanged by the labels
        when :math:`k > i` (its :math:`i`-hop field holds no seed), and leaves it unchanged
        when :math:`k > i + 1`: only rows within :math:`\min(L - 1 - i, i + 1)` hops are
        computed at layer :math:`i`, their aggregate being the unlabelled one plus the
        change of the messages of the rows within :math:`i` hops. Same outputs as
        :meth:`_embed` (up to float rounding) at a few passes over the base graph.
        """
        num_layers = self.num_layers
        layout = _layout(hood, num_layers)
        prefix, n_id, edge_index, e_id = layout.prefix, layout.n_id, layout.edge_index, layout.e_id
        device = unlabelled.weight.device
        n_id = n_id.to(device)
        seeds = prefix[0]
        inside = torch.arange(n_id.numel(), device=device) < seeds
        group = layout.group[:seeds].to(device)
        pooled = []
        rows = unlabelled.layers[0][0][:0]  # no row computed yet
        for i, conv in enumerate(self._glass_convs()):
            last = i == num_layers - 1
            targets = prefix[min(num_layers - 1 - i, i + 1)]
            sources = prefix[min(i, num_layers - i)]
            need = max(targets, sources)
            if rows.size(0) < need:  # the rows beyond those computed are unchanged
                rows = torch.cat([rows, unlabelled.layers[i][0][n_id[rows.size(0) : need]]])
            used = int(torch.searchsorted(edge_index[1], torch.tensor(targets)))
            if last:  # the seeds' in-neighbours are all computed: their messages alone
                keep = torch.arange(used)
                messages = conv.messages(rows[:sources], inside[:sources])
            else:
                _, t_base, aggregated_base = unlabelled.layers[i]
                keep = (edge_index[0, :used] < sources).nonzero().view(-1)
                messages = conv.messages(rows[:sources], inside[:sources]) - t_base[n_id[:sources]]
            adj = Adjacency(
                edge_index[:, keep].to(device),
                (targets, sources),
                "sum",
                unlabelled.weight.index_select(0, e_id[keep].to(device)),
            )
            aggregated = adj @ messages
            if not last:
                aggregated = aggregated + aggregated_base.index_select(0, n_id[:targets])
            h = conv.combine(aggregated, rows[:targets], inside[:targets])
            if self.norm:
                h = norm_rows(self.norms[i], h)
            if self.jk or last:
                pooled.append(self.pool(h[:seeds], group, s))
            rows = dropout(self.act(h), p=self.dropout, training=self.training)
        return torch.cat(pooled, dim=-1)

    def _embed(self, x: Tensor, hood: Neighborhoods, s: int, batch: SubgraphBatch) -> Tensor:
        device = x.device
        num_layers = self.num_layers
        # Rows in hop-major order: the rows within k hops of the seeds are a prefix, and
        # layer i only computes the rows within L - 1 - i hops (the ones used later).
        layout = _layout(hood, num_layers)
        prefix, edge_index, e_id = layout.prefix, layout.edge_index, layout.e_id
        n_id = layout.n_id.to(device)
        seeds = prefix[0]
        group = layout.group[:seeds].to(device)
        inside = torch.arange(n_id.numel(), device=device) < seeds
        edge_weight = getattr(batch, "edge_weight", None) if self.use_edge_weight else None
        # The base graph's in-degrees (cached): the "gcn" aggregation normalises by them, the
        # others ignore them.
        degree = cached_degree(self, batch)
        # The first layer reads base-node features through n_id (dropout per base node).
        h = dropout(x, p=self.dropout, training=self.training)
        pooled = []
        for i, conv in enumerate(self.convs):
            sources, targets = prefix[num_layers - i], prefix[num_layers - 1 - i]
            used = int(torch.searchsorted(edge_index[1], torch.tensor(targets)))
            weight = None
            if edge_weight is not None:
                weight = edge_weight.index_select(0, e_id[:used].to(edge_weight.device))
            degrees = (
                degree.index_select(0, n_id[:targets]),
                degree.index_select(0, n_id[:sources]),
            )
            adj = Adjacency(
                edge_index[:, :used].to(device),
                (targets, sources),
                self.aggregator,
                weight,
                degrees,
            )
            if i == 0:
                h = conv(h, adj, inside[:sources], n_id=n_id[:sources])
            else:
                h = conv(h[:sources], adj, inside[:sources])
            if self.norm:
                h = norm_rows(self.norms[i], h)
            if self.jk or i == num_layers - 1:
                pooled.append(self.pool(h[:seeds], group, s))
            if i < num_layers - 1:
                h = dropout(self.act(h), p=self.dropout, training=self.training)
        return torch.cat(pooled, dim=-1)

    def extra_repr_args(self) -> list[str]:
        """The mixing ratio (and ``norm=False``, ``split_messages=True``)."""
        return [
            f"z_ratio={self.convs[0].z_ratio:g}",
            *([] if self.norm else ["norm=False"]),
            *(["split_messages=True"] if self.convs[0].split else []),
        ]


def make_head(
    in_channels: int,
    hidden_channels: int,
    num_classes: int,
    layers: int,
    dropout: float,
    input_dropout: float = 0.0,
) -> nn.Sequential | None:
    """An MLP head (``layers`` linear maps, ReLU and dropout between); None for no classes.

    With ``input_dropout > 0`` the subgraph embedding is dropped out first (GIN's readout
    dropout).
    """
    if num_classes == 0:
        return None
    modules: list[nn.Module] = [nn.Dropout(input_dropout)] if input_dropout > 0 else []
    size = in_channels
    for _ in range(layers - 1):
        modules += [nn.Linear(size, hidden_channels), nn.ReLU(), nn.Dropout(dropout)]
        size = hidden_channels
    modules.append(nn.Linear(size, num_classes))
    return nn.Sequential(*modules)


def cached_degree(owner: Any, batch: SubgraphBatch) -> Tensor:
    """The base graph's weighted in-degrees, cached on ``owner`` while the edges stay the same."""
    edge_index = batch.edge_index
    cached = getattr(owner, "_degree", None)
    if cached is not None and cached[0] is edge_index:
        return cached[1]
    weight = (
        getattr(batch, "edge_weight", None) if getattr(owner, "use_edge_weight", True) else None
    )
    ones = torch.ones(edge_index.size(1), device=edge_index.device)
    degree = torch.zeros(int(batch.num_nodes), device=edge_index.device).index_add_(
        0, edge_index[1], ones if weight is None else weight.float()
    )
    owner._degree = (edge_index, degree)
    return degree


def cached_csr(owner: Any, batch: SubgraphBatch) -> CSRGraph:
    """The base graph's CSR by target, cached on ``owner`` while the edges stay the same."""
    edge_index = batch.edge_index
    cached = owner._csr
    if cached is not None and cached[0] is edge_index:
        return cached[1]
    csr = CSRGraph.from_edge_index(edge_index.cpu(), int(batch.num_nodes), by="target")
    owner._csr = (edge_index, csr)
    return csr
