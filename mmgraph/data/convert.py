"""Round trips between :class:`MultimodalGraph`, networkx graphs and plain PyG ``Data``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import networkx as nx
import torch
from torch import Tensor
from torch_geometric.data import Data

from mmgraph.data.graph import MISSING_CODE, UNLABELLED, MultimodalGraph
from mmgraph.data.loaders._common import to_float

_SPLITS = ("train", "val", "test")


def to_networkx(graph: MultimodalGraph) -> nx.MultiDiGraph:
    """Convert to a :class:`networkx.MultiDiGraph` that keeps every field.

    Nodes are keyed by ``node_id`` (or their index) and carry ``index``, ``text``, ``image``
    (a path or a ``[C, H, W]`` tensor), ``numeric`` (``{name: float}``, NaN kept),
    ``categorical`` (``{name: value or None}``), ``sequence`` (the node's steps
    ``[T_i, d]``), ``label`` (class name or :obj:`None`),
    ``split`` and ``present`` (``{modality: bool}``). Edges carry ``relation`` and ``weight``
    where the graph has them. Graph-level metadata lands in ``G.graph``.
    """
    g = nx.MultiDiGraph()
    g.graph.update({k: v for k, v in graph.meta.items() if v is not None})
    n = graph.num_nodes
    keys = _node_keys(graph)
    numeric = getattr(graph, "numeric", None)
    categorical = getattr(graph, "categorical", None)
    num_names = graph.numeric_names or (
        [f"numeric_{i}" for i in range(numeric.size(1))] if numeric is not None else []
    )
    cat_names = graph.categorical_names or (
        [f"categorical_{i}" for i in range(categorical.size(1))] if categorical is not None else []
    )
    y = getattr(graph, "y", None)
    for i in range(n):
        attrs: dict[str, Any] = {"index": i}
        for m in graph.modalities:
            value = getattr(graph, m)
            if m == "text" or (m == "image" and not isinstance(value, Tensor)):
                attrs[m] = value[i]
            elif m == "image":
                attrs[m] = value[i].clone()
            elif m == "numeric":
                attrs[m] = dict(zip(num_names, value[i].tolist()))
            elif m == "sequence":
                attrs[m] = value[i, : int(graph.sequence_length[i])].clone()
            else:
                vocabs = graph.categorical_vocabs
                row = value[i].tolist()
                attrs[m] = {
                    name: (
                        None if code == MISSING_CODE else (vocabs[c][code - 1] if vocabs else code)
                    )
                    for c, (name, code) in enumerate(zip(cat_names, row))
                }
        attrs["present"] = {m: bool(graph.presence_mask(m)[i]) for m in graph.modalities}
        if y is not None:
            attrs["label"] = None if int(y[i]) == UNLABELLED else graph.label_name(int(y[i]))
        for split in _SPLITS:
            mask = getattr(graph, f"{split}_mask", None)
            if mask is not None and bool(mask[i]):
                attrs["split"] = split
        g.add_node(keys[i], **attrs)
    edge_index = getattr(graph, "edge_index", None)
    if edge_index is not None:
        edge_type = getattr(graph, "edge_type", None)
        edge_weight = getattr(graph, "edge_weight", None)
        for e, (u, v) in enumerate(edge_index.t().tolist()):
            eattrs: dict[str, Any] = {}
            if edge_type is not None:
                r = int(edge_type[e])
                names = graph.relation_names
                eattrs["relation"] = names[r] if names else r
            if edge_weight is not None:
                eattrs["weight"] = float(edge_weight[e])
            g.add_edge(keys[u], keys[v], **eattrs)
    return g


_EXAMPLES = {"numeric": "{'age': 31.0, 'followers': 120.0}", "categorical": "{'lang': 'en'}"}


def _missing(value: Any) -> bool:
    """Whether a label is missing: :obj:`None` or a float NaN (pandas' missing value)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def from_networkx(
    g: nx.Graph,
    label: str = "label",
    class_names: list[str] | None = None,
) -> MultimodalGraph:
    """Build a :class:`MultimodalGraph` from a networkx graph.

    Reads the node attributes :func:`to_networkx` writes (``text``, ``image``, ``numeric``,
    ``categorical``, ``sequence``, ``present``, ``split`` and ``label``), any of which may be
    absent, and the edge attributes ``relation`` and ``weight``. An undirected graph gives
    both directions of every edge. Nodes are ordered by their ``index`` attribute when every
    node has one, else in the graph's order.

    Args:
        g (networkx.Graph): Any networkx graph.
        label (str, optional): Node attribute that holds the label; a node without it, or
            with :obj:`None` or NaN there (pandas' missing value), is unlabelled.
            (default: :obj:`"label"`)
        class_names (list[str], optional): Class order; default: ``G.graph["class_names"]``,
            else the sorted label values.
    """
    if not isinstance(g, nx.Graph):
        raise TypeError(
            f"Expected a networkx graph (got {type(g).__name__!r}): build one first, e.g. "
            "`networkx.Graph(edges)` from a list of (u, v) pairs"
        )
    nodes = list(g.nodes(data=True))
    if not nodes:
        raise ValueError("The networkx graph has no nodes: an empty graph cannot be converted")
    for field in ("numeric", "categorical"):
        for key, a in nodes:
            value = a.get(field)
            if value is not None and not isinstance(value, Mapping):
                raise TypeError(
                    f"Node {key!r} has a {field!r} attribute of type {type(value).__name__!r}: "
                    f"from_networkx reads a mapping of column name to value per node, e.g. "
                    f"{field}={_EXAMPLES[field]} (as to_networkx writes it)"
                )
    if all("index" in a for _, a in nodes):
        nodes.sort(key=lambda item: item[1]["index"])
    keys = [k for k, _ in nodes]
    pos = {k: i for i, k in enumerate(keys)}
    n = len(keys)
    meta = dict(g.graph)
    kwargs: dict[str, Any] = {"node_id": [str(k) for k in keys], "name": meta.get("name")}

    if any("text" in a for _, a in nodes):
        kwargs["text"] = [a.get("text") for _, a in nodes]
    image_present = None
    if any("image" in a for _, a in nodes):
        images = [a.get("image") for _, a in nodes]
        kwargs["image"], image_present = _images(images, keys)
    if any("numeric" in a for _, a in nodes):
        names = meta.get("numeric_names") or sorted(
            {k for _, a in nodes for k in (a.get("numeric") or {})}
        )
        kwargs["numeric"] = torch.tensor(
            [
                [to_float((a.get("numeric") or {}).get(k), k, row, str(key)) for k in names]
                for row, (key, a) in enumerate(nodes)
            ],
            dtype=torch.float,
        )
        kwargs["numeric_names"] = names
    if any("categorical" in a for _, a in nodes):
        names = meta.get("categorical_names") or sorted(
            {k for _, a in nodes for k in (a.get("categorical") or {})}
        )
        vocabs = meta.get("categorical_vocabs") or [
            sorted(
                {str(v) for _, a in nodes if (v := (a.get("categorical") or {}).get(k)) is not None}
            )
            for k in names
        ]
        lookup = [{v: i + 1 for i, v in enumerate(vocab)} for vocab in vocabs]
        codes = []
        for _, a in nodes:
            row = a.get("categorical") or {}
            codes.append(
                [
                    MISSING_CODE if row.get(k) is None else lookup[c][str(row[k])]
                    for c, k in enumerate(names)
                ]
            )
        kwargs["categorical"] = torch.tensor(codes, dtype=torch.long)
        kwargs["categorical_names"] = names
        kwargs["categorical_vocabs"] = vocabs

    if any("sequence" in a for _, a in nodes):
        kwargs["sequence"] = [a.get("sequence") for _, a in nodes]
        kwargs["sequence_names"] = meta.get("sequence_names")
        kwargs["sequence_sizes"] = meta.get("sequence_sizes")

    labels: list[Any] = [None if _missing(a.get(label)) else a.get(label) for _, a in nodes]
    if any(v is not None for v in labels):
        names = class_names or meta.get("class_names")
        if not names:  # compared by value, as a card's: 1 and 1.0 are one class
            from mmgraph.data.loaders.card_read import label_normaliser

            texts = [str(v) for v in labels if v is not None]
            normalise, sort_key = label_normaliser(texts)
            labels = [None if v is None else normalise(str(v)) for v in labels]
            names = sorted({v for v in labels if v is not None}, key=sort_key)
        index = {c: i for i, c in enumerate(names)}
        unknown = sorted({str(v) for v in labels if v is not None and str(v) not in index})
        if unknown:
            raise ValueError(f"Labels {unknown} are not among the class names {names}")
        kwargs["y"] = torch.tensor(
            [UNLABELLED if v is None else index[str(v)] for v in labels], dtype=torch.long
        )
        kwargs["class_names"] = names
        kwargs["positive_class"] = meta.get("positive_class")
    splits = [a.get("split") for _, a in nodes]
    if any(s is not None for s in splits):
        for split in _SPLITS:
            kwargs[f"{split}_mask"] = torch.tensor([s == split for s in splits], dtype=torch.bool)
    if any("present" in a for _, a in nodes):
        modalities = {m for _, a in nodes for m in (a.get("present") or {})}
        kwargs["presence"] = {
            m: torch.tensor([bool((a.get("present") or {}).get(m, False)) for _, a in nodes])
            for m in modalities
        }
    if image_present is not None and "image" not in kwargs.get("presence", {}):
        kwargs.setdefault("presence", {})["image"] = image_present

    src, dst, rel, weight = [], [], [], []
    edges = g.edges(data=True)
    for u, v, a in edges:
        pairs = [(pos[u], pos[v])] if g.is_directed() else [(pos[u], pos[v]), (pos[v], pos[u])]
        if not g.is_directed() and u == v:
            pairs = pairs[:1]
        for s, d in pairs:
            src.append(s)
            dst.append(d)
            rel.append(a.get("relation"))
            weight.append(a.get("weight"))
    kwargs["edge_index"] = torch.tensor([src, dst], dtype=torch.long).view(2, -1)
    if any(r is not None for r in rel):
        names = meta.get("relation_names") or sorted({str(r) for r in rel if r is not None})
        rindex = {r: i for i, r in enumerate(names)}
        if any(r is None for r in rel):
            raise ValueError("Some edges have a 'relation' attribute and others do not")
        kwargs["edge_type"] = torch.tensor(
            [
                r if isinstance(r, int) and not meta.get("relation_names") else rindex[str(r)]
                for r in rel
            ],
            dtype=torch.long,
        )
        kwargs["relation_names"] = names
    if any(w is not None for w in weight):
        kwargs["edge_weight"] = torch.tensor(
            [1.0 if w is None else float(w) for w in weight], dtype=torch.float
        )
    kwargs["image_root"] = meta.get("image_root")
    return MultimodalGraph(num_nodes=n, **kwargs)


