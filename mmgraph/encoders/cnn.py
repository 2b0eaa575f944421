"""A small convolutional network trained end to end on node images."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from mmgraph.encoders._inputs import check_node_mask


class SmallCNN(nn.Module):
    r"""A small convolutional network trained end to end on node images (such as avatars).

    After the `"Gradient-Based Learning Applied to Document Recognition"
    <https://doi.org/10.1109/5.726791>`_ paper.

    Each block is a 3x3 convolution, batch normalisation, ReLU and 2x2 max pooling; the last
    block's map is averaged over positions and projected:

    .. math::
        \mathbf{x} = \mathbf{W} \, \mathrm{avg}\big(B_L \circ \cdots \circ B_1(I)\big)
        + \mathbf{b}.

    :meth:`forward` runs on the nodes in ``mask`` only and returns zeros for the others, so
    missing (zero) images do not enter the batch statistics.

    Args:
        in_channels (int, optional): Image channels. (default: :obj:`3`)
        out_channels (int, optional): Output size. (default: :obj:`64`)
        channels (Sequence[int], optional): Channels of each block. (default: ``(16, 32, 64)``)
        batch_norm (bool, optional): Use batch normalisation (convolutions then have no
            bias). (default: :obj:`True`)
        dropout (float, optional): Dropout before the projection. (default: :obj:`0.0`)

    Shapes:
        - **input:** images ``[N, C, H, W]`` (float), mask ``[N]`` (bool, optional)
        - **output:** ``(x [N, out_channels], mask [N])``
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 64,
        channels: Sequence[int] = (16, 32, 64),
        batch_norm: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for key, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Expected '{key}' to be a positive int (got {value!r})")
        if len(channels) == 0 or any(not isinstance(c, int) or c < 1 for c in channels):
            raise ValueError(
                "Expected 'channels' to be a non-empty sequence of positive ints "
                f"(got {channels!r})"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"Expected 'dropout' in [0, 1) (got {dropout})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.channels = tuple(channels)
        self.batch_norm = batch_norm
        layers: list[nn.Module] = []
        previous = in_channels
        for c in self.channels:
            layers.append(nn.Conv2d(previous, c, kernel_size=3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.ReLU())
            layers.append(nn.MaxPool2d(2, ceil_mode=True))
            previous = c
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.lin = nn.Linear(previous, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        for module in self.modules():
            reset = getattr(module, "reset_parameters", None)
            if module is not self and callable(reset):
                reset()

    def forward(self, images: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Features ``[N, out_channels]`` of the images in ``mask`` (zeros elsewhere), mask."""
        if not isinstance(images, Tensor) or images.dim() != 4:
            raise ValueError(
                f"Expected images of shape [N, C, H, W] (got "
                f"{list(getattr(images, 'shape', [])) or type(images).__name__})"
            )
        if images.size(1) != self.in_channels:
            raise ValueError(
                f"Expected images with {self.in_channels} channels (got {images.size(1)}); set "
                "'in_channels' to match"
            )
        if not images.is_floating_point():
            raise TypeError(
                f"Expected float images (got {images.dtype}); convert with `images.float() / 255`"
            )
        n = images.size(0)
        if mask is None:
            mask = torch.ones(n, dtype=torch.bool, device=images.device)
        else:
            check_node_mask(mask, n)
        x = images.new_zeros(n, self.out_channels)
        if bool(mask.any()):
            h = self.features(images[mask]).mean(dim=(2, 3))
            x = x.index_put((mask.nonzero().flatten(),), self.lin(self.dropout(h)))
        return x, mask

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
            f"channels={self.channels})"
        )
