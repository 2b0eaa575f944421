"""Autoencoder pretraining: reconstruct a model's modality embeddings through its joint code."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import cast

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph.coordination.autoencoder import MultimodalAutoencoder
from mmgraph.objectives.supervised import seed_count
from mmgraph.seed import make_generator

_CORRUPTIONS = ("noise_std", "feature_dropout", "modality_dropout")
_TINY = 1e-12
DEFAULT_CORRUPTION: dict[str, float] = {
    "noise_std": 0.0,
    "feature_dropout": 0.1,
    "modality_dropout": 0.3,
}
"""The rates pretraining uses where neither the objective nor the head sets one (non-zero)."""


def _check_rate(value: float | None, name: str, upper: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"Expected {name!r} to be a number or None (got {type(value).__name__!r})")
    if value < 0 or (upper is not None and value >= upper):
        interval = f"[0, {upper:g})" if upper is not None else "[0, inf)"
        raise ValueError(f"Expected {name!r} to be in {interval} (got {value})")
    return float(value)


def normalized_reconstruction_error(
    autoencoder: MultimodalAutoencoder,
    code: Tensor,
    xs: Mapping[str, Tensor],
    masks: Mapping[str, Tensor] | None = None,
) -> Tensor:
    r"""Each modality's reconstruction error over its variance, averaged over modalities.

    .. math::
        \mathcal{L} = \frac{1}{|\mathcal{M}^{+}|} \sum_{m \in \mathcal{M}^{+}}
        \frac{\sum_{i \in \mathcal{P}_m} \lVert g_m(\mathbf{c}_i) - \mathbf{x}_{i,m}
        \rVert^2}{\sum_{i \in \mathcal{P}_m} \lVert \mathbf{x}_{i,m} -
        \bar{\mathbf{x}}_m \rVert^2}

    over the rows :math:`\mathcal{P}_m` that have modality :math:`m` (the modalities
    :math:`\mathcal{M}^{+}` with at least one such row), :math:`\bar{\mathbf{x}}_m` their
    mean. Each term is one minus the :math:`R^2` of the reconstruction: 1 is no better than
    the mean embedding, whatever the scale of the modality.

    Args:
        autoencoder (MultimodalAutoencoder): Decodes ``code``.
        code (Tensor): Codes ``[N, out_channels]``.
        xs (Mapping[str, Tensor]): The clean embeddings ``[N, d_m]``.
        masks (Mapping[str, Tensor], optional): Presence masks ``[N]``. (default: all
            present)
    """
    recon = autoencoder.decode(code)
    terms = []
    for m in autoencoder.modalities:
        mask = masks.get(m) if masks is not None else None
        target = xs[m] if mask is None else xs[m][mask]
        if target.size(0) == 0:
            continue
        error = (recon[m] if mask is None else recon[m][mask]) - target
        spread = (target - target.mean(0)).pow(2).sum().detach()
        terms.append(error.pow(2).sum() / spread.clamp_min(_TINY))
    if not terms:
        return code.sum() * 0.0
    return torch.stack(terms).mean()


def model_autoencoder(model: nn.Module) -> MultimodalAutoencoder:
    """The joint autoencoder of ``model``: its fusion head's, or the model itself.

    Args:
        model (torch.nn.Module): A :class:`~mmgraph.models.MultimodalGNN` built with
            ``fusion="autoencoder"`` (an :class:`~mmgraph.coordination.AutoencoderFusion`
            head), or a :class:`~mmgraph.coordination.MultimodalAutoencoder`.

    Raises:
        TypeError: If the model has no joint autoencoder.
    """
    head = getattr(model, "fusion", None)
    for part in (model, head):  # the autoencoder itself, or a model's fusion head
        autoencoder = getattr(part, "autoencoder", None)
        if autoencoder is not None:
            return cast(MultimodalAutoencoder, autoencoder)
    got = type(head).__name__ if head is not None else f"{type(model).__name__} without 'fusion'"
    raise TypeError(
        "Expected a model whose fusion head is an AutoencoderFusion (build it with "
        f"fusion='autoencoder') (got {got!r}); autoencoder pretraining needs a joint code"
    )


class AutoencoderPretraining:
    r"""Pretrain a model's joint autoencoder by denoising, modality-dropout reconstruction.

    The objective of the first stage of pretrain-then-fine-tune, after `"Multimodal Deep
    Learning" <https://people.csail.mit.edu/khosla/papers/icml2011_ngiam.pdf>`_ (Ngiam et al.,
    ICML 2011). For a :class:`~mmgraph.models.MultimodalGNN` whose fusion head is an
    :class:`~mmgraph.coordination.AutoencoderFusion` (``fusion="autoencoder"``), it encodes
    the batch's modalities (:meth:`~mmgraph.models.MultimodalGNN.modality_embeddings`) and
    returns the reconstruction error of each modality relative to its spread:

    .. math::
        \mathcal{L} = \frac{1}{|\mathcal{M}^{+}|} \sum_{m \in \mathcal{M}^{+}}
        \frac{\sum_{i \in \mathcal{P}_m}
        \big\lVert g_m\big(\mathbf{c}(\tilde{\mathbf{x}}_i, \mathcal{K}_i)\big)
        - \mathbf{x}_{i,m} \big\rVert^2}
        {\sum_{i \in \mathcal{P}_m} \lVert \mathbf{x}_{i,m} - \bar{\mathbf{x}}_m \rVert^2}

    where :math:`\tilde{\mathbf{x}}_i` are the embeddings corrupted by Gaussian noise and
    feature dropout (*denoising*), :math:`\mathcal{K}_i` the present modalities minus those
    hidden by *modality dropout*, and :math:`\mathcal{P}_m` the nodes (seed nodes of the
    batch, within ``mask_key`` if given) that truly have modality :math:`m`: hidden modalities
    must be rebuilt from the others, so the code becomes computable from any subset. Each
    term is one minus the :math:`R^2` of that modality's reconstruction (see
    :func:`normalized_reconstruction_error`), so every modality counts alike whatever the
    scale of its embeddings; a modality whose embeddings barely vary (such as a fresh CNN's)
    would otherwise be ignored. With ``normalize=False`` the loss is the autoencoder's own
    mean squared error (:meth:`~mmgraph.coordination.MultimodalAutoencoder.loss`).

    So ``Trainer(model, cfg).fit(graph, objective=AutoencoderPretraining())`` followed by
    ``Trainer(model, cfg).fit(graph)`` (supervised) is pretrain-then-fine-tune; in the
    second stage the head keeps its own corruption as a regulariser.

    Each corruption rate is, in order of precedence: the one given here; else the head's own
    (the ``fusion_options`` it was built with) when it is non-zero; else
    :data:`DEFAULT_CORRUPTION` (feature dropout 0.1, modality dropout 0.3, no Gaussian noise:
    a noise of fixed std would swamp modalities whose embeddings vary little, while dropout
    is scale-free), so that pretraining always denoises and drops modalities unless told
    otherwise (pass ``0.0`` to switch one off). The rates are put in place for each call and
    the head's own restored afterwards.

    By default the modality encoders (``model.encoders``) are frozen during pretraining: they
    run in evaluation mode, without gradient, so only the autoencoder learns, on the current
    encoders' outputs, and the encoders' state does not move (batch normalisation keeps its
    running statistics: updating them on frozen encoders, one step per full-batch epoch,
    leaves them out of date once fine-tuning changes the encoders, which ruins the
    evaluation-mode outputs). With ``train_encoders=True`` the encoders run in the model's
    mode and the gradient reaches them; they can then shrink their outputs towards a
    constant, trivially easy to reconstruct, so use it only with encoders that cannot
    collapse.

    Args:
        noise_std (float, optional): Std of the Gaussian input noise; :obj:`None`: the
            head's, or 0. (default: :obj:`None`)
        feature_dropout (float, optional): Feature dropout rate in ``[0, 1)``; :obj:`None`:
            the head's, or 0.1. (default: :obj:`None`)
        modality_dropout (float, optional): Probability of hiding each present modality, in
            ``[0, 1)``; :obj:`None`: the head's, or 0.3. (default: :obj:`None`)
        normalize (bool, optional): Divide each modality's error by its spread.
            (default: :obj:`True`)
        train_encoders (bool, optional): Let the loss train the modality encoders too.
            (default: :obj:`False`)
        mask_key (str, optional): Node mask of the nodes to pretrain on (e.g.
            ``"train_mask"``); :obj:`None` uses every node, which reads no label.
            (default: :obj:`None`)
        seed (int, optional): Seed of the corruption draws; :obj:`None` draws a fresh one.
            (default: :obj:`0`)
    """

    name = "autoencoder_pretraining"
    uses_labels = False

    def __init__(
        self,
        noise_std: float | None = None,
        feature_dropout: float | None = None,
        modality_dropout: float | None = None,
        normalize: bool = True,
        train_encoders: bool = False,
        mask_key: str | None = None,
        seed: int | None = 0,
    ) -> None:
        self.normalize = bool(normalize)
        self.noise_std = _check_rate(noise_std, "noise_std", None)
        self.feature_dropout = _check_rate(feature_dropout, "feature_dropout", 1.0)
        self.modality_dropout = _check_rate(modality_dropout, "modality_dropout", 1.0)
        self.train_encoders = bool(train_encoders)
        if mask_key is not None and not isinstance(mask_key, str):
            raise TypeError(
                f"Expected 'mask_key' to be a mask name or None (got {type(mask_key).__name__!r})"
            )
        self.mask_key = mask_key
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"Expected 'seed' to be an int or None (got {type(seed).__name__!r})")
        self.seed = seed
        self.generator = make_generator(seed)

    def input_nodes(self, graph: Data) -> Tensor | None:
        """The seed nodes of mini-batches: the nodes of ``mask_key`` (:obj:`None`: all)."""
        if self.mask_key is None:
            return None
        return self._mask(graph, graph.num_nodes).nonzero().view(-1)

    def _mask(self, batch: Data, n: int) -> Tensor:
        mask = getattr(batch, self.mask_key, None) if self.mask_key is not None else None
        if mask is None:
            raise ValueError(
                f"The graph has no {self.mask_key!r} to pretrain on: set a split first, or "
                "pass mask_key=None to pretrain on every node"
            )
        return mask[:n]

    def rates(self, autoencoder: MultimodalAutoencoder) -> dict[str, float]:
        """The corruption rates pretraining uses on ``autoencoder`` (see the class)."""
        out = {}
        for key in _CORRUPTIONS:
            own = getattr(self, key)
            head = float(getattr(autoencoder, key))
            out[key] = own if own is not None else head if head > 0 else DEFAULT_CORRUPTION[key]
        return out

    @contextmanager
    def _corruption(self, autoencoder: MultimodalAutoencoder) -> Iterator[None]:
        """Put the pretraining corruption rates in place, restoring the head's afterwards."""
        saved = {k: getattr(autoencoder, k) for k in _CORRUPTIONS}
        try:
            for key, value in self.rates(autoencoder).items():
                setattr(autoencoder, key, value)
            yield
        finally:
            for key, value in saved.items():
                setattr(autoencoder, key, value)

    def __call__(self, model: nn.Module, batch: Data) -> Tensor:
        """Return the reconstruction error of the batch's seed nodes (see the class)."""
        autoencoder = model_autoencoder(model)
        embed = getattr(model, "modality_embeddings", None)
        if not callable(embed):
            raise TypeError(
                f"Expected a model with a 'modality_embeddings(batch)' method, such as "
                f"MultimodalGNN (got {type(model).__name__!r})"
            )
        encoders = getattr(model, "encoders", None)
        frozen = not self.train_encoders and isinstance(encoders, nn.Module)
        was_training = encoders.training if isinstance(encoders, nn.Module) else False
        try:
            if frozen:
                encoders.eval()  # type: ignore[union-attr]
            with torch.set_grad_enabled(self.train_encoders and torch.is_grad_enabled()):
                xs, masks = embed(batch)
        finally:
            if frozen:
                encoders.train(was_training)  # type: ignore[union-attr]
        n = seed_count(batch)
        keep = self._mask(batch, n) if self.mask_key is not None else None
        xs = {m: x[:n] for m, x in xs.items()}
        masks = {m: mask[:n] if keep is None else mask[:n] & keep for m, mask in masks.items()}
        with self._corruption(autoencoder):
            if not self.normalize:
                return autoencoder.loss(xs, masks, generator=self.generator)
            code = autoencoder.encode(xs, masks, generator=self.generator)
        return normalized_reconstruction_error(autoencoder, code, xs, masks)

    def __repr__(self) -> str:
        rates = ", ".join(f"{k}={getattr(self, k)}" for k in _CORRUPTIONS)
        return (
            f"{type(self).__name__}({rates}, normalize={self.normalize}, "
            f"train_encoders={self.train_encoders}, mask_key={self.mask_key!r})"
        )
