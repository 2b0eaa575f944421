"""Fixtures of the tune tests."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch

from mmgraph.tune import searches


@dataclasses.dataclass
class Evaluation:
    """One :meth:`~mmgraph.train.Trainer.evaluate` call of a node search or its final runs."""

    phase: str
    """``"search"`` (trials and confirmation) or ``"final"`` (from ``NodeSearch.final`` on)."""
    scored: torch.Tensor
    """The labelled nodes of the mask it scored."""
    train_mask: torch.Tensor
    """The graph's training mask (which split it is)."""
    labelled: torch.Tensor
    """The graph's labelled nodes."""


class EvaluationLog(list):
    """The :class:`Evaluation` records; ``phase`` is set to ``"search"`` again by a test."""

    phase = "search"


@pytest.fixture()
def evaluations(monkeypatch: pytest.MonkeyPatch) -> EvaluationLog:
    """Records every node evaluation, telling the search's from the final runs'."""
    from mmgraph.train import Trainer

    log = EvaluationLog()
    evaluate, final = Trainer.evaluate, searches.NodeSearch.final

    def recording_evaluate(self: Trainer, g: Any, mask: Any = "test_mask") -> Any:
        selected = getattr(g, mask) if isinstance(mask, str) else mask
        labelled = (g.y >= 0).clone()
        log.append(Evaluation(log.phase, selected & labelled, g.train_mask.clone(), labelled))
        return evaluate(self, g, mask)

    def recording_final(self: Any, *args: Any, **kwargs: Any) -> Any:
        log.phase = "final"
        return final(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "evaluate", recording_evaluate)
    monkeypatch.setattr(searches.NodeSearch, "final", recording_final)
    return log
