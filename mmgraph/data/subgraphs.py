"""Subgraph classification data sets: labelled node sets over one base graph."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from mmgraph.data.graph import SPLIT_MASKS, UNLABELLED, MultimodalGraph, labelled_rows
from mmgraph.data.split import SPLIT_NAMES
from mmgraph.data.summary import label_counts, split_sizes, summarize_graph

_SPLIT_ALIASES = {"train": "train", "val": "val", "valid": "val", "test": "test"}


def parse_split(value: Any, where: str) -> str | None:
    """Map a split cell (``train``/``val``/``valid``/``test``, empty for none) to its name.

    Args:
        value (Any): The cell value; :obj:`None`, NaN and empty strings mean no split.
        where (str): Where the value comes from, for the error message.

    Raises:
        ValueError: For any other value, naming the valid ones.
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    if not text:
        return None
    name = _SPLIT_ALIASES.get(text.lower())
    if name is None:
        raise ValueError(
            f"Unknown split {text!r} in {where}: valid values are 'train', 'val' (or 'valid'), "
            "'test', or an empty cell for none"
        )
    return name


def sort_labels(values: Sequence[Any]) -> list[str]:
    """Sorted unique label values as strings: numerically when all are integers, else by text."""
    unique = {str(v).strip() for v in values}
    if all(_is_int(v) for v in unique):
        return sorted(unique, key=int)
    return sorted(unique)


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


