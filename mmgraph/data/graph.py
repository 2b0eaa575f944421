"""The multimodal graph container, built on PyG's :class:`~torch_geometric.data.Data`."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import yaml
from torch import Tensor
from torch_geometric.data import Data

from mmgraph.resolver import MODALITIES as MODALITY_NAMES
from mmgraph.resolver import check_edge_index

ATTRIBUTE_FIELDS: tuple[str, ...] = ("numeric", "categorical")
"""The graph fields that together make the ``"attributes"`` modality."""

MODALITY_FIELDS: tuple[str, ...] = tuple(
    field
    for name in MODALITY_NAMES
    for field in (ATTRIBUTE_FIELDS if name == "attributes" else (name,))
)
"""The node fields a :class:`MultimodalGraph` can hold, in canonical order: the modalities of
:data:`mmgraph.resolver.MODALITIES`, with ``"attributes"`` split into its fields
(``text``, ``image``, ``numeric``, ``categorical``, ``sequence``)."""

MODALITIES = MODALITY_FIELDS  # alias: mmgraph.MODALITIES, mmgraph.data.MODALITIES

MISSING_CODE = 0
"""Categorical code reserved for a missing value; category ``vocab[i]`` has code ``i + 1``."""

UNLABELLED = -1
"""Label of a node whose class is unknown."""

SPLIT_MASKS: tuple[str, ...] = ("train_mask", "val_mask", "test_mask")
"""The node masks of a split, in order."""


def _from_numpy(value: Any) -> Any:
    """A NumPy array of numbers or booleans as a tensor (its dtype kept); anything else as is.

    So fields built with NumPy (as for scikit-learn) need no ``torch.from_numpy``; arrays of
    strings (image paths) stay sequences.
    """
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return torch.from_numpy(np.ascontiguousarray(value))
    return value


def labelled_rows(y: Tensor) -> Tensor:
    """Which rows of labels ``y`` are labelled: bool ``[N]``.

    ``y`` holds a class per row (long ``[N]``, :data:`UNLABELLED` for none) or, for
    multi-label data, a 0/1 row per item (long ``[N, C]``, all :data:`UNLABELLED` for none).
    """
    if y.dim() == 2:
        return (y >= 0).all(dim=1)
    return y >= 0


_READ_KEYWORDS: tuple[str, ...] = (
    "edge_index", "num_nodes", "text", "image", "numeric", "categorical", "sequence",
    "sequence_length", "presence", "edge_type", "edge_weight", "y", "class_names",
    "positive_class", "train_mask", "val_mask", "test_mask", "node_id", "numeric_names",
    "categorical_names", "categorical_vocabs", "relation_names", "name", "image_root",
    "sequence_names", "sequence_sizes", "validate",
)  # fmt: skip
"""The keywords :class:`MultimodalGraph` reads (others are stored as PyG's ``Data`` does)."""

_OTHER_FIELDS: frozenset[str] = frozenset(
    {"x", "x_text", "x_image", "edge_attr", "pos", "batch", "ptr", "n_id", "e_id"}
    | {f"{m}_present" for m in MODALITY_FIELDS}
)
"""Fields PyG or mmgraph set on a graph besides the keywords: never taken for a typo."""


def _warn_of_misspelt_fields(kwargs: Mapping[str, Any]) -> None:
    """Warn of a keyword that looks like a misspelt one (``numerc=``).

    It would be kept as a plain attribute, as PyG's ``Data`` keeps any, and the graph
    would lack the field.
    """
    import difflib

    for key in kwargs:
        if key in _READ_KEYWORDS or key in _OTHER_FIELDS:
            continue
        close = difflib.get_close_matches(key, _READ_KEYWORDS, n=1, cutoff=0.8)
        if close:
            warnings.warn(
                f"MultimodalGraph got {key!r}, which it does not read (kept as a plain "
                f"attribute, as PyG's Data keeps any): did you mean {close[0]!r}?",
                UserWarning,
                stacklevel=3,
            )


_META_KEYS = (
    "name",
    "class_names",
    "positive_class",
    "numeric_names",
    "categorical_names",
    "categorical_vocabs",
    "relation_names",
    "image_root",
    "sequence_names",
    "sequence_sizes",
)


def _meta_property(key: str, doc: str) -> property:
    def fget(self: MultimodalGraph) -> Any:
        return self.meta.get(key)

    def fset(self: MultimodalGraph, value: Any) -> None:
        # Copy on write: shallow copies of a graph (PyG's `subgraph`, `copy`) share `meta`.
        self.meta = {**self.meta, key: value}

    return property(fget, fset, doc=doc)


def _normalise_text(value: Any) -> str | list[str] | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            if not isinstance(item, str):
                raise TypeError(
                    f"Expected every text of a node to be a string (got {type(item).__name__!r}); "
                    "pass one string, a list of strings, or None per node"
                )
            out.append(item)
        return out
    raise TypeError(
        f"Expected a node's text to be a string, a list of strings or None "
        f"(got {type(value).__name__!r})"
    )


def pad_sequences(sequences: Sequence[Any], dim: int | None = None) -> tuple[Tensor, Tensor]:
    """Pad ragged per-node sequences into one tensor, with the length of each.

    Args:
        sequences (Sequence): One ``[T_i, d]`` float tensor (or nested list) per node; an
            empty one or :obj:`None` for a node without steps.
        dim (int, optional): The step size ``d`` when no node has a step. (default: :obj:`None`)

    Returns:
        ``(sequence [N, max T_i, d], length [N])``: steps in order from the start, zeros after
        each node's last step.

    Raises:
        ValueError: A sequence is not ``[T, d]``, or the sizes ``d`` differ.
    """
    rows: list[Tensor] = []
    for i, value in enumerate(sequences):
        if value is None:
            rows.append(torch.zeros(0, 0))
            continue
        x = torch.as_tensor(value, dtype=torch.float)
        if x.numel() == 0:
            x = x.reshape(0, x.size(-1) if x.dim() == 2 else 0)
        if x.dim() != 2:
            raise ValueError(
                f"Expected the sequence of node {i} to have shape [T, d] (got {list(x.shape)}); "
                "give one row of d values per step (x.unsqueeze(-1) for one value per step)"
            )
        rows.append(x)
    widths = {x.size(1) for x in rows if x.size(0) > 0}
    if len(widths) > 1:
        raise ValueError(
            f"Expected every node's steps to have the same size d (got sizes {sorted(widths)}); "
            "pad or split the values so that every step has d values"
        )
    d = widths.pop() if widths else (dim or 1)
    length = torch.tensor([x.size(0) for x in rows], dtype=torch.long)
    out = torch.zeros(len(rows), int(length.max()) if len(rows) else 0, d)
    for i, x in enumerate(rows):
        if x.size(0):
            out[i, : x.size(0)] = x
    return out, length


def _has_text(value: str | list[str] | None) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return any(t.strip() for t in value)


def step_mask(length: Tensor, steps: int) -> Tensor:
    """The bool mask ``[N, steps]`` of the steps ``t < length[i]`` of each node."""
    return torch.arange(steps, device=length.device) < length.unsqueeze(1)


class NodeList(list):
    """A node-level Python list (texts, image paths, node ids) that a tensor can index.

    PyG transforms select node fields with a tensor (``value[index]`` or ``value[mask]``),
    which a plain list refuses; this list takes an index or bool mask tensor (or NumPy
    array) and returns the selected entries, still a :class:`NodeList`. Anything else is a
    plain list's indexing.
    """

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (Tensor, np.ndarray)):
            index = torch.as_tensor(index)
            if index.dtype == torch.bool:
                if index.dim() != 1 or index.numel() != len(self):
                    raise IndexError(
                        f"A bool mask must have shape [{len(self)}] (got {list(index.shape)})"
                    )
                index = index.nonzero().view(-1)
            if index.dim() == 0:
                return list.__getitem__(self, int(index))
            return NodeList(list.__getitem__(self, int(i)) for i in index.tolist())
        out = list.__getitem__(self, index)
        return NodeList(out) if isinstance(index, slice) else out

    def __reduce_ex__(self, protocol: Any) -> Any:  # pickles (and deep-copies) as a list does
        return (NodeList, (list(self),))


