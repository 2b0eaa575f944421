"""Node inputs of subgraph models: what each base-graph node starts from.

Every input is a module called as ``input(batch) -> [N, out_channels]`` on a
:class:`~mmgraph.subgraph.SubgraphBatch` (or the base graph), for all N base nodes:

* :class:`ConstantInput`: one learned vector for every node (graphs without attributes,
  GLASS's choice on SubGNN's synthetic sets);
* :class:`DegreeInput`: a learned vector per (clipped) in-degree;
* :class:`NodeIdInput`: a learned vector per node (transductive), drawn at random or
  started from a table such as a node2vec embedding of the base graph
  (:func:`node2vec_table`, the ``node2vec`` input);
* :class:`AttributeInput`: numeric and categorical attributes through an
  :class:`~mmgraph.encoders.AttributeEncoder` (e.g. the atom tags of TU molecules);
* :class:`FeatureInput`: a linear projection of a feature field such as ``x``;
* :class:`EncoderInput`: any mmgraph node encoder, e.g. a
  :class:`~mmgraph.models.MultimodalGNN`'s modality encoders and fusion over text, images
  and attributes (``method="encode"`` of a model with ``num_layers=0``);
* :class:`PrecomputedInput`: a fixed table of node embeddings from any encoder (frozen by
  default).

:func:`build_node_input` builds one by name for a graph. :func:`node_rows` computes the
rows of some nodes only (``input(batch)[nodes]``): the constant, degree, id, attribute,
feature and precomputed inputs encode just those rows, the others all N and select.
"""

from __future__ import annotations

import logging
import math
import random
import time
import warnings
import weakref
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph.encoders.attributes import AttributeEncoder
from mmgraph.names import NODE_INPUTS as NODE_INPUTS
from mmgraph.subgraph._checks import check_positive

log = logging.getLogger(__name__)


def _num_nodes(batch: Data) -> int:
    n = batch.num_nodes
    if n is None:
        raise ValueError("The batch has no 'num_nodes': set it to the number of base nodes")
    return int(n)


class ConstantInput(nn.Module):
    r"""One learned vector :math:`\mathbf{c}` for every node.

    Args:
        out_channels (int): Size of the vector.

    Shapes:
        - **input:** a batch with N base nodes
        - **output:** :math:`(N, \text{out\_channels})`
    """

    def __init__(self, out_channels: int) -> None:
        super().__init__()
        self.out_channels = check_positive(out_channels, "out_channels")
        self.weight = nn.Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Draw the vector from :math:`\mathcal{N}(0, 1)`."""
        nn.init.normal_(self.weight)

    def forward(self, batch: Data) -> Tensor:
        """The vector repeated for every base node."""
        return self.weight.unsqueeze(0).expand(_num_nodes(batch), -1)

    def rows(self, batch: Data, nodes: Tensor) -> Tensor:
        """The rows of ``nodes`` only."""
        return self.weight.unsqueeze(0).expand(nodes.numel(), -1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.out_channels})"


class DegreeInput(nn.Module):
    r"""A learned vector per in-degree, degrees above ``max_degree`` sharing the last one.

    Args:
        out_channels (int): Size of the vectors.
        max_degree (int, optional): Largest degree with its own vector. (default: :obj:`64`)

    Shapes:
        - **input:** a batch with N base nodes and ``edge_index``
        - **output:** :math:`(N, \text{out\_channels})`
    """

    def __init__(self, out_channels: int, max_degree: int = 64) -> None:
        super().__init__()
        self.out_channels = check_positive(out_channels, "out_channels")
        self.max_degree = check_positive(max_degree, "max_degree", minimum=0)
        self.embedding = nn.Embedding(max_degree + 1, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the embeddings."""
        self.embedding.reset_parameters()

    def _degree(self, batch: Data) -> Tensor:
        n = _num_nodes(batch)
        edge_index = batch.edge_index
        if not edge_index.numel():
            return torch.zeros(n, dtype=torch.long, device=self.embedding.weight.device)
        degree = torch.bincount(edge_index[1], minlength=n)
        return degree.clamp(max=self.max_degree).to(self.embedding.weight.device)

    def forward(self, batch: Data) -> Tensor:
        """The vector of each base node's in-degree."""
        return self.embedding(self._degree(batch))

    def rows(self, batch: Data, nodes: Tensor) -> Tensor:
        """The rows of ``nodes`` only (degrees in the whole batch graph)."""
        degree = self._degree(batch)
        return self.embedding(degree.index_select(0, nodes.to(degree.device)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.out_channels}, max_degree={self.max_degree})"


