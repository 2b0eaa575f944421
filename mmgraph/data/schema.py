"""The column layout a model was trained on, and conforming new graphs to it."""

from __future__ import annotations

import copy
import dataclasses
import math
import warnings

import torch

from mmgraph.config import ConfigBase
from mmgraph.data.graph import MISSING_CODE, UNLABELLED, MultimodalGraph
from mmgraph.errors import names_preview


@dataclasses.dataclass
class GraphSchema(ConfigBase):
    """Names and vocabularies that give a graph's tensors their meaning.

    A model trained on one graph reads column ``j`` of ``numeric`` as the ``j``-th numeric
    name and code ``k`` of a categorical column as the ``k``-th value of its vocabulary. A
    new graph (read from another file, where vocabularies are rebuilt from that file's values)
    must be mapped onto the same layout before the model sees it: :func:`conform` does that.
    """

    modalities: list[str] = dataclasses.field(default_factory=list)
    numeric_names: list[str] | None = None
    categorical_names: list[str] | None = None
    categorical_vocabs: list[list[str]] | None = None
    relation_names: list[str] | None = None
    class_names: list[str] | None = None
    positive_class: int | None = None
    sequence_views: dict[str, int] | None = None

    @classmethod
    def of(cls, graph: MultimodalGraph) -> GraphSchema:
        """The schema of ``graph``."""
        numeric = getattr(graph, "numeric", None)
        categorical = getattr(graph, "categorical", None)
        numeric_names = graph.numeric_names
        if numeric is not None and numeric_names is None:
            numeric_names = [f"numeric_{i}" for i in range(numeric.size(1))]
        categorical_names = graph.categorical_names
        if categorical is not None and categorical_names is None:
            categorical_names = [f"categorical_{i}" for i in range(categorical.size(1))]
        vocabs = graph.categorical_vocabs
        if categorical is not None and vocabs is None:
            vocabs = [
                [str(k) for k in range(1, int(categorical[:, c].max()) + 1)]
                for c in range(categorical.size(1))
            ]
        relation_names = graph.relation_names
        if relation_names is None and getattr(graph, "edge_type", None) is not None:
            relation_names = [str(r) for r in range(graph.num_relations)]
        class_names = graph.class_names
        if class_names is None and getattr(graph, "y", None) is not None:
            class_names = [str(k) for k in range(graph.num_classes)]
        return cls(
            modalities=list(graph.modalities),
            numeric_names=numeric_names,
            categorical_names=categorical_names,
            categorical_vocabs=vocabs,
            relation_names=relation_names,
            class_names=class_names,
            positive_class=graph.positive_class,
            sequence_views=graph.sequence_views or None,
        )


