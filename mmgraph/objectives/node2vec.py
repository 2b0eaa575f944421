r"""The node2vec loss for any encoder: skip-gram over walks, on embeddings the encoder computes."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph.objectives.skipgram import walk_skipgram_loss
from mmgraph.objectives.supervised import seed_count
from mmgraph.sampling.checks import check_int
from mmgraph.sampling.corpus import WalkSampler
from mmgraph.sampling.csr import CSRGraph
from mmgraph.sampling.options import GNN_WALKS, WalkOptions
from mmgraph.sampling.walks import walk_exits
from mmgraph.seed import as_generator


class Node2VecObjective:
    r"""Train an encoder (e.g. :class:`~mmgraph.models.MultimodalGNN`) with the node2vec loss.

    `"node2vec: Scalable Feature Learning for Networks" <https://arxiv.org/abs/1607.00653>`_,
    with the embeddings computed from node features as in GraphSAGE's unsupervised loss
    (`"Inductive Representation Learning on Large Graphs"
    <https://arxiv.org/abs/1706.02216>`_). Each call embeds the batch's nodes,
    :math:`\mathbf{H} = \operatorname{encode}(G)`, walks from ``num_start_nodes`` start nodes
    drawn at random (all nodes if :obj:`None`), and returns the skip-gram loss of
    :func:`~mmgraph.objectives.skipgram.walk_skipgram_loss` with one table for centers and
    contexts:

    .. math::
        \ell(c, o) = -\log \sigma(\mathbf{h}_c^\top \mathbf{h}_o / \tau)
        - \sum_{k=1}^{K} \log \sigma(-\mathbf{h}_c^\top \mathbf{h}_{n_k} / \tau)

    By default the embeddings are L2-normalised first (``normalize``), so that the scores
    are cosine similarities over the temperature :math:`\tau`: with raw dot products an
    encoder can lower the loss of the positive pairs by inflating the norms of its outputs,
    and on Cora the clusters of the embeddings were much worse (k-means NMI 0.40 with dot
    products, 0.56 with cosines, see ``benchmarks/node2vec_clustering.py``). Since the loss
    only reads the encoder's output, the encoder also embeds nodes it never saw in training,
    from their features and edges.

    The walks run on the graph of each batch (its CSR form is cached while the batch's
    ``edge_index`` stays the same object). For a sampled subgraph (``batch.batch_size``, from
    :class:`~mmgraph.sampling.NeighborLoader` when the trainer runs mini-batches) they start
    from its seed nodes and follow its edges both ways, since sampled edges all point
    towards the seeds.

    Args:
        walks (WalkOptions, optional): How to walk and draw negatives (walk length, context
            size, walks per node, negatives, ``p``, ``q``...). (default:
            :data:`~mmgraph.sampling.GNN_WALKS`: walks of 10 steps, windows of 5 nodes, one
            walk from every start node, one negative per pair; the shallow
            :class:`~mmgraph.embedding.Node2Vec` walks more, see there)
        num_start_nodes (int, optional): Start nodes drawn (without replacement) per call;
            :obj:`None` walks from every node. (default: :obj:`None`)
        normalize (bool, optional): Score cosine similarities (else dot products).
            (default: :obj:`True`)
        temperature (float, optional): :math:`\tau`. (default: :obj:`1.0`)
        seed (int, optional): Seed of the walks, negatives and start nodes.
            (default: :obj:`None`)
        **walk_options: Fields of ``walks`` to change, by name (``walk_length=6,
            context_size=3``), as a settings file or the command line gives them.

    Example:
        >>> Node2VecObjective(walk_length=6, context_size=3, seed=0).walks.walks_per_node
        1
    """

    name = "node2vec"

    def __init__(
        self,
        walks: WalkOptions = GNN_WALKS,
        num_start_nodes: int | None = None,
        normalize: bool = True,
        temperature: float = 1.0,
        seed: int | None = None,
        **walk_options: Any,
    ) -> None:
        if not isinstance(walks, WalkOptions):
            raise TypeError(f"Expected 'walks' to be a WalkOptions (got {type(walks).__name__!r})")
        self.walks = walks.replace(**walk_options)
        if num_start_nodes is not None:
            check_int(num_start_nodes, "num_start_nodes", 1)
        if not temperature > 0:
            raise ValueError(f"Expected 'temperature' > 0 (got {temperature})")
        self.num_start_nodes = num_start_nodes
        self.normalize = normalize
        self.temperature = float(temperature)
        self.generator = as_generator(seed)
        self._sampler: WalkSampler | None = None
        self._edge_index: Tensor | None = None
        self._num_nodes: int | None = None

    def _make_sampler(self, csr: CSRGraph) -> WalkSampler:
        walks = self.walks
        if csr.num_edges == 0:  # no degrees to draw unigram negatives from
            walks = walks.replace(negative_distribution="uniform")
        # One random stream across batches and graphs.
        return WalkSampler.from_options(csr, walks, generator=self.generator)

    def sampler(self, batch: Data) -> WalkSampler:
        """The walk sampler of ``batch``'s graph (rebuilt when its edges change)."""
        edge_index = batch.edge_index
        if (
            self._sampler is None
            or edge_index is not self._edge_index
            or batch.num_nodes != self._num_nodes
        ):
            weight = getattr(batch, "edge_weight", None) if self.walks.weighted else None
            if getattr(batch, "batch_size", None) is not None:
                # A sampled subgraph's edges point from the sampled neighbours to the nodes
                # that sampled them (towards the seeds): walk them both ways.
                edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
                weight = None if weight is None else torch.cat([weight, weight])
            csr = CSRGraph.from_edge_index(edge_index, batch.num_nodes, edge_weight=weight)
            if getattr(batch, "batch_size", None) is None:  # the whole graph (a batch may not)
                _refuse_unwalkable(csr, self.walks.weighted)
            self._sampler = self._make_sampler(csr)
            self._edge_index, self._num_nodes = batch.edge_index, batch.num_nodes
        return self._sampler

    def input_nodes(self, graph: Data) -> None:
        """Every node starts walks."""
        return None

    def start_nodes(self, batch: Data) -> Tensor:
        """The start nodes of one call: a random sample of the seed nodes, or all of them."""
        n = seed_count(batch)
        if self.num_start_nodes is None or self.num_start_nodes >= n:
            return torch.arange(n)
        return torch.randperm(n, generator=self.generator)[: self.num_start_nodes]

    def __call__(self, model: nn.Module, batch: Data) -> Tensor:
        """The skip-gram loss of ``model.encode(batch)`` over fresh walks on ``batch``.

        A model with an auxiliary loss (``has_auxiliary_loss``: a coordination loss, or a
        fusion head's own such as translation's) gets it added, as in supervised training.
        """
        encode = getattr(model, "encode", None)
        if not callable(encode):
            raise TypeError(
                f"{type(model).__name__} has no 'encode(batch) -> [N, D]' method: the "
                "node2vec objective trains encoders"
            )
        aux = None
        if getattr(model, "has_auxiliary_loss", False):  # coordination, a head's own loss
            h, aux = model.encode_with_aux(batch)  # type: ignore[operator]
        else:
            h = encode(batch)
        walks = self.sampler(batch).sample(self.start_nodes(batch))
        if self.normalize:
            h = nn.functional.normalize(h, dim=-1)
        if self.temperature != 1.0:
            # Scale one side only: every score is a product of two rows.
            loss = walk_skipgram_loss(
                walks.walks, walks.negatives, h / self.temperature, h, self.walks.context_size
            )
        else:
            loss = walk_skipgram_loss(
                walks.walks, walks.negatives, h, None, self.walks.context_size
            )
        return loss if aux is None else loss + aux

    def __repr__(self) -> str:
        w = self.walks
        return (
            f"{type(self).__name__}(walk_length={w.walk_length}, "
            f"context_size={w.context_size}, walks_per_node={w.walks_per_node}, "
            f"num_negatives={w.num_negatives}, p={w.p:g}, q={w.q:g}, "
            f"num_start_nodes={self.num_start_nodes})"
        )


def _refuse_unwalkable(csr: CSRGraph, weighted: bool) -> None:
    """Refuse a graph no walk can take a step on: the skip-gram loss would have no pairs.

    Raises:
        ValueError: No node has an out-edge (of positive weight with ``weighted``), or
            ``weighted`` with negative edge weights.
    """
    has_out, zero_weight = walk_exits(csr, weighted)
    if bool((has_out & ~zero_weight).any()):
        return
    edges = bool(has_out.any())
    what = "only edges of weight 0" if edges else "no edges"
    fix = "walk it unweighted (Node2VecObjective(weighted=False))" if edges else "give it edges"
    raise ValueError(
        f"The graph ({csr.num_nodes} nodes) has {what}: node2vec's walks cannot take a step, "
        "so the skip-gram loss has no pairs and the encoder would keep its random weights. "
        f"Check the graph or {fix}; without edges, the features alone are the embedding"
    )