class NodeIdInput(nn.Module):
    r"""A learned vector per base node (transductive: new nodes cannot be embedded).

    Args:
        num_nodes (int): Number of base nodes.
        out_channels (int): Size of the vectors.
        init (torch.Tensor, optional): Start the vectors from this table
            :math:`(\text{num\_nodes}, \text{out\_channels})` (kept as a buffer that
            :meth:`reset_parameters` copies back) instead of :math:`\mathcal{N}(0, 1)`
            draws, e.g. :func:`node2vec_table`; the vectors are trained from there either
            way. (default: :obj:`None`)

    Shapes:
        - **input:** a batch over the same N base nodes
        - **output:** :math:`(N, \text{out\_channels})`
    """

    init: Tensor | None

    def __init__(self, num_nodes: int, out_channels: int, init: Tensor | None = None) -> None:
        super().__init__()
        self.num_nodes = check_positive(num_nodes, "num_nodes")
        self.out_channels = check_positive(out_channels, "out_channels")
        if init is not None:
            init = _check_table(init, num_nodes, out_channels)
        self.register_buffer("init", init, persistent=False)
        self.embedding = nn.Embedding(num_nodes, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the embeddings (or copy ``init`` back into them)."""
        if self.init is None:
            self.embedding.reset_parameters()
            return
        with torch.no_grad():
            self.embedding.weight.copy_(self.init)

    def forward(self, batch: Data) -> Tensor:
        """The embedding table (checked against the batch's node count)."""
        n = _num_nodes(batch)
        if n != self.num_nodes:
            raise ValueError(
                f"NodeIdInput was built for {self.num_nodes} nodes but the batch has {n}: "
                "node-id embeddings only work on the graph they were built for"
            )
        return self.embedding.weight

    def rows(self, batch: Data, nodes: Tensor) -> Tensor:
        """The rows of ``nodes`` only."""
        return self(batch).index_select(0, nodes.to(self.embedding.weight.device))

    def __repr__(self) -> str:
        start = "" if self.init is None else ", init=table"
        return f"{type(self).__name__}({self.num_nodes}, {self.out_channels}{start})"


def _check_table(table: Tensor, num_nodes: int, out_channels: int) -> Tensor:
    """``table`` as a detached float copy, checked to be finite and :math:`(N, C)`."""
    shape = [num_nodes, out_channels]
    if not isinstance(table, Tensor) or list(table.shape) != shape:
        got = list(table.shape) if isinstance(table, Tensor) else type(table).__name__
        raise ValueError(f"Expected 'init' to be a tensor of shape {shape} (got {got})")
    if not bool(torch.isfinite(table).all()):
        raise ValueError("'init' has NaN or infinite values: give a finite table")
    return table.detach().float().clone()


NODE2VEC_STEPS = 100
"""The fewest optimizer steps :func:`node2vec_table` trains (:func:`node2vec_epochs`).

An epoch walks from every node in batches of 128 start nodes: one step per 128 nodes. On
the 4,498-node ``position`` graph (36 steps an epoch) the table's cosine told edges from
random pairs with ROC-AUC 0.918 after one epoch, 0.967 after three and 0.985 after ten
(1.2, 3.3 and 9.8 s on one thread beside two other jobs); a 24-node graph takes one step
an epoch, where one epoch leaves the draws almost as they were."""


def node2vec_epochs(num_nodes: int, batch_size: int = 128) -> int:
    """Epochs of :func:`node2vec_table`: as many as reach :data:`NODE2VEC_STEPS` steps.

    One on graphs of 12,800 nodes or more; three on ``position``'s 4,498.
    """
    steps = math.ceil(max(int(num_nodes), 1) / batch_size)
    return max(1, math.ceil(NODE2VEC_STEPS / steps))


_TABLES: dict[tuple[int, int, int], tuple[weakref.ref[Data], Tensor]] = {}
_MAX_TABLES = 2  # a run needs one; 1M nodes × 128 floats is 512 MB each


def node2vec_table(graph: Data, out_channels: int, seed: int = 0) -> Tensor:
    r"""A node2vec embedding of ``graph``, each column standardised: the ``node2vec`` input.

    :class:`~mmgraph.embedding.Node2Vec` with its defaults (DeepWalk's uniform walks:
    ``p = q = 1``, ten walks of 20 steps from every node, windows of 10, one negative),
    ``embedding_dim=out_channels``, :func:`node2vec_epochs` epochs and ``seed``; each column
    is then centred and scaled to unit variance, the scale of :class:`NodeIdInput`'s
    random draws (which a graph without edges gets instead: no walk moves on it). Nodes
    close in the graph start close, so a node that no training subgraph holds still starts
    from its region's vector rather than noise: GLASS and
    SubGNN start their real data sets from pretrained node embeddings in the same way.

    The tables of the last two (graph, size, seed) are kept while the graph object lives, so
    the candidates and depths of one run compute it once. The global random state (Python,
    NumPy, torch), which the fit seeds, is put back afterwards: what is drawn next is the
    same whether the table was computed or kept.

    Args:
        graph (torch_geometric.data.Data): The base graph (its ``edge_index``, and edge
            weights where it has them).
        out_channels (int): Embedding size.
        seed (int, optional): Seed of the walks, negatives and initialisation.
            (default: :obj:`0`)

    Returns:
        torch.Tensor: :math:`(N, \text{out\_channels})`.
    """
    from mmgraph.embedding import Node2Vec
    from mmgraph.embedding.node2vec import ISOLATED_NODES_WARNING

    key = (id(graph), int(out_channels), int(seed))
    kept = _TABLES.get(key)
    if kept is not None and kept[0]() is graph:
        return kept[1]
    state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    started = time.perf_counter()
    try:
        n = int(graph.num_nodes or 0)
        if graph.edge_index.size(1) == 0:  # no walk moves: seeded noise, as NodeIdInput's
            emb = torch.randn(n, out_channels, generator=torch.Generator().manual_seed(seed))
        else:
            table = Node2Vec(embedding_dim=out_channels, epochs=node2vec_epochs(n), seed=seed)
            with warnings.catch_warnings():  # a node without edges starts from noise here,
                # as an id's vector does: nothing to warn a subgraph task of
                warnings.filterwarnings("ignore", ISOLATED_NODES_WARNING, UserWarning)
                emb = table.fit(graph).get_embedding().detach().float()
    finally:
        random.setstate(state[0])
        np.random.set_state(state[1])
        torch.set_rng_state(state[2])
    scale = emb.std(0) if emb.size(0) > 1 else torch.ones_like(emb[0])  # one node: zeros
    emb = (emb - emb.mean(0)) / scale.clamp_min(1e-12)
    if len(_TABLES) >= _MAX_TABLES:
        _TABLES.pop(next(iter(_TABLES)))
    _TABLES[key] = (weakref.ref(graph), emb)
    log.info(
        "node2vec input: %d nodes x %d, %d epochs, %.1f s",
        emb.size(0),
        emb.size(1),
        node2vec_epochs(emb.size(0)),
        time.perf_counter() - started,
    )
    return emb


class AttributeInput(nn.Module):
    r"""Numeric and categorical attributes through an :class:`~mmgraph.encoders.AttributeEncoder`.

    Args:
        encoder (AttributeEncoder): The encoder (see ``AttributeEncoder.for_graph``), with
            its numeric statistics fitted.

    Shapes:
        - **input:** a batch with ``numeric`` :math:`(N, F)` and/or ``categorical``
          :math:`(N, C)`
        - **output:** :math:`(N, \text{out\_dim})`
    """

    def __init__(self, encoder: AttributeEncoder) -> None:
        super().__init__()
        if not isinstance(encoder, AttributeEncoder):
            raise TypeError(f"Expected an AttributeEncoder (got {type(encoder).__name__!r})")
        self.encoder = encoder
        self.out_channels = int(encoder.out_channels)

    def reset_parameters(self) -> None:
        """Re-initialise the encoder (its fitted statistics are kept)."""
        self.encoder.reset_parameters()

    def forward(self, batch: Data) -> Tensor:
        """Encode the attributes of every base node."""
        numeric = getattr(batch, "numeric", None) if self.encoder.num_numeric else None
        categorical = getattr(batch, "categorical", None) if self.encoder.cardinalities else None
        x, _ = self.encoder(numeric, categorical)
        return x

    def rows(self, batch: Data, nodes: Tensor) -> Tensor:
        """The rows of ``nodes`` only (each row is encoded on its own)."""
        numeric = getattr(batch, "numeric", None) if self.encoder.num_numeric else None
        categorical = getattr(batch, "categorical", None) if self.encoder.cardinalities else None
        if self.encoder.takes_sparse:  # its CSR form is cached per input tensor
            return self(batch).index_select(0, nodes)
        if isinstance(numeric, Tensor):
            numeric = numeric.index_select(0, nodes.to(numeric.device))
        if isinstance(categorical, Tensor):
            categorical = categorical.index_select(0, nodes.to(categorical.device))
        x, _ = self.encoder(numeric, categorical)
        return x

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.encoder!r})"