def conform(graph: MultimodalGraph, schema: GraphSchema) -> MultimodalGraph:
    """Return a shallow copy of ``graph`` laid out as ``schema``.

    Numeric columns are reordered by name (a column the schema has but the graph lacks is
    an error naming it; extra columns are dropped); categorical codes are remapped by value
    (values the training vocabulary never saw are appended to it, so their codes lie past
    the trained cardinality, which the :class:`~mmgraph.encoders.AttributeEncoder` reads as
    "unknown"); relations are remapped
    by name (an unknown relation is an error); labels are remapped by class name (a class
    the schema lacks is an error); sequence views are reordered by name (a view the schema
    has but the graph lacks is an error; a graph without a sequence gets an absent one).
    Modalities the schema lacks are dropped.
    """
    out = copy.copy(graph)
    for m in graph.modalities:
        if m not in schema.modalities:
            delattr(out, m)
            delattr(out, f"{m}_present")
            if m == "sequence":
                del out.sequence_length
    missing = [m for m in schema.modalities if m not in graph.modalities]
    n = graph.num_nodes
    if "numeric" in missing or "categorical" in missing:
        # An absent attribute modality is all missing: the model's encoders handle that.
        if "numeric" in missing and schema.numeric_names is not None:
            out.numeric = torch.full((n, len(schema.numeric_names)), math.nan)
            out.numeric_names = list(schema.numeric_names)
            out.numeric_present = torch.zeros(n, dtype=torch.bool)
        if "categorical" in missing and schema.categorical_names is not None:
            out.categorical = torch.zeros(n, len(schema.categorical_names), dtype=torch.long)
            out.categorical_names = list(schema.categorical_names)
            out.categorical_vocabs = [list(v) for v in schema.categorical_vocabs or []]
            out.categorical_present = torch.zeros(n, dtype=torch.bool)
    if "sequence" in missing and schema.sequence_views:
        out.sequence = torch.zeros(n, 1, sum(schema.sequence_views.values()))
        out.sequence_length = torch.zeros(n, dtype=torch.long)
        out.sequence_present = torch.zeros(n, dtype=torch.bool)
    if "sequence" in graph.modalities and schema.sequence_views:
        index = _view_index(graph.sequence_views, schema.sequence_views)
        out.sequence = graph.sequence[:, :, index]
    if schema.sequence_views and getattr(out, "sequence", None) is not None:
        out.sequence_names = list(schema.sequence_views)
        out.sequence_sizes = list(schema.sequence_views.values())
    if "numeric" in graph.modalities and schema.numeric_names is not None:
        names = GraphSchema.of(graph).numeric_names or []
        index = _column_index(names, schema.numeric_names, "numeric")
        out.numeric = graph.numeric[:, index]
        out.numeric_names = list(schema.numeric_names)
    if "categorical" in graph.modalities and schema.categorical_names is not None:
        own = GraphSchema.of(graph)
        index = _column_index(own.categorical_names or [], schema.categorical_names, "categorical")
        columns, vocabs = [], []
        for c, j in enumerate(index):
            source = (own.categorical_vocabs or [])[j]
            known = list((schema.categorical_vocabs or [])[c])
            # Values the training vocabulary lacks are appended (no value is lost); their
            # codes lie past the trained cardinality, which the encoder reads as "unknown".
            new = sorted(set(source) - set(known))
            vocab = known + new
            lookup = {v: k + 1 for k, v in enumerate(vocab)}
            table = torch.tensor([MISSING_CODE] + [lookup[v] for v in source], dtype=torch.long)
            columns.append(table[graph.categorical[:, j]])
            vocabs.append(vocab)
            unseen = int((columns[-1] > len(known)).sum())
            if unseen:
                shown = ", ".join(repr(v) for v in new[:5]) + (", ..." if len(new) > 5 else "")
                warnings.warn(
                    f"{unseen} node{'s' * (unseen != 1)} of the categorical column "
                    f"{schema.categorical_names[c]!r} hold values the training data never had "
                    f"({shown}): the model reads them as unknown",
                    stacklevel=2,
                )
        out.categorical = torch.stack(columns, dim=1) if columns else graph.categorical[:, :0]
        out.categorical_names = list(schema.categorical_names)
        out.categorical_vocabs = vocabs
    if getattr(graph, "edge_type", None) is not None and schema.relation_names is not None:
        own_rel = GraphSchema.of(graph).relation_names or []
        codes = _known_codes(own_rel, schema.relation_names, "relations")
        table = torch.tensor(codes, dtype=torch.long)
        out.edge_type = table[graph.edge_type]
        out.relation_names = list(schema.relation_names)
    if getattr(graph, "y", None) is not None and schema.class_names is not None:
        own_cls = GraphSchema.of(graph).class_names or []
        codes = _known_codes(own_cls, schema.class_names, "classes")
        table = torch.tensor(codes + [UNLABELLED], dtype=torch.long)
        out.y = table[graph.y]  # label -1 indexes the trailing UNLABELLED entry
        out.class_names = list(schema.class_names)
        out.positive_class = schema.positive_class
    out.validate()
    return out


def _known_codes(own: list[str], known: list[str], what: str) -> list[int]:
    """The code in ``known`` of each name in ``own``; an error names those it lacks."""
    unknown = sorted(set(own) - set(known))
    if unknown:
        fix = ": drop or rename those edges" if what == "relations" else ""
        raise ValueError(
            f"The graph has {what} {unknown} the model was not trained on (it knows {known}){fix}"
        )
    return [known.index(name) for name in own]


def _view_index(have: dict[str, int], want: dict[str, int]) -> list[int]:
    """The value positions of the views ``want`` in a step laid out as ``have``."""
    wrong = [v for v, d in want.items() if have.get(v) != d]
    if wrong:
        raise ValueError(
            f"The graph's sequence views {have} lack the views {wrong} the model was trained "
            f"on (views and their sizes: {want}); give the sequence those views"
        )
    start, offset = {}, 0
    for view, size in have.items():
        start[view] = offset
        offset += size
    return [start[v] + k for v, d in want.items() for k in range(d)]


def _column_index(have: list[str], want: list[str], what: str) -> list[int]:
    position: dict[str, int] = {}
    for i, name in enumerate(have):
        position.setdefault(name, i)  # the first, as list.index
    lacking = [name for name in want if name not in position]
    if lacking:
        raise ValueError(
            f"The graph lacks the {what} columns {names_preview(lacking)} the model was "
            f"trained on (it has {names_preview(have)}); add them (empty values count as "
            "missing)"
        )
    return [position[name] for name in want]
