"""Subgraph pooling against per-subgraph loops."""

from __future__ import annotations

import pytest
import torch

from mmgraph.resolver import InputTypeError
from mmgraph.subgraph import POOLINGS, SubgraphPool


def loop_pool(mode: str, h: torch.Tensor, index: torch.Tensor, s: int) -> torch.Tensor:
    rows = []
    for i in range(s):
        part = h[index == i]
        if part.numel() == 0:
            rows.append(torch.zeros(h.size(1)))
        elif mode == "mean":
            rows.append(part.mean(0))
        elif mode == "sum":
            rows.append(part.sum(0))
        elif mode == "max":
            rows.append(part.max(0).values)
        else:
            rows.append(part.sum(0) / part.size(0) ** 0.5)
    return torch.stack(rows)


@pytest.mark.parametrize("mode", ["mean", "sum", "max", "size"])
def test_modes_match_loops(mode: str) -> None:
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(9, 4, generator=gen)
    index = torch.tensor([0, 0, 2, 2, 2, 0, 3, 3, 0])
    pool = SubgraphPool(mode)
    out = pool(h, index, 5)
    assert torch.allclose(out, loop_pool(mode, h, index, 5), atol=1e-6)
    assert sum(p.numel() for p in pool.parameters()) == 0
    assert repr(pool) == f"SubgraphPool({mode!r})"


def test_attention_is_a_softmax_weighted_sum() -> None:
    torch.manual_seed(0)
    pool = SubgraphPool("attention", channels=4)
    gen = torch.Generator().manual_seed(1)
    h = torch.randn(6, 4, generator=gen)
    index = torch.tensor([0, 0, 0, 1, 1, 2])
    out = pool(h, index, 3)
    lin1, _, lin2 = pool.score
    for i in range(3):
        part = h[index == i]
        weights = torch.softmax(lin2(torch.tanh(lin1(part))).squeeze(-1), 0)
        assert torch.allclose(out[i], (weights.unsqueeze(1) * part).sum(0), atol=1e-6)
    assert torch.allclose(out[2], h[5])  # one node: weight 1
    # V (4x4 + 4) and w (4, no bias).
    assert sum(p.numel() for p in pool.parameters()) == 4 * 4 + 4 + 4
    assert repr(pool) == "SubgraphPool('attention', channels=4)"
    copy = SubgraphPool("attention", channels=4)
    copy.load_state_dict(pool.state_dict())
    assert torch.equal(copy(h, index, 3), out)
    with pytest.raises(InputTypeError, match=r"h of SubgraphPool in torch.float32.*h.float\(\)"):
        pool(h.double(), index, 3)
    moved = pool.to(torch.float64)
    assert all(p.dtype == torch.float64 for p in moved.parameters())


def test_errors() -> None:
    with pytest.raises(ValueError, match="Unknown pooling 'median'"):
        SubgraphPool("median")
    with pytest.raises(ValueError, match="needs 'channels'"):
        SubgraphPool("attention")
    with pytest.raises(ValueError, match="embeddings \\[M, C\\] and an index \\[M\\]"):
        SubgraphPool("mean")(torch.zeros(3, 2), torch.zeros(2, dtype=torch.long), 1)
    for index in (torch.tensor([0, 1, 7]), torch.tensor([0, -1, 2])):
        with pytest.raises(ValueError, match=r"subgraph ids in \[0, 4\) for num_subgraphs=4"):
            SubgraphPool("mean")(torch.zeros(3, 2), index, 4)
    with pytest.raises(TypeError, match="subgraph ids, integers"):
        SubgraphPool("sum")(torch.zeros(3, 2), torch.zeros(3), 1)
    assert set(POOLINGS) == {"mean", "sum", "max", "size", "attention"}
