"""What every text encoder reads: one entry per node (a string, a list of strings, or None)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

TextInput = str | Sequence[str] | None


def split_texts(texts: Sequence[Any]) -> list[list[str]]:
    """The non-blank texts of each node: ``"a"`` -> ``["a"]``, :obj:`None` -> ``[]``.

    Raises:
        TypeError: ``texts`` is a single string, or an entry is not a string, a list of
            strings or :obj:`None`.
    """
    if isinstance(texts, str):
        raise TypeError(
            "Expected a sequence of texts, one per node (got a single str); wrap it in a list"
        )
    out: list[list[str]] = []
    for i, value in enumerate(texts):
        if value is None:
            out.append([])
        elif isinstance(value, str):
            out.append([value] if value.strip() else [])
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            out.append([v for v in value if v.strip()])
        else:
            raise TypeError(
                f"Expected node {i}'s text to be a string, a list of strings or None "
                f"(got {type(value).__name__!r})"
            )
    return out


def mean_per_node(node_texts: list[list[str]], index: dict[str, int], emb: Tensor) -> Tensor:
    """Average the rows of ``emb`` (one per unique text) over each node's texts."""
    node_idx = [i for i, texts in enumerate(node_texts) for _ in texts]
    text_idx = [index[t] for texts in node_texts for t in texts]
    x = torch.zeros(len(node_texts), emb.size(1), dtype=emb.dtype)
    if node_idx:
        rows = torch.tensor(node_idx, dtype=torch.long)
        x.index_add_(0, rows, emb[torch.tensor(text_idx, dtype=torch.long)])
        counts = torch.bincount(rows, minlength=len(node_texts)).clamp(min=1)
        x = x / counts.unsqueeze(1).to(x.dtype)
    return x


def documents(texts: Sequence[TextInput]) -> tuple[list[str], Tensor]:
    """One document per node (its texts joined by new lines) and the presence mask."""
    node_texts = split_texts(texts)
    mask = torch.tensor([bool(t) for t in node_texts], dtype=torch.bool)
    return ["\n".join(t) for t in node_texts], mask