def _images(images: list[Any], keys: list[Any]) -> tuple[Any, Tensor | None]:
    """The image field of nodes' ``image`` attributes, and which nodes have one (tensors).

    Tensors (``[C, H, W]``, one shape) are stacked, zeros for a node without one; paths stay
    a list, :obj:`None` for a node without one. Both kinds at once are refused.
    """
    tensors = [i for i, im in enumerate(images) if isinstance(im, Tensor)]
    if not tensors:
        return images, None
    others = [i for i, im in enumerate(images) if im is not None and not isinstance(im, Tensor)]
    if others:
        raise ValueError(
            f"Node {keys[tensors[0]]!r} has an image tensor and node {keys[others[0]]!r} an "
            "image path: give every node's image the same way (all tensors, or all paths)"
        )
    shape = images[tensors[0]].shape
    for i in tensors:
        if images[i].shape != shape:
            raise ValueError(
                f"Node {keys[i]!r} has an image of shape {list(images[i].shape)} and node "
                f"{keys[tensors[0]]!r} one of {list(shape)}: resize them to one shape"
            )
    blank = torch.zeros(shape, dtype=images[tensors[0]].dtype)
    stacked = torch.stack([blank if im is None else im for im in images])
    present = torch.tensor([im is not None for im in images], dtype=torch.bool)
    return stacked, present