@dataclass(eq=False)
class SubgraphDataset:
    """Labelled node sets (subgraphs) of one base graph, for subgraph or graph classification.

    With ``whole_graphs=True`` the base graph is the disjoint union of many small graphs
    (a TU data set) and subgraph ``i`` is the node set of graph ``i``.

    Args:
        graph (MultimodalGraph): The base graph the node ids refer to.
        subgraphs (list[torch.Tensor]): Node ids of each subgraph (long ``[n_i]``, non-empty,
            in ``[0, N)``).
        y (torch.Tensor): Class id of each subgraph (long ``[S]``), ``-1`` for unlabelled;
            or, for a multi-label data set (a subgraph may have several labels, as in
            SubGNN's HPO-NEURO), a 0/1 row per subgraph (long ``[S, C]``), all ``-1`` for
            unlabelled.
        class_names (list[str], optional): Name of each class (label). (default: :obj:`None`)
        train_mask, val_mask, test_mask (torch.Tensor, optional): Bool masks ``[S]`` over the
            subgraphs. (default: :obj:`None`)
        folds (list[tuple[torch.Tensor, torch.Tensor]], optional): Cross-validation folds as
            ``(train_idx, test_idx)`` pairs of subgraph indices. (default: :obj:`None`)
        whole_graphs (bool, optional): Whether every subgraph is a whole connected graph of a
            disjoint union. (default: :obj:`False`)
        name (str, optional): Name of the data set. (default: :obj:`None`)

    Shapes:
        N nodes in the base graph, S subgraphs.
    """

    graph: MultimodalGraph
    subgraphs: list[Tensor]
    y: Tensor
    class_names: list[str] | None = None
    train_mask: Tensor | None = None
    val_mask: Tensor | None = None
    test_mask: Tensor | None = None
    folds: list[tuple[Tensor, Tensor]] | None = field(default=None)
    whole_graphs: bool = False
    name: str | None = None

    def __post_init__(self) -> None:
        self.validate()

    # -------------------------------------------------------------- building
    @classmethod
    def from_lists(
        cls,
        graph: MultimodalGraph,
        node_sets: Sequence[Sequence[int] | Tensor],
        labels: Sequence[Any],
        split: Sequence[Any] | None = None,
        class_names: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> SubgraphDataset:
        """Build a data set from plain lists.

        Args:
            graph (MultimodalGraph): The base graph.
            node_sets (Sequence): Node ids of each subgraph.
            labels (Sequence): One label per subgraph: any values (class names, numbers);
                :obj:`None` or an empty string for unlabelled. A list, tuple or set of
                labels per subgraph makes a multi-label data set (``y`` of shape
                ``[S, C]``); an empty one is a subgraph with none of the labels.
            split (Sequence, optional): One of ``train``/``val``/``test`` (or empty) per
                subgraph. (default: :obj:`None`)
            class_names (Sequence[str], optional): The class order; label values must be
                among them. Default: the sorted label values (numerically when all are
                integers). (default: :obj:`None`)
            **kwargs: Further fields (``folds``, ``whole_graphs``, ``name``).
        """
        if len(labels) != len(node_sets):
            raise ValueError(
                f"Expected one label per subgraph ({len(node_sets)}) (got {len(labels)} labels)"
            )
        subgraphs = [_node_ids(nodes, i) for i, nodes in enumerate(node_sets)]
        y, names = _label_tensor(labels, class_names)
        masks: dict[str, Any] = {}
        if split is not None:
            if len(split) != len(node_sets):
                raise ValueError(
                    f"Expected one split value per subgraph ({len(node_sets)}) (got {len(split)})"
                )
            parsed = [parse_split(v, f"the split of subgraph {i}") for i, v in enumerate(split)]
            for name in SPLIT_NAMES:
                masks[f"{name}_mask"] = torch.tensor([p == name for p in parsed], dtype=torch.bool)
        return cls(
            graph=graph,
            subgraphs=subgraphs,
            y=y,
            class_names=names,
            **masks,
            **kwargs,
        )

    # ------------------------------------------------------------ validation
    def validate(self) -> None:
        """Check every field; raise a :class:`ValueError` or :class:`TypeError` naming the fix."""
        if not isinstance(self.graph, MultimodalGraph):
            raise TypeError(
                f"Expected 'graph' to be a MultimodalGraph (got {type(self.graph).__name__!r})"
            )
        n = self.graph.num_nodes or 0
        if not isinstance(self.subgraphs, list) or not self.subgraphs:
            raise ValueError("Expected 'subgraphs' to be a non-empty list of node id tensors")
        for i, nodes in enumerate(self.subgraphs):
            if (
                not isinstance(nodes, Tensor)
                or nodes.is_floating_point()
                or nodes.dtype == torch.bool
                or nodes.dim() != 1
            ):
                raise TypeError(
                    f"Expected subgraph {i} to be a 1-D integer tensor of node ids (got "
                    f"{getattr(nodes, 'dtype', type(nodes).__name__)} of shape "
                    f"{list(getattr(nodes, 'shape', []))})"
                )
            if nodes.numel() == 0:
                raise ValueError(f"Subgraph {i} is empty: every subgraph needs at least one node")
            lo, hi = int(nodes.min()), int(nodes.max())
            if lo < 0 or hi >= n:
                raise ValueError(
                    f"Subgraph {i} holds node id {lo if lo < 0 else hi} but the base graph has "
                    f"{n} nodes: node ids must be in [0, {n})"
                )
            unique, counts = torch.unique(nodes, return_counts=True)
            if unique.numel() < nodes.numel():
                raise ValueError(
                    f"Subgraph {i} lists node {int(unique[counts > 1][0])} "
                    f"{int(counts.max())} times: a subgraph is a set of nodes, list each once "
                    "(a repeated node would weigh more in the subgraph's pooling)"
                )
        s = len(self.subgraphs)
        if (
            not isinstance(self.y, Tensor)
            or self.y.is_floating_point()
            or self.y.dtype == torch.bool
        ):
            raise TypeError(
                f"Expected 'y' to be an integer tensor of class ids (got "
                f"{getattr(self.y, 'dtype', type(self.y).__name__)})"
            )
        if self.y.dim() == 2:
            self._validate_multi_label(s)
        elif self.y.shape != (s,):
            raise ValueError(
                f"Expected 'y' to have shape [{s}] (one label per subgraph) or [{s}, C] (0/1 "
                f"per subgraph and label, multi-label) (got {list(self.y.shape)})"
            )
        k = self.num_classes
        lo, hi = int(self.y.min()), int(self.y.max())
        if not self.multi_label and (lo < UNLABELLED or (self.class_names is not None and hi >= k)):
            raise ValueError(
                f"Found label {lo if lo < UNLABELLED else hi} but there are {k} classes: "
                f"labels must be in [0, {k}) or {UNLABELLED} for unlabelled"
            )
        for key in SPLIT_MASKS:
            mask = getattr(self, key)
            if mask is None:
                continue
            if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
                raise TypeError(
                    f"Expected '{key}' to be a bool tensor (got "
                    f"{getattr(mask, 'dtype', type(mask).__name__)})"
                )
            if mask.shape != (s,):
                raise ValueError(
                    f"Expected '{key}' to have shape [{s}] (one entry per subgraph) "
                    f"(got {list(mask.shape)})"
                )
        if self.folds is not None:
            for f, fold in enumerate(self.folds):
                if len(fold) != 2:
                    raise ValueError(
                        f"Expected fold {f} to be a (train_idx, test_idx) pair (got {len(fold)} "
                        "items)"
                    )
                for part, idx in zip(("train", "test"), fold):
                    if not isinstance(idx, Tensor) or idx.is_floating_point() or idx.dim() != 1:
                        raise TypeError(
                            f"Expected the {part} indices of fold {f} to be a 1-D integer tensor"
                        )
                    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= s):
                        raise ValueError(
                            f"Fold {f} has {part} index {int(idx.max())} out of range: indices "
                            f"must be in [0, {s}) (0-based subgraph indices)"
                        )
                overlap = set(fold[0].tolist()) & set(fold[1].tolist())
                if overlap:
                    raise ValueError(
                        f"Fold {f} has {len(overlap)} subgraphs in both its train and test "
                        f"indices (e.g. {min(overlap)}): a fold's parts must be disjoint"
                    )

    def _validate_multi_label(self, s: int) -> None:
        """Check a multi-label ``y`` ``[S, C]``: rows of 0/1, or all ``-1`` for unlabelled."""
        y = self.y
        if y.shape[0] != s or y.shape[1] < 1:
            raise ValueError(
                f"Expected a multi-label 'y' of shape [{s}, C] (one 0/1 row per subgraph, "
                f"C >= 1 labels) (got {list(y.shape)})"
            )
        if self.class_names is not None and len(self.class_names) != y.shape[1]:
            raise ValueError(
                f"Expected one class name per column of the multi-label 'y' ({y.shape[1]}) "
                f"(got {len(self.class_names)} names)"
            )
        unlabelled = (y == UNLABELLED).all(dim=1)
        bad = ~unlabelled & ~((y == 0) | (y == 1)).all(dim=1)
        if bool(bad.any()):
            row = int(bad.nonzero()[0])
            raise ValueError(
                f"Row {row} of the multi-label 'y' is {y[row].tolist()}: each row holds 0 or 1 "
                f"per label, or is all {UNLABELLED} for an unlabelled subgraph"
            )

    # ---------------------------------------------------------------- access
    def __len__(self) -> int:
        return len(self.subgraphs)

    @property
    def multi_label(self) -> bool:
        """Whether a subgraph may have several labels (``y`` of shape ``[S, C]``)."""
        return self.y.dim() == 2

    @property
    def labelled(self) -> Tensor:
        """Which subgraphs have a label: bool ``[S]``."""
        return labelled_rows(self.y)

    @property
    def num_classes(self) -> int:
        """Number of classes (labels) (from ``class_names``, else from ``y``)."""
        if self.class_names is not None:
            return len(self.class_names)
        if self.multi_label:
            return int(self.y.shape[1])
        return int(self.y.max()) + 1 if self.y.numel() else 0

    def sizes(self) -> Tensor:
        """Number of nodes of each subgraph (long ``[S]``)."""
        return torch.tensor([s.numel() for s in self.subgraphs], dtype=torch.long)

    def subgraph_index(self, index: Tensor | Sequence[int] | None = None) -> tuple[Tensor, Tensor]:
        """Concatenated node ids and the subgraph each belongs to, for pooling.

        Pool node embeddings ``h`` into subgraph embeddings with e.g.
        ``torch_geometric.utils.scatter(h[nodes], batch, dim=0, reduce="mean")``.

        Args:
            index (torch.Tensor or Sequence[int], optional): Which subgraphs, in which order
                (default: all).

        Returns:
            (nodes, batch): long ``[M]`` node ids, and long ``[M]`` positions in ``index``
            (``0 .. len(index) - 1``), where M is the total size of the selected subgraphs.
        """
        if index is None:
            chosen = self.subgraphs
        else:
            idx = index.tolist() if isinstance(index, Tensor) else list(index)
            for i in idx:
                if not 0 <= int(i) < len(self):
                    raise IndexError(f"Subgraph index {i} out of range for {len(self)} subgraphs")
            chosen = [self.subgraphs[int(i)] for i in idx]
        if not chosen:
            empty = torch.empty(0, dtype=torch.long)
            return empty, empty.clone()
        sizes = torch.tensor([s.numel() for s in chosen], dtype=torch.long)
        nodes = torch.cat(chosen)
        batch = torch.repeat_interleave(torch.arange(len(chosen)), sizes)
        return nodes, batch

    def summary(self) -> dict[str, Any]:
        """A JSON-serialisable summary (see :func:`mmgraph.data.summary.summarize`).

        ``name``, ``subgraphs``, ``whole_graphs``, ``subgraph_sizes`` (min/mean/max),
        ``labels`` (multi-label: the subgraphs with each label, and ``multi_label``: the
        mean labels a subgraph and how many have several), ``splits``, ``folds`` and the
        summary of the base ``graph``.
        """
        sizes = self.sizes().float()
        out: dict[str, Any] = {
            "name": self.name,
            "subgraphs": len(self),
            "whole_graphs": bool(self.whole_graphs),
            "subgraph_sizes": {
                "min": int(sizes.min()),
                "mean": round(float(sizes.mean()), 2),
                "max": int(sizes.max()),
            },
        }
        out.update(label_counts(self.y, self.class_names, self.num_classes))
        if self.multi_label:  # labels count the subgraphs with each; how many have several
            per_subgraph = self.y[self.labelled].sum(dim=1)
            out["multi_label"] = {
                "labels_per_subgraph": round(float(per_subgraph.float().mean()), 2),
                "with_several": int((per_subgraph > 1).sum()),
            }
        splits = split_sizes({s: getattr(self, f"{s}_mask") for s in SPLIT_NAMES})
        if splits:
            out["splits"] = splits
        if self.folds is not None:
            out["folds"] = {
                "count": len(self.folds),
                "train_sizes": sorted({int(tr.numel()) for tr, _ in self.folds}),
                "test_sizes": sorted({int(te.numel()) for _, te in self.folds}),
            }
        out["graph"] = summarize_graph(self.graph)
        return out

    def __repr__(self) -> str:
        parts = [f"num_subgraphs={len(self)}", f"num_classes={self.num_classes}"]
        if self.multi_label:
            parts.append("multi_label=True")
        parts.append(f"num_nodes={self.graph.num_nodes}")
        if self.folds is not None:
            parts.append(f"folds={len(self.folds)}")
        if self.whole_graphs:
            parts.append("whole_graphs=True")
        name = f"name={self.name!r}, " if self.name else ""
        return f"{self.__class__.__name__}({name}{', '.join(parts)})"


