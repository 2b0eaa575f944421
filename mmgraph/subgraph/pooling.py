"""Pool node embeddings into one vector per subgraph: mean, sum, max, size or attention."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter, softmax

from mmgraph.errors import InputError
from mmgraph.resolver import InputTypeError, check_finite, check_input_dtype

POOLINGS: tuple[str, ...] = ("mean", "sum", "max", "size", "attention")
"""Pooling modes of :class:`SubgraphPool`."""


class SubgraphPool(nn.Module):
    r"""Pool the embeddings of each subgraph's nodes into one vector.

    For subgraph :math:`S` with node embeddings :math:`\mathbf{h}_v`:

    .. math::
        \text{mean: } \frac{1}{|S|} \sum_{v \in S} \mathbf{h}_v, \quad
        \text{sum: } \sum_{v \in S} \mathbf{h}_v, \quad
        \text{max: } \max_{v \in S} \mathbf{h}_v, \quad
        \text{size: } \frac{1}{\sqrt{|S|}} \sum_{v \in S} \mathbf{h}_v, \quad
        \text{attention: } \sum_{v \in S} \alpha_v \mathbf{h}_v,\;
        \alpha_v = \operatorname{softmax}_{v \in S}\big(\mathbf{w}^\top
        \tanh(\mathbf{V} \mathbf{h}_v + \mathbf{b})\big)

    ``size`` is GLASS's size-normalised sum (`Wang & Zhang, ICLR 2022
    <https://openreview.net/forum?id=XLxhEjKNbXj>`_); ``attention`` the attention pooling
    (without its gate) of `Ilse et al. (ICML 2018) <https://arxiv.org/abs/1802.04712>`_, the
    only mode with parameters (:math:`\mathbf{V}, \mathbf{b}, \mathbf{w}`).

    Args:
        mode (str, optional): One of :data:`POOLINGS`. (default: ``"mean"``)
        channels (int, optional): Size :math:`C` of the embeddings; needed for
            ``"attention"``. (default: :obj:`None`)

    Shapes:
        - **input:** embeddings :math:`(M, C)` of the subgraph entries, subgraph of each
          entry :math:`(M)` in ``[0, S)``, and :math:`S`
        - **output:** :math:`(S, C)`; a subgraph without entries pools to zeros
    """

    def __init__(self, mode: str = "mean", channels: int | None = None) -> None:
        super().__init__()
        if mode not in POOLINGS:
            raise ValueError(f"Unknown pooling {mode!r}; expected one of {list(POOLINGS)}")
        self.mode = mode
        self.channels = channels
        self.score: nn.Sequential | None = None
        if mode == "attention":
            if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
                raise ValueError(
                    f"Attention pooling needs 'channels', the embedding size (got {channels!r})"
                )
            self.score = nn.Sequential(
                nn.Linear(channels, channels), nn.Tanh(), nn.Linear(channels, 1, bias=False)
            )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the attention scorer (no-op for the other modes)."""
        if self.score is not None:
            for layer in self.score:
                if isinstance(layer, nn.Linear):
                    layer.reset_parameters()

    def forward(self, h: Tensor, index: Tensor, num_subgraphs: int) -> Tensor:
        """Pool ``h`` by ``index``; see the class docstring for the shapes."""
        if h.dim() != 2 or index.shape != (h.size(0),):
            raise ValueError(
                f"Expected embeddings [M, C] and an index [M] (got {list(h.shape)} and "
                f"{list(index.shape)})"
            )
        if index.is_floating_point() or index.dtype == torch.bool:
            raise TypeError(f"Expected 'index' to hold subgraph ids, integers (got {index.dtype})")
        if isinstance(num_subgraphs, bool) or not isinstance(num_subgraphs, int):
            raise InputTypeError(
                f"Expected 'num_subgraphs' to be an int (got {type(num_subgraphs).__name__})"
            )
        if num_subgraphs < 0:
            raise InputError(f"Expected 'num_subgraphs' to be >= 0 (got {num_subgraphs})")
        if self.mode == "attention" and h.size(1) != self.channels:
            raise InputError(
                f"Expected embeddings of {self.channels} channels, the attention scorer's "
                f"(got {h.size(1)}): build SubgraphPool('attention', channels={h.size(1)})"
            )
        check_finite(h, "h", type(self).__name__, fix="fill or drop those values")
        if index.numel():
            low, high = (int(v) for v in torch.aminmax(index))
            if low < 0 or high >= num_subgraphs:
                raise ValueError(
                    f"Expected 'index' to hold subgraph ids in [0, {num_subgraphs}) for "
                    f"num_subgraphs={num_subgraphs} (got values in [{low}, {high}]): pass "
                    "the number of subgraphs, or fix the ids"
                )
        if self.mode in ("mean", "sum", "max"):
            return scatter(h, index, dim=0, dim_size=num_subgraphs, reduce=self.mode)
        if self.mode == "size":
            count = torch.bincount(index, minlength=num_subgraphs).clamp(min=1).to(h.dtype)
            total = scatter(h, index, dim=0, dim_size=num_subgraphs, reduce="sum")
            return total / count.sqrt().unsqueeze(1)
        assert self.score is not None  # built for attention in __init__
        check_input_dtype(h, self, "h")
        alpha = softmax(self.score(h).squeeze(-1), index, num_nodes=num_subgraphs)
        return scatter(h * alpha.unsqueeze(1), index, dim=0, dim_size=num_subgraphs, reduce="sum")

    def __repr__(self) -> str:
        channels = f", channels={self.channels}" if self.mode == "attention" else ""
        return f"{type(self).__name__}({self.mode!r}{channels})"