class FeatureInput(nn.Module):
    r"""A linear projection of a node feature field, e.g. ``x`` or ``x_text``.

    Args:
        key (str): The field of the batch holding features :math:`(N, F)`.
        in_channels (int): Size :math:`F` of the features.
        out_channels (int): Output size.

    Shapes:
        - **input:** a batch with ``batch[key]`` :math:`(N, F)`
        - **output:** :math:`(N, \text{out\_channels})`
    """

    def __init__(self, key: str, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.key = key
        self.in_channels = check_positive(in_channels, "in_channels")
        self.out_channels = check_positive(out_channels, "out_channels")
        self.lin = nn.Linear(in_channels, out_channels)

    def reset_parameters(self) -> None:
        """Re-initialise the projection."""
        self.lin.reset_parameters()

    def _features(self, batch: Data) -> Tensor:
        x = getattr(batch, self.key, None)
        if not isinstance(x, Tensor):
            raise ValueError(f"The batch has no feature field {self.key!r} [N, F]")
        if x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(
                f"Expected {self.key!r} of shape [N, {self.in_channels}] (got {list(x.shape)})"
            )
        return x

    def forward(self, batch: Data) -> Tensor:
        """Project ``batch[key]``."""
        return self.lin(self._features(batch).float())

    def rows(self, batch: Data, nodes: Tensor) -> Tensor:
        """The rows of ``nodes`` only."""
        x = self._features(batch)
        return self.lin(x.index_select(0, nodes.to(x.device)).float())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r}, {self.in_channels}, {self.out_channels})"