def to_data(graph: MultimodalGraph) -> Data:
    """Return a plain :class:`~torch_geometric.data.Data` holding every field of ``graph``.

    Fields keep their names: the numeric columns stay ``numeric`` (:func:`from_data` read a
    ``Data``'s ``x`` into it), so a PyG model that reads ``data.x`` needs
    ``data.x = data.numeric`` (or the features :func:`~mmgraph.models.featurize` computes).
    """
    return Data.from_dict(graph.to_dict())


def from_data(data: Data, **kwargs: Any) -> MultimodalGraph:
    """Build a :class:`MultimodalGraph` from a plain PyG ``Data`` (validated).

    Fields :class:`MultimodalGraph` knows keep their meaning; a float node feature matrix
    ``x`` without ``numeric`` becomes the ``numeric`` modality. Keyword arguments override.
    """
    fields = data.to_dict()
    x = fields.pop("x", None)
    if x is not None and "numeric" not in fields:
        if not isinstance(x, Tensor) or not x.is_floating_point() or x.dim() != 2:
            raise TypeError("Expected 'x' to be a float tensor of shape [N, F]")
        fields["numeric"] = x
    elif x is not None:
        fields["x"] = x
    fields.setdefault("num_nodes", data.num_nodes)
    fields.update(kwargs)
    if not fields["num_nodes"]:
        raise ValueError(
            "The Data is empty (0 nodes): from_data needs nodes, from 'x', 'num_nodes' or "
            "'edge_index' (e.g. `Data(x=x, edge_index=edge_index)`)"
        )
    return MultimodalGraph(**fields)


def _node_keys(graph: MultimodalGraph) -> list[Any]:
    node_id = getattr(graph, "node_id", None)
    return list(node_id) if node_id is not None else list(range(graph.num_nodes))