def _label_tensor(
    labels: Sequence[Any], class_names: Sequence[str] | None
) -> tuple[Tensor, list[str]]:
    """The labels as a tensor, and the class names.

    Class ids ``[S]`` for one label per subgraph, or 0/1 rows ``[S, C]`` for label sets.
    """
    multi = any(isinstance(v, (list, tuple, set, frozenset)) for v in labels)
    if multi:
        sets: list[list[str] | None] = []
        for i, v in enumerate(labels):
            if v is None:
                sets.append(None)
            elif isinstance(v, (list, tuple, set, frozenset)):
                sets.append([str(t).strip() for t in v if str(t).strip()])
            else:
                raise ValueError(
                    f"Subgraph {i} has the label {v!r} but others have label lists: give every "
                    "subgraph a list of labels (multi-label) or one label each"
                )
        found = [t for one in sets if one is not None for t in one]
    else:
        texts = [None if v is None or str(v).strip() == "" else str(v).strip() for v in labels]
        found = [t for t in texts if t is not None]
    names = sort_labels(found) if class_names is None else [str(c) for c in class_names]
    index = {c: i for i, c in enumerate(names)}

    def class_of(t: str, i: int) -> int:
        if t not in index:
            raise ValueError(
                f"Label {t!r} of subgraph {i} is not one of the classes {names}: add it to "
                "'class_names' or fix the label"
            )
        return index[t]

    if not multi:
        y = [UNLABELLED if t is None else class_of(t, i) for i, t in enumerate(texts)]
        return torch.tensor(y, dtype=torch.long), names
    rows = torch.zeros(len(sets), max(len(names), 1), dtype=torch.long)
    for i, one in enumerate(sets):
        if one is None:
            rows[i] = UNLABELLED
        else:
            for t in one:
                rows[i, class_of(t, i)] = 1
    return rows, names


def _node_ids(nodes: Sequence[int] | Tensor, i: int) -> Tensor:
    """Subgraph ``i``'s node ids as an int64 tensor; whole-valued floats are read exactly.

    Raises:
        TypeError: A boolean mask, or ids that are not whole numbers (never rounded).
    """
    ids = nodes.detach().clone() if isinstance(nodes, Tensor) else torch.as_tensor(list(nodes))
    if ids.dtype == torch.bool and ids.numel():
        raise TypeError(
            f"Expected the node ids of subgraph {i} (got a boolean mask): pass node ids, "
            "`mask.nonzero().view(-1)` for a mask"
        )
    if (ids.is_floating_point() or ids.is_complex()) and ids.numel():
        whole = torch.isfinite(ids) & (ids == ids.round()) if not ids.is_complex() else None
        if whole is None or not bool(whole.all()):
            bad = ids.flatten()[0] if whole is None else ids.flatten()[~whole.flatten()][0]
            raise TypeError(
                f"Expected whole node ids in subgraph {i} (got {ids.dtype} values such as "
                f"{bad.item()}): node ids are integers, and rounding one would name another "
                "node; pass the ids themselves"
            )
    return ids.long()
