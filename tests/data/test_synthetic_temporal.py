"""The synced-activity accounts: ragged windows, bursts, and views alike in both classes."""

from __future__ import annotations

import pytest
import torch

from mmgraph.data.synthetic_temporal import TEMPORAL_VIEWS, make_synced_activity_graph

POSTS, REPLIES, LIKES = (TEMPORAL_VIEWS.index(v) for v in ("posts", "replies", "likes"))


def test_shapes_windows_and_bursts() -> None:
    g = make_synced_activity_graph(200, days=12, min_days=5, bursts=2, seed=0)
    assert g.sequence.shape == (200, 12, 3) and g.sequence_names == list(TEMPORAL_VIEWS)
    assert int(g.sequence_length.min()) >= 5 and int(g.sequence_length.max()) <= 12
    padding = ~g.sequence_mask()
    assert bool((g.sequence[padding] == 0).all()) and not bool(g.burst_days[padding].any())
    assert bool((g.burst_days.sum(1) == 2).all())  # two burst days per view and node
    assert int(g.y.sum()) == 100 and g.edge_index.shape == (2, 0)
    assert torch.equal(g.synced, g.y == 1)  # sync=1: every bot
    bots = g.y == 1
    assert torch.equal(g.burst_days[bots][..., LIKES], g.burst_days[bots][..., POSTS])
    again = make_synced_activity_graph(200, days=12, min_days=5, bursts=2, seed=0)
    assert torch.equal(again.sequence, g.sequence)


def test_each_view_alone_is_alike_in_both_classes() -> None:
    g = make_synced_activity_graph(4000, seed=1)
    valid = g.sequence_mask()
    for view in range(3):
        means = [float(g.sequence[g.y == c][valid[g.y == c]][:, view].mean()) for c in (0, 1)]
        assert abs(means[0] - means[1]) < 0.03, (view, means)
    lengths = [g.sequence_length[g.y == c].float().mean() for c in (0, 1)]
    assert abs(float(lengths[0] - lengths[1])) < 0.5
    same = g.burst_days[..., POSTS] & g.burst_days[..., LIKES]
    share = [float(same[g.y == c].sum() / g.burst_days[g.y == c][..., LIKES].sum()) for c in (0, 1)]
    assert share[1] == 1.0 and share[0] < 0.25  # only bots like in their posting bursts


def test_partial_sync_and_errors() -> None:
    g = make_synced_activity_graph(400, sync=0.5, seed=2)
    assert 0.3 < float(g.synced[g.y == 1].float().mean()) < 0.7
    assert not bool(g.synced[g.y == 0].any())
    with pytest.raises(ValueError, match=r"'bot_fraction' in \(0, 1\)"):
        make_synced_activity_graph(50, bot_fraction=1.0)
    with pytest.raises(ValueError, match=r"'sync' in \[0, 1\]"):
        make_synced_activity_graph(50, sync=2.0)
    with pytest.raises(ValueError, match="'min_days' to be at least 3"):
        make_synced_activity_graph(50, min_days=2)
    with pytest.raises(ValueError, match="'days' to be at least 14"):
        make_synced_activity_graph(50, days=10)
