r"""The shallow node2vec estimator: fit embedding tables by skip-gram over biased walks."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from torch import Tensor
from torch_geometric.data import Data

from mmgraph.embedding.estimator import Estimator
from mmgraph.embedding.skipgram import SkipGramEmbedding
from mmgraph.objectives.skipgram import SkipGramObjective
from mmgraph.resolver import check_edge_index
from mmgraph.sampling.corpus import WalkLoader, WalkSampler
from mmgraph.sampling.csr import CSRGraph
from mmgraph.sampling.options import SHALLOW_WALKS, WalkOptions
from mmgraph.sampling.walks import walk_exits


class Node2Vec(Estimator):
    r"""node2vec (DeepWalk for ``p = q = 1``): node embeddings from the graph structure alone.

    `"node2vec: Scalable Feature Learning for Networks" <https://arxiv.org/abs/1607.00653>`_.
    Walks of ``walk_length`` steps start ``walks_per_node`` times from every node
    (:class:`~mmgraph.sampling.RandomWalker`, second-order bias by ``p`` and ``q``); a
    skip-gram model with negative sampling (:mod:`mmgraph.objectives.skipgram`) learns
    embeddings :math:`\mathbf{u}` such that nodes close on walks score high:

    .. math::
        \ell(c, o) = -\log \sigma(\mathbf{u}_c^\top \mathbf{v}_o)
        - \sum_{k=1}^{K} \log \sigma(-\mathbf{u}_c^\top \mathbf{v}_{n_k})

    over every (center, context) pair of every window of ``context_size`` nodes. Training
    runs in :class:`~mmgraph.train.Trainer` with sparse embedding tables and SparseAdam's
    updates (:class:`~mmgraph.train.sparse_adam.RowSparseAdam`); each epoch walks again from
    every node, in batches of ``batch_size`` start nodes. The walk settings form a
    :class:`~mmgraph.sampling.WalkOptions` (:attr:`walk_options`) whose defaults are
    :data:`~mmgraph.sampling.SHALLOW_WALKS` (PyG's ``Node2Vec`` example: walk length 20,
    context 10, 10 walks per node; with dim 128 and batch 128).

    Hyperparameters go to ``__init__`` (scikit-learn / karateclub style, see
    :class:`~mmgraph.embedding.Estimator`); :meth:`fit` trains and returns ``self``;
    :meth:`get_embedding` returns the embeddings.

    Args:
        embedding_dim (int, optional): Embedding size. (default: :obj:`128`)
        walk_length (int, optional): Steps per walk. (default: :obj:`20`)
        context_size (int, optional): Nodes per window (center and context).
            (default: :obj:`10`)
        walks_per_node (int, optional): Walks from each node per epoch. (default: :obj:`10`)
        num_negatives (int, optional): Negatives per pair. (default: :obj:`1`)
        p (float, optional): Return parameter. (default: :obj:`1.0`)
        q (float, optional): In-out parameter. (default: :obj:`1.0`)
        negative_distribution (str, optional): ``"uniform"`` or ``"unigram"`` (degree to
            the power 0.75). (default: :obj:`"uniform"`)
        epochs, batch_size, lr, progress, seed, trainer_options: Training, as for every
            :class:`~mmgraph.embedding.Estimator` (batches of start nodes). (defaults:
            :obj:`1`, :obj:`128`, :obj:`0.01`, :obj:`False`, :obj:`0`, :obj:`None`)
        shared (bool, optional): One table for centers and contexts (as PyG) instead of
            word2vec's two. (default: :obj:`False`)
        weighted (bool, optional): Walk proportionally to edge weights where the graph has
            them. (default: :obj:`True`)

    Shapes:
        N nodes; :meth:`get_embedding` returns :math:`(N, \text{embedding\_dim})`.

    Example:
        >>> emb = Node2Vec(embedding_dim=64, epochs=5, seed=0).fit(graph).get_embedding()
    """

    shared: bool

    fit_argument = "graph"
    repr_params = (
        "embedding_dim",
        "walk_length",
        "context_size",
        "walks_per_node",
        "p",
        "q",
        "num_negatives",
        "epochs",
    )

    def __init__(
        self,
        embedding_dim: int = 128,
        walk_length: int = SHALLOW_WALKS.walk_length,
        context_size: int = SHALLOW_WALKS.context_size,
        walks_per_node: int = SHALLOW_WALKS.walks_per_node,
        num_negatives: int = SHALLOW_WALKS.num_negatives,
        p: float = SHALLOW_WALKS.p,
        q: float = SHALLOW_WALKS.q,
        negative_distribution: str = SHALLOW_WALKS.negative_distribution,
        epochs: int = 1,
        batch_size: int = 128,
        lr: float = 0.01,
        shared: bool = False,
        weighted: bool = SHALLOW_WALKS.weighted,
        progress: bool = False,
        seed: int = 0,
        trainer_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(locals())
        WalkOptions.of(self)  # checks the walk settings

    @property
    def walk_options(self) -> WalkOptions:
        """The walk settings (a :class:`~mmgraph.sampling.WalkOptions`)."""
        return WalkOptions.of(self)

    def fit(self, graph: Data | CSRGraph | Tensor, num_nodes: int | None = None) -> Node2Vec:
        """Learn the embeddings of ``graph``; returns ``self``.

        Args:
            graph (MultimodalGraph, Data, CSRGraph or torch.Tensor): A MultimodalGraph, any
                PyG ``Data`` with an ``edge_index``, a :class:`~mmgraph.sampling.CSRGraph`
                built ``by="source"``, or an ``edge_index`` ``[2, E]``. Only the edges (and
                weights) are used.
            num_nodes (int, optional): The number of nodes of an ``edge_index``; the
                largest id plus one when not given. (default: :obj:`None`)
        """
        if isinstance(graph, Tensor):
            num_nodes = check_edge_index(graph, num_nodes)
            graph = Data(edge_index=graph, num_nodes=num_nodes)
        if isinstance(graph, CSRGraph):
            csr, data = graph, Data(num_nodes=graph.num_nodes)
        elif isinstance(graph, Data):
            if graph.num_nodes is None or graph.num_nodes < 1:
                raise ValueError(
                    "Expected a graph with at least one node (got none): an edge_index "
                    "without edges needs its node count, fit(edge_index, num_nodes=N)"
                )
            csr, data = CSRGraph.from_graph(graph), graph
        else:
            raise TypeError(
                "Expected 'graph' to be a MultimodalGraph, a PyG Data, a CSRGraph or an "
                f"edge_index tensor (got {type(graph).__name__!r})"
            )
        walks = self.walk_options
        _check_walkable(csr, walks.weighted)
        sampler = WalkSampler.from_options(csr, walks, seed=self.seed)
        loader = WalkLoader(sampler, batch_size=self.batch_size)
        model = SkipGramEmbedding(
            csr.num_nodes, self.embedding_dim, shared=self.shared, sparse=True, seed=self.seed
        )
        self._train(model, data, SkipGramObjective(walks.context_size), loader)
        return self


ISOLATED_NODES_WARNING = r"\d+ of \d+ nodes have no (outgoing )?edge"
"""The start of :func:`_check_walkable`'s warning, for a warnings filter."""


