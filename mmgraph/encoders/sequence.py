"""The sequence encoder: each node's steps ``[T_i, d]`` to one vector, padding never read."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from mmgraph.encoders.attributes import signed_log1p
from mmgraph.errors import InputError
from mmgraph.names import SEQUENCE_ENCODERS as SEQUENCE_ENCODERS
from mmgraph.resolver import check_positive_int


class SequenceEncoder(nn.Module):
    r"""Summarise each node's sequence into one vector: a GRU, an LSTM, a 1-D conv or a mean.

    Node :math:`i` has the steps :math:`\mathbf{x}_{i,1}, \dots, \mathbf{x}_{i,L_i}` (the
    first ``length[i]`` of the padded ``[N, T, d]`` input); the padding after them is never
    read, so it cannot change an output. Each value is first scaled,
    :math:`\mathbf{x}'_{i,t} = (\phi(\mathbf{x}_{i,t}) - \boldsymbol{\mu}) / \boldsymbol{\sigma}`,
    with :math:`\phi` the signed :math:`\log(1 + |x|)` (``log1p=True``, for counts) or the
    identity, and :math:`\boldsymbol{\mu}, \boldsymbol{\sigma}` the mean and deviation of each
    value over the valid steps of the training nodes (:meth:`fit`; 0 and 1 until fitted). Then:

    * ``"mean"``: :math:`\mathbf{h}_i = \mathbf{W} \frac{1}{L_i} \sum_{t \le L_i}
      \mathbf{x}'_{i,t} + \mathbf{b}` (without ``out_channels``, the mean itself);
    * ``"gru"`` / ``"lstm"``: the last hidden state of a :class:`torch.nn.GRU` /
      :class:`torch.nn.LSTM` of size ``out_channels`` run over the padded steps and read
      after step :math:`L_i`;
    * ``"conv"``: :math:`\mathbf{h}_i = \frac{1}{L_i} \sum_{t \le L_i} \operatorname{ReLU}(
      (\mathbf{W} * \mathbf{x}'_i)_t)`, a 1-D convolution of width ``kernel_size`` over the
      :math:`L_i` steps, zero-padded at both of their ends.

    A node without steps (``length[i] = 0``) or outside ``mask`` gets zeros and mask
    :obj:`False`. :meth:`steps` returns the scaled steps themselves, for a fusion head that
    reads sequences (:class:`~mmgraph.fusion.MultiViewLSTM`).

    Args:
        in_channels (int): Values per step :math:`d`.
        out_channels (int, optional): Output size; required by ``"gru"``, ``"lstm"`` and
            ``"conv"``; for ``"mean"``, :obj:`None` leaves out the projection.
            (default: :obj:`None`)
        kind (str, optional): One of :data:`SEQUENCE_ENCODERS`. (default: :obj:`"gru"`)
        log1p (bool, optional): Apply the signed :math:`\log(1 + |x|)` first.
            (default: :obj:`False`)
        kernel_size (int, optional): Width of the ``"conv"`` filters (odd). (default: :obj:`3`)

    Shapes:
        - **input:** ``x [N, T, d]`` (float), ``length [N]`` (integer, optional: all ``T``
          steps), ``mask [N]`` (bool, optional: every node)
        - **output:** ``(x [N, out_channels or d], mask [N])``
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int | None = None,
        kind: str = "gru",
        log1p: bool = False,
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(out_channels, "out_channels", optional=True)
        check_positive_int(kernel_size, "kernel_size")
        if kind not in SEQUENCE_ENCODERS:
            raise InputError(
                f"Unknown sequence encoder {kind!r}; expected one of {list(SEQUENCE_ENCODERS)}"
            )
        if out_channels is None and kind != "mean":
            raise InputError(
                f"Expected 'out_channels' for the {kind!r} sequence encoder (its state size); "
                "only 'mean' works without one"
            )
        if kernel_size % 2 == 0:
            raise InputError(f"Expected an odd 'kernel_size' (got {kernel_size})")
        self.in_channels = in_channels
        self.out_channels = out_channels if out_channels is not None else in_channels
        self.kind = kind
        self.log1p = bool(log1p)
        self.kernel_size = kernel_size
        self.mean: Tensor
        self.std: Tensor
        self.register_buffer("mean", torch.zeros(in_channels))
        self.register_buffer("std", torch.ones(in_channels))
        self.rnn: nn.GRU | nn.LSTM | None = None
        self.conv: nn.Conv1d | None = None
        self.lin: nn.Linear | None = None
        if kind == "gru":
            self.rnn = nn.GRU(in_channels, self.out_channels, batch_first=True)
        elif kind == "lstm":
            self.rnn = nn.LSTM(in_channels, self.out_channels, batch_first=True)
        elif kind == "conv":
            self.conv = nn.Conv1d(in_channels, self.out_channels, kernel_size, padding="same")
        elif out_channels is not None:
            self.lin = nn.Linear(in_channels, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the weights (the fitted scaling is kept)."""
        for module in (self.rnn, self.conv, self.lin):
            if module is not None:
                module.reset_parameters()

    def check_inputs(
        self, x: Tensor, length: Tensor | None = None, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Check the inputs; return the node mask ``[N]`` and the step mask ``[N, T]``.

        A node counts when it is in ``mask`` and has at least one step.

        Raises:
            InputError: A wrong shape or type, a length outside ``[0, T]``.
        """
        if not isinstance(x, Tensor) or not x.is_floating_point() or x.dim() != 3:
            raise InputError(
                f"Expected the sequence to be a float tensor [N, T, {self.in_channels}] (got "
                f"{getattr(x, 'dtype', type(x).__name__)} of shape "
                f"{list(getattr(x, 'shape', []))}); pad ragged sequences with "
                "mmgraph.data.pad_sequences"
            )
        n, steps, d = x.shape
        if d != self.in_channels:
            raise InputError(
                f"Expected {self.in_channels} values per step (got {d}); set 'in_channels' to "
                "the sequence's last dimension"
            )
        if length is None:
            length = torch.full((n,), steps, dtype=torch.long, device=x.device)
        if (
            not isinstance(length, Tensor)
            or length.is_floating_point()
            or length.dtype == torch.bool
            or length.shape != (n,)
        ):
            raise InputError(
                f"Expected 'length' to be an integer tensor of shape [{n}] (got "
                f"{getattr(length, 'dtype', type(length).__name__)} of shape "
                f"{list(getattr(length, 'shape', []))})"
            )
        if n and (int(length.min()) < 0 or int(length.max()) > steps):
            raise InputError(
                f"Expected every 'length' in [0, {steps}], the steps of the padded sequence "
                f"(got values in [{int(length.min())}, {int(length.max())}])"
            )
        if mask is None:
            mask = torch.ones(n, dtype=torch.bool, device=x.device)
        elif not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.shape != (n,):
            raise InputError(
                f"Expected 'mask' to be a bool tensor of shape [{n}] (got "
                f"{getattr(mask, 'dtype', type(mask).__name__)} of shape "
                f"{list(getattr(mask, 'shape', []))})"
            )
        valid = (torch.arange(steps, device=x.device) < length.unsqueeze(1)) & mask.unsqueeze(1)
        return valid.any(dim=1), valid

    def scale(self, x: Tensor) -> Tensor:
        r"""The scaled values :math:`(\phi(x) - \mu) / \sigma` (padding included)."""
        if self.log1p:
            x = signed_log1p(x)
        return (x - self.mean) / self.std

    @torch.no_grad()
    def fit(
        self, x: Tensor, length: Tensor | None = None, mask: Tensor | None = None
    ) -> SequenceEncoder:
        """Fit the per-value mean and deviation on the valid steps of the nodes in ``mask``."""
        _, valid = self.check_inputs(x, length, mask)
        values = signed_log1p(x[valid]) if self.log1p else x[valid]
        if values.size(0) == 0:
            return self
        self.mean.copy_(values.mean(dim=0))
        std = values.std(dim=0, unbiased=False)
        self.std.copy_(torch.where(std > 1e-8, std, torch.ones_like(std)))
        return self

    def steps(
        self, x: Tensor, length: Tensor | None = None, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """The scaled steps ``[N, T, d]`` (zeros outside the valid steps) and their mask."""
        _, valid = self.check_inputs(x, length, mask)
        return torch.where(valid.unsqueeze(2), self.scale(x), x.new_zeros(())), valid

    def forward(
        self, x: Tensor, length: Tensor | None = None, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Encode each node's valid steps; see the class description."""
        present, valid = self.check_inputs(x, length, mask)
        x = torch.where(valid.unsqueeze(2), self.scale(x), x.new_zeros(()))
        count = valid.sum(dim=1, keepdim=True).clamp(min=1)
        if self.rnn is not None:
            out = x.new_zeros(x.size(0), self.out_channels)
            index = present.nonzero().view(-1)
            if index.numel():
                # The state after each node's last valid step: the output at that step of
                # the padded batch (later steps cannot change it). Packing the sequences
                # gives the same states, but its backward is 7 times slower on the CPU.
                states, _ = self.rnn(x[index])  # [n, T, out]
                last = (count[index, 0] - 1).view(-1, 1, 1).expand(-1, 1, states.size(2))
                out = out.index_copy(0, index, states.gather(1, last).squeeze(1))
            return out, present
        if self.conv is not None:
            h = torch.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)  # [N, T, out]
            x = torch.where(valid.unsqueeze(2), h, h.new_zeros(()))
        out = x.sum(dim=1) / count
        if self.lin is not None:
            out = self.lin(out)
        return out.masked_fill(~present.unsqueeze(1), 0.0), present

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
            f"kind={self.kind!r}, log1p={self.log1p})"
        )


def over_steps(
    xs: Mapping[str, Tensor],
    masks: Mapping[str, Tensor],
    steps: Tensor,
    step_mask: Tensor,
    views: Mapping[str, int],
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    r"""Per-view sequences for a head that fuses sequences (views of the steps, vectors repeated).

    The steps ``[N, T, d]`` are cut into the views (``views``: name -> values per step, in
    order), each present at the valid steps. A modality vector ``xs[m]`` ``[N, D]`` becomes
    ``[N, T, D]`` (the same vector at every step), present where the node has it and a step;
    a node without steps gets one step (the first) for its other modalities, so that they
    still enter.

    Args:
        xs (Mapping[str, Tensor]): The other modalities' vectors ``[N, D_m]``.
        masks (Mapping[str, Tensor]): Their presence masks ``[N]``.
        steps (Tensor): The sequence steps ``[N, T, d]``, zeros outside ``step_mask``.
        step_mask (Tensor): The valid steps ``[N, T]``.
        views (Mapping[str, int]): The views of a step, summing to ``d``.

    Returns:
        ``(xs, masks)``: ``[N, T', D]`` inputs and ``[N, T']`` masks, the views first, then
        the modalities, with :math:`T' = \max(T, 1)`.

    Raises:
        InputError: The views do not add up to ``d``, or a view has a modality's name.
    """
    if sum(views.values()) != steps.size(2):
        raise InputError(
            f"Expected the sequence views {dict(views)} to hold the {steps.size(2)} values of a "
            f"step (they hold {sum(views.values())})"
        )
    clash = sorted(set(views) & set(xs))
    if clash:
        raise InputError(
            f"The sequence views {clash} have the names of modalities: rename them (the "
            "card's sequence columns, or 'sequence_names')"
        )
    if steps.size(1) == 0:  # no node has a step: one empty step for the other modalities
        steps = steps.new_zeros(steps.size(0), 1, steps.size(2))
        step_mask = step_mask.new_zeros(step_mask.size(0), 1)
    out: dict[str, Tensor] = {}
    out_masks: dict[str, Tensor] = {}
    for view, part in zip(views, steps.split(list(views.values()), dim=2)):
        out[view], out_masks[view] = part, step_mask
    when = step_mask.clone()
    when[:, 0] |= ~step_mask.any(dim=1)
    for m, x in xs.items():
        out[m] = x.unsqueeze(1).expand(-1, steps.size(1), -1)
        out_masks[m] = when & masks[m].unsqueeze(1)
    return out, out_masks


__all__ = ["SEQUENCE_ENCODERS", "SequenceEncoder", "over_steps"]
