"""A weighted sum of objectives, e.g. the node2vec loss plus a supervised loss."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data


class MixedObjective:
    r"""The weighted sum of several objectives on the same batch.

    .. math::
        \mathcal{L} = \sum_i w_i \, \mathcal{L}_i(\text{model}, \text{batch})

    The seed nodes of mini-batches are the union of the parts' seed nodes (all nodes when
    one part takes all). The last value of each part is kept in :attr:`last_losses` (by
    part name) for logging.

    Args:
        parts (Sequence[tuple[Objective, float]]): ``(objective, weight)`` pairs; weights
            are finite and non-negative, at least one positive.

    Example:
        >>> objective = MixedObjective([(Node2VecObjective(seed=0), 1.0),
        ...                             (SupervisedObjective(), 0.5)])
    """

    def __init__(self, parts: Sequence[tuple[Any, float]]) -> None:
        if isinstance(parts, (str, bytes)) or not isinstance(parts, Sequence) or not parts:
            raise ValueError(
                "Expected 'parts' to be a non-empty list of (objective, weight) pairs "
                f"(got {parts!r})"
            )
        checked: list[tuple[Any, float]] = []
        for i, part in enumerate(parts):
            if not isinstance(part, (tuple, list)) or len(part) != 2:
                raise ValueError(
                    f"Expected part {i} to be an (objective, weight) pair (got {part!r})"
                )
            objective, weight = part
            if not callable(objective) or not hasattr(objective, "input_nodes"):
                raise TypeError(
                    f"Expected part {i} to hold an objective (callable with 'input_nodes') "
                    f"(got {type(objective).__name__!r})"
                )
            if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                raise TypeError(
                    f"Expected weight {i} to be a float (got {type(weight).__name__!r})"
                )
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"Expected weight {i} to be finite and >= 0 (got {weight})")
            checked.append((objective, float(weight)))
        if not any(w > 0 for _, w in checked):
            raise ValueError("Expected at least one positive weight (got all 0)")
        self.parts = checked
        names = [str(getattr(o, "name", type(o).__name__)) for o, _ in checked]
        self.part_names = [
            name if names.count(name) == 1 else f"{name}_{i}" for i, name in enumerate(names)
        ]
        self.name = "+".join(self.part_names)
        self.last_losses: dict[str, float] = {}

    @property
    def uses_labels(self) -> bool:
        """Whether a part reads the labels (its ``uses_labels`` flag): validation uses them."""
        return any(getattr(o, "uses_labels", False) for o, _ in self.parts)

    @property
    def supervised(self) -> bool:
        """Alias of :attr:`uses_labels`."""
        return self.uses_labels

    def input_nodes(self, graph: Data) -> Tensor | None:
        """The union of the parts' seed nodes (:obj:`None`: all nodes)."""
        selected: list[Tensor] = []
        for objective, _ in self.parts:
            nodes = objective.input_nodes(graph)
            if nodes is None:
                return None
            selected.append(nodes)
        return torch.cat(selected).unique()

    def __call__(self, model: nn.Module, batch: Data) -> Tensor:
        """The weighted sum of the parts' losses on ``batch``."""
        total: Tensor | None = None
        for (objective, weight), name in zip(self.parts, self.part_names):
            if weight == 0:
                continue
            loss = objective(model, batch)
            self.last_losses[name] = float(loss.detach())
            total = weight * loss if total is None else total + weight * loss
        assert total is not None  # at least one positive weight, checked in __init__
        return total

    def __repr__(self) -> str:
        inner = ", ".join(f"({o!r}, {w:g})" for o, w in self.parts)
        return f"{type(self).__name__}([{inner}])"
