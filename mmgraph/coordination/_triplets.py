"""Uniform positives and negatives of each node, drawn in memory linear in nodes and edges.

The structure-preserving loss calls two nodes neighbours when an edge links them (either
direction) or they share a label. Its exact form needs the dense ``[n, n]`` neighbour matrix;
sampling needs only, per node, its label block and its graph neighbours of another label.
"""

from __future__ import annotations

import torch
from torch import Tensor


class NeighbourSampler:
    r"""Draw, per anchor, nodes uniformly among its positives or among its negatives.

    With the nodes sorted by label, node :math:`i`'s same-label nodes are one block
    ``[lo_i, hi_i)`` of that order (for an unlabelled node, the block is the node alone). Its
    positives are the block less :math:`i` plus the graph neighbours of another label
    :math:`E'_i` (disjoint from the block), so the :math:`r`-th positive is read off directly.
    Its negatives are everything outside the block and :math:`E'_i`: the :math:`r`-th one is
    found by counting, with a binary search, the members of :math:`E'_i` that come before it.
    Memory and time are :math:`O(n + E)` to build and :math:`O(\text{draws} \cdot \log E)`
    to draw.

    Args:
        n (int): Number of nodes.
        edge_index (Tensor, optional): Checked edges ``[2, E]`` into ``[0, n)``.
        y (Tensor, optional): Checked integer labels ``[n]`` (``< 0``: unlabelled).
        device (torch.device): Device of the index tensors.
    """

    def __init__(
        self, n: int, edge_index: Tensor | None, y: Tensor | None, device: torch.device
    ) -> None:
        self.n = n
        lab = (
            torch.full((n,), -1, dtype=torch.long, device=device)
            if y is None
            else y.to(device=device, dtype=torch.long).clamp_min(-1)
        )
        arange = torch.arange(n, device=device)
        self.order = torch.sort(lab, stable=True).indices
        self.pos = torch.empty_like(self.order)
        self.pos[self.order] = arange
        sorted_lab = lab[self.order]
        unlabelled = lab < 0
        self.lo = torch.where(unlabelled, self.pos, torch.searchsorted(sorted_lab, lab))
        hi = torch.where(unlabelled, self.pos + 1, torch.searchsorted(sorted_lab, lab, right=True))
        self.block = hi - self.lo  # the node and its same-label nodes

        # E': graph neighbours with another label, both directions, deduplicated; sorted by
        # (row, position in the label order).
        if edge_index is None or edge_index.numel() == 0:
            key = torch.empty(0, dtype=torch.long, device=device)
        else:
            ei = edge_index.to(device=device, dtype=torch.long)
            src, dst = torch.cat([ei[0], ei[1]]), torch.cat([ei[1], ei[0]])
            keep = (src != dst) & ~((lab[src] == lab[dst]) & (lab[src] >= 0))
            key = torch.unique(src[keep] * n + self.pos[dst[keep]])
        row, col_pos = key // n, key % n
        self.deg = torch.bincount(row, minlength=n)
        self.rowptr = torch.cat([self.deg.new_zeros(1), self.deg.cumsum(0)])
        self.col = self.order[col_pos]
        # Position of each member of E'_i among the nodes outside i's block, less its rank in
        # the row: how many negatives come before it. Non-decreasing, so binary-searchable.
        outside = torch.where(col_pos < self.lo[row], col_pos, col_pos - self.block[row])
        rank = torch.arange(key.numel(), device=device) - self.rowptr[row]
        self.skip_key = row * n + (outside - rank)

    def num_positives(self, self_positive: bool) -> Tensor:
        """Positives per node ``[n]``: its same-label nodes and neighbours (and itself)."""
        return self.block - 1 + self.deg + int(self_positive)

    def num_negatives(self) -> Tensor:
        """Negatives per node ``[n]``: the nodes that are neither positives nor itself."""
        return self.n - self.block - self.deg

    def positives(self, anchors: Tensor, r: Tensor) -> Tensor:
        """The ``r[a, s]``-th positive of ``anchors[a]`` (in ``[0, num_positives)``).

        Positives are numbered: the same-label nodes, then the graph neighbours of another
        label, then (when it counts) the anchor itself.
        """
        i = anchors[:, None].expand_as(r)
        same = r < self.block[i] - 1
        p = self.lo[i] + r
        p = p + (p >= self.pos[i]).long()  # skip the anchor
        out = torch.where(same, self.order[p.clamp_max(self.n - 1)], i)
        if self.col.numel():
            g = r - (self.block[i] - 1)
            graph = (g >= 0) & (g < self.deg[i])
            ptr = (self.rowptr[i] + g).clamp(0, self.col.numel() - 1)
            out = torch.where(graph, self.col[ptr], out)
        return out

    def triplets(self, num_samples: int, self_positive: bool, gen: torch.Generator) -> Tensor:
        """Draw ``num_samples`` triplets per anchor (a node with a positive and a negative).

        Returns:
            Long tensor ``[3, A * num_samples]``: anchors (each repeated ``num_samples``
            times), their positives and their negatives, uniform and with replacement.
        """
        num_pos, num_neg = self.num_positives(self_positive), self.num_negatives()
        anchors = ((num_pos > 0) & (num_neg > 0)).nonzero().view(-1)
        j = self.positives(anchors, uniform_below(num_pos[anchors], num_samples, gen))
        k = self.negatives(anchors, uniform_below(num_neg[anchors], num_samples, gen))
        return torch.stack([anchors.repeat_interleave(num_samples), j.view(-1), k.view(-1)])

    def negatives(self, anchors: Tensor, r: Tensor) -> Tensor:
        """The ``r[a, s]``-th negative of ``anchors[a]`` (in ``[0, num_negatives)``)."""
        i = anchors[:, None].expand_as(r)
        before = torch.searchsorted(self.skip_key, i * self.n + r, right=True) - self.rowptr[i]
        x = r + before  # position among the nodes outside the anchor's block
        p = torch.where(x < self.lo[i], x, x + self.block[i])
        return self.order[p]


def uniform_below(high: Tensor, k: int, gen: torch.Generator) -> Tensor:
    """Integers ``[len(high), k]``, row ``a`` uniform in ``[0, high[a])`` (``high >= 1``).

    Drawn from ``gen`` on its own device, returned on ``high``'s.
    """
    u = torch.rand(high.numel(), k, generator=gen, dtype=torch.float64, device=gen.device)
    high = high[:, None]
    return (u.to(high.device) * high).long().clamp_max(high - 1)