class EncoderInput(nn.Module):
    r"""Any node encoder of mmgraph, trained with the subgraph model.

    Args:
        encoder (torch.nn.Module): A module with a method ``method(batch) -> [N, C]``, e.g.
            a :class:`~mmgraph.models.MultimodalGNN` (``"encode"``: modality encoders,
            fusion and its aggregator layers; ``"fuse"``: encoders and fusion only).
        out_channels (int): Size :math:`C` of its output.
        method (str, optional): The method to call. (default: ``"encode"``)

    Shapes:
        - **input:** whatever the encoder reads, for N base nodes
        - **output:** :math:`(N, \text{out\_channels})`
    """

    def __init__(self, encoder: nn.Module, out_channels: int, method: str = "encode") -> None:
        super().__init__()
        if not callable(getattr(encoder, method, None)):
            raise TypeError(f"{type(encoder).__name__} has no method {method!r} to embed nodes")
        self.encoder = encoder
        self.out_channels = check_positive(out_channels, "out_channels")
        self.method = method

    def reset_parameters(self) -> None:
        """Re-initialise the encoder's parameters where it can, keeping its buffers.

        Buffers hold what was fitted on data (e.g. the numeric statistics a
        :class:`~mmgraph.models.MultimodalGNN` fitted on the training nodes), which the
        subgraph models' own ``reset_parameters`` (called when they are built) must not
        forget.
        """
        reset = getattr(self.encoder, "reset_parameters", None)
        if not callable(reset):
            return
        kept = {name: buffer.clone() for name, buffer in self.encoder.named_buffers()}
        reset()
        with torch.no_grad():
            for name, buffer in self.encoder.named_buffers():
                if name in kept:
                    buffer.copy_(kept[name])

    def forward(self, batch: Data) -> Tensor:
        """Node embeddings of the encoder."""
        return getattr(self.encoder, self.method)(batch)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({type(self.encoder).__name__}, {self.out_channels}, "
            f"method={self.method!r})"
        )


