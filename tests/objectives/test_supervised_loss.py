"""``supervised_loss``: the mean loss and its per-row parts."""

from __future__ import annotations

import pytest
import torch

from mmgraph.objectives.supervised import supervised_loss


def test_per_row_losses_average_to_the_loss() -> None:
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.5], [3.0, -1.0, 0.0]])
    classes = torch.tensor([0, 0, 2])
    rows = supervised_loss(logits, classes, reduction="none")
    assert rows.shape == (3,)
    assert float(rows.mean()) == pytest.approx(float(supervised_loss(logits, classes)))
    assert float(rows[0]) == pytest.approx(float(torch.nn.functional.cross_entropy(
        logits[:1], classes[:1])))  # fmt: skip
    # rows of labels: each row's mean binary cross-entropy
    labels = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    rows = supervised_loss(logits, labels, reduction="none")
    assert rows.shape == (3,)
    assert float(rows.mean()) == pytest.approx(float(supervised_loss(logits, labels)))
    with pytest.raises(ValueError, match="reduction 'mean' or 'none'"):
        supervised_loss(logits, classes, reduction="sum")
