"""Translation between modalities as a joint representation: encode one, decode the others."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from mmgraph.coordination.projection import check_hidden, mlp
from mmgraph.errors import InputError
from mmgraph.fusion import FUSION_HEADS
from mmgraph.fusion.base import (
    FusionHead,
    canonical_order,
    check_in_channels,
    prepare_inputs,
    reset_linear_layers,
)
from mmgraph.resolver import check_positive_int, register


class TranslationLoss(NamedTuple):
    """The two terms of :meth:`TranslationFusion.loss_terms` (unweighted)."""

    translation: Tensor
    """Mean squared error of the source-to-target translations, averaged over the targets."""
    cycle: Tensor
    """Mean squared error of the back-translated source, averaged over the targets (``0``
    without ``cycle``)."""


def _non_negative(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise InputError(f"Expected {name!r} to be a number >= 0 (got {value!r})")
    return float(value)


@register(FUSION_HEADS, "translation")
class TranslationFusion(FusionHead):
    r"""A joint representation learned by translating a source modality into the others.

    After `"Found in Translation: Learning Robust Joint Representations by Cyclic
    Translations Between Modalities" <https://arxiv.org/abs/1812.07809>`_ (Pham et al., AAAI
    2019): an encoder :math:`E` maps the source modality :math:`s` to a code, decoders
    :math:`D_t` translate the code into each other (target) modality :math:`t`, and the code
    is the fused representation, so only the source is needed at test time.

    .. math::
        \mathbf{c}_i = \begin{cases} E(\mathbf{x}_{i,s}) & \text{if node } i \text{ has } s
        \\ \mathbf{e}_{\varnothing} & \text{otherwise} \end{cases}, \qquad
        \mathcal{L}_{\text{trans}} = \frac{1}{|T^{+}|} \sum_{t \in T^{+}}
        \frac{1}{|\mathcal{P}_t| \, d_t} \sum_{i \in \mathcal{P}_t}
        \lVert D_t(\mathbf{c}_i) - \mathbf{x}_{i,t} \rVert^2

    :math:`\mathcal{P}_t` are the nodes having both :math:`s` and :math:`t`, and :math:`T^{+}`
    the targets with at least one such node, so every target weighs the same whatever its
    number of nodes or its size. With ``cycle``, each translation is translated back
    (Pham et al.'s cyclic translation): a back-encoder :math:`B_t` re-encodes it into the code
    space and one source decoder :math:`D_s` decodes the source, whose error is penalised on
    every node having the source (the term reads no target):

    .. math::
        \mathcal{L}_{\text{cycle}} = \frac{1}{|T|} \sum_{t \in T}
        \frac{1}{|\mathcal{S}| \, d_s} \sum_{i \in \mathcal{S}}
        \lVert D_s(B_t(D_t(\mathbf{c}_i))) - \mathbf{x}_{i,s} \rVert^2, \qquad
        \mathcal{L} = \mathcal{L}_{\text{trans}} + \lambda_c \mathcal{L}_{\text{cycle}}

    The reconstruction targets :math:`\mathbf{x}_{i,t}` (and :math:`\mathbf{x}_{i,s}` in the
    cycle) are taken without gradient: inside a model they are learned modality embeddings,
    which the loss would otherwise shrink towards zero to make translation trivial. The
    encoder's input keeps its gradient.

    **Nodes without the source** get one learned "missing source" code
    :math:`\mathbf{e}_{\varnothing}` (initialised at zero), so the output never depends on the
    target modalities, present or not; such nodes are told apart by the model, which then
    relies on their neighbours. They take no part in either loss.

    Inside :class:`~mmgraph.models.MultimodalGNN` the head has the ``has_auxiliary_loss``
    flag: training adds :meth:`auxiliary_loss`, :math:`\lambda \mathcal{L}` with
    :math:`\lambda` = ``translation_weight``, to the supervised loss.

    Args:
        in_channels (Mapping[str, int]): Embedding size :math:`d_m` of each modality (at
            least two).
        out_channels (int): Size of the code.
        source (str, optional): The source modality :math:`s`, one of ``in_channels``;
            :obj:`None` takes the first in canonical order (``text`` when present).
            (default: :obj:`None`)
        hidden_channels (int or Sequence[int], optional): Hidden layer sizes of the encoders
            (the decoders mirror them). (default: :obj:`(64,)`)
        cycle (bool, optional): Add the cyclic back-translation term. (default: :obj:`False`)
        cycle_weight (float, optional): Its weight :math:`\lambda_c`. (default: :obj:`1.0`)
        translation_weight (float, optional): Weight :math:`\lambda` of the loss added to a
            model's training loss (:meth:`auxiliary_loss`). (default: :obj:`1.0`)

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`; the targets
          may be left out of ``xs`` in :meth:`forward`
        - **output:** :math:`(N, \text{out\_channels})`; :meth:`loss`: a scalar
    """

    has_auxiliary_loss = True
    flag_names = ("source", "cycle", "translation_weight")

    @classmethod
    def auto_options(cls, in_channels: Mapping[str, int], options: Mapping[str, Any]) -> dict:
        """The source, when not given: the first modality in canonical order."""
        if options.get("source") is None:
            return {"source": canonical_order(in_channels)[0]}
        return {}

    def __init__(
        self,
        in_channels: Mapping[str, int],
        out_channels: int,
        source: str | None = None,
        hidden_channels: int | Sequence[int] = (64,),
        cycle: bool = False,
        cycle_weight: float = 1.0,
        translation_weight: float = 1.0,
    ) -> None:
        dims = check_in_channels(in_channels)
        if len(dims) < 2:
            raise InputError(
                f"Translation needs a source and at least one other modality to translate into "
                f"(got {list(dims)}): add a modality, or use another fusion head"
            )
        super().__init__(dims, min_modalities=2)
        source = self.modalities[0] if source is None else source
        if source not in self.in_channels:
            raise InputError(
                f"Expected 'source' to be one of the modalities {list(self.modalities)} "
                f"(got {source!r}): choose the source among them (--source on the command "
                "line), or add that modality"
            )
        check_positive_int(out_channels, "out_channels")
        self.out_channels = out_channels
        self.source = source
        self.targets: tuple[str, ...] = tuple(m for m in self.modalities if m != source)
        self.hidden_channels = check_hidden(hidden_channels)
        self.cycle = bool(cycle)
        self.cycle_weight = _non_negative(cycle_weight, "cycle_weight")
        self.translation_weight = _non_negative(translation_weight, "translation_weight")
        hidden, back = self.hidden_channels, self.hidden_channels[::-1]
        self.encoder = mlp(self.in_channels[source], hidden, out_channels)
        self.decoders = nn.ModuleDict(
            {t: mlp(out_channels, back, self.in_channels[t]) for t in self.targets}
        )
        self.back_encoders = nn.ModuleDict()
        self.source_decoder: nn.Module | None = None
        if self.cycle:
            self.back_encoders.update(
                {t: mlp(self.in_channels[t], hidden, out_channels) for t in self.targets}
            )
            self.source_decoder = mlp(out_channels, back, self.in_channels[source])
        self.missing = nn.Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the encoders and decoders; the missing-source code to zero."""
        reset_linear_layers(self.encoder, self.decoders, self.back_encoders)
        if self.source_decoder is not None:
            reset_linear_layers(self.source_decoder)
        nn.init.zeros_(self.missing)

    def _source(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None
    ) -> tuple[Tensor, Tensor]:
        """The checked source input (absent rows zeroed) and its mask; given targets checked."""
        if not isinstance(xs, Mapping):
            raise TypeError(
                f"Expected 'xs' to be a mapping from modality name to tensor "
                f"(got {type(xs).__name__!r})"
            )
        if self.source not in xs:
            raise KeyError(
                f"Expected 'xs' to hold the source modality {self.source!r} (got "
                f"{sorted(xs)}): the translation head encodes it"
            )
        given = {m: d for m, d in self.in_channels.items() if m in xs}
        extra = sorted(set(xs) - set(given))
        if extra:
            raise KeyError(
                f"Unknown modalities {extra} in 'xs'; valid modalities: {list(self.modalities)}"
            )
        if isinstance(masks, Mapping):
            unknown = sorted(set(masks) - set(self.in_channels))
            if unknown:
                raise KeyError(
                    f"Unknown modalities {unknown} in 'masks'; valid modalities: "
                    f"{list(self.modalities)}"
                )
            masks = {m: k for m, k in masks.items() if m in given}
        x_list, mask_list = prepare_inputs(given, xs, masks, module=self, read=[self.source])
        j = list(given).index(self.source)
        return x_list[j], mask_list[j]

    def forward(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """The code of each node: its encoded source, or the missing-source code."""
        x, mask = self._source(xs, masks)
        code = self.encoder(x)
        return torch.where(mask[:, None], code, self.missing.to(code.dtype))

    def loss_terms(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> TranslationLoss:
        """The translation and cycle terms, unweighted (see the class).

        Every modality of ``in_channels`` must be in ``xs`` (absent rows are masked).
        """
        x_list, mask_list = self.prepare(xs, masks)
        x = dict(zip(self.modalities, x_list))
        mask = dict(zip(self.modalities, mask_list))
        source, has_source = x[self.source], mask[self.source]
        code = self.encoder(source)
        zero = code.sum() * 0.0  # a zero that keeps the graph, for empty terms
        terms = []
        for t in self.targets:
            both = has_source & mask[t]
            if bool(both.any()):
                pred = self.decoders[t](code[both])
                terms.append((pred - x[t][both].detach()).pow(2).mean())
        translation = torch.stack(terms).mean() if terms else zero
        cycle = zero
        if self.source_decoder is not None and bool(has_source.any()):
            c, target = code[has_source], source[has_source].detach()
            back = [
                (self.source_decoder(self.back_encoders[t](self.decoders[t](c))) - target)
                .pow(2)
                .mean()
                for t in self.targets
            ]
            cycle = torch.stack(back).mean()
        return TranslationLoss(translation, cycle)

    def loss(self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None) -> Tensor:
        """The translation loss plus ``cycle_weight`` times the cycle term (see the class).

        Not weighted by ``translation_weight`` (:meth:`auxiliary_loss` is).
        """
        terms = self.loss_terms(xs, masks)
        if self.source_decoder is None:
            return terms.translation
        return terms.translation + self.cycle_weight * terms.cycle

    def auxiliary_loss(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """``translation_weight`` times :meth:`loss`: what a model adds to its training loss."""
        return self.translation_weight * self.loss(xs, masks)

    def _repr_args(self) -> str:
        return (
            f"source={self.source!r}, hidden_channels={list(self.hidden_channels)}, "
            f"cycle={self.cycle}, cycle_weight={self.cycle_weight}, "
            f"translation_weight={self.translation_weight}"
        )