class PrecomputedInput(nn.Module):
    """A fixed table of node embeddings, e.g. from ``Trainer.embed`` or node2vec.

    Args:
        embeddings (torch.Tensor): Node embeddings :math:`(N, C)`.
        trainable (bool, optional): Fine-tune them with the model (a parameter) instead of
            keeping them fixed (a buffer). (default: :obj:`False`)

    Shapes:
        - **input:** a batch over the same N base nodes
        - **output:** :math:`(N, C)`
    """

    def __init__(self, embeddings: Tensor, trainable: bool = False) -> None:
        super().__init__()
        if not isinstance(embeddings, Tensor) or embeddings.dim() != 2:
            raise ValueError(
                "Expected 'embeddings' to be a tensor [N, C] (got "
                f"{list(getattr(embeddings, 'shape', [])) or type(embeddings).__name__})"
            )
        table = embeddings.detach().float().clone()
        self.trainable = bool(trainable)
        self.out_channels = int(table.size(1))
        self.weight: Tensor
        if trainable:
            self.weight = nn.Parameter(table)
        else:
            self.register_buffer("weight", table)

    def reset_parameters(self) -> None:
        """Nothing to re-initialise: the embeddings are given."""

    def forward(self, batch: Data) -> Tensor:
        """The table (checked against the batch's node count)."""
        n = _num_nodes(batch)
        if n != self.weight.size(0):
            raise ValueError(
                f"The embeddings cover {self.weight.size(0)} nodes but the batch has {n}"
            )
        return self.weight

    def rows(self, batch: Data, nodes: Tensor) -> Tensor:
        """The rows of ``nodes`` only."""
        return self(batch).index_select(0, nodes.to(self.weight.device))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.weight.size(0)}, {self.out_channels}, "
            f"trainable={self.trainable})"
        )


def node_rows(node_input: nn.Module, batch: Data, nodes: Tensor) -> Tensor:
    """``node_input(batch)[nodes]``, encoding only those rows where the input can.

    Args:
        node_input (torch.nn.Module): A node input of this module (or any module mapping a
            batch to :math:`(N, C)`).
        batch (torch_geometric.data.Data): The batch, with N base nodes.
        nodes (torch.Tensor): Node ids :math:`(K,)`, each in ``[0, N)``.

    Returns:
        torch.Tensor: :math:`(K, C)`.
    """
    n = _num_nodes(batch)
    if nodes.dim() != 1 or (nodes.numel() and not 0 <= int(nodes.min()) <= int(nodes.max()) < n):
        raise ValueError(f"Expected 'nodes' to be a vector of node ids in [0, {n}) (got {nodes})")
    rows = getattr(node_input, "rows", None)
    if callable(rows):
        return rows(batch, nodes)
    x = node_input(batch)
    return x.index_select(0, nodes.to(x.device))


def has_modalities(graph: Data) -> bool:
    """Whether ``graph`` has featurized text or images (``x_text``, ``x_image`` or pixels)."""
    image = getattr(graph, "image", None)
    return (
        getattr(graph, "x_text", None) is not None
        or getattr(graph, "x_image", None) is not None
        or isinstance(image, Tensor)
    )


def structure_only(graph: Data) -> bool:
    """Whether ``graph``'s nodes carry nothing but their edges.

    No text or images (:func:`has_modalities`), no feature matrix ``x``, no numeric columns,
    and no categorical column with more than one value: IMDB-MULTI, whose one tag is the
    same on every node, or a TU Dortmund folder without node labels.
    """
    if has_modalities(graph) or isinstance(getattr(graph, "x", None), Tensor):
        return False
    if getattr(graph, "numeric", None) is not None:
        return False
    categorical = getattr(graph, "categorical", None)
    if not isinstance(categorical, Tensor) or categorical.numel() == 0:
        return True
    return all(int(torch.unique(column).numel()) <= 1 for column in categorical.t())


