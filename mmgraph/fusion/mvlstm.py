"""Multi-view LSTM (Rajagopalan et al., ECCV 2016) for nodes whose modalities are sequences."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from mmgraph.fusion.base import FusionHead, prepare_inputs
from mmgraph.resolver import check_positive_int

MVLSTM_TOPOLOGIES: dict[str, tuple[float, float]] = {
    "view_specific": (1.0, 0.0),
    "coupled": (0.0, 1.0),
    "fully_connected": (1.0, 1.0),
    "hybrid": (1.0, 0.5),
}
"""Named ``(alpha, beta)`` settings of :class:`MultiViewLSTM` (``"hybrid"``: one example)."""


def topology_name(alpha: float, beta: float) -> str:
    """Name the MV-LSTM topology that ``(alpha, beta)`` sets; anything else is ``"hybrid"``."""
    for name, (a, b) in MVLSTM_TOPOLOGIES.items():
        if name != "hybrid" and (alpha, beta) == (a, b):
            return name
    return "hybrid"


def _check_fraction(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"Expected {name!r} to be a number in [0, 1] (got {type(value).__name__!r})"
        )
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"Expected {name!r} to be in [0, 1] (got {value})")
    return float(value)


class MultiViewLSTM(FusionHead):
    r"""Multi-view LSTM: one memory per view, coupled through alpha and beta.

    From the `"Extending Long Short-Term Memory for Multi-View Structured Learning"
    <https://doi.org/10.1007/978-3-319-46478-7_21>`_ paper (Rajagopalan et al., ECCV 2016).

    Each view (modality) :math:`v` has its own memory :math:`\mathbf{c}^v` and hidden state
    :math:`\mathbf{h}^v` of size :math:`H`. Its gates see the view's own input, the first
    :math:`\lfloor \alpha H \rfloor` units of its own previous hidden state (view-specific
    dynamics) and the first :math:`\lfloor \beta H \rfloor` units of every other view's previous
    hidden state (cross-view dynamics):

    .. math::
        \mathbf{a}^v_t &= \mathbf{W}_v \mathbf{x}^v_t
        + \mathbf{R}_{v} \, \mathbf{S}_\alpha \mathbf{h}^v_{t-1}
        + \sum_{u \neq v} \mathbf{R}_{v,u} \, \mathbf{S}_\beta \mathbf{h}^u_{t-1}
        + \mathbf{b}_v = [\mathbf{a}_i; \mathbf{a}_f; \mathbf{a}_g; \mathbf{a}_o] \\
        \mathbf{c}^v_t &= \sigma(\mathbf{a}_f) \odot \mathbf{c}^v_{t-1}
        + \sigma(\mathbf{a}_i) \odot \tanh(\mathbf{a}_g), \qquad
        \mathbf{h}^v_t = \sigma(\mathbf{a}_o) \odot \tanh(\mathbf{c}^v_t)

    where :math:`\mathbf{S}_\alpha` keeps the first :math:`\lfloor \alpha H \rfloor` units. The
    topologies of the paper: *view-specific* (:math:`\alpha=1, \beta=0`: one independent LSTM
    per view), *coupled* (:math:`\alpha=0, \beta=1`: a view's gates see only the other views),
    *fully connected* (:math:`\alpha=1, \beta=1`) and *hybrid* (anything in between); see
    :data:`MVLSTM_TOPOLOGIES` and :meth:`from_topology`.

    With ``learn_gates=True``, :math:`\alpha` and :math:`\beta` become learned soft gates: all
    units are connected and scaled per view and unit by :math:`\sigma(\boldsymbol{\gamma}^v)`
    (own view) and :math:`\sigma(\boldsymbol{\delta}^v)` (other views), initialised to
    :math:`\operatorname{logit}(\alpha)` and :math:`\operatorname{logit}(\beta)` (clipped to
    :math:`[0.01, 0.99]`).

    Masks are per node and view (``[N]``) or per node, view and step (``[N, T]``). A view
    absent at a step leaves its memory and hidden state unchanged (so padded sequences of
    different lengths work); the input there is never read. A view absent at every step keeps
    a zero hidden state (it feeds nothing to the other views) and its final state is replaced by
    a learned vector :math:`\mathbf{e}^v`, which tells the next layer the view is absent; a
    node with no view at all gets all the :math:`\mathbf{e}^v`.

    The output is the concatenation of the final hidden states :math:`[\mathbf{h}^1_T \Vert
    \cdots \Vert \mathbf{h}^M_T]` (views in canonical order), or a linear map of it to
    ``out_channels``.

    Args:
        in_channels (Mapping[str, int]): Input size :math:`d_v` of each view.
        hidden_size (int, optional): Hidden size :math:`H` of each view. (default: :obj:`32`)
        alpha (float, optional): Fraction of a view's own hidden units fed back to it.
            (default: :obj:`1.0`)
        beta (float, optional): Fraction of each other view's hidden units fed to a view.
            (default: :obj:`0.5`)
        learn_gates (bool, optional): Learn :math:`\alpha` and :math:`\beta` as soft gates.
            (default: :obj:`False`)
        out_channels (int, optional): If set, a linear map of the final states to this size.
            (default: :obj:`None`: :math:`M H`)

    Shapes:
        - **input:** ``xs[v]`` :math:`(N, T, d_v)`, ``masks[v]`` bool :math:`(N)` or
          :math:`(N, T)`
        - **output:** :math:`(N, \text{out\_channels})`
    """

    takes_sequences = True

    def __init__(
        self,
        in_channels: Mapping[str, int],
        hidden_size: int = 32,
        alpha: float = 1.0,
        beta: float = 0.5,
        learn_gates: bool = False,
        out_channels: int | None = None,
    ) -> None:
        super().__init__(in_channels)
        check_positive_int(hidden_size, "hidden_size")
        check_positive_int(out_channels, "out_channels", optional=True)
        self.hidden_size = hidden_size
        self.alpha = _check_fraction(alpha, "alpha")
        self.beta = _check_fraction(beta, "beta")
        self.learn_gates = bool(learn_gates)
        num_views = len(self.modalities)
        h = hidden_size
        self.self_units = h if self.learn_gates else math.floor(self.alpha * h)
        self.cross_units = h if self.learn_gates else math.floor(self.beta * h)
        self.input_maps = nn.ModuleDict(
            {v: nn.Linear(d, 4 * h) for v, d in self.in_channels.items()}
        )
        self.recurrent_self = nn.ParameterDict(
            {v: nn.Parameter(torch.empty(4 * h, self.self_units)) for v in self.modalities}
        )
        self.recurrent_cross = nn.ParameterDict(
            {
                v: nn.Parameter(torch.empty(4 * h, (num_views - 1) * self.cross_units))
                for v in self.modalities
            }
        )
        if self.learn_gates:
            self.self_gate_logits = nn.Parameter(torch.empty(num_views, h))
            self.cross_gate_logits = nn.Parameter(torch.empty(num_views, h))
        self.missing_states = nn.Parameter(torch.empty(num_views, h))
        self.lin = nn.Linear(num_views * h, out_channels) if out_channels is not None else None
        self.out_channels = out_channels if out_channels is not None else num_views * h
        self.reset_parameters()

    @classmethod
    def from_topology(
        cls, topology: str, in_channels: Mapping[str, int], **kwargs: Any
    ) -> MultiViewLSTM:
        """Build the MV-LSTM with the ``(alpha, beta)`` of a named topology.

        Args:
            topology (str): One of :data:`MVLSTM_TOPOLOGIES`.
            in_channels (Mapping[str, int]): Input size of each view.
            **kwargs: Further arguments of :class:`MultiViewLSTM` (not ``alpha``/``beta``).
        """
        if topology not in MVLSTM_TOPOLOGIES:
            raise ValueError(
                f"Unknown MV-LSTM topology {topology!r}; valid topologies: "
                f"{', '.join(MVLSTM_TOPOLOGIES)}"
            )
        if "alpha" in kwargs or "beta" in kwargs:
            raise TypeError("Pass either a topology or 'alpha'/'beta', not both")
        alpha, beta = MVLSTM_TOPOLOGIES[topology]
        return cls(in_channels, alpha=alpha, beta=beta, **kwargs)

    @property
    def topology(self) -> str:
        """The name of the topology that ``(alpha, beta)`` set."""
        return topology_name(self.alpha, self.beta)

    def reset_parameters(self) -> None:
        r"""Re-initialise all parameters.

        Uniform :math:`\pm 1/\sqrt{H}` weights as in :class:`torch.nn.LSTM`; gate logits at
        :math:`\operatorname{logit}(\alpha)` and :math:`\operatorname{logit}(\beta)`; missing
        states normal with std 0.02.
        """
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in [
            *self.input_maps.parameters(),
            *self.recurrent_self.values(),
            *self.recurrent_cross.values(),
        ]:
            nn.init.uniform_(weight, -bound, bound)
        if self.learn_gates:

            def logit(p: float) -> float:
                p = min(max(p, 0.01), 0.99)
                return math.log(p / (1.0 - p))

            nn.init.constant_(self.self_gate_logits, logit(self.alpha))
            nn.init.constant_(self.cross_gate_logits, logit(self.beta))
        nn.init.normal_(self.missing_states, std=0.02)
        if self.lin is not None:
            self.lin.reset_parameters()

    def prepare(
        self,
        xs: Mapping[str, Tensor],
        masks: Mapping[str, Tensor] | None = None,
        zero_absent: bool = True,
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Check the sequences; return them and ``[N, T]`` masks, absent steps zeroed."""
        return prepare_inputs(self.in_channels, xs, masks, sequence=True, zero_absent=zero_absent)

    def _recurrent_input(self, v: int, hs: list[Tensor]) -> Tensor:
        """The part of view ``v``'s gate pre-activations that comes from previous states."""
        name = self.modalities[v]
        own = hs[v]
        others = [hs[u] for u in range(len(hs)) if u != v]
        if self.learn_gates:
            own = own * torch.sigmoid(self.self_gate_logits[v])
            others = [h * torch.sigmoid(self.cross_gate_logits[v]) for h in others]
        else:
            own = own[:, : self.self_units]
            others = [h[:, : self.cross_units] for h in others]
        out = own @ self.recurrent_self[name].t()
        if others:
            out = out + torch.cat(others, dim=1) @ self.recurrent_cross[name].t()
        return out

    def states(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> dict[str, Tensor]:
        """Run the MV-LSTM; return each view's final hidden state ``[N, H]``.

        A view absent at every step gets its learned missing vector.
        """
        x_list, mask_list = self.prepare(xs, masks)
        n, steps = x_list[0].shape[:2]
        h = self.hidden_size
        hs = [x_list[0].new_zeros(n, h) for _ in x_list]
        cs = [x_list[0].new_zeros(n, h) for _ in x_list]
        inputs = [self.input_maps[v](x) for v, x in zip(self.modalities, x_list)]  # [N, T, 4H]
        for t in range(steps):
            new_hs, new_cs = [], []
            for v in range(len(x_list)):
                a = inputs[v][:, t] + self._recurrent_input(v, hs)
                a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
                c = torch.sigmoid(a_f) * cs[v] + torch.sigmoid(a_i) * torch.tanh(a_g)
                h_new = torch.sigmoid(a_o) * torch.tanh(c)
                step_mask = mask_list[v][:, t, None]
                new_cs.append(torch.where(step_mask, c, cs[v]))
                new_hs.append(torch.where(step_mask, h_new, hs[v]))
            hs, cs = new_hs, new_cs
        out = {}
        for v, name in enumerate(self.modalities):
            seen = mask_list[v].any(dim=1)[:, None]
            out[name] = torch.where(seen, hs[v], self.missing_states[v].to(hs[v].dtype))
        return out

    def forward(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """Concatenate (and optionally map) the final hidden states of the views."""
        states = self.states(xs, masks)
        z = torch.cat([states[v] for v in self.modalities], dim=1)
        return self.lin(z) if self.lin is not None else z

    def _repr_out_channels(self) -> int | None:
        return self.lin.out_features if self.lin is not None else None

    def _repr_args(self) -> str:
        return (
            f"hidden_size={self.hidden_size}, alpha={self.alpha}, beta={self.beta}, "
            f"topology={self.topology!r}, learn_gates={self.learn_gates}"
        )
