from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mmgraph.eval import RETRIEVAL_METRICS, retrieval_metrics, retrieval_ranks
from mmgraph.seed import make_generator


def similarity(a: list[float], b: list[float], metric: str) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    if metric == "dot":
        return dot
    if metric == "euclidean":
        return -math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def hand_metrics(q: torch.Tensor, g: torch.Tensor, ks: tuple[int, ...], metric: str) -> dict:
    """A loop over queries: rank = number of gallery items at least as similar as the match."""
    ranks = []
    for i in range(len(q)):
        sims = [similarity(q[i].tolist(), g[j].tolist(), metric) for j in range(len(g))]
        ranks.append(sum(s >= sims[i] - 1e-12 for s in sims))
    out = {f"recall@{k}": sum(r <= k for r in ranks) / len(ranks) for k in ks}
    out["mrr"] = sum(1 / r for r in ranks) / len(ranks)
    return out


def pair(
    n: int = 40, d: int = 8, noise: float = 1.0, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    gen = make_generator(seed)
    q = torch.randn(n, d, generator=gen, dtype=torch.float64)
    return q, q + noise * torch.randn(n, d, generator=gen, dtype=torch.float64)


@pytest.mark.parametrize("metric", RETRIEVAL_METRICS)
def test_matches_hand_loop(metric: str) -> None:
    q, g = pair()
    out = retrieval_metrics(q, g, ks=(1, 3, 10), metric=metric)
    assert list(out) == ["recall@1", "recall@3", "recall@10", "mrr"]
    assert out == pytest.approx(hand_metrics(q, g, (1, 3, 10), metric))
    assert 0 < out["recall@1"] < out["recall@10"] < 1  # noisy matches: neither trivial nor hopeless


def test_mask_selects_queries_and_gallery() -> None:
    q, g = pair()
    gen = make_generator(1)
    mask = torch.rand(40, generator=gen) < 0.5
    out = retrieval_metrics(q, g, mask=mask)
    assert out == pytest.approx(retrieval_metrics(q[mask], g[mask]))
    assert out == pytest.approx(retrieval_metrics(q, g, mask=mask.nonzero().view(-1)))
    assert out == pytest.approx(hand_metrics(q[mask], g[mask], (1, 5, 10), "cosine"))


def test_batches_and_inputs_agree() -> None:
    q, g = pair(n=50)
    whole = retrieval_ranks(q, g)
    np.testing.assert_array_equal(whole, retrieval_ranks(q.numpy(), g.numpy(), batch_size=7))
    np.testing.assert_array_equal(whole, retrieval_ranks(q.float(), g.float(), batch_size=1))
    assert whole.dtype == np.int64 and whole.min() >= 1 and whole.max() <= 50


def test_perfect_and_collapsed() -> None:
    q, _ = pair(n=10)
    assert retrieval_metrics(q, q) == {
        "recall@1": 1.0,
        "recall@5": 1.0,
        "recall@10": 1.0,
        "mrr": 1.0,
    }
    # All gallery items alike: ties count against the query, so no free recall.
    collapsed = retrieval_metrics(q, torch.ones(10, 8, dtype=torch.float64))
    assert collapsed["recall@1"] == 0.0 and collapsed["recall@10"] == 1.0
    assert collapsed["mrr"] == pytest.approx(0.1)
    # Recall at a cut-off beyond the gallery is 1.
    assert retrieval_metrics(q, torch.zeros(10, 8), ks=[20])["recall@20"] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"metric": "manhattan"}, ValueError, "cosine, dot, euclidean"),
        ({"ks": (0, 5)}, ValueError, "'k' to be an int >= 1"),
        ({"ks": 5}, TypeError, "'ks' to be a sequence of ints"),
        ({"ks": ()}, ValueError, "at least one cut-off"),
        ({"ks": (1.5,)}, TypeError, "'k' to be an int"),
        ({"mask": torch.zeros(6, dtype=torch.bool)}, ValueError, "at least one query"),
        ({"mask": torch.ones(5, dtype=torch.bool)}, ValueError, "'mask' to have 6 entries"),
        ({"gallery": torch.zeros(5, 4)}, ValueError, "same number of rows"),
        ({"gallery": torch.zeros(6, 3)}, ValueError, r"same dimension \(got 4 and 3\)"),
        ({"queries": torch.full((6, 4), math.nan)}, ValueError, "'queries' to be finite"),
    ],
)
def test_errors(kwargs, error, match) -> None:
    args = {"queries": torch.ones(6, 4), "gallery": torch.ones(6, 4), **kwargs}
    with pytest.raises(error, match=match):
        retrieval_metrics(**args)


def test_batch_size_error() -> None:
    with pytest.raises(ValueError, match="'batch_size' to be an int >= 1"):
        retrieval_ranks(torch.ones(3, 2), torch.ones(3, 2), batch_size=0)
