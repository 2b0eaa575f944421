r"""Accounts whose label lies only in when their activity views burst together.

:func:`make_synced_activity_graph` draws accounts with daily counts of posts, replies and
likes, labelled ``human`` or ``bot``, such that every view taken alone has the same law in
both classes: only the timing of one view against another (bots like in the bursts of their
own posts) tells them apart. A model that summarises each view separately and then
combines the summaries (per-view means, one recurrent network per view) has nothing to read;
one that follows the views together over time (the multi-view LSTM, a recurrent network over
all views at once) has.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from mmgraph.data._checks import check_int, check_seed
from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.split import stratified_split
from mmgraph.seed import make_generator

TEMPORAL_VIEWS: tuple[str, ...] = ("posts", "replies", "likes")
"""The views of each step (daily counts)."""


def make_synced_activity_graph(
    num_nodes: int = 1000,
    days: int = 28,
    min_days: int = 14,
    bursts: int = 3,
    bot_fraction: float = 0.5,
    sync: float = 1.0,
    base_rate: float = 0.5,
    burst_rate: float = 6.0,
    split: Sequence[float] = (0.6, 0.2, 0.2),
    seed: int | None = 0,
) -> MultimodalGraph:
    r"""Draw accounts whose class shows only in the co-timing of their activity views.

    **Generative story.** Exactly ``round(bot_fraction * num_nodes)`` accounts are bots. Each
    account is observed for :math:`L_i` days, uniform in ``[min_days, days]`` (so sequences
    have ragged lengths, padded to ``days``). Each of its three views (posts, replies, likes
    per day) bursts on ``bursts`` days drawn uniformly among its :math:`L_i` days; a view
    counts :math:`\operatorname{Poisson}(\texttt{burst\_rate})` on its burst days and
    :math:`\operatorname{Poisson}(\texttt{base\_rate})` on the others. For humans the burst
    days of the three views are drawn independently. A bot is *synced* with probability
    ``sync``: its likes burst on the days its posts burst (it likes in the bursts of its own
    posting); otherwise it draws them independently, as a human does. Replies are drawn
    independently in both classes (a distractor).

    Each view alone (its burst days are a uniform subset of the account's days either way, its
    counts the same Poisson draws) and any per-view summary thus has the same law in both
    classes, and so has any combination of per-view totals; the label shows only in how often
    posts and likes burst on the same days.

    Args:
        num_nodes (int, optional): Number of accounts. (default: :obj:`1000`)
        days (int, optional): Longest observation, the padded length ``T``.
            (default: :obj:`28`)
        min_days (int, optional): Shortest observation, at least ``bursts``.
            (default: :obj:`14`)
        bursts (int, optional): Burst days per view. (default: :obj:`3`)
        bot_fraction (float, optional): Share of bots, in ``(0, 1)``. (default: :obj:`0.5`)
        sync (float, optional): Probability that a bot's likes burst with its posts, in
            ``[0, 1]``. (default: :obj:`1.0`)
        base_rate (float, optional): Mean count on an ordinary day. (default: :obj:`0.5`)
        burst_rate (float, optional): Mean count on a burst day. (default: :obj:`6.0`)
        split (Sequence[float], optional): Train, validation and test fractions of the
            stratified split. (default: :obj:`(0.6, 0.2, 0.2)`)
        seed (int, optional): Seed of every draw; :obj:`None` draws a fresh one.
            (default: :obj:`0`)

    Returns:
        MultimodalGraph: named ``"synced-activity"``, no edges, the ``sequence`` modality
        (views ``TEMPORAL_VIEWS``), ``class_names=["human", "bot"]``, ``positive_class=1``,
        the split masks, and the ground truth ``synced`` (bool ``[N]``: bots whose likes
        follow their posts) and ``burst_days`` (bool ``[N, T, 3]``), which models must not
        read.

    Shapes:
        N nodes, T = ``days`` steps of 3 values.
    """
    check_seed(seed)
    check_int(num_nodes, "num_nodes", 10)
    check_int(bursts, "bursts", 1)
    check_int(min_days, "min_days", bursts)
    check_int(days, "days", min_days)
    if not 0.0 < bot_fraction < 1.0:
        raise ValueError(
            f"Expected 'bot_fraction' in (0, 1) (got {bot_fraction}); both classes must occur"
        )
    if not 0.0 <= sync <= 1.0:
        raise ValueError(f"Expected 'sync' in [0, 1] (got {sync})")
    if not (base_rate >= 0 and burst_rate >= 0):
        raise ValueError(
            f"Expected non-negative rates (got base_rate={base_rate}, burst_rate={burst_rate})"
        )
    gen = make_generator(seed)
    n = num_nodes
    y = torch.zeros(n, dtype=torch.long)
    num_bots = min(max(round(bot_fraction * n), 1), n - 1)
    y[torch.randperm(n, generator=gen)[:num_bots]] = 1
    length = torch.randint(min_days, days + 1, (n,), generator=gen)
    synced = (y == 1) & (torch.rand(n, generator=gen) < sync)
    burst_days = torch.stack([_burst_days(length, days, bursts, gen) for _ in TEMPORAL_VIEWS], 2)
    likes = TEMPORAL_VIEWS.index("likes")
    burst_days[synced, :, likes] = burst_days[synced, :, TEMPORAL_VIEWS.index("posts")]
    rates = torch.where(burst_days, burst_rate, base_rate)
    counts = torch.poisson(rates, generator=gen)
    valid = torch.arange(days) < length.unsqueeze(1)
    counts[~valid] = 0.0
    train, val, test = (float(f) for f in split)
    split_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
    train_mask, val_mask, test_mask = stratified_split(y, train, val, test, seed=split_seed)
    return MultimodalGraph(
        torch.empty(2, 0, dtype=torch.long),
        num_nodes=n,
        sequence=counts,
        sequence_length=length,
        sequence_names=list(TEMPORAL_VIEWS),
        y=y,
        class_names=["human", "bot"],
        positive_class=1,
        train_mask=train_mask,
        val_mask=val_mask,
        test_mask=test_mask,
        node_id=[f"a{i:05d}" for i in range(n)],
        name="synced-activity",
        synced=synced,
        burst_days=burst_days & valid.unsqueeze(2),
    )


def _burst_days(length: Tensor, days: int, bursts: int, gen: torch.Generator) -> Tensor:
    """Bool ``[N, days]``: ``bursts`` days drawn uniformly among each node's first ``length``."""
    scores = torch.rand(length.numel(), days, generator=gen)
    scores[torch.arange(days) >= length.unsqueeze(1)] = 2.0  # never among the smallest
    chosen = scores.topk(bursts, dim=1, largest=False).indices
    out = torch.zeros(length.numel(), days, dtype=torch.bool)
    out.scatter_(1, chosen, True)
    return out


__all__ = ["TEMPORAL_VIEWS", "make_synced_activity_graph"]