def _check_walkable(csr: CSRGraph, weighted: bool) -> None:
    """Refuse a graph no walk can move on; warn of nodes no walk leaves.

    Walks leave a node by its out-edges (with ``weighted``, those of positive weight), so
    a node without one is never the centre of a skip-gram window and its vector stays
    untrained: isolated nodes, the sinks of a directed graph, and nodes whose out-edges all
    weigh 0. When no node has one, nothing would be learnt at all.

    Raises:
        ValueError: No node has an out-edge (of positive weight), or ``weighted`` with
            negative edge weights.
    """
    has_out, zero_weight = walk_exits(csr, weighted)
    leaves = has_out & ~zero_weight
    if not bool(leaves.any()):
        edges = bool(has_out.any())
        what = "only edges of weight 0" if edges else "no edges"
        fix = "walk it unweighted (weighted=False)" if edges else "give it edges"
        raise ValueError(
            f"The graph ({csr.num_nodes} nodes) has {what}: node2vec's walks cannot take a "
            f"step, so it would return its random starting vectors: check the graph, or "
            f"{fix} (the GNN route, `mmgraph embed --encoder gnn`, walks the same edges)"
        )
    touched = has_out.clone()
    touched[csr.col] = True
    isolated = int((~touched).sum())
    stuck = int((~leaves).sum())
    if not stuck:
        return
    if stuck > isolated:
        what = f"{stuck} of {csr.num_nodes} nodes have no outgoing edge a walk can take"
        details = [f"{isolated} no edge at all"] if isolated else []
        if bool(zero_weight.any()):
            details.append(f"{int(zero_weight.sum())} with out-edges of weight 0 only")
        what += f" ({'; '.join(details)})" if details else ""
        fix = (
            "Walk the graph both ways (a card's 'directed: false', or "
            "torch_geometric.transforms.ToUndirected), or embed from the features"
        )
    else:
        what = f"{isolated} of {csr.num_nodes} nodes have no edge"
        fix = "Drop them, give them edges, or embed from their features"
    warnings.warn(
        f"{what}: node2vec's walks leave a node by its out-edges, so these never start a "
        "step and their shallow embeddings stay near their random start (and cluster "
        f"together whatever they are). {fix} with the GNN encoder (`mmgraph embed "
        "--encoder gnn`)",
        stacklevel=3,
    )
