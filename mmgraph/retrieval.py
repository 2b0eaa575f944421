"""Cross-modal retrieval: the nodes nearest a query, by another modality's embedding.

:class:`Retriever` holds every node's embedding of each modality of a trained
:class:`~mmgraph.models.MultimodalGNN` (the modality encoders' outputs, before fusion and
the graph layers) and answers :meth:`Retriever.search`: given a node (by one of its
modalities), a text, an image or a row of attributes, the ``k`` nodes whose embedding of
the target modality is most similar. The two modalities are compared in one shared space:

* a model trained with a coordination loss (``--coordination``) has projections of every
  modality into one space; they are used as they are, except for a loss that aligns the
  views only up to linear maps (CCA: its ``aligns_up_to_linear_maps`` flag), on whose
  projections a :class:`~mmgraph.coordination.LinearCCA` is fitted, as deep CCA is
  evaluated;
* a model trained without one has no shared space: a
  :class:`~mmgraph.coordination.LinearCCA` is fitted between the two modalities' encoder
  outputs (and this is logged).

Each :class:`~mmgraph.coordination.LinearCCA` is fitted on the training nodes
(``train_mask``) that have both modalities, once per pair of modalities.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor

from mmgraph.coordination import LinearCCA
from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.images import UnreadableImageError, decode_image, read_image_bytes
from mmgraph.data.schema import GraphSchema, conform
from mmgraph.errors import InputError
from mmgraph.eval.retrieval import RETRIEVAL_METRICS, similarity
from mmgraph.models import MultimodalGNN, featurize
from mmgraph.models.inference import chunks, select_nodes
from mmgraph.resolver import check_positive_int

log = logging.getLogger(__name__)

Prepare = Callable[[MultimodalGraph], MultimodalGraph]
"""Turns a one-node graph of raw query values into the tensors the model reads."""


@dataclasses.dataclass
class RetrievalResult:
    """The nodes found for each query, best first.

    Args:
        source (str): The modality of the queries.
        target (str): The modality whose embeddings were searched.
        space (str): How the two were compared (the shared space).
        metric (str): The similarity: ``"cosine"``, ``"dot"`` or ``"euclidean"``.
        queries (list): Each query: a node index, or a description of the raw query.
        index (Tensor): Node indices ``[Q, K]``, by decreasing score.
        score (Tensor): Their similarities to the query ``[Q, K]`` (float64).
        names (list[list[str]], optional): The nodes' ids (``node_id``) where the graph has
            them. (default: :obj:`None`)
        gallery_size (int, optional): The number of nodes searched (those with the target
            modality). (default: :obj:`0`)
        query_names (list[str], optional): The ids of query nodes, where the graph has them.
            (default: :obj:`None`)
    """

    source: str
    target: str
    space: str
    metric: str
    queries: list[Any]
    index: Tensor
    score: Tensor
    names: list[list[str]] | None = None
    gallery_size: int = 0
    query_names: list[str] | None = None

    def __len__(self) -> int:
        return len(self.queries)

    def neighbours(self, q: int) -> list[dict[str, Any]]:
        """The neighbours of query ``q``, best first.

        Each a dict of ``rank`` (from 1), ``node``, ``name`` (where the graph names its
        nodes) and ``score``.
        """
        out = []
        for r, (node, score) in enumerate(zip(self.index[q].tolist(), self.score[q].tolist())):
            row: dict[str, Any] = {"rank": r + 1, "node": node}
            if self.names is not None:
                row["name"] = self.names[q][r]
            row["score"] = score
            out.append(row)
        return out

    def rows(self) -> list[dict[str, Any]]:
        """:meth:`neighbours` of every query, each row with its ``query`` first."""
        return [
            {"query": query, **row}
            for q, query in enumerate(self.queries)
            for row in self.neighbours(q)
        ]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the settings, then each query with its neighbours."""
        return {
            "source": self.source,
            "target": self.target,
            "space": self.space,
            "metric": self.metric,
            "gallery_size": self.gallery_size,
            "results": [
                {
                    "query": query,
                    **({"query_name": self.query_names[q]} if self.query_names else {}),
                    "neighbours": self.neighbours(q),
                }
                for q, query in enumerate(self.queries)
            ],
        }


