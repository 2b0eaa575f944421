"""SubGNN's subgraph classification format (``edge_list.txt`` + ``subgraphs.pth``)."""

from __future__ import annotations

from pathlib import Path

import torch

from mmgraph.data.edges import make_undirected
from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.loaders._common import as_path
from mmgraph.data.subgraphs import SubgraphDataset, parse_split

SUBGNN_FILES: tuple[str, ...] = ("edge_list.txt", "subgraphs.pth")
"""The files of a SubGNN data set folder."""


def is_subgnn_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding SubGNN's ``edge_list.txt`` and ``subgraphs.pth``."""
    p = Path(path)
    return p.is_dir() and all((p / f).is_file() for f in SUBGNN_FILES)


def load_subgnn(folder: str | Path, name: str | None = None) -> SubgraphDataset:
    """Load a SubGNN subgraph classification data set.

    ``edge_list.txt`` holds one ``u v`` pair a line (integer node ids, each undirected edge
    once; both directions are stored). ``subgraphs.pth`` is a text file with one subgraph a
    line: ``n1-n2-...<TAB>label<TAB>train|val|test``. The base graph has ``max id + 1``
    nodes and no node attributes (SubGNN's synthetic sets have none); class names are the
    sorted label values.

    Args:
        folder (str or Path): The folder holding both files.
        name (str, optional): Name of the data set. (default: the folder's name)
    """
    base = as_path(folder, "SubGNN data set folder")
    for f in SUBGNN_FILES:
        if not (base / f).is_file():
            raise FileNotFoundError(
                f"SubGNN file '{f}' not found in '{base}': a SubGNN folder holds "
                f"{' and '.join(SUBGNN_FILES)}"
            )
    pairs: list[list[int]] = []
    with open(base / "edge_list.txt", encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 2:
                raise ValueError(
                    f"Expected 'u v' on line {line_no} of '{base / 'edge_list.txt'}' "
                    f"(got {line.strip()!r})"
                )
            try:
                pairs.append([int(parts[0]), int(parts[1])])
            except ValueError:
                raise ValueError(
                    f"Expected integer node ids on line {line_no} of "
                    f"'{base / 'edge_list.txt'}' (got {line.strip()!r})"
                ) from None
    node_sets: list[list[int]] = []
    labels: list[str] = []
    splits: list[str] = []
    with open(base / "subgraphs.pth", encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            where = f"line {line_no} of '{base / 'subgraphs.pth'}'"
            if len(fields) != 3:
                raise ValueError(
                    f"Expected 'n1-n2-...<TAB>label<TAB>train|val|test' on {where} (got "
                    f"{len(fields)} tab-separated fields)"
                )
            try:
                nodes = [int(v) for v in fields[0].split("-") if v.strip()]
            except ValueError:
                raise ValueError(
                    f"Expected '-'-separated integer node ids on {where} (got {fields[0][:50]!r})"
                ) from None
            node_sets.append(nodes)
            labels.append(fields[1].strip())
            split = parse_split(fields[2], where)
            splits.append(split or "")
    if not node_sets:
        raise ValueError(f"'{base / 'subgraphs.pth'}' lists no subgraphs")
    edge_index = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t()
    max_id = max(
        int(edge_index.max()) if edge_index.numel() else -1,
        max((max(s) for s in node_sets if s), default=-1),
    )
    n = max_id + 1
    edge_index, _, _ = make_undirected(edge_index, n)
    graph = MultimodalGraph(edge_index, num_nodes=n, name=name or base.name)
    return SubgraphDataset.from_lists(
        graph, node_sets, labels, split=splits, name=name or base.name
    )
