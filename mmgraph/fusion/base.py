"""What every fusion head shares: canonical modality order and checked, masked inputs.

A fusion head takes per-modality node embeddings ``xs`` (``dict[str, Tensor]``, each
``[N, d_m]``) and presence masks ``masks`` (``dict[str, Tensor]``, each bool ``[N]``). Before
any arithmetic, :meth:`FusionHead.prepare` replaces the rows of absent modalities by zeros with
:func:`torch.where`, so that nothing downstream can depend on them: their gradient is exactly
zero and ``NaN`` or garbage there is harmless. Each head then decides what an absent modality
means (a constant ``1`` in Tensor Fusion, a factor ``1`` in the product, a learned vector in
concatenation, no weight in gated and late fusion); zeros are never taken as data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from mmgraph.data.graph import MODALITY_FIELDS
from mmgraph.resolver import InputTypeError, check_finite, check_input_dtype


def canonical_order(names: Iterable[str]) -> tuple[str, ...]:
    """Order modality names canonically.

    The known :data:`~mmgraph.data.graph.MODALITY_FIELDS` come first, in their order, then any
    other names, sorted.

    Args:
        names (Iterable[str]): Modality names.
    """
    names = list(names)
    known = [m for m in MODALITY_FIELDS if m in names]
    return tuple(known + sorted(n for n in names if n not in MODALITY_FIELDS))


def check_in_channels(in_channels: Mapping[str, int], min_modalities: int = 1) -> dict[str, int]:
    """Validate ``in_channels`` (modality -> embedding size) and return it in canonical order.

    Args:
        in_channels (Mapping[str, int]): Embedding size of each modality.
        min_modalities (int, optional): Fewest modalities allowed. (default: :obj:`1`)

    Raises:
        TypeError: If ``in_channels`` is not a mapping from strings to integers.
        ValueError: If a size is not positive, a name is empty or holds a dot, or there are
            fewer than ``min_modalities`` modalities.
    """
    if not isinstance(in_channels, Mapping):
        raise TypeError(
            f"Expected 'in_channels' to be a mapping from modality name to embedding size "
            f"(got {type(in_channels).__name__!r}), e.g. {{'text': 384, 'image': 512}}"
        )
    if len(in_channels) < min_modalities:
        raise ValueError(
            f"Expected 'in_channels' to hold at least {min_modalities} modalities "
            f"(got {len(in_channels)}: {sorted(in_channels)})"
        )
    for name, dim in in_channels.items():
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(
                f"Expected modality names to be non-empty strings without dots (got {name!r})"
            )
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(
                f"Expected the size of modality {name!r} to be an int (got {type(dim).__name__!r})"
            )
        if dim < 1:
            raise ValueError(f"Expected the size of modality {name!r} to be positive (got {dim})")
    return {m: int(in_channels[m]) for m in canonical_order(in_channels)}


FINITE_FIX = (
    "fill those values, or mark the rows absent in masks (rows a mask marks absent may hold "
    "anything)"
)
"""What a refusal of NaN or infinite values in present rows advises."""


def prepare_inputs(
    in_channels: Mapping[str, int],
    xs: Mapping[str, Tensor],
    masks: Mapping[str, Tensor] | None = None,
    sequence: bool = False,
    zero_absent: bool = True,
    keep_sparse: bool = False,
    module: nn.Module | None = None,
    read: Iterable[str] | None = None,
) -> tuple[list[Tensor], list[Tensor]]:
    """Check ``xs`` and ``masks`` against ``in_channels``; zero the rows of absent modalities.

    Args:
        in_channels (Mapping[str, int]): Embedding size of each modality, in canonical order.
        xs (Mapping[str, Tensor]): One float tensor per modality, ``[N, d_m]`` (or
            ``[N, T, d_m]`` when ``sequence``), in any order.
        masks (Mapping[str, Tensor], optional): Bool presence masks ``[N]`` (or ``[N]`` /
            ``[N, T]`` when ``sequence``). A modality without a mask counts as present
            everywhere. (default: :obj:`None`)
        sequence (bool, optional): Whether inputs are sequences. (default: :obj:`False`)
        zero_absent (bool, optional): Zero the rows of absent modalities; a head that
            replaces those rows itself (e.g. by a learned vector) skips that pass.
            (default: :obj:`True`)
        keep_sparse (bool, optional): Pass a sparse CSR input (a bag of words from an
            :class:`~mmgraph.encoders.AttributeEncoder`) on as it is, for a head that takes
            it, when it needs no zeroing (``zero_absent=False``); otherwise it is densified.
            (default: :obj:`False`)
        module (torch.nn.Module, optional): The head, whose weights' dtype every input must
            have (:func:`~mmgraph.resolver.check_input_dtype`). (default: :obj:`None`: the
            inputs need only agree with each other)
        read (Iterable[str], optional): The modalities whose values the caller reads: NaN or
            infinite values in their present rows are refused (:func:`~mmgraph.resolver.
            check_finite`). (default: :obj:`None`: all)

    Returns:
        The inputs and the bool masks (each ``[N]``, or ``[N, T]`` when ``sequence``), in the
        order of ``in_channels``; rows where the mask is :obj:`False` are zeros that do not depend
        on the given values (with ``zero_absent``).

    Raises:
        TypeError: If ``xs`` or ``masks`` are not mappings of tensors of the right dtype.
        KeyError: If ``xs`` lacks or adds modalities, or ``masks`` names unknown ones.
        ValueError: If shapes or devices disagree.
        InputTypeError: If dtypes disagree (with each other, or with ``module``'s weights).
    """
    if not isinstance(xs, Mapping):
        raise TypeError(
            f"Expected 'xs' to be a mapping from modality name to tensor "
            f"(got {type(xs).__name__!r})"
        )
    expected = list(in_channels)
    owner = None if module is None else type(module).__name__
    checked = set(in_channels if read is None else read)
    if set(xs) != set(expected):
        missing = [m for m in expected if m not in xs]
        extra = sorted(set(xs) - set(expected))
        raise KeyError(
            f"Expected 'xs' to hold exactly the modalities {expected} (missing {missing}, "
            f"unexpected {extra}); pass one tensor per modality of 'in_channels'"
        )
    if masks is None:
        masks = {}
    elif not isinstance(masks, Mapping):
        raise TypeError(
            f"Expected 'masks' to be a mapping from modality name to bool tensor or None "
            f"(got {type(masks).__name__!r})"
        )
    unknown = sorted(set(masks) - set(expected))
    if unknown:
        raise KeyError(f"Unknown modalities {unknown} in 'masks'; valid modalities: {expected}")
    ndim = 3 if sequence else 2
    shape_doc = "[N, T, d]" if sequence else "[N, d]"
    ref: Tensor | None = None
    out_x: list[Tensor] = []
    out_m: list[Tensor] = []
    for m in expected:
        x = xs[m]
        if not isinstance(x, Tensor):
            raise TypeError(f"Expected xs[{m!r}] to be a tensor (got {type(x).__name__!r})")
        if not x.is_floating_point():
            raise TypeError(f"Expected xs[{m!r}] to be of floating type (got {x.dtype!r})")
        if x.layout != torch.strided and not (keep_sparse and not zero_absent):
            x = x.to_dense()
        if x.dim() != ndim or x.size(-1) != in_channels[m]:
            raise ValueError(
                f"Expected xs[{m!r}] to have shape {shape_doc} with d = {in_channels[m]} "
                f"(got {list(x.shape)})"
            )
        if ref is None:
            ref = x
        elif x.shape[: ndim - 1] != ref.shape[: ndim - 1]:
            what = "nodes and steps" if sequence else "nodes"
            raise ValueError(
                f"Expected every modality to have the same number of {what} "
                f"(got {list(ref.shape[: ndim - 1])} for {expected[0]!r} and "
                f"{list(x.shape[: ndim - 1])} for {m!r})"
            )
        elif x.device != ref.device:
            raise ValueError(
                f"Expected every modality on one device (got {ref.device} for {expected[0]!r} "
                f"and {x.device} for {m!r})"
            )
        elif x.dtype != ref.dtype:
            raise InputTypeError(
                f"Expected every modality in one dtype (got {ref.dtype} for {expected[0]!r} "
                f"and {x.dtype} for {m!r}): convert them, e.g. with .float()"
            )
        if module is not None:
            check_input_dtype(x, module, f"xs[{m!r}]")
        mask = masks.get(m)
        if mask is None:
            if m in checked:
                check_finite(x, f"xs[{m!r}]", owner, fix=FINITE_FIX)
            mask = torch.ones(x.shape[: ndim - 1], dtype=torch.bool, device=x.device)
            out_x.append(x)  # present everywhere: nothing to zero
            out_m.append(mask)
            continue
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
            got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
            raise TypeError(f"Expected masks[{m!r}] to be a bool tensor (got {got!r})")
        allowed = [x.shape[:1], x.shape[:2]] if sequence else [x.shape[:1]]
        if mask.shape not in allowed:
            doc = "[N] or [N, T]" if sequence else "[N]"
            raise ValueError(
                f"Expected masks[{m!r}] to have shape {doc} = "
                f"{' or '.join(str(list(s)) for s in allowed)} (got {list(mask.shape)})"
            )
        if mask.device != x.device:
            raise ValueError(
                f"Expected masks[{m!r}] on the device of xs[{m!r}] "
                f"(got {mask.device} and {x.device})"
            )
        if sequence and mask.dim() == 1:
            mask = mask[:, None].expand(x.shape[:2])
        if m in checked:
            check_finite(x, f"xs[{m!r}]", owner, present=mask, fix=FINITE_FIX)
        out_x.append(torch.where(mask[..., None], x, x.new_zeros(())) if zero_absent else x)
        out_m.append(mask)
    return out_x, out_m


def reset_linear_layers(*modules: nn.Module) -> None:
    """Call ``reset_parameters()`` on every linear and bilinear layer inside ``modules``."""
    for module in modules:
        for sub in module.modules():
            if isinstance(sub, (nn.Linear, nn.Bilinear)):
                sub.reset_parameters()


def format_dims(in_channels: Mapping[str, int]) -> str:
    """Render ``in_channels`` compactly for a ``__repr__``: ``{'text': 8, 'image': 4}``."""
    return "{" + ", ".join(f"{m!r}: {d}" for m, d in in_channels.items()) + "}"


class FusionHead(nn.Module):
    """Base class of fusion heads: ``forward(xs, masks) -> Tensor [N, out_channels]``.

    Subclasses set :attr:`out_channels`, create their parameters, end ``__init__`` with
    ``self.reset_parameters()``, and call :meth:`prepare` first thing in ``forward``.

    Args:
        in_channels (Mapping[str, int]): Embedding size of each modality. Modalities are used in
            canonical order (see :func:`canonical_order`), whatever the order of the mapping.
        min_modalities (int, optional): Fewest modalities the head accepts. (default: :obj:`1`)
    """

    out_channels: int

    supports_sparse_input: ClassVar[bool] = False
    """Whether :meth:`forward` takes a sparse CSR modality as it is, so that a wide bag of
    words can stay sparse up to the first aggregator layer."""

    fuses_to_hidden: ClassVar[bool] = True
    """Whether a model that builds the head by name sets its ``out_channels`` to the model's
    hidden size (unless given). :obj:`False` where the head's own output size is the point,
    as concatenation's."""

    takes_sequences: ClassVar[bool] = False
    """Whether the head fuses per-node sequences ``[N, T, d]`` instead of vectors ``[N, d]``."""

    has_auxiliary_loss: ClassVar[bool] = False
    """Whether the head has a loss of its own, :meth:`auxiliary_loss`, that a model adds to its
    training loss (e.g. the translation head's reconstruction of the other modalities)."""

    flag_names: ClassVar[tuple[str, ...]] = ()
    """Command-line options (``--source`` is ``"source"``) that set the head's
    ``fusion_options``; a command refuses them with another head."""

    @classmethod
    def options_from_flags(cls, flags: Mapping[str, Any]) -> dict:
        """The head's ``fusion_options`` from command-line options.

        Those of :attr:`flag_names` that are set, under the same names by default.
        """
        return {k: flags[k] for k in cls.flag_names if flags.get(k) is not None}

    @classmethod
    def flags_from_options(cls, options: Mapping[str, Any]) -> dict:
        """The command-line options that rebuild ``options`` (a saved run's ``fusion_options``)."""
        return {k: options[k] for k in cls.flag_names if k in options}

    @classmethod
    def auto_options(cls, in_channels: Mapping[str, int], options: Mapping[str, Any]) -> dict:
        """Options the head chooses from its input sizes where ``options`` leaves them out.

        A model building the head by name adds them and records them in its config, so that a
        saved run rebuilds the same head. None by default.

        Args:
            in_channels (Mapping[str, int]): Embedding size of each modality.
            options (Mapping[str, Any]): The options given.
        """
        return {}

    def __init__(self, in_channels: Mapping[str, int], min_modalities: int = 1) -> None:
        super().__init__()
        self.in_channels: dict[str, int] = check_in_channels(in_channels, min_modalities)
        self.modalities: tuple[str, ...] = tuple(self.in_channels)

    def reset_parameters(self) -> None:
        """Re-initialise all parameters."""
        raise NotImplementedError

    def auxiliary_loss(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """The head's own loss, already weighted, for heads with :attr:`has_auxiliary_loss`.

        Args:
            xs (Mapping[str, Tensor]): The modality embeddings the head fuses.
            masks (Mapping[str, Tensor], optional): Their presence masks. (default: all present)
        """
        raise NotImplementedError(f"{type(self).__name__} has no auxiliary loss")

    def prepare(
        self,
        xs: Mapping[str, Tensor],
        masks: Mapping[str, Tensor] | None = None,
        zero_absent: bool = True,
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Check the inputs; return them and their masks in canonical order, absent rows zeroed.

        See :func:`prepare_inputs`.
        """
        return prepare_inputs(self.in_channels, xs, masks, zero_absent=zero_absent, module=self)

    def _repr_args(self) -> str:
        return ""

    def _repr_out_channels(self) -> int | None:
        """The ``out_channels`` the head was built with (:obj:`None` where it was derived)."""
        return self.out_channels

    def __repr__(self) -> str:
        extra = self._repr_args()
        return (
            f"{self.__class__.__name__}({format_dims(self.in_channels)}, "
            f"out_channels={self._repr_out_channels()}"
            f"{', ' + extra if extra else ''})"
        )