def check_node_input(name: str, graph: Data) -> None:
    """Refuse the ``attributes`` or ``x`` input on a graph without what it reads.

    Raises:
        ValueError: Naming what the graph lacks and the inputs that need nothing.
    """
    others = "choose one that needs nothing of the nodes (constant, degree, id, node2vec) or auto"
    if name == "attributes" and all(
        getattr(graph, key, None) is None for key in ("numeric", "categorical")
    ):
        raise ValueError(
            f"The graph has no numeric or categorical attributes for the 'attributes' node "
            f"input: {others}"
        )
    x = getattr(graph, "x", None)
    if name == "x" and not (isinstance(x, Tensor) and x.dim() == 2):
        raise ValueError(
            f"The graph has no feature matrix 'x' [N, F] for the 'x' node input: {others}"
        )


def resolve_input_name(name: str, graph: Data) -> str:
    """The node input ``name`` stands for on ``graph`` (resolving ``"auto"``).

    ``"auto"`` is ``multimodal`` when the graph has featurized text or images, else
    ``attributes`` with numeric or categorical columns, else ``x`` with a feature matrix,
    else ``constant``: on SubGNN's synthetic sets a constant input beat the degree on
    validation with the same settings (``benchmarks/results/defaults.md``).
    """
    if name not in NODE_INPUTS:
        raise ValueError(f"Unknown node input {name!r}; expected one of {list(NODE_INPUTS)}")
    if name != "auto":
        return name
    if has_modalities(graph):
        return "multimodal"
    if (
        getattr(graph, "numeric", None) is not None
        or getattr(graph, "categorical", None) is not None
    ):
        return "attributes"
    if isinstance(getattr(graph, "x", None), Tensor):
        return "x"
    return "constant"


def build_node_input(name: str, graph: Data, out_channels: int, **options: Any) -> nn.Module:
    """Build a node input by name for ``graph`` (see :data:`NODE_INPUTS`).

    Args:
        name (str): ``"constant"``, ``"degree"``, ``"id"``, ``"node2vec"`` (``id`` started
            from :func:`node2vec_table`), ``"attributes"``, ``"x"``,
            ``"multimodal"`` (a :class:`~mmgraph.models.MultimodalGNN` without aggregator
            layers over the featurized modalities, see :func:`mmgraph.models.featurize`), or
            ``"auto"`` (see :func:`resolve_input_name`).
        graph (torch_geometric.data.Data): The base graph (featurized for ``multimodal``).
        out_channels (int): Output size (for ``attributes`` and ``multimodal``: their
            projection size).
        **options: Further options: ``max_degree`` (``degree``), ``seed`` (``node2vec``:
            of its walks, default 0), ``dropout`` and any
            :class:`~mmgraph.models.ModelConfig` field (``multimodal``), ``log1p``
            (``attributes``).

    Raises:
        ValueError: Unknown name (the message lists the valid ones), or a graph without what
            the input needs.
    """
    name = resolve_input_name(name, graph)
    n = int(graph.num_nodes or 0)
    if name == "constant":
        return ConstantInput(out_channels, **options)
    if name == "degree":
        return DegreeInput(out_channels, **options)
    if name == "id":
        return NodeIdInput(n, out_channels)
    if name == "node2vec":
        return NodeIdInput(n, out_channels, init=node2vec_table(graph, out_channels, **options))
    if name == "attributes":
        check_node_input(name, graph)
        encoder = AttributeEncoder.for_graph(graph, out_channels=out_channels, **options)
        encoder.fit(getattr(graph, "numeric", None), torch.ones(n, dtype=torch.bool))
        return AttributeInput(encoder)
    if name == "x":
        check_node_input(name, graph)
        return FeatureInput("x", int(graph.x.size(1)), out_channels)
    # multimodal
    from mmgraph.models import MultimodalGNN

    if (
        not has_modalities(graph)
        and getattr(graph, "numeric", None) is None
        and (getattr(graph, "categorical", None) is None)
    ):
        raise ValueError(
            "The graph has no text, images or attributes for the 'multimodal' input: choose "
            "another node input (constant, degree, id, node2vec), or give its nodes "
            "modalities (in Python, featurize raw text and images with "
            "`mmgraph.models.featurize`)"
        )
    settings = {"num_classes": 0, "num_layers": 0, "hidden": out_channels, "dropout": 0.0}
    settings.update(options)
    model = MultimodalGNN.from_graph(graph, **settings)
    model.fit_statistics(graph, torch.ones(n, dtype=torch.bool))
    return EncoderInput(model, out_channels, method="encode")
