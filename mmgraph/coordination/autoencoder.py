"""A joint multimodal (denoising) autoencoder: one shared code from any subset of modalities."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

from mmgraph.coordination.projection import check_hidden, mlp
from mmgraph.fusion import FUSION_HEADS
from mmgraph.fusion.base import (
    FusionHead,
    check_in_channels,
    format_dims,
    prepare_inputs,
    reset_linear_layers,
)
from mmgraph.resolver import check_positive_int, register


class AutoencoderOutput(NamedTuple):
    """What :meth:`MultimodalAutoencoder.forward` returns."""

    code: Tensor
    """The shared code ``[N, out_channels]``."""
    reconstructions: dict[str, Tensor]
    """Each modality decoded from the code ``[N, d_m]``."""


def _check_probability(value: float, name: str) -> float:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Expected {name!r} to be in [0, 1) (got {value})")
    return float(value)


def _rand(shape: tuple[int, ...], like: Tensor, generator: torch.Generator | None) -> Tensor:
    """Uniform ``[0, 1)`` draws shaped ``shape``, from ``generator`` (CPU) or the global RNG."""
    if generator is None:
        return torch.rand(shape, dtype=like.dtype, device=like.device)
    return torch.rand(shape, generator=generator, dtype=like.dtype).to(like.device)


def _randn(shape: tuple[int, ...], like: Tensor, generator: torch.Generator | None) -> Tensor:
    if generator is None:
        return torch.randn(shape, dtype=like.dtype, device=like.device)
    return torch.randn(shape, generator=generator, dtype=like.dtype).to(like.device)


class MultimodalAutoencoder(nn.Module):
    r"""A joint multimodal (denoising) autoencoder with one code from any subset of modalities.

    In the spirit of `"Multimodal Deep Learning"
    <https://people.csail.mit.edu/khosla/papers/icml2011_ngiam.pdf>`_ (Ngiam et al., ICML
    2011), with modality dropout so the code can be computed from any subset of modalities.

    .. math::
        \mathbf{c}_i = \frac{1}{|\mathcal{K}_i|} \sum_{m \in \mathcal{K}_i}
        f_m(\tilde{\mathbf{x}}_{i,m}), \qquad
        \hat{\mathbf{x}}_{i,m} = g_m(\mathbf{c}_i), \qquad
        \mathcal{L} = \frac{1}{|\mathcal{M}^{+}|} \sum_{m \in \mathcal{M}^{+}}
        \frac{1}{|\mathcal{P}_m| \, d_m} \sum_{i \in \mathcal{P}_m}
        \lVert \hat{\mathbf{x}}_{i,m} - \mathbf{x}_{i,m} \rVert^2

    :math:`f_m` and :math:`g_m` are per-modality MLP encoders and decoders; the code is the
    mean of the per-modality codes over the kept modalities :math:`\mathcal{K}_i`: the present
    ones, minus, in training mode, those hidden by *modality dropout* (each present modality
    is hidden with probability ``modality_dropout``, keeping at least one). In training mode
    the inputs :math:`\tilde{\mathbf{x}}` are also corrupted (*denoising*): Gaussian noise of
    std ``noise_std`` and inverted feature dropout of rate ``feature_dropout``. The
    reconstruction error compares with the clean inputs, on the truly present rows
    :math:`\mathcal{P}_m` only, and is averaged over the modalities :math:`\mathcal{M}^{+}` with
    at least one present row, so hidden modalities must be predicted from the others.

    A node with no modality at all gets the zero code. :meth:`impute` fills each absent
    modality with its decoding of the code of the present ones. To use the code as a fusion
    head, see :class:`AutoencoderFusion`.

    Args:
        in_channels (Mapping[str, int]): Embedding size :math:`d_m` of each modality.
        out_channels (int): Size of the shared code (the code size).
        hidden_channels (int or Sequence[int], optional): Hidden layer sizes of the encoders
            (the decoders mirror them). (default: :obj:`(64,)`)
        noise_std (float, optional): Std of the Gaussian input noise in training.
            (default: :obj:`0.0`)
        feature_dropout (float, optional): Feature dropout rate in training.
            (default: :obj:`0.0`)
        modality_dropout (float, optional): Probability of hiding each present modality in
            training. (default: :obj:`0.0`)

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`
        - **output:** code :math:`(N, \text{out\_channels})`, reconstructions :math:`(N, d_m)`
    """

    def __init__(
        self,
        in_channels: Mapping[str, int],
        out_channels: int,
        hidden_channels: int | Sequence[int] = (64,),
        noise_std: float = 0.0,
        feature_dropout: float = 0.0,
        modality_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_channels = check_in_channels(in_channels)
        self.modalities = tuple(self.in_channels)
        check_positive_int(out_channels, "out_channels")
        self.out_channels = out_channels
        self.hidden_channels = check_hidden(hidden_channels)
        if not 0 <= noise_std < math.inf:
            raise ValueError(
                f"Expected 'noise_std' to be non-negative and finite (got {noise_std})"
            )
        self.noise_std = float(noise_std)
        self.feature_dropout = _check_probability(feature_dropout, "feature_dropout")
        self.modality_dropout = _check_probability(modality_dropout, "modality_dropout")
        self.encoders = nn.ModuleDict(
            {m: mlp(d, self.hidden_channels, out_channels) for m, d in self.in_channels.items()}
        )
        self.decoders = nn.ModuleDict(
            {
                m: mlp(out_channels, self.hidden_channels[::-1], d)
                for m, d in self.in_channels.items()
            }
        )
        self.reset_parameters()

    @property
    def autoencoder(self) -> MultimodalAutoencoder:
        """Itself, as pretraining reads the joint autoencoder of a model or a head.

        A model's fusion head has it as :attr:`AutoencoderFusion.autoencoder`.
        """
        return self

    def reset_parameters(self) -> None:
        """Re-initialise every encoder and decoder."""
        reset_linear_layers(self.encoders, self.decoders)

    def _kept(self, mask: Tensor, like: Tensor, generator: torch.Generator | None) -> Tensor:
        """Modality dropout on ``mask`` ``[N, M]``: hide present entries, keep one per row."""
        if not self.training or self.modality_dropout == 0.0:
            return mask
        kept = mask & (_rand(tuple(mask.shape), like, generator) >= self.modality_dropout)
        # Rows that lost every present modality get one back, chosen uniformly.
        lost = mask.any(1) & ~kept.any(1)
        scores = _rand(tuple(mask.shape), like, generator).masked_fill(~mask, -1.0)
        restore = torch.zeros_like(mask).scatter_(1, scores.argmax(1, keepdim=True), True)
        return kept | (restore & lost[:, None])

    def _corrupt(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        if not self.training:
            return x
        if self.noise_std > 0:
            x = x + self.noise_std * _randn(tuple(x.shape), x, generator)
        if self.feature_dropout > 0:
            keep = _rand(tuple(x.shape), x, generator) >= self.feature_dropout
            x = x * keep / (1.0 - self.feature_dropout)
        return x

    def _encode_prepared(
        self, x_list: list[Tensor], mask_list: list[Tensor], generator: torch.Generator | None
    ) -> Tensor:
        kept = self._kept(torch.stack(mask_list, dim=1), x_list[0], generator)
        total = x_list[0].new_zeros(x_list[0].size(0), self.out_channels)
        for j, (m, x) in enumerate(zip(self.modalities, x_list)):
            code = self.encoders[m](self._corrupt(x, generator))
            total = total + torch.where(kept[:, j, None], code, code.new_zeros(()))
        count = kept.sum(1, keepdim=True).clamp_min(1).to(total.dtype)
        return total / count

    def encode(
        self,
        xs: Mapping[str, Tensor],
        masks: Mapping[str, Tensor] | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Return the shared code ``[N, out_channels]`` from the present modalities.

        Args:
            xs (Mapping[str, Tensor]): The modalities.
            masks (Mapping[str, Tensor], optional): Presence masks. (default: all present)
            generator (torch.Generator, optional): CPU generator for the training-mode
                corruption; :obj:`None` draws from the global RNG, like
                :class:`torch.nn.Dropout`. (default: :obj:`None`)
        """
        x_list, mask_list = prepare_inputs(self.in_channels, xs, masks, module=self)
        return self._encode_prepared(x_list, mask_list, generator)

    def decode(self, code: Tensor) -> dict[str, Tensor]:
        """Decode every modality from the code."""
        return {m: self.decoders[m](code) for m in self.modalities}

    def forward(
        self,
        xs: Mapping[str, Tensor],
        masks: Mapping[str, Tensor] | None = None,
        generator: torch.Generator | None = None,
    ) -> AutoencoderOutput:
        """Encode (corrupting in training mode) and decode every modality."""
        code = self.encode(xs, masks, generator)
        return AutoencoderOutput(code, self.decode(code))

    def loss(
        self,
        xs: Mapping[str, Tensor],
        masks: Mapping[str, Tensor] | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Mean squared reconstruction error on the truly present rows (see the class)."""
        x_list, mask_list = prepare_inputs(self.in_channels, xs, masks, module=self)
        code = self._encode_prepared(x_list, mask_list, generator)
        terms = []
        for m, x, mask in zip(self.modalities, x_list, mask_list):
            if bool(mask.any()):
                err = (self.decoders[m](code[mask]) - x[mask]).pow(2)
                terms.append(err.mean())
        if not terms:
            return code.sum() * 0.0
        return torch.stack(terms).mean()

    def impute(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> dict[str, Tensor]:
        """Fill each absent modality with its decoding of the code of the present ones.

        Present rows are returned as given; absent rows (whatever they held) are replaced by
        the decoder's output. No corruption is applied, whatever the mode.
        """
        x_list, mask_list = prepare_inputs(self.in_channels, xs, masks, module=self)
        was_training = self.training
        self.eval()
        try:
            code = self._encode_prepared(x_list, mask_list, None)
        finally:
            self.train(was_training)
        out = {}
        for m, x, mask in zip(self.modalities, x_list, mask_list):
            out[m] = torch.where(mask[:, None], x, self.decoders[m](code))
        return out

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({format_dims(self.in_channels)}, "
            f"out_channels={self.out_channels}, hidden_channels={list(self.hidden_channels)}, "
            f"noise_std={self.noise_std}, "
            f"feature_dropout={self.feature_dropout}, modality_dropout={self.modality_dropout})"
        )


@register(FUSION_HEADS, "autoencoder")
class AutoencoderFusion(FusionHead):
    r"""A :class:`MultimodalAutoencoder` used as a fusion head: ``forward`` returns its code.

    Registered as the fusion head ``"autoencoder"`` (:data:`mmgraph.fusion.FUSION_HEADS`).
    Pretrain with :meth:`loss` (reconstruction), then fine-tune through :meth:`forward`.
    In training mode the code is computed with the autoencoder's corruption (modality dropout
    and denoising), which then acts as a regulariser.

    Args:
        in_channels (Mapping[str, int]): Embedding size :math:`d_m` of each modality.
        out_channels (int): Size of the code.
        **kwargs: ``hidden_channels``, ``noise_std``, ``feature_dropout``, ``modality_dropout`` of
            :class:`MultimodalAutoencoder`.

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`
        - **output:** :math:`(N, \text{out\_channels})`
    """

    def __init__(
        self,
        in_channels: Mapping[str, int],
        out_channels: int,
        hidden_channels: int | Sequence[int] = (64,),
        noise_std: float = 0.0,
        feature_dropout: float = 0.0,
        modality_dropout: float = 0.0,
    ) -> None:
        super().__init__(in_channels)
        self.autoencoder = MultimodalAutoencoder(
            in_channels,
            out_channels,
            hidden_channels=hidden_channels,
            noise_std=noise_std,
            feature_dropout=feature_dropout,
            modality_dropout=modality_dropout,
        )
        self.out_channels = out_channels
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the autoencoder."""
        self.autoencoder.reset_parameters()

    def forward(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """Return the autoencoder's code."""
        return self.autoencoder.encode(xs, masks)

    def loss(self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None) -> Tensor:
        """The autoencoder's reconstruction loss (for pretraining)."""
        return self.autoencoder.loss(xs, masks)

    def impute(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> dict[str, Tensor]:
        """Fill absent modalities from the present ones (:meth:`MultimodalAutoencoder.impute`)."""
        return self.autoencoder.impute(xs, masks)

    def _repr_args(self) -> str:
        ae = self.autoencoder
        return (
            f"hidden_channels={list(ae.hidden_channels)}, noise_std={ae.noise_std}, "
            f"feature_dropout={ae.feature_dropout}, modality_dropout={ae.modality_dropout}"
        )