class Retriever:
    r"""Nearest nodes of a target modality for node, text, image or attribute queries.

    Built from a trained model and the graph it reads (featurized as in training), or from a
    run folder with :meth:`from_run`. Every node's embedding of each modality is computed
    once (:meth:`~mmgraph.models.MultimodalGNN.modality_embeddings`, in chunks); a query is
    embedded by the same encoders, both sides are mapped into the shared space of the two
    modalities (see the module notes: the model's coordinated projections, or a
    :class:`~mmgraph.coordination.LinearCCA` fitted on the training nodes), and the gallery,
    every node that has the target modality, is ranked by similarity.

    Args:
        model (MultimodalGNN): The trained model (put in eval mode).
        graph (MultimodalGraph): The nodes to search, featurized as the model reads them.
        prepare (Callable, optional): Turns a one-node :class:`~mmgraph.data.MultimodalGraph`
            of raw query values (``text``, ``image``, ``numeric``/``categorical``) into the
            model's inputs, e.g. ``lambda g: featurize(g, features, state_dir=run_dir,
            load_state=True)``; needed for text and image queries (attribute queries are
            conformed to ``graph``'s columns without it). :meth:`from_run` sets it from the
            run. (default: :obj:`None`)
        fit_mask (Tensor, optional): Bool ``[N]``: the nodes a
            :class:`~mmgraph.coordination.LinearCCA` is fitted on. (default: :obj:`None`:
            ``graph.train_mask``, or every node without one)
        metric (str, optional): The similarity, one of
            :obj:`~mmgraph.eval.retrieval.RETRIEVAL_METRICS`. (default: :obj:`"cosine"`)
        batch_size (int, optional): Nodes encoded at once. (default: :obj:`4096`)

    Example:
        >>> retriever = Retriever.from_run("runs/bots")
        >>> found = retriever.search("free crypto bonus", k=5, target="image")
        >>> found.index, found.score  # [1, 5] each, best first

    Shapes:
        N nodes, Q queries, K neighbours per query.
    """

    def __init__(
        self,
        model: MultimodalGNN,
        graph: MultimodalGraph,
        *,
        prepare: Prepare | None = None,
        fit_mask: Tensor | None = None,
        metric: str = "cosine",
        batch_size: int = 4096,
    ) -> None:
        if metric not in RETRIEVAL_METRICS:
            raise InputError(
                f"Unknown retrieval metric {metric!r}: choose one of {list(RETRIEVAL_METRICS)}"
            )
        check_positive_int(batch_size, "batch_size")
        self.model = model.eval()
        self.graph = graph
        self.prepare = prepare
        self.metric = metric
        self.num_nodes = int(graph.num_nodes)
        self.modalities = list(model.encoders.encoders)
        self.coordinated = model.projection is not None
        loss = model.coordination_loss
        self.linear_cca_on_top = bool(getattr(loss, "aligns_up_to_linear_maps", False))
        self.coordination = getattr(model.config, "coordination", None)
        names = getattr(graph, "node_id", None)
        self.node_names: list[str] | None = list(names) if names is not None else None
        self._ids = {name: i for i, name in enumerate(self.node_names)} if self.node_names else {}
        if fit_mask is None:
            fit_mask = getattr(graph, "train_mask", None)
            if fit_mask is None:
                fit_mask = torch.ones(self.num_nodes, dtype=torch.bool)
        self.fit_mask = fit_mask.bool().cpu()
        self.embeddings, self.masks = self._encode_graph(batch_size)
        self._cca: dict[tuple[str, str], LinearCCA] = {}

    @classmethod
    def from_run(
        cls,
        run_dir: str | Path,
        data: Any | None = None,
        progress: bool = False,
        **kwargs: Any,
    ) -> Retriever:
        """A retriever over a node classification run's data (written by ``mmgraph train``).

        The run's data (or ``data``, a :class:`~mmgraph.tasks.DataSpec`) is loaded and
        featurized as in training; text and image queries go through the run's own encoders
        (the fitted TF-IDF or the image autoencoder saved in the run folder, or the named
        ``transformers`` model).

        Args:
            run_dir (str or Path): The run folder.
            data (DataSpec, optional): Other data to search. (default: :obj:`None`: the run's)
            progress (bool, optional): Progress bars while featurizing. (default: :obj:`False`)
            **kwargs: Passed on to :class:`Retriever` (``metric``, ``batch_size``,
                ``fit_mask``).
        """
        from mmgraph.tasks.node_classification import load_run, prepared_graph

        run = load_run(run_dir)
        graph = prepared_graph(run, data, progress)
        # Queries: the saved encoders only (never refitted on a query), no feature store.
        features = dataclasses.replace(run.features, store_dir=None)

        def prepare(query: MultimodalGraph) -> MultimodalGraph:
            conformed = conform(query, run.read_schema)
            return featurize(
                conformed, features, progress=False, state_dir=run.run_dir, load_state=True
            )

        return cls(run.model, graph, prepare=prepare, **kwargs)

    # ------------------------------------------------------------------ embeddings
    @torch.no_grad()
    def _encode_graph(self, batch_size: int) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Every node's embedding of each modality (projected when coordinated)."""
        parts: list[tuple[dict[str, Tensor], dict[str, Tensor]]] = []
        for index in chunks(self.num_nodes, batch_size):
            parts.append(self._embed(select_nodes(self.graph, index), self.modalities))
        xs = {m: torch.cat([p[0][m] for p in parts]) for m in self.modalities}
        masks = {m: torch.cat([p[1][m] for p in parts]).bool() for m in self.modalities}
        return xs, masks

    @torch.no_grad()
    def _embed(
        self, batch: Any, modalities: Sequence[str]
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Embeddings (projected into the coordinated space when there is one) and masks."""
        xs, masks = self.model.modality_embeddings(batch, modalities)
        projection = self.model.projection
        if projection is not None:  # a CoordinatedProjection
            project = cast(Callable[..., Tensor], projection.project)
            xs = {m: project(m, x, masks[m]) for m, x in xs.items()}
        return {m: x.cpu() for m, x in xs.items()}, {m: v.cpu() for m, v in masks.items()}

    def _maps(self, source: str, target: str) -> tuple[Callable, Callable, str]:
        """The maps of source and target embeddings into one space, and its description."""
        loss = f"{self.coordination} coordination" if self.coordinated else ""
        if source == target:  # one modality: its own space
            return _identity, _identity, f"{loss} projections" if loss else "encoder outputs"
        if self.coordinated and not self.linear_cca_on_top:
            return _identity, _identity, f"{loss} projections"
        cca = self._fit_cca(source, target)
        if self.coordinated:
            return cca.transform_a, cca.transform_b, f"linear CCA on the {loss} projections"
        return cca.transform_a, cca.transform_b, "linear CCA of the encoder outputs"

    def _fit_cca(self, source: str, target: str) -> LinearCCA:
        key = (source, target)
        if key not in self._cca:
            fit = self.fit_mask & self.masks[source] & self.masks[target]
            n = int(fit.sum())
            if n < 2:
                raise InputError(
                    f"Cannot align {source} with {target}: {n} training node(s) have both, and "
                    "the linear CCA between them needs at least 2; give a fit_mask (or data) "
                    "with more nodes that have both modalities"
                )
            a, b = self.embeddings[source], self.embeddings[target]
            self._cca[key] = LinearCCA().fit(a, b, fit)
            if not self.coordinated:
                log.info(
                    "The model was trained without a coordination loss: %s and %s are "
                    "compared after a linear CCA fitted between their encoder outputs on %d "
                    "training nodes that have both (train with --coordination for a learned "
                    "shared space)",
                    source,
                    target,
                    n,
                )
        return self._cca[key]

    # ------------------------------------------------------------------ queries
    def node_index(self, ids: str | Sequence[str]) -> list[int]:
        """The indices of nodes given by their ids (``node_id``).

        Raises:
            InputError: The graph has no node ids, or one of ``ids`` is not among them.
        """
        ids = [ids] if isinstance(ids, str) else list(ids)
        if not self._ids:
            raise InputError(
                "The graph has no node ids ('node_id'): give node indices (0 to "
                f"{self.num_nodes - 1}) instead"
            )
        unknown = [i for i in ids if i not in self._ids]
        if unknown:
            some = ", ".join(repr(n) for n in list(self._ids)[:3])
            raise InputError(
                f"Unknown node id {unknown[0]!r}: the graph's {self.num_nodes} nodes have ids "
                f"such as {some}"
            )
        return [self._ids[i] for i in ids]

    def search(
        self,
        query: Any,
        k: int = 10,
        target: str | None = None,
        source: str | None = None,
    ) -> RetrievalResult:
        """The ``k`` nodes whose ``target`` embedding is nearest the query, best first.

        The query is read by its type:

        * an int, a sequence of ints or an integer tensor: node indices, searched from their
          ``source`` modality (required); each query node is left out of its own results;
        * a :class:`str`: a text (or an image file's path with ``source="image"``);
        * a :class:`os.PathLike`: an image file; a float or ``uint8`` tensor ``[C, H, W]``:
          an image;
        * a mapping: attribute values by column name (numeric and categorical), the others
          missing.

        Args:
            query: The query, see above.
            k (int, optional): Nodes returned per query (fewer when the gallery holds fewer).
                (default: :obj:`10`)
            target (str, optional): The modality searched: ``"text"``, ``"image"`` or
                ``"attributes"``. (default: :obj:`None`: the model's first modality other
                than the query's)
            source (str, optional): The query's modality (required for node queries).
                (default: :obj:`None`: read from the query's type)

        Returns:
            A :class:`RetrievalResult`, one row per query (one for a raw query).

        Raises:
            InputError: An empty query, ``k < 1``, a modality the model lacks, an unknown node
                index, a query node without its ``source`` modality, or a text or image query
                without ``prepare``.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"Expected 'k' to be an int >= 1 (got {k!r}): ask for 1 or more")
        kind = _kind(query, source)
        source = kind if kind != "node" else source
        if source is None:
            raise InputError(
                "Node queries need their modality: pass source= one of "
                f"{self.modalities} (the query node's embedding of it is searched with)"
            )
        self._check_modality(source, "source")
        target = self._default_target(source) if target is None else target
        self._check_modality(target, "target")
        if kind == "node":
            nodes = self._check_nodes(query, source)
            q = self.embeddings[source][nodes]
            labels: list[Any] = list(nodes)
            exclude: list[int | None] = list(nodes)
        else:
            q = self._embed_raw(query, kind)
            labels = [_describe(query)]
            exclude = [None]
        map_q, map_g, space = self._maps(source, target)
        gallery = self.masks[target].nonzero().flatten()
        if gallery.numel() == 0:
            raise InputError(f"No node has {target}: choose another target modality")
        scores = similarity(
            map_q(q).double(), map_g(self.embeddings[target][gallery]).double(), self.metric
        )
        position = torch.full((self.num_nodes,), -1, dtype=torch.long)
        position[gallery] = torch.arange(gallery.numel())
        available = gallery.numel()
        for row, node in enumerate(exclude):
            if node is not None and position[node] >= 0:
                scores[row, position[node]] = -torch.inf
                available = min(available, gallery.numel() - 1)
        take = min(int(k), available)
        if take == 0:
            raise InputError(
                f"Only the query node itself has {target}: there is nothing else to retrieve"
            )
        order = torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :take]
        index = gallery[order]
        names = query_names = None
        if self.node_names is not None:
            names = [[self.node_names[i] for i in row] for row in index.tolist()]
            if kind == "node":
                query_names = [self.node_names[i] for i in labels]
        return RetrievalResult(
            source=source,
            target=target,
            space=space,
            metric=self.metric,
            queries=labels,
            index=index,
            score=scores.gather(1, order),
            names=names,
            gallery_size=int(gallery.numel()),
            query_names=query_names,
        )

    def _default_target(self, source: str) -> str:
        others = [m for m in self.modalities if m != source]
        return others[0] if others else source

    def _check_modality(self, modality: str, role: str) -> None:
        if modality not in self.modalities:
            raise InputError(
                f"The model has no {modality!r} modality to use as the {role} (it has "
                f"{self.modalities}): choose one of those"
            )

    def _check_nodes(self, query: Any, source: str) -> list[int]:
        if isinstance(query, Tensor):
            nodes = query.flatten().tolist()
        elif isinstance(query, (int, np.integer)):
            nodes = [int(query)]
        else:
            nodes = [int(i) for i in query]
        if not nodes:
            raise InputError("The query holds no node: give at least one node index")
        bad = [i for i in nodes if not 0 <= i < self.num_nodes]
        if bad:
            raise InputError(
                f"Unknown node index {bad[0]}: the graph has nodes 0 to {self.num_nodes - 1}"
            )
        lacking = [i for i in nodes if not bool(self.masks[source][i])]
        if lacking:
            has = [m for m in self.modalities if bool(self.masks[m][lacking[0]])]
            name = f" ({self.node_names[lacking[0]]})" if self.node_names else ""
            raise InputError(
                f"Node {lacking[0]}{name} has no {source} to search from: choose a source "
                f"among its modalities {has}, or another node"
            )
        return nodes

    @torch.no_grad()
    def _embed_raw(self, query: Any, source: str) -> Tensor:
        """Embed a text, image or attribute query ``[1, D]`` as the graph's nodes are."""
        one = self._query_graph(query, source)
        if self.prepare is not None:
            one = self.prepare(one)
        elif source == "attributes":
            one = conform(one, GraphSchema.of(self.graph))
        else:
            raise InputError(
                f"A {source} query needs the encoder the model's {source} features came from: "
                "build the Retriever with Retriever.from_run(run_dir), or pass prepare= "
                "(e.g. featurize with the run's FeatureConfig)"
            )
        if source == "text" and _all_zero(getattr(one, "x_text", None)):
            shown = str(query) if len(str(query)) <= 60 else str(query)[:57] + "..."
            raise InputError(
                f"The text query {shown!r} encodes to zeros: none of its words is in "
                "the vocabulary the run's text encoder learnt from the graph's texts (TF-IDF or "
                "bag of words), so every node would rank alike. Use words of the graph's texts"
            )
        xs, masks = self._embed(one, [source])
        if not bool(masks[source].all()):
            raise InputError(
                f"The {source} query came out empty for the model's encoder (nothing it can "
                "read): give a non-empty query"
            )
        return xs[source]

    def _query_graph(self, query: Any, source: str) -> MultimodalGraph:
        """A one-node graph holding the raw query."""
        if source == "text":
            return MultimodalGraph(text=[query], num_nodes=1)
        if source == "image":
            if isinstance(query, Tensor):
                return MultimodalGraph(image=query.unsqueeze(0), num_nodes=1)
            path = Path(query).expanduser()
            if not path.is_file():
                raise InputError(f"The image query '{path}' is not a file: check the path")
            try:
                decode_image(read_image_bytes(path), path)
            except UnreadableImageError as error:
                raise InputError(
                    f"The image query '{path}' is not a readable image ({error.detail}): give "
                    "a PNG, JPEG or other image file"
                ) from None
            return MultimodalGraph(image=[str(path.resolve())], num_nodes=1)
        return self._attribute_graph(query)

    def _attribute_graph(self, values: Mapping[str, Any]) -> MultimodalGraph:
        graph = self.graph
        numeric_names = list(getattr(graph, "numeric_names", None) or [])
        categorical_names = list(getattr(graph, "categorical_names", None) or [])
        unknown = [c for c in values if c not in numeric_names and c not in categorical_names]
        if unknown:
            import difflib

            columns = numeric_names + categorical_names
            close = difflib.get_close_matches(unknown[0], columns, n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(
                f"Unknown attribute column {unknown[0]!r}{hint}: the graph's columns are {columns}"
            )
        fields: dict[str, Any] = {}
        given = [
            c
            for c, v in values.items()
            if v is not None and not (c in numeric_names and math.isnan(_number(v, c)))
        ]
        if not given:
            raise InputError(
                f"Every value of the attribute query is missing (null or NaN: "
                f"{', '.join(map(repr, values))}): give at least one column a value"
            )
        if numeric_names:
            row = [_number(values.get(c, float("nan")), c) for c in numeric_names]
            fields["numeric"] = torch.tensor([row])
            fields["numeric_names"] = numeric_names
        if categorical_names:
            _check_known_values(values, categorical_names, graph)
            codes = [0 if values.get(c) is None else 1 for c in categorical_names]
            fields["categorical"] = torch.tensor([codes])
            fields["categorical_names"] = categorical_names
            fields["categorical_vocabs"] = [
                [] if values.get(c) is None else [str(values[c])] for c in categorical_names
            ]
        return MultimodalGraph(num_nodes=1, **fields)

    def __repr__(self) -> str:
        coordination = self.coordination if self.coordinated else None
        return (
            f"{self.__class__.__name__}(num_nodes={self.num_nodes}, "
            f"modalities={self.modalities}, coordination={coordination!r}, "
            f"metric={self.metric!r})"
        )


def _check_known_values(values: Mapping[str, Any], names: list[str], graph: Any) -> None:
    """Refuse a categorical query value that no node of ``graph`` has in its column.

    The encoder would read it as "unknown", as it does a missing value, and rank the
    nodes by the other columns alone.
    """
    vocabs = getattr(graph, "categorical_vocabs", None)
    if vocabs is None:
        return
    for name, vocab in zip(names, vocabs, strict=True):
        value = values.get(name)
        if value is None or str(value) in vocab:
            continue
        shown = ", ".join(repr(v) for v in vocab[:20]) + (", ..." if len(vocab) > 20 else "")
        raise InputError(
            f"The value {value!r} of the categorical column {name!r} is on no node of the "
            f"graph, so the model reads it as unknown, like a missing value: give one of "
            f"{shown} (or leave the column out)"
        )


def _all_zero(x: Any) -> bool:
    """Whether ``x`` is a tensor of zeros only (a text that no vocabulary word matched)."""
    return isinstance(x, Tensor) and x.numel() > 0 and not bool(x.ne(0).any())


def _number(value: Any, column: str) -> float:
    """A numeric column's query value as a float (``None``: missing, NaN)."""
    if value is None:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(
            f"The attribute query's {column!r} is a numeric column: expected a number (got "
            f"{value!r}); give a number, or null for a missing value"
        ) from None


def _identity(x: Tensor) -> Tensor:
    return x


def _kind(query: Any, source: str | None) -> str:
    """What a query is: ``"node"``, ``"text"``, ``"image"`` or ``"attributes"``."""
    if isinstance(query, bool):
        raise InputError(f"Expected a query (got {query!r}): see Retriever.search")
    if isinstance(query, Tensor):
        if query.is_floating_point() or (query.dtype == torch.uint8 and query.dim() == 3):
            if query.dim() != 3:
                raise InputError(
                    f"Expected an image query of shape [C, H, W] (got {list(query.shape)})"
                )
            kind = "image"
        elif query.dim() <= 1:
            kind = "node"
        else:
            raise InputError(f"Expected node indices [Q] (got shape {list(query.shape)})")
    elif isinstance(query, (int, np.integer)):
        kind = "node"
    elif isinstance(query, str):
        if not query.strip():
            raise InputError("The query is empty: give a text, an image, a node or attributes")
        kind = "image" if source == "image" else "text"
    elif isinstance(query, os.PathLike):
        kind = "image"
    elif isinstance(query, Mapping):
        if not query:
            raise InputError("The attribute query is empty: give at least one column's value")
        kind = "attributes"
    elif isinstance(query, Sequence):
        if not query:
            raise InputError("The query holds no node: give at least one node index")
        if not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in query):
            raise InputError(
                "Expected a sequence of node indices (ints); look up node ids with "
                "Retriever.node_index"
            )
        kind = "node"
    else:
        raise InputError(
            f"Cannot read a query of type {type(query).__name__!r}: give node indices, a text, "
            "an image (path or tensor) or a mapping of attribute values"
        )
    if kind != "node" and source is not None and source != kind:
        raise InputError(
            f"The query is {'an' if kind[0] in 'ai' else 'a'} {kind} query but source="
            f"{source!r}: drop source, or give a query of that modality"
        )
    return kind


def _describe(query: Any) -> Any:
    """A JSON-ready label of a raw query."""
    if isinstance(query, Tensor):
        return f"<image tensor {list(query.shape)}>"
    if isinstance(query, os.PathLike):
        return str(query)
    if isinstance(query, Mapping):
        return {str(k): v for k, v in query.items()}
    return query


__all__ = ["RetrievalResult", "Retriever"]
