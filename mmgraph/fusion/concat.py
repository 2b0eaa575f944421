"""Concatenation fusion, telling the next layer which modalities are absent."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from mmgraph.fusion.base import FusionHead, prepare_inputs
from mmgraph.nn.functional import fill_rows, hstack, is_sparse, sparse_linear
from mmgraph.resolver import check_positive_int

MISSING_MODES = ("learned", "flags")


class ConcatFusion(FusionHead):
    r"""Early fusion by concatenation of the modality embeddings.

    .. math::
        \mathbf{z}_i = \big\Vert_{m=1}^{M} \tilde{\mathbf{x}}_{i,m}, \qquad
        \tilde{\mathbf{x}}_{i,m} =
        \begin{cases} \mathbf{x}_{i,m} & \text{if node } i \text{ has modality } m \\
        \mathbf{e}_m & \text{otherwise} \end{cases}

    With ``missing="learned"``, an absent modality is replaced by a learned vector
    :math:`\mathbf{e}_m`; with ``missing="flags"``, by zeros, and the :math:`M` presence
    flags (``1.0`` present, ``0.0`` absent) are appended, so the next layer can tell an
    absent modality from a zero embedding. A node with no modality at all gets all the
    :math:`\mathbf{e}_m` (or zeros and zero flags). With ``out_channels`` set, a linear map
    :math:`\mathbf{W}\mathbf{z}_i + \mathbf{b}` follows.

    A modality given as a sparse CSR tensor (a bag of words) stays sparse with learned
    missing vectors: the absent rows get :math:`\mathbf{e}_m` as stored values
    (:func:`~mmgraph.nn.functional.fill_rows`), the other modalities' columns are joined to
    it as stored values (:func:`~mmgraph.nn.functional.hstack`), and the linear map is
    sparse-dense.

    Args:
        in_channels (Mapping[str, int]): Embedding size :math:`d_m` of each modality.
        out_channels (int, optional): If set, the size of a linear map applied to the
            concatenation. (default: :obj:`None`: output the concatenation, of size
            :math:`\sum_m d_m` (:math:`+ M` with flags))
        missing (str, optional): How absent modalities are shown, ``"learned"`` or
            ``"flags"``. (default: :obj:`"learned"`)

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`
        - **output:** :math:`(N, \text{out\_channels})`
    """

    supports_sparse_input = True  # with learned missing vectors
    fuses_to_hidden = False

    def __init__(
        self,
        in_channels: Mapping[str, int],
        out_channels: int | None = None,
        missing: str = "learned",
    ) -> None:
        super().__init__(in_channels)
        check_positive_int(out_channels, "out_channels", optional=True)
        if missing not in MISSING_MODES:
            raise ValueError(
                f"Unknown missing mode {missing!r}; valid modes: {', '.join(MISSING_MODES)}"
            )
        self.missing = missing
        self.concat_dim = sum(self.in_channels.values()) + (
            len(self.modalities) if missing == "flags" else 0
        )
        self.missing_vectors = nn.ParameterDict()
        if missing == "learned":
            for m, d in self.in_channels.items():
                self.missing_vectors[m] = nn.Parameter(torch.empty(d))
        self.lin = nn.Linear(self.concat_dim, out_channels) if out_channels is not None else None
        self.out_channels = out_channels if out_channels is not None else self.concat_dim
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the missing vectors (normal, std 0.02) and the linear map."""
        for vector in self.missing_vectors.values():
            nn.init.normal_(vector, std=0.02)
        if self.lin is not None:
            self.lin.reset_parameters()

    def forward(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """Concatenate the modalities of each node (see the class docstring)."""
        # With learned missing vectors the absent rows are replaced below: no zeroing pass.
        learned = self.missing == "learned"
        x_list, mask_list = prepare_inputs(
            self.in_channels,
            xs,
            masks,
            zero_absent=not learned,
            keep_sparse=learned,
            module=self,
        )
        parts = []
        for m, x, mask in zip(self.modalities, x_list, mask_list):
            # (skipped when every node has the modality: the output is the same, and the
            # inputs of wide, fixed features need no pass or gradient here)
            if learned and not bool(mask.all()):
                vector = self.missing_vectors[m]
                if is_sparse(x):
                    x = fill_rows(x, mask, vector)
                else:
                    x = torch.where(mask[:, None], x, vector.to(x.dtype))
            parts.append(x)
        if self.missing == "flags":
            parts.append(torch.stack(mask_list, dim=1).to(x_list[0].dtype))
        if len(parts) == 1:
            z = parts[0]
        elif any(is_sparse(x) for x in parts):
            z = hstack(parts)
        else:
            z = torch.cat(parts, dim=1)
        if self.lin is None:
            return z
        return sparse_linear(z, self.lin.weight, self.lin.bias) if is_sparse(z) else self.lin(z)

    def _repr_out_channels(self) -> int | None:
        return self.lin.out_features if self.lin is not None else None

    def _repr_args(self) -> str:
        return f"missing={self.missing!r}, concat_dim={self.concat_dim}"