yaml.SafeDumper.add_representer(NodeList, yaml.SafeDumper.represent_list)  # a list to YAML

NODE_LISTS = frozenset({"text", "image", "node_id"})
"""The fields that may hold a node-level Python list (``image``: paths)."""


class MultimodalGraph(Data):
    r"""A graph whose nodes carry text, images, numeric and categorical attributes.

    A :class:`~torch_geometric.data.Data` subclass, so PyG transforms and utilities
    (``subgraph``, ``to(...)``, ``is_undirected``, loaders) keep working. Every node-level
    field is selected along with the nodes by ``subgraph``.

    Modalities (any subset; a node may lack any of them):

    * ``text``: one entry per node, a string, a list of strings (such as tweets), or
      :obj:`None`.
    * ``image``: a tensor ``[N, C, H, W]``, or one file path per node (:obj:`None` where
      missing), read lazily, relative paths resolved against ``image_root``.
    * ``numeric``: a float tensor ``[N, F]`` with ``NaN`` where a value is missing.
    * ``categorical``: an integer tensor ``[N, C]`` of codes; code ``0`` is reserved for
      missing and code ``i + 1`` stands for ``categorical_vocabs[c][i]``.
    * ``sequence``: a float tensor ``[N, T, d]`` of steps in time order, with
      ``sequence_length`` (long ``[N]``, in ``[0, T]``): node ``i`` has steps
      ``sequence[i, :sequence_length[i]]``, the rest is padding that nothing reads. A list
      of ragged ``[T_i, d]`` tensors is padded (:func:`pad_sequences`). The ``d`` values of a
      step form *views* (channels such as posts, replies, likes per day), named by
      ``sequence_names`` with ``sequence_sizes`` values each (default: one view
      ``sequence_<j>`` per value).

    Each modality has a presence mask ``<modality>_present`` (bool ``[N]``): given, or derived
    (non-empty text, a non-``None`` path or any image tensor, a non-NaN numeric value, a
    non-missing categorical code, at least one step).

    Args:
        edge_index (torch.Tensor, optional): Edges ``[2, E]`` (integer, in ``[0, N)``).
        num_nodes (int, optional): Number of nodes; inferred from the node fields when not set.
        text, image, numeric, categorical, sequence: The modalities, see above.
        sequence_length (torch.Tensor, optional): Steps of each node's sequence ``[N]``
            (default: all ``T`` steps of a tensor; the lengths of a list).
        sequence_names (Sequence[str], optional): Name of each view of the sequence steps.
        sequence_sizes (Sequence[int], optional): Values of each view (default: 1 each).
        presence (Mapping[str, torch.Tensor], optional): Presence masks per modality, where
            they cannot be derived from the values. (default: :obj:`None`)
        edge_type (torch.Tensor, optional): Relation of each edge ``[E]``, in
            ``[0, len(relation_names))``.
        edge_weight (torch.Tensor, optional): Weight of each edge ``[E]``, finite.
        y (torch.Tensor, optional): Labels ``[N]`` in ``[0, len(class_names))``, or ``-1`` for
            unlabelled nodes.
        class_names (Sequence[str], optional): Name of each class.
        positive_class (int, optional): For binary labels, the class whose F1, precision and
            recall are reported.
        train_mask, val_mask, test_mask (torch.Tensor, optional): Bool masks ``[N]``.
        node_id (Sequence[str], optional): The original id of each node (unique).
        numeric_names, categorical_names (Sequence[str], optional): Column names.
        categorical_vocabs (Sequence[Sequence[str]], optional): Values of each categorical
            column, code ``i + 1`` for ``vocab[i]``.
        relation_names (Sequence[str], optional): Name of each relation.
        name (str, optional): Name of the data set.
        image_root (str, optional): Folder that relative image paths are resolved against.
        **kwargs: Further attributes, stored as in :class:`~torch_geometric.data.Data`.

    Shapes:
        N nodes, E edges, F numeric features, C categorical columns, T steps of
        ``d`` values.
    """

    name = _meta_property("name", "Name of the data set.")
    class_names = _meta_property("class_names", "Name of each class.")
    positive_class = _meta_property("positive_class", "Class whose F1 is reported (binary).")
    numeric_names = _meta_property("numeric_names", "Name of each numeric column.")
    categorical_names = _meta_property("categorical_names", "Name of each categorical column.")
    categorical_vocabs = _meta_property("categorical_vocabs", "Values of each categorical column.")
    relation_names = _meta_property("relation_names", "Name of each relation (edge type).")
    image_root = _meta_property("image_root", "Folder that relative image paths resolve against.")
    sequence_names = _meta_property("sequence_names", "Name of each view of the sequence steps.")
    sequence_sizes = _meta_property("sequence_sizes", "Values per step of each sequence view.")

    def __setattr__(self, key: str, value: Any) -> None:
        if key in NODE_LISTS and type(value) is list:  # PyG transforms index it by tensors
            value = NodeList(value)
        super().__setattr__(key, value)

    def __setitem__(self, key: str, value: Any) -> None:
        if key in NODE_LISTS and type(value) is list:
            value = NodeList(value)
        super().__setitem__(key, value)

    def apply(self, func: Callable[..., Any], *args: str) -> MultimodalGraph:
        """PyG's :meth:`~torch_geometric.data.Data.apply`, keeping node lists NodeList.

        ``to``, ``clone`` and ``cpu`` go through it; PyG rebuilds lists as plain lists.
        """
        super().apply(func, *args)
        for key in NODE_LISTS:
            value = self._store.get(key)
            if type(value) is list:
                self._store[key] = NodeList(value)
        return self

    def __init__(
        self,
        edge_index: Tensor | None = None,
        *,
        num_nodes: int | None = None,
        text: Sequence[Any] | None = None,
        image: Tensor | Sequence[str | None] | None = None,
        numeric: Tensor | None = None,
        categorical: Tensor | None = None,
        sequence: Tensor | Sequence[Any] | None = None,
        sequence_length: Tensor | None = None,
        presence: Mapping[str, Tensor] | None = None,
        edge_type: Tensor | None = None,
        edge_weight: Tensor | None = None,
        y: Tensor | None = None,
        class_names: Sequence[str] | None = None,
        positive_class: int | None = None,
        train_mask: Tensor | None = None,
        val_mask: Tensor | None = None,
        test_mask: Tensor | None = None,
        node_id: Sequence[str] | None = None,
        numeric_names: Sequence[str] | None = None,
        categorical_names: Sequence[str] | None = None,
        categorical_vocabs: Sequence[Sequence[str]] | None = None,
        relation_names: Sequence[str] | None = None,
        name: str | None = None,
        image_root: str | None = None,
        sequence_names: Sequence[str] | None = None,
        sequence_sizes: Sequence[int] | None = None,
        validate: bool = True,
        **kwargs: Any,
    ) -> None:
        meta = dict(kwargs.pop("meta", None) or {})
        _warn_of_misspelt_fields(kwargs)
        edge_index, edge_type, edge_weight, y = map(
            _from_numpy, (edge_index, edge_type, edge_weight, y)
        )
        image, numeric, categorical, sequence, sequence_length = map(
            _from_numpy, (image, numeric, categorical, sequence, sequence_length)
        )
        train_mask, val_mask, test_mask = map(_from_numpy, (train_mask, val_mask, test_mask))
        super().__init__(edge_index=edge_index, y=y, **kwargs)
        self.meta = meta
        if sequence is not None and not isinstance(sequence, Tensor):
            sequence, ragged_length = pad_sequences(sequence)
            sequence_length = ragged_length if sequence_length is None else sequence_length
        elif isinstance(sequence, Tensor) and sequence_length is None and sequence.dim() == 3:
            sequence_length = torch.full((sequence.size(0),), sequence.size(1), dtype=torch.long)
        given = {
            "text": text,
            "image": image,
            "numeric": numeric,
            "categorical": categorical,
            "sequence": sequence,
            "sequence_length": sequence_length,
            "edge_type": edge_type,
            "edge_weight": edge_weight,
            "train_mask": train_mask,
            "val_mask": val_mask,
            "test_mask": test_mask,
            "node_id": node_id,
        }
        for key, value in given.items():
            if value is not None:
                if key == "text":
                    value = [_normalise_text(v) for v in value]
                elif key == "node_id":
                    value = [str(v) for v in value]
                elif key == "image" and not isinstance(value, Tensor):
                    value = [None if v is None or v == "" else str(v) for v in value]
                setattr(self, key, value)
        meta_given: tuple[tuple[str, Any], ...] = (
            ("name", name),
            ("class_names", class_names),
            ("positive_class", positive_class),
            ("numeric_names", numeric_names),
            ("categorical_names", categorical_names),
            ("categorical_vocabs", categorical_vocabs),
            ("relation_names", relation_names),
            ("image_root", image_root),
            ("sequence_names", sequence_names),
            ("sequence_sizes", sequence_sizes),
        )
        for key, value in meta_given:
            if value is not None:
                if key in (
                    "class_names",
                    "numeric_names",
                    "categorical_names",
                    "relation_names",
                    "sequence_names",
                ):
                    value = [str(v) for v in value]
                elif key == "sequence_sizes":
                    value = [int(v) for v in value]
                elif key == "categorical_vocabs":
                    value = [[str(v) for v in vocab] for vocab in value]
                setattr(self, key, value)

        has_content = any(v is not None for v in (edge_index, y, num_nodes, *given.values()))
        if not has_content:
            return  # Built empty by PyG internals (collate, copy, from_dict, ...).

        n = num_nodes if num_nodes is not None else self._infer_num_nodes()
        self.num_nodes = n
        if presence is not None:
            for key, mask in presence.items():
                if key not in MODALITY_FIELDS:
                    raise ValueError(
                        f"Unknown modality {key!r} in 'presence' "
                        f"(expected one of {MODALITY_FIELDS})"
                    )
                setattr(self, f"{key}_present", mask)
        for modality in self.modalities:
            if f"{modality}_present" not in self:
                setattr(self, f"{modality}_present", self._derive_presence(modality))
        if validate:
            self.validate()

    # ------------------------------------------------------------------ fields
    @property
    def meta(self) -> dict[str, Any]:
        """Graph-level metadata (names, vocabularies), not selected by ``subgraph``."""
        meta = self._store.get("meta")
        return meta if meta is not None else {}

    @meta.setter
    def meta(self, value: dict[str, Any]) -> None:
        self._store["meta"] = dict(value)

    @property
    def modalities(self) -> list[str]:
        """The modalities this graph holds, in canonical order."""
        return [m for m in MODALITY_FIELDS if getattr(self, m, None) is not None]

    @property
    def num_classes(self) -> int:
        """Number of classes (from ``class_names``, else the largest label + 1)."""
        if self.class_names is not None:
            return len(self.class_names)
        y = getattr(self, "y", None)
        if y is None or y.numel() == 0:
            return 0
        return int(y.max()) + 1

    @property
    def num_relations(self) -> int:
        """Number of relations (edge types); 1 when edges are untyped."""
        if self.relation_names is not None:
            return len(self.relation_names)
        edge_type = getattr(self, "edge_type", None)
        if edge_type is None or edge_type.numel() == 0:
            return 1
        return int(edge_type.max()) + 1

    def presence_mask(self, modality: str) -> Tensor:
        """The bool mask ``[N]`` of nodes that have ``modality``."""
        if modality not in MODALITY_FIELDS:
            raise ValueError(f"Unknown modality {modality!r} (expected one of {MODALITY_FIELDS})")
        mask = getattr(self, f"{modality}_present", None)
        if mask is None:
            return torch.zeros(self.num_nodes or 0, dtype=torch.bool)
        return mask

    def _infer_num_nodes(self) -> int:
        sizes = {
            key: len(value)
            for key in (*MODALITY_FIELDS, "y", "node_id")
            if (value := getattr(self, key, None)) is not None
        }
        if len(set(sizes.values())) > 1:
            listed = ", ".join(f"'{key}' {size}" for key, size in sizes.items())
            raise ValueError(
                f"The node-level fields disagree on the number of nodes ({listed}): give each "
                "one entry per node (None for a node without it)"
            )
        if sizes:
            return next(iter(sizes.values()))
        edge_index = getattr(self, "edge_index", None)
        if isinstance(edge_index, Tensor) and edge_index.numel() > 0:
            if edge_index.is_floating_point():
                raise TypeError(
                    f"Expected 'edge_index' to be of integer type (got '{edge_index.dtype}')"
                )
            return int(edge_index.max()) + 1
        return 0

    @property
    def sequence_views(self) -> dict[str, int]:
        """Each view of the sequence steps and its number of values, in step order.

        From ``sequence_names`` and ``sequence_sizes``; by default one view ``sequence_<j>``
        per value. Empty without a sequence.
        """
        sequence = getattr(self, "sequence", None)
        if not isinstance(sequence, Tensor) or sequence.dim() != 3:
            return {}
        names, sizes = self.sequence_names, self.sequence_sizes
        if names is None:
            return {f"sequence_{j}": 1 for j in range(sequence.size(2))}
        return dict(zip(names, sizes if sizes is not None else [1] * len(names)))

    def sequence_mask(self) -> Tensor:
        """The bool mask ``[N, T]`` of the sequence steps each node has (``t < length``)."""
        sequence = getattr(self, "sequence", None)
        if sequence is None:
            raise ValueError("The graph has no 'sequence' modality")
        return step_mask(self.sequence_length, sequence.size(1))

    def _derive_presence(self, modality: str) -> Tensor:
        value = getattr(self, modality)
        n = self.num_nodes
        if modality == "sequence":
            length = getattr(self, "sequence_length", None)
            if not isinstance(value, Tensor) or value.dim() != 3 or not isinstance(length, Tensor):
                raise ValueError(
                    f"Expected 'sequence' to be a float tensor of shape [N, T, d] with "
                    f"'sequence_length' [N] (got {type(value).__name__} of shape "
                    f"{list(getattr(value, 'shape', []))}); add a last dimension with "
                    "x.unsqueeze(-1) for one value per step"
                )
            return length > 0
        if modality == "text":
            return torch.tensor([_has_text(v) for v in value], dtype=torch.bool)
        if modality == "image":
            if isinstance(value, Tensor):
                return torch.ones(n, dtype=torch.bool)
            return torch.tensor([v is not None for v in value], dtype=torch.bool)
        if modality == "numeric":
            if not isinstance(value, Tensor) or value.dim() != 2:
                raise ValueError(
                    f"Expected 'numeric' to be a float tensor of shape [N, F] "
                    f"(got {type(value).__name__} of shape {getattr(value, 'shape', None)})"
                )
            return (
                ~torch.isnan(value.float()).all(dim=1)
                if value.size(1)
                else torch.zeros(n, dtype=torch.bool)
            )
        if not isinstance(value, Tensor) or value.dim() != 2:
            raise ValueError(
                f"Expected 'categorical' to be an integer tensor of shape [N, C] "
                f"(got {type(value).__name__} of shape {getattr(value, 'shape', None)})"
            )
        return (value != MISSING_CODE).any(dim=1)

    # -------------------------------------------------------------- validation
    def validate(self, raise_on_error: bool = True) -> bool:
        """Check the graph; raise a :class:`ValueError` or :class:`TypeError` naming the fix.

        Checks: a non-empty node set, integer ``edge_index`` of shape ``[2, E]`` with ids in
        ``[0, N)``, node fields of length ``N``, relation ids and finite edge weights of
        length ``E``, labels in range, categorical codes in their vocabularies, unique node
        ids, bool masks.
        """
        n = self.num_nodes
        if n is None or n <= 0:
            raise ValueError(
                "The graph is empty (0 nodes): give at least one node through a modality, "
                "labels, 'node_id' or 'num_nodes'"
            )
        self._validate_edges(n)
        for key in (*MODALITY_FIELDS, "sequence_length", "node_id"):
            value = getattr(self, key, None)
            if value is not None and len(value) != n:
                raise ValueError(
                    f"Expected '{key}' to hold one entry per node ({n}) (got {len(value)}); "
                    "node fields must all have the same length"
                )
        self._validate_modalities(n)
        self._validate_sequence(n)
        self._validate_labels(n)
        for key in (
            "train_mask",
            "val_mask",
            "test_mask",
            *(f"{m}_present" for m in MODALITY_FIELDS),
        ):
            mask = getattr(self, key, None)
            if mask is None:
                continue
            if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
                raise TypeError(
                    f"Expected '{key}' to be a bool tensor (got "
                    f"{getattr(mask, 'dtype', type(mask).__name__)}); use `mask.bool()`"
                )
            if mask.shape != (n,):
                raise ValueError(f"Expected '{key}' to have shape [{n}] (got {list(mask.shape)})")
        node_id = getattr(self, "node_id", None)
        if node_id is not None and len(set(node_id)) != len(node_id):
            seen: set[str] = set()
            dup = next(i for i in node_id if i in seen or seen.add(i))  # type: ignore[func-returns-value]
            raise ValueError(
                f"Duplicate node id {dup!r} in 'node_id': every node id must be unique"
            )
        return True

    def _validate_edges(self, n: int) -> None:
        edge_index = getattr(self, "edge_index", None)
        if edge_index is None:
            num_edges = 0
        else:
            check_edge_index(edge_index, int(n))
            num_edges = edge_index.size(1)
        edge_type = getattr(self, "edge_type", None)
        if edge_type is not None:
            if edge_type.is_floating_point():
                raise TypeError(
                    f"Expected 'edge_type' to be of integer type (got '{edge_type.dtype}')"
                )
            if edge_type.shape != (num_edges,):
                raise ValueError(
                    f"Expected 'edge_type' to have shape [{num_edges}] (one per edge) "
                    f"(got {list(edge_type.shape)})"
                )
            if num_edges:
                r = self.num_relations
                lo, hi = int(edge_type.min()), int(edge_type.max())
                if lo < 0 or hi >= r:
                    raise ValueError(
                        f"Found relation id {lo if lo < 0 else hi} in 'edge_type' but there are "
                        f"{r} "
                        f"relations: relation ids must be in [0, {r})"
                    )
        edge_weight = getattr(self, "edge_weight", None)
        if edge_weight is not None:
            if not edge_weight.is_floating_point():
                raise TypeError(
                    f"Expected 'edge_weight' to be a float tensor (got '{edge_weight.dtype}')"
                )
            if edge_weight.shape != (num_edges,):
                raise ValueError(
                    f"Expected 'edge_weight' to have shape [{num_edges}] (one per edge) "
                    f"(got {list(edge_weight.shape)})"
                )
            bad = ~torch.isfinite(edge_weight)
            if bool(bad.any()):
                raise ValueError(
                    f"Found {int(bad.sum())} NaN or infinite edge weights (first at edge "
                    f"{int(bad.nonzero()[0])}): fill or drop them before building the graph"
                )

    def _validate_modalities(self, n: int) -> None:
        image = getattr(self, "image", None)
        if isinstance(image, Tensor) and image.dim() != 4:
            raise ValueError(
                f"Expected 'image' to be a tensor of shape [N, C, H, W] (got {list(image.shape)})"
            )
        if isinstance(image, Tensor) and image.is_floating_point() and image.numel():
            bad = ~torch.isfinite(image.flatten(1)).all(dim=1)
            present = getattr(self, "image_present", None)
            if isinstance(present, Tensor) and present.shape == bad.shape:
                bad &= present.bool()  # an absent image's pixels are never read
            if bool(bad.any()):
                raise ValueError(
                    f"Found NaN or infinite pixels in {int(bad.sum())} of the images in "
                    "'image': fill them, or mark those nodes as lacking an image "
                    "(presence={'image': mask})"
                )
        numeric = getattr(self, "numeric", None)
        if numeric is not None:
            if not isinstance(numeric, Tensor) or not numeric.is_floating_point():
                raise TypeError(
                    "Expected 'numeric' to be a float tensor with NaN for missing values "
                    f"(got {getattr(numeric, 'dtype', type(numeric).__name__)})"
                )
            if numeric.dim() != 2:
                raise ValueError(
                    f"Expected 'numeric' to have shape [N, F] (got {list(numeric.shape)})"
                )
            if bool(torch.isinf(numeric).any()):
                raise ValueError(
                    "Found infinite values in 'numeric': use NaN for missing values and clip "
                    "or drop the infinite ones"
                )
            names = self.numeric_names
            if names is not None and len(names) != numeric.size(1):
                raise ValueError(
                    f"Expected {numeric.size(1)} 'numeric_names' (one per column) "
                    f"(got {len(names)})"
                )
        categorical = getattr(self, "categorical", None)
        if categorical is not None:
            if not isinstance(categorical, Tensor) or categorical.is_floating_point():
                raise TypeError(
                    "Expected 'categorical' to be an integer tensor of codes (got "
                    f"{getattr(categorical, 'dtype', type(categorical).__name__)})"
                )
            if categorical.dim() != 2:
                raise ValueError(
                    f"Expected 'categorical' to have shape [N, C] (got {list(categorical.shape)})"
                )
            if categorical.numel() and int(categorical.min()) < 0:
                raise ValueError(
                    f"Found negative categorical code {int(categorical.min())}: code "
                    f"{MISSING_CODE} marks a missing value, codes start at 0"
                )
            vocabs = self.categorical_vocabs
            if vocabs is not None:
                if len(vocabs) != categorical.size(1):
                    raise ValueError(
                        f"Expected {categorical.size(1)} 'categorical_vocabs' (one per column) "
                        f"(got {len(vocabs)})"
                    )
                for c, vocab in enumerate(vocabs):
                    if categorical.numel() and int(categorical[:, c].max()) > len(vocab):
                        raise ValueError(
                            f"Found code {int(categorical[:, c].max())} in categorical column {c} "
                            f"whose vocabulary has {len(vocab)} values (codes 1..{len(vocab)}, "
                            f"{MISSING_CODE} for missing)"
                        )
            names = self.categorical_names
            if names is not None and len(names) != categorical.size(1):
                raise ValueError(
                    f"Expected {categorical.size(1)} 'categorical_names' (one per column) "
                    f"(got {len(names)})"
                )

    def _validate_sequence(self, n: int) -> None:
        sequence = getattr(self, "sequence", None)
        if sequence is None:
            return
        if not isinstance(sequence, Tensor) or not sequence.is_floating_point():
            raise TypeError(
                "Expected 'sequence' to be a float tensor [N, T, d] (got "
                f"{getattr(sequence, 'dtype', type(sequence).__name__)}); use `x.float()`"
            )
        if sequence.dim() != 3:
            raise ValueError(
                f"Expected 'sequence' to have shape [N, T, d] (got {list(sequence.shape)}); add "
                "a last dimension with x.unsqueeze(-1) for one value per step"
            )
        length = getattr(self, "sequence_length", None)
        if (
            not isinstance(length, Tensor)
            or length.is_floating_point()
            or length.dtype == torch.bool
        ):
            raise TypeError(
                "Expected 'sequence_length' to be an integer tensor [N] of step counts (got "
                f"{getattr(length, 'dtype', type(length).__name__)})"
            )
        if length.shape != (n,):
            raise ValueError(
                f"Expected 'sequence_length' to have shape [{n}] (got {list(length.shape)})"
            )
        steps = sequence.size(1)
        if n and (int(length.min()) < 0 or int(length.max()) > steps):
            bad = int(length.min()) if int(length.min()) < 0 else int(length.max())
            raise ValueError(
                f"Found sequence length {bad} but the sequence has {steps} steps: lengths must "
                f"be in [0, {steps}]"
            )
        valid = step_mask(length, steps)
        finite = torch.isfinite(sequence).all(dim=2)
        bad_steps = valid & ~finite
        if bool(bad_steps.any()):
            node, step = (int(v) for v in bad_steps.nonzero()[0])
            raise ValueError(
                f"Found NaN or infinite values in 'sequence' at node {node}, step {step}: fill "
                "them or drop the step (steps are only counted up to 'sequence_length')"
            )
        present = getattr(self, "sequence_present", None)
        if isinstance(present, Tensor) and present.shape == (n,):
            if bool((present.bool() & (length == 0)).any()):
                node = int((present.bool() & (length == 0)).nonzero()[0])
                raise ValueError(
                    f"Node {node} is marked present in 'sequence_present' but has no step "
                    "(sequence_length 0): give it steps or mark it absent"
                )
        names, sizes = self.sequence_names, self.sequence_sizes
        if sizes is not None and names is None:
            raise ValueError("'sequence_sizes' is set without 'sequence_names': name the views")
        if names is not None:
            sizes = sizes if sizes is not None else [1] * len(names)
            if len(sizes) != len(names) or any(s < 1 for s in sizes):
                raise ValueError(
                    f"Expected one positive size per sequence view (got names {names} and "
                    f"sizes {sizes})"
                )
            if sum(sizes) != sequence.size(2):
                raise ValueError(
                    f"Expected the sequence views {dict(zip(names, sizes))} to hold the "
                    f"{sequence.size(2)} values of a step (they hold {sum(sizes)}): fix "
                    "'sequence_sizes'"
                )
            bad_names = [v for v in names if not v or "." in v]
            if bad_names or len(set(names)) != len(names):
                raise ValueError(
                    f"Expected distinct, non-empty sequence view names without dots (got {names})"
                )

    def _validate_labels(self, n: int) -> None:
        y = getattr(self, "y", None)
        if y is None:
            return
        if not isinstance(y, Tensor) or y.is_floating_point() or y.dtype == torch.bool:
            raise TypeError(
                f"Expected 'y' to be an integer tensor of class ids (got "
                f"{getattr(y, 'dtype', type(y).__name__)}); map class names to ids first"
            )
        if y.shape != (n,):
            raise ValueError(
                f"Expected 'y' to have shape [{n}] (one label per node) (got {list(y.shape)})"
            )
        if y.numel() == 0:
            return
        k = self.num_classes
        lo, hi = int(y.min()), int(y.max())
        if lo < UNLABELLED:
            raise ValueError(
                f"Found label {lo}: labels must be in [0, {k}) or {UNLABELLED} for unlabelled"
            )
        if self.class_names is not None and hi >= k:
            raise ValueError(
                f"Found label {hi} but there are {k} classes {self.class_names}: labels must be "
                f"in [0, {k}) or {UNLABELLED} for unlabelled"
            )
        pos = self.positive_class
        if pos is not None and not 0 <= pos < max(k, 1):
            raise ValueError(f"Expected 'positive_class' in [0, {k}) (got {pos})")

    # ---------------------------------------------------------------- helpers
    def set_split(
        self,
        train: float = 0.6,
        val: float = 0.2,
        test: float = 0.2,
        seed: int = 0,
        replace: bool = False,
    ) -> MultimodalGraph:
        """Set seeded, stratified ``train_mask``/``val_mask``/``test_mask`` in place.

        Unlabelled nodes (``y == -1``) fall in no split. Returns the graph itself, not a
        copy: for several splits side by side call it on copies
        (``[graph.clone().set_split(seed=s, replace=True) for s in range(5)]``).

        Args:
            train (float, optional): The fraction of each class's labelled nodes in
                ``train_mask``. (default: :obj:`0.6`)
            val (float, optional): The fraction in ``val_mask``. (default: :obj:`0.2`)
            test (float, optional): The fraction in ``test_mask``. (default: :obj:`0.2`)
            seed (int, optional): The seed of the draw. (default: :obj:`0`)
            replace (bool, optional): Replace the graph's masks without a warning. A graph
                that already has a split (a card's own, or an earlier call's) warns
                otherwise, since the masks it had are lost. (default: :obj:`False`)
        """
        from mmgraph.data.split import stratified_split

        y = getattr(self, "y", None)
        if y is None:
            raise ValueError("The graph has no labels 'y' to stratify on; use `random_split` masks")
        if not replace and getattr(self, "train_mask", None) is not None:
            warnings.warn(
                "`set_split` replaces the split this graph already has (a card's own split "
                "or an earlier `set_split`), in place: the graph it returns is the same "
                "object. To keep both, call it on a copy, `graph.clone().set_split(..., "
                "replace=True)`; `replace=True` says the replacement is meant",
                UserWarning,
                stacklevel=2,
            )
        self.train_mask, self.val_mask, self.test_mask = stratified_split(
            y, train=train, val=val, test=test, seed=seed
        )
        return self

    def label_name(self, label: int) -> str:
        """The class name of label ``label`` (its number when there are no names)."""
        if self.class_names is not None and 0 <= label < len(self.class_names):
            return self.class_names[label]
        return str(label)

    def __repr__(self) -> str:
        parts = [f"num_nodes={self.num_nodes}"]
        edge_index = getattr(self, "edge_index", None)
        parts.append(f"num_edges={0 if edge_index is None else edge_index.size(1)}")
        for m in self.modalities:
            present = int(self.presence_mask(m).sum())
            value = getattr(self, m)
            shape = list(value.shape) if isinstance(value, Tensor) else [len(value)]
            parts.append(f"{m}={shape} ({present} present)")
        if self.num_relations > 1:
            parts.append(f"num_relations={self.num_relations}")
        if getattr(self, "y", None) is not None:
            parts.append(f"num_classes={self.num_classes}")
        name = f"name={self.name!r}, " if self.name else ""
        return f"{self.__class__.__name__}({name}{', '.join(parts)})"
