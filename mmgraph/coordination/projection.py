"""Coordinated representations: each modality projected into one shared space."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.fusion.base import (
    check_in_channels,
    format_dims,
    prepare_inputs,
    reset_linear_layers,
)
from mmgraph.resolver import check_positive_int


def mlp(in_channels: int, hidden_channels: Sequence[int], out_channels: int) -> nn.Sequential:
    """A ReLU multilayer perceptron ``in_channels -> *hidden_channels -> out_channels``.

    The last layer is linear.
    """
    sizes = [in_channels, *hidden_channels, out_channels]
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(d_in, d_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def check_hidden(hidden_channels: int | Sequence[int]) -> tuple[int, ...]:
    """Normalise a hidden-layer spec (an int or a sequence of ints) to a tuple."""
    if isinstance(hidden_channels, int) and not isinstance(hidden_channels, bool):
        sizes: int | Sequence[int] = (hidden_channels,)
    else:
        sizes = hidden_channels
    if not isinstance(sizes, Sequence):
        raise TypeError(
            f"Expected 'hidden_channels' to be an int or a sequence of ints "
            f"(got {type(hidden_channels).__name__!r})"
        )
    for size in sizes:
        check_positive_int(size, "hidden_channels")
    return tuple(sizes)


class CoordinatedProjection(nn.Module):
    r"""Project each modality into one shared space of size ``out_channels``.

    A coordinated representation, as in DeViSE or CLIP, to be aligned by a coordination loss.

    .. math::
        \mathbf{z}_{i,m} = f_m(\mathbf{x}_{i,m}) \quad \text{(optionally }
        \mathbf{z}_{i,m} / \lVert \mathbf{z}_{i,m} \rVert \text{)}

    with :math:`f_m` a linear map or an MLP per modality. Rows of absent modalities are zeros
    (they never depend on the given rows); pass the masks on to the losses, which use only nodes
    where both modalities are present.

    Args:
        in_channels (Mapping[str, int]): Embedding size :math:`d_m` of each modality.
        out_channels (int): Size of the shared space.
        hidden_channels (int or Sequence[int], optional): Hidden layer sizes of each
            :math:`f_m`.
            (default: :obj:`()`: linear maps)
        normalize (bool, optional): L2-normalise the projections. (default: :obj:`False`)

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`
        - **output:** ``dict`` of :math:`(N, \text{out\_channels})`
    """

    def __init__(
        self,
        in_channels: Mapping[str, int],
        out_channels: int,
        hidden_channels: int | Sequence[int] = (),
        normalize: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = check_in_channels(in_channels)
        self.modalities = tuple(self.in_channels)
        check_positive_int(out_channels, "out_channels")
        self.out_channels = out_channels
        self.hidden_channels = check_hidden(hidden_channels)
        self.normalize = bool(normalize)
        self.projections = nn.ModuleDict(
            {m: mlp(d, self.hidden_channels, out_channels) for m, d in self.in_channels.items()}
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every projection."""
        reset_linear_layers(self.projections)

    def forward(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> dict[str, Tensor]:
        """Project each modality; rows of absent modalities are zeros."""
        x_list, mask_list = prepare_inputs(self.in_channels, xs, masks, module=self)
        zipped = zip(self.modalities, x_list, mask_list)
        return {m: self.project(m, x, mask) for m, x, mask in zipped}

    def project(self, modality: str, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Project one modality: ``[N, d_m] -> [N, out_channels]``.

        Rows where ``mask`` is :obj:`False` are zeros (default: :obj:`None`, every row kept).

        Raises:
            KeyError: ``modality`` is not one of :attr:`modalities`.
        """
        if modality not in self.projections:
            raise KeyError(
                f"No projection for modality {modality!r} (the projection has "
                f"{list(self.modalities)}): choose one of those"
            )
        z = self.projections[modality](x)
        if self.normalize:
            z = F.normalize(z, dim=1)
        if mask is None:
            return z
        return torch.where(mask.to(z.device)[:, None], z, z.new_zeros(()))

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({format_dims(self.in_channels)}, "
            f"out_channels={self.out_channels}, "
            f"hidden_channels={list(self.hidden_channels)}, normalize={self.normalize})"
        )
