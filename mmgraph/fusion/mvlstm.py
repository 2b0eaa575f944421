"""Multi-view LSTM (Rajagopalan et al., ECCV 2016) for nodes whose modalities are sequences."""

from __future__ import annotations

import math
import warnings
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
    flag_names = ("mvlstm_topology", "mvlstm_gates")

    @classmethod
    def options_from_flags(cls, flags: Mapping[str, Any]) -> dict:
        """``alpha`` and ``beta`` of ``mvlstm_topology`` (hybrid when unset), ``learn_gates``."""
        alpha, beta = MVLSTM_TOPOLOGIES[flags.get("mvlstm_topology") or "hybrid"]
        return {"alpha": alpha, "beta": beta, "learn_gates": bool(flags.get("mvlstm_gates"))}

    @classmethod
    def flags_from_options(cls, options: Mapping[str, Any]) -> dict:
        """The topology that ``alpha`` and ``beta`` set, and whether the gates are learned."""
        if "alpha" not in options:
            return {}
        return {
            "mvlstm_topology": topology_name(options["alpha"], options.get("beta", 0.5)),
            "mvlstm_gates": bool(options.get("learn_gates", False)),
        }

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
        for name, fraction, units, what, needed in (
            ("alpha", self.alpha, self.self_units, "a view's own hidden state", 1),
            ("beta", self.beta, self.cross_units, "the other views' hidden states", 2),
        ):
            if fraction > 0 and units == 0 and num_views >= needed:
                warnings.warn(
                    f"{name}={fraction} of hidden_size={h} keeps floor({fraction} * {h}) = 0 "
                    f"units of {what}, so the topology "
                    f"{topology_name(self.alpha, self.beta)!r} loses that coupling: give a "
                    "larger hidden_size",
                    stacklevel=2,
                )
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
        if not isinstance(topology, str):
            raise TypeError(
                f"Expected 'topology' to be a topology name first (got "
                f'{type(topology).__name__}): MultiViewLSTM.from_topology("coupled", '
                "in_channels)"
            )
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
        return prepare_inputs(
            self.in_channels, xs, masks, sequence=True, zero_absent=zero_absent, module=self
        )

    def recurrent_weight(self) -> Tensor:
        r"""The recurrent weights of all views as one matrix ``[V 4H, V H]``.

        Row block :math:`v` maps the previous hidden states of all views, concatenated
        :math:`[\mathbf{h}^1; \dots; \mathbf{h}^V]`, to view :math:`v`'s gate
        pre-activations: :math:`\mathbf{R}_v` on the first :math:`\lfloor \alpha H \rfloor`
        units of its own state, :math:`\mathbf{R}_{v,u}` on the first
        :math:`\lfloor \beta H \rfloor` units of each other view's, zeros elsewhere (with
        learned gates, every unit, its column scaled by the gate). One product per step
        then serves all views.
        """
        num_views, h = len(self.modalities), self.hidden_size
        first = self.recurrent_self[self.modalities[0]]
        rows = []
        for v, name in enumerate(self.modalities):
            own = self.recurrent_self[name]
            cross = self.recurrent_cross[name]
            if self.learn_gates:
                own = own * torch.sigmoid(self.self_gate_logits[v])
                cross = cross * torch.sigmoid(self.cross_gate_logits[v]).repeat(num_views - 1)
            block = first.new_zeros(4 * h, num_views, h)
            block[:, v, : self.self_units] = own
            others = [u for u in range(num_views) if u != v]
            if others:
                block[:, others, : self.cross_units] = cross.view(
                    4 * h, num_views - 1, self.cross_units
                )
            rows.append(block.view(4 * h, num_views * h))
        return torch.cat(rows, dim=0)

    def states(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> dict[str, Tensor]:
        """Run the MV-LSTM; return each view's final hidden state ``[N, H]``.

        A view absent at every step gets its learned missing vector. All views step together:
        one product with :meth:`recurrent_weight` per step.
        """
        x_list, mask_list = self.prepare(xs, masks)
        n, steps = x_list[0].shape[:2]
        h, num_views = self.hidden_size, len(x_list)
        inputs = torch.stack(
            [self.input_maps[v](x) for v, x in zip(self.modalities, x_list)], dim=2
        )  # [N, T, V, 4H]
        step_masks = torch.stack(mask_list, dim=2).unsqueeze(3)  # [N, T, V, 1]
        weight = self.recurrent_weight().to(inputs.dtype).t()
        hs = inputs.new_zeros(n, num_views, h)
        cs = inputs.new_zeros(n, num_views, h)
        # unbind once: indexing inputs[:, t] in the loop would make each step's backward
        # fill a gradient the size of the whole sequence (28 steps: 10 times slower)
        for x_t, mask_t in zip(inputs.unbind(1), step_masks.unbind(1)):
            a = x_t + (hs.reshape(n, num_views * h) @ weight).view(n, num_views, 4 * h)
            a_i, a_f, a_g, a_o = a.chunk(4, dim=2)
            c = torch.sigmoid(a_f) * cs + torch.sigmoid(a_i) * torch.tanh(a_g)
            h_new = torch.sigmoid(a_o) * torch.tanh(c)
            cs = torch.where(mask_t, c, cs)
            hs = torch.where(mask_t, h_new, hs)
        seen = step_masks.any(dim=1)  # [N, V, 1]
        final = torch.where(seen, hs, self.missing_states.to(hs.dtype))
        return {name: final[:, v] for v, name in enumerate(self.modalities)}

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
