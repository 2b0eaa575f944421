"""A multimodal deep Boltzmann machine: a generative joint model that infers missing modalities."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple, cast

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from mmgraph import heartbeat
from mmgraph.errors import InputError
from mmgraph.fusion import FUSION_HEADS
from mmgraph.fusion.base import FusionHead, check_in_channels, format_dims, prepare_inputs
from mmgraph.resolver import check_positive_int, register
from mmgraph.seed import make_generator

log = logging.getLogger(__name__)

_TINY_STD = 1e-6
_GIBBS_SWEEPS = 50


class MeanField(NamedTuple):
    """The mean-field state of :class:`MultimodalDBM`, lists in canonical modality order."""

    visible: list[Tensor]
    r"""Standardised visible units ``[N, d_m]``: the data where present, else the mean
    :math:`\mathbf{b}_m + \mathbf{W}_m \boldsymbol{\mu}_m` of the latent modality."""
    hidden: list[Tensor]
    r"""The pathways' hidden probabilities :math:`\boldsymbol{\mu}_m` ``[N, k_m]``."""
    joint: Tensor
    r"""The joint hidden probabilities :math:`\boldsymbol{\nu}` ``[N, out_channels]``."""


class _Pathway(nn.Module):
    """One modality's parameters: a Gaussian-Bernoulli RBM and its link to the joint layer."""

    mean: Tensor
    std: Tensor

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_channels, hidden_channels))  # W_m
        self.visible_bias = nn.Parameter(torch.empty(in_channels))  # b_m
        self.hidden_bias = nn.Parameter(torch.empty(hidden_channels))  # c_m
        self.joint_weight = nn.Parameter(torch.empty(hidden_channels, out_channels))  # U_m
        # Standardisation of the modality, set by ``fit``: v = (x - mean) / std.
        self.register_buffer("mean", torch.zeros(in_channels))
        self.register_buffer("std", torch.ones(in_channels))

    def hidden_input(self, v: Tensor, z: Tensor | None, up: float = 1.0) -> Tensor:
        """The input to the hidden units: ``up * v W + z U^T + c``."""
        out = up * (v @ self.weight) + self.hidden_bias
        return out if z is None else out + z @ self.joint_weight.T

    def visible_mean(self, h: Tensor) -> Tensor:
        """``b + h W^T``, the mean of ``p(v | h)``."""
        return self.visible_bias + h @ self.weight.T


def _check_count(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"Expected {name!r} to be an int >= {minimum} (got {value!r})")
    return int(value)


def _check_real(value: Any, name: str, low: float, high: float | None, open_low: bool) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        ok = (value > low if open_low else value >= low) and (high is None or value < high)
    if not ok:
        interval = f"{'(' if open_low else '['}{low:g}, {'inf' if high is None else f'{high:g}'})"
        raise InputError(f"Expected {name!r} to be a number in {interval} (got {value!r})")
    return float(value)


def _bernoulli(p: Tensor, generator: torch.Generator | None) -> Tensor:
    """Binary samples of probabilities ``p``, drawn from ``generator`` (CPU) or the global RNG."""
    if generator is None:
        u = torch.rand(p.shape, dtype=p.dtype, device=p.device)
    else:
        u = torch.rand(p.shape, generator=generator, dtype=p.dtype).to(p.device)
    return (u < p).to(p.dtype)


def _normal(mean: Tensor, generator: torch.Generator | None) -> Tensor:
    """Samples of ``N(mean, I)``."""
    if generator is None:
        e = torch.randn(mean.shape, dtype=mean.dtype, device=mean.device)
    else:
        e = torch.randn(mean.shape, generator=generator, dtype=mean.dtype).to(mean.device)
    return mean + e


class MultimodalDBM(nn.Module):
    r"""A multimodal deep Boltzmann machine, fitted by greedy pretraining, mean-field and PCD.

    From `"Multimodal Learning with Deep Boltzmann Machines"
    <https://jmlr.org/papers/v15/srivastava14b.html>`_ (Srivastava and Salakhutdinov, NIPS 2012,
    JMLR 2014), with one hidden layer per modality. Each modality :math:`m` has standardised
    real-valued visible units :math:`\mathbf{v}_m \in \mathbb{R}^{d_m}` (Gaussian, unit
    variance) and binary hidden units :math:`\mathbf{h}_m \in \{0, 1\}^{k_m}`; a joint binary
    layer :math:`\mathbf{z} \in \{0, 1\}^{K}` (``K = out_channels``) sits on top of all
    :math:`\mathbf{h}_m`. The energy is

    .. math::
        E(\mathbf{v}, \mathbf{h}, \mathbf{z}) = \sum_{m} \Big(
        \tfrac{1}{2} \lVert \mathbf{v}_m - \mathbf{b}_m \rVert^2
        - \mathbf{v}_m^{\top} \mathbf{W}_m \mathbf{h}_m - \mathbf{c}_m^{\top} \mathbf{h}_m
        - \mathbf{h}_m^{\top} \mathbf{U}_m \mathbf{z} \Big) - \mathbf{a}^{\top} \mathbf{z},

    :math:`p \propto e^{-E}`, so the conditionals are

    .. math::
        p(\mathbf{v}_m \mid \mathbf{h}_m) = \mathcal{N}(\mathbf{b}_m + \mathbf{W}_m
        \mathbf{h}_m, \mathbf{I}), \quad
        p(\mathbf{h}_m = 1 \mid \mathbf{v}_m, \mathbf{z}) = \sigma(\mathbf{W}_m^{\top}
        \mathbf{v}_m + \mathbf{U}_m \mathbf{z} + \mathbf{c}_m), \quad
        p(\mathbf{z} = 1 \mid \mathbf{h}) = \sigma\Big(\sum_m \mathbf{U}_m^{\top}
        \mathbf{h}_m + \mathbf{a}\Big).

    **Inference** is mean field (:meth:`mean_field`): a node's absent modality is a latent
    layer, never data. Starting from a bottom-up pass (absent :math:`\mathbf{v}_m` at
    :math:`\mathbf{b}_m`, :math:`\boldsymbol{\mu}_m = \sigma(2 \mathbf{W}_m^{\top}
    \mathbf{v}_m + \mathbf{c}_m)`, doubled as in pretraining, then :math:`\boldsymbol{\nu}`),
    each of ``mean_field_steps`` steps updates

    .. math::
        \boldsymbol{\mu}_m \leftarrow \sigma(\mathbf{W}_m^{\top} \hat{\mathbf{v}}_m
        + \mathbf{U}_m \boldsymbol{\nu} + \mathbf{c}_m + \mathbf{r}_m), \quad
        \boldsymbol{\nu} \leftarrow \sigma\Big(\sum_m \mathbf{U}_m^{\top}
        \boldsymbol{\mu}_m + \mathbf{a}\Big), \quad
        \hat{\mathbf{v}}_m \leftarrow \begin{cases} \mathbf{v}_m & m \text{ present} \\
        \mathbf{b}_m + \mathbf{W}_m \boldsymbol{\mu}_m & m \text{ absent.} \end{cases}

    An absent :math:`\mathbf{v}_m` is Gaussian given :math:`\mathbf{h}_m`, so it is
    integrated out exactly: :math:`\mathbf{h}_m` then couples to itself through
    :math:`\tfrac{1}{2} \mathbf{h}_m^{\top} \mathbf{W}_m^{\top} \mathbf{W}_m \mathbf{h}_m`,
    whose mean field is :math:`\mathbf{W}_m^{\top} \hat{\mathbf{v}}_m` plus
    :math:`\mathbf{r}_m = \operatorname{diag}(\mathbf{W}_m^{\top} \mathbf{W}_m) \odot
    (\tfrac{1}{2} - \boldsymbol{\mu}_m)` (a unit's own term counts half, as
    :math:`h^2 = h`); :math:`\mathbf{r}_m = \mathbf{0}` where the modality is present.
    :meth:`transform` returns :math:`\boldsymbol{\nu}` (the joint code), :meth:`impute` the
    absent modality's :math:`\hat{\mathbf{v}}_m` (or a Gibbs sample), back in the data's scale.

    **Scale.** :meth:`fit` standardises each feature with the mean :math:`\bar{x}` and std
    :math:`s` of its present rows (buffers), then divides by ``visible_std``
    :math:`\sigma`: :math:`\mathbf{v} = (\mathbf{x} - \bar{\mathbf{x}}) / (\sigma
    \mathbf{s})`. The visible units keep unit variance in these units, so the model's noise
    is :math:`\sigma` times a feature's std. With :math:`\sigma = 1` that noise alone
    accounts for all of a standardised feature's variance: maximum likelihood (the joint
    stage) then shrinks :math:`\mathbf{W}` and imputations fade to the mean (on the planted
    data of the tests, imputation :math:`R^2` stayed at or below 0.3 with :math:`\sigma = 1`,
    about 0.75 with 0.5). :meth:`impute` returns the data's scale.

    **Learning** (:meth:`fit`). Greedily, layer by layer (``pretrain_epochs``
    epochs each; Salakhutdinov and Hinton, 2009): each modality's Gaussian-Bernoulli RBM
    :math:`(\mathbf{v}_m, \mathbf{h}_m)` on the nodes that have it, by CD-``cd_k``, its
    bottom-up input doubled (:math:`\sigma(2\mathbf{W}_m^{\top}\mathbf{v}_m + \mathbf{c}_m)`:
    in the DBM :math:`\mathbf{h}_m` also hears :math:`\mathbf{z}`); then the joint RBM
    :math:`(\mathbf{h}, \mathbf{z})` on those posteriors, its top-down input doubled (its own
    visible bias, dropped afterwards; a node's absent pathways are latent, filled by mean
    field). Then the whole DBM for ``epochs`` epochs: for a mini-batch, the data term comes
    from mean field (:math:`q`), the model term from ``cd_k`` block-Gibbs sweeps (given
    :math:`\mathbf{h}`: sample :math:`\mathbf{v}` and :math:`\mathbf{z}`; given them, sample
    :math:`\mathbf{h}`) of ``batch_size`` fantasy chains, kept from one update to the next
    with ``persistent=True`` (PCD, Tieleman 2008), else restarted at the batch (CD):

    .. math::
        \Delta \mathbf{W}_m \propto \langle \mathbf{v}_m \boldsymbol{\mu}_m^{\top}
        \rangle_{q} - \langle \mathbf{v}_m \mathbf{h}_m^{\top} \rangle_{\text{model}}, \quad
        \Delta \mathbf{U}_m \propto \langle \boldsymbol{\mu}_m \boldsymbol{\nu}^{\top}
        \rangle_{q} - \langle \mathbf{h}_m \mathbf{z}^{\top} \rangle_{\text{model}},

    and likewise :math:`\Delta\mathbf{b}_m \propto \langle\mathbf{v}_m\rangle_q -
    \langle\mathbf{v}_m\rangle_{\text{model}}`, :math:`\Delta\mathbf{c}_m`,
    :math:`\Delta\mathbf{a}`. Every stage writes these as the gradient of the energy gap
    :math:`\overline{E}(\text{data states}) - \overline{E}(\text{model states})` (states held
    fixed; the model's hidden units at their conditional probabilities) and takes an SGD step
    (``pretrain_lr`` for the greedy RBMs, a smaller ``lr`` for the joint stage, whose
    persistent chains must keep up with the weights; ``momentum``; ``weight_decay`` on
    :math:`\mathbf{W}, \mathbf{U}`); in CD, the reconstruction of :math:`\mathbf{v}` is
    its mean, not a sample.

    **Why a DBM, not a DBN.** A DBN (greedy stack, then up-down) is simpler to train, but its
    undirected top and directed lower layers make inference of a missing modality an ad-hoc
    mix of up and down passes. In the DBM every layer hears the layers above and below, so
    the present modalities and the joint layer shape the hidden units of an absent one
    through one coherent mean-field (or Gibbs) scheme. The price is joint training by
    mean-field plus PCD after the greedy pretraining, which this small, two-hidden-layer
    model affords.

    Args:
        in_channels (Mapping[str, int]): Size :math:`d_m` of each modality.
        out_channels (int, optional): Size :math:`K` of the joint layer (the code).
            (default: :obj:`32`)
        hidden_channels (int or Mapping[str, int], optional): Size :math:`k_m` of each
            modality's hidden layer, one for all or per modality. (default: :obj:`64`)
        cd_k (int, optional): Gibbs steps per update. (default: :obj:`1`)
        persistent (bool, optional): Keep the fantasy chains between updates of the joint
            training (PCD); else restart them at each batch. (default: :obj:`True`)
        lr (float, optional): Learning rate of the joint training. (default: :obj:`0.001`)
        pretrain_lr (float, optional): Learning rate of the greedy RBMs.
            (default: :obj:`0.05`)
        momentum (float, optional): SGD momentum. (default: :obj:`0.5`)
        weight_decay (float, optional): L2 penalty on the weights. (default: :obj:`1e-4`)
        epochs (int, optional): Epochs of joint training. (default: :obj:`30`)
        pretrain_epochs (int, optional): Epochs of each greedy RBM. (default: :obj:`30`)
        batch_size (int, optional): Nodes per update, and number of fantasy chains.
            (default: :obj:`64`)
        mean_field_steps (int, optional): Mean-field steps of inference and training.
            (default: :obj:`10`)
        init_std (float, optional): Std of the initial weights. (default: :obj:`0.01`)
        visible_std (float, optional): The model's visible noise :math:`\sigma`, in stds of
            each feature (see *Scale*). (default: :obj:`0.5`)
        seed (int, optional): Seed of :meth:`fit` (initialisation, batches, samples).
            (default: :obj:`0`)
        progress (bool, optional): Progress bar over :meth:`fit`'s epochs.
            (default: :obj:`False`)

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`
        - **output:** :meth:`transform` :math:`(N, K)`; :meth:`impute` :math:`(N, d_m)`
    """

    def __init__(
        self,
        in_channels: Mapping[str, int],
        out_channels: int = 32,
        hidden_channels: int | Mapping[str, int] = 64,
        *,
        cd_k: int = 1,
        persistent: bool = True,
        lr: float = 0.001,
        pretrain_lr: float = 0.05,
        momentum: float = 0.5,
        weight_decay: float = 1e-4,
        epochs: int = 30,
        pretrain_epochs: int = 30,
        batch_size: int = 64,
        mean_field_steps: int = 10,
        init_std: float = 0.01,
        visible_std: float = 0.5,
        seed: int | None = 0,
        progress: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = check_in_channels(in_channels)
        self.modalities = tuple(self.in_channels)
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.hidden_channels = self._check_hidden(hidden_channels)
        self.cd_k = _check_count(cd_k, "cd_k", 1)
        self.persistent = bool(persistent)
        self.lr = _check_real(lr, "lr", 0.0, None, open_low=True)
        self.pretrain_lr = _check_real(pretrain_lr, "pretrain_lr", 0.0, None, open_low=True)
        self.momentum = _check_real(momentum, "momentum", 0.0, 1.0, open_low=False)
        self.weight_decay = _check_real(weight_decay, "weight_decay", 0.0, None, open_low=False)
        self.epochs = _check_count(epochs, "epochs", 0)
        self.pretrain_epochs = _check_count(pretrain_epochs, "pretrain_epochs", 0)
        self.batch_size = _check_count(batch_size, "batch_size", 1)
        self.mean_field_steps = _check_count(mean_field_steps, "mean_field_steps", 0)
        self.init_std = _check_real(init_std, "init_std", 0.0, None, open_low=True)
        self.visible_std = _check_real(visible_std, "visible_std", 0.0, None, open_low=True)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise InputError(f"Expected 'seed' to be an int or None (got {seed!r})")
        self.seed = seed
        self.progress = bool(progress)
        self.pathways = nn.ModuleDict(
            {
                m: _Pathway(d, self.hidden_channels[m], self.out_channels)
                for m, d in self.in_channels.items()
            }
        )
        self.joint_bias = nn.Parameter(torch.empty(self.out_channels))  # a
        self.history_: list[dict[str, Any]] = []
        self.reset_parameters()

    def _check_hidden(self, hidden: int | Mapping[str, int]) -> dict[str, int]:
        if isinstance(hidden, Mapping):
            if set(hidden) != set(self.in_channels):
                raise InputError(
                    f"Expected 'hidden_channels' to give a size for each modality "
                    f"{list(self.in_channels)} (got {sorted(hidden)}): pass one int for all, "
                    "or one per modality"
                )
            return {
                m: check_positive_int(hidden[m], f"hidden_channels[{m!r}]")
                for m in self.in_channels
            }
        size = check_positive_int(hidden, "hidden_channels")
        return dict.fromkeys(self.in_channels, size)

    @property
    def boltzmann(self) -> MultimodalDBM:
        """Itself, as pretraining reads the DBM of a model or of its fusion head.

        A model's fusion head has it as :attr:`BoltzmannFusion.boltzmann`.
        """
        return self

    def _paths(self) -> list[_Pathway]:
        return [cast(_Pathway, self.pathways[m]) for m in self.modalities]

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        r"""Draw the weights from :math:`\mathcal{N}(0, \text{init\_std}^2)`, zero the biases.

        Args:
            generator (torch.Generator, optional): CPU generator of the draws; :obj:`None`
                draws from the global RNG, like :class:`torch.nn.Linear`. (default: :obj:`None`)
        """
        with torch.no_grad():
            for path in self._paths():
                for weight in (path.weight, path.joint_weight):
                    draw = torch.randn(weight.shape, generator=generator, dtype=weight.dtype)
                    weight.copy_(self.init_std * draw)
                path.visible_bias.zero_()
                path.hidden_bias.zero_()
            self.joint_bias.zero_()

    # ----------------------------------------------------------------- energy and conditionals

    def _check_modality(self, modality: str) -> str:
        if modality not in self.in_channels:
            raise InputError(
                f"Unknown modality {modality!r}: expected one of {list(self.modalities)}"
            )
        return modality

    def energy(self, vs: Mapping[str, Tensor], hs: Mapping[str, Tensor], z: Tensor) -> Tensor:
        r"""The energy :math:`E(\mathbf{v}, \mathbf{h}, \mathbf{z})` of each row ``[N]``.

        Args:
            vs (Mapping[str, Tensor]): Standardised visible units ``[N, d_m]`` per modality.
            hs (Mapping[str, Tensor]): Hidden units (or probabilities) ``[N, k_m]``.
            z (Tensor): Joint units ``[N, out_channels]``.
        """
        return self._energy([vs[m] for m in self.modalities], [hs[m] for m in self.modalities], z)

    def _energy(self, vs: Sequence[Tensor], hs: Sequence[Tensor], z: Tensor) -> Tensor:
        total = -(z @ self.joint_bias)
        for path, v, h in zip(self._paths(), vs, hs):
            total = (
                total
                + 0.5 * (v - path.visible_bias).pow(2).sum(1)
                - ((v @ path.weight) * h).sum(1)
                - h @ path.hidden_bias
                - ((h @ path.joint_weight) * z).sum(1)
            )
        return total

    def hidden_probability(self, modality: str, v: Tensor, z: Tensor) -> Tensor:
        r""":math:`p(\mathbf{h}_m = 1 \mid \mathbf{v}_m, \mathbf{z})` ``[N, k_m]``."""
        path = self._paths()[self.modalities.index(self._check_modality(modality))]
        return torch.sigmoid(path.hidden_input(v, z))

    def visible_mean(self, modality: str, h: Tensor) -> Tensor:
        r"""The mean of :math:`p(\mathbf{v}_m \mid \mathbf{h}_m)` ``[N, d_m]`` (standardised)."""
        return self._paths()[self.modalities.index(self._check_modality(modality))].visible_mean(h)

    def joint_probability(self, hs: Mapping[str, Tensor]) -> Tensor:
        r""":math:`p(\mathbf{z} = 1 \mid \mathbf{h})` ``[N, out_channels]``."""
        return self._joint([hs[m] for m in self.modalities])

    def _joint(self, hs: Sequence[Tensor]) -> Tensor:
        total: Tensor = self.joint_bias
        for path, h in zip(self._paths(), hs):
            total = total + h @ path.joint_weight
        return torch.sigmoid(total)

    # ----------------------------------------------------------------------------- inference

    def _standardise(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Checked inputs in canonical order, standardised; absent rows zero (never read)."""
        x_list, mask_list = prepare_inputs(self.in_channels, xs, masks, module=self)
        vs = []
        for path, x, mask in zip(self._paths(), x_list, mask_list):
            v = (x - path.mean) / (path.std * self.visible_std)
            vs.append(torch.where(mask[:, None], v, v.new_zeros(())))
        return vs, mask_list

    def _mean_field(self, vs: Sequence[Tensor], masks: Sequence[Tensor], steps: int) -> MeanField:
        paths = self._paths()
        v_hat = [torch.where(k[:, None], v, p.visible_bias) for p, v, k in zip(paths, vs, masks)]
        mu = [torch.sigmoid(p.hidden_input(v, None, up=2.0)) for p, v in zip(paths, v_hat)]
        nu = self._joint(mu)
        for _ in range(steps):
            mu = [
                torch.sigmoid(p.hidden_input(v, nu) + self._self_field(p, h, k))
                for p, v, h, k in zip(paths, v_hat, mu, masks)
            ]
            nu = self._joint(mu)
            v_hat = [
                torch.where(k[:, None], v, p.visible_mean(h))
                for p, v, k, h in zip(paths, vs, masks, mu)
            ]
        return MeanField(v_hat, mu, nu)

    @staticmethod
    def _self_field(path: _Pathway, mu: Tensor, present: Tensor) -> Tensor:
        """Where the modality is absent: the field's correction for integrating out v exactly."""
        diag = path.weight.pow(2).sum(0)  # diag(W^T W)
        return torch.where(present[:, None], mu.new_zeros(()), diag * (0.5 - mu))

    def mean_field(
        self,
        xs: Mapping[str, Tensor],
        masks: Mapping[str, Tensor] | None = None,
        steps: int | None = None,
    ) -> MeanField:
        """Run mean-field inference given the present modalities (see the class).

        Differentiable with respect to ``xs``; an absent row of ``xs`` is never read.

        Args:
            xs (Mapping[str, Tensor]): The modalities ``[N, d_m]``, in the data's scale.
            masks (Mapping[str, Tensor], optional): Presence masks ``[N]``.
                (default: all present)
            steps (int, optional): Mean-field steps. (default: ``mean_field_steps``)
        """
        steps = self.mean_field_steps if steps is None else _check_count(steps, "steps", 0)
        vs, mask_list = self._standardise(xs, masks)
        return self._mean_field(vs, mask_list, steps)

    def encode(self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None) -> Tensor:
        r"""The joint code :math:`\boldsymbol{\nu}` ``[N, out_channels]``, differentiable."""
        return self.mean_field(xs, masks).joint

    def forward(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """The joint code (:meth:`encode`)."""
        return self.encode(xs, masks)

    @torch.no_grad()
    def transform(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """The joint code ``[N, out_channels]``: mean-field probabilities of the joint layer.

        Args:
            xs (Mapping[str, Tensor]): The modalities ``[N, d_m]``, in the data's scale.
            masks (Mapping[str, Tensor], optional): Presence masks ``[N]``.
                (default: all present)
        """
        return self.encode(xs, masks)

    def _gibbs(
        self,
        hs: Sequence[Tensor],
        generator: torch.Generator | None,
        clamp: tuple[Sequence[Tensor], Sequence[Tensor]] | None = None,
    ) -> tuple[list[Tensor], Tensor, list[Tensor], list[Tensor]]:
        r"""One block-Gibbs sweep from hidden samples ``hs``.

        Given :math:`\mathbf{h}`, samples :math:`\mathbf{v}` (kept at ``clamp``'s values
        where its masks say present) and :math:`\mathbf{z}`; given those, the hidden
        probabilities and samples. Returns ``(vs, z, hidden probabilities, hidden samples)``.
        """
        paths = self._paths()
        z = _bernoulli(self._joint(hs), generator)
        vs = [_normal(p.visible_mean(h), generator) for p, h in zip(paths, hs)]
        if clamp is not None:
            vs = [torch.where(k[:, None], x, v) for v, x, k in zip(vs, *clamp)]
        probs = [torch.sigmoid(p.hidden_input(v, z)) for p, v in zip(paths, vs)]
        return vs, z, probs, [_bernoulli(p, generator) for p in probs]

    @torch.no_grad()
    def impute(
        self,
        xs: Mapping[str, Tensor],
        masks: Mapping[str, Tensor] | None,
        modality: str,
        *,
        sample: bool = False,
        steps: int | None = None,
        num_samples: int = 1,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        r"""Infer ``modality`` of every node from its other present modalities.

        The modality's own values are never read (``xs`` may leave it out): it is a latent
        layer of the DBM. With ``sample=False``, returns its mean-field mean
        :math:`\hat{\mathbf{v}}_m`: one mode of the model's belief, which can be confident
        where the others say little. With ``sample=True``, a draw of
        :math:`p(\mathbf{v}_m \mid \text{others})`: the end of a chain of ``steps``
        block-Gibbs sweeps (the others clamped) from random hidden states; with
        ``num_samples`` > 1, the average of that many independent draws, an estimate of the
        posterior mean (what a squared error rewards).

        Args:
            xs (Mapping[str, Tensor]): The modalities ``[N, d_m]``, in the data's scale.
            masks (Mapping[str, Tensor], optional): Presence masks ``[N]``; :obj:`None`: all
                present.
            modality (str): The modality to infer.
            sample (bool, optional): Gibbs-sample instead of the mean. (default: :obj:`False`)
            steps (int, optional): Mean-field steps (``sample=False``; default:
                ``mean_field_steps``) or Gibbs sweeps (``sample=True``; default: :obj:`50`).
            num_samples (int, optional): Draws to average (``sample=True`` only).
                (default: :obj:`1`)
            generator (torch.Generator, optional): CPU generator of the Gibbs draws;
                :obj:`None` seeds one with ``seed``. (default: :obj:`None`)

        Returns:
            The inferred modality ``[N, d_m]``, in the data's scale.
        """
        target = self._check_modality(modality)
        if not isinstance(xs, Mapping) or not any(m in xs for m in self.modalities):
            raise InputError(
                f"Expected 'xs' to map modality names {list(self.modalities)} to tensors "
                f"(got {type(xs).__name__!r} without any of them)"
            )
        like = next(xs[m] for m in self.modalities if m in xs)
        if not isinstance(like, Tensor):
            raise InputError(f"Expected the values of 'xs' to be tensors (got {type(like)!r})")
        if masks is not None and not isinstance(masks, Mapping):
            raise TypeError(
                f"Expected 'masks' to be a mapping from modality name to bool tensor or None "
                f"(got {type(masks).__name__!r})"
            )
        hidden = torch.zeros(like.size(0), dtype=torch.bool, device=like.device)
        xs = dict(xs)
        if target not in xs:
            xs[target] = like.new_zeros(like.size(0), self.in_channels[target])
        masks = {**(masks or {}), target: hidden}
        num_samples = _check_count(num_samples, "num_samples", 1)
        if num_samples > 1 and not sample:
            raise InputError(
                f"'num_samples' averages Gibbs draws (got {num_samples} with sample=False): "
                "pass sample=True, or leave num_samples at 1 for the mean field"
            )
        default = self.mean_field_steps if not sample else _GIBBS_SWEEPS
        steps = default if steps is None else _check_count(steps, "steps", 0)
        j = self.modalities.index(target)
        path = self._paths()[j]
        vs, mask_list = self._standardise(xs, masks)
        if not sample:
            v = self._mean_field(vs, mask_list, steps).visible[j]
        else:
            generator = generator if generator is not None else make_generator(self.seed)
            vs = [v.repeat(num_samples, 1) for v in vs]
            mask_list = [k.repeat(num_samples) for k in mask_list]
            n = like.size(0) * num_samples
            hs = [_bernoulli(vs[0].new_full((n, k), 0.5), generator) for k in self._hidden_sizes()]
            v = path.visible_mean(hs[j])
            for _ in range(steps):
                samples, _, _, hs = self._gibbs(hs, generator, clamp=(vs, mask_list))
                v = samples[j]
            v = v.view(num_samples, like.size(0), -1).mean(0)
        return v * (path.std * self.visible_std) + path.mean

    def _hidden_sizes(self) -> list[int]:
        return [self.hidden_channels[m] for m in self.modalities]

    @torch.no_grad()
    def reconstruction_error(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        r"""Mean squared error of the mean-field reconstructions, in stds of each feature.

        Each present modality is rebuilt as :math:`\mathbf{b}_m + \mathbf{W}_m
        \boldsymbol{\mu}_m` from the mean field with every present modality clamped; the
        error is averaged over the present rows and features of each modality, then over
        the modalities that have a present row. For monitoring :meth:`fit`.
        """
        vs, mask_list = self._standardise(xs, masks)
        state = self._mean_field(vs, mask_list, self.mean_field_steps)
        return self._reconstruction_error(vs, mask_list, state.hidden)

    def _reconstruction_error(
        self, vs: Sequence[Tensor], masks: Sequence[Tensor], hs: Sequence[Tensor]
    ) -> Tensor:
        terms = [
            (p.visible_mean(h[k]) - v[k]).pow(2).mean()
            for p, v, k, h in zip(self._paths(), vs, masks, hs)
            if bool(k.any())
        ]
        if not terms:
            return vs[0].new_zeros(())
        return torch.stack(terms).mean() * self.visible_std**2

    # ------------------------------------------------------------------------------ learning

    def _optimizer(
        self, weights: Sequence[Tensor], biases: Sequence[Tensor], lr: float
    ) -> torch.optim.Optimizer:
        groups = [
            {"params": list(weights), "weight_decay": self.weight_decay},
            {"params": list(biases), "weight_decay": 0.0},
        ]
        return torch.optim.SGD(groups, lr=lr, momentum=self.momentum)

    def _batches(self, rows: Tensor, generator: torch.Generator) -> Iterator[Tensor]:
        order = rows[torch.randperm(rows.numel(), generator=generator).to(rows.device)]
        yield from order.split(self.batch_size)

    def _epochs(self, count: int, stage: str) -> Iterator[int]:
        bar = tqdm(range(count), desc=stage, disable=not self.progress, leave=False)
        for epoch in bar:
            yield epoch
            heartbeat.beat(epoch + 1, count, f"pretraining {stage} epoch")

    def _record(self, stage: str, epoch: int, errors: list[float]) -> None:
        error = sum(errors) / max(len(errors), 1)
        self.history_.append({"stage": stage, "epoch": epoch, "reconstruction_error": error})
        log.debug("%s epoch %d: reconstruction error %.4f", stage, epoch, error)

    def _fit_rbm(self, j: int, v: Tensor, generator: torch.Generator) -> None:
        """Greedy stage 1: modality ``j``'s Gaussian-Bernoulli RBM by CD-k (input doubled)."""
        path = self._paths()[j]
        optimizer = self._optimizer(
            [path.weight], [path.visible_bias, path.hidden_bias], self.pretrain_lr
        )
        rows = torch.arange(v.size(0), device=v.device)
        stage = f"rbm:{self.modalities[j]}"
        for epoch in self._epochs(self.pretrain_epochs, stage):
            errors = []
            for batch in self._batches(rows, generator):
                v0 = v[batch]
                with torch.no_grad():
                    p0 = torch.sigmoid(path.hidden_input(v0, None, up=2.0))
                    pk = p0
                    for _ in range(self.cd_k):
                        vk = path.visible_mean(_bernoulli(pk, generator))
                        pk = torch.sigmoid(path.hidden_input(vk, None, up=2.0))
                    error = (path.visible_mean(p0) - v0).pow(2).mean() * self.visible_std**2
                    errors.append(float(error))
                loss = self._rbm_energy(path, v0, p0).mean() - self._rbm_energy(path, vk, pk).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            self._record(stage, epoch, errors)

    @staticmethod
    def _rbm_energy(path: _Pathway, v: Tensor, h: Tensor) -> Tensor:
        return (
            0.5 * (v - path.visible_bias).pow(2).sum(1)
            - ((v @ path.weight) * h).sum(1)
            - h @ path.hidden_bias
        )

    def _fit_joint_rbm(
        self,
        vs: Sequence[Tensor],
        masks: Sequence[Tensor],
        rows: Tensor,
        generator: torch.Generator,
    ) -> None:
        """Greedy stage 2: the joint RBM on the pathways' posteriors (top-down input doubled)."""
        paths = self._paths()
        with torch.no_grad():
            data = [
                torch.sigmoid(p.hidden_input(torch.where(k[:, None], v, p.visible_bias), None, 2.0))
                for p, v, k in zip(paths, vs, masks)
            ]
        # The joint RBM's own visible biases, dropped afterwards: h_m keeps c_m of stage 1.
        biases = [nn.Parameter(p.hidden_bias.detach().clone()) for p in paths]
        optimizer = self._optimizer(
            [p.joint_weight for p in paths], [self.joint_bias, *biases], self.pretrain_lr
        )

        def down(z: Tensor) -> list[Tensor]:
            return [torch.sigmoid(2.0 * z @ p.joint_weight.T + e) for p, e in zip(paths, biases)]

        for epoch in self._epochs(self.pretrain_epochs, "joint-rbm"):
            errors = []
            for batch in self._batches(rows, generator):
                with torch.no_grad():
                    h0 = [h[batch] for h in data]
                    present = [k[batch, None] for k in masks]
                    z0 = self._joint(h0)
                    for _ in range(self.mean_field_steps):  # absent pathways are latent
                        h0 = [torch.where(k, h, d) for h, k, d in zip(h0, present, down(z0))]
                        z0 = self._joint(h0)
                    zk = z0
                    for _ in range(self.cd_k):
                        hk = down(_bernoulli(zk, generator))
                        zk = self._joint(hk)
                    rebuilt = down(z0)
                    errors.append(
                        float(
                            torch.stack([(r - h).pow(2).mean() for r, h in zip(rebuilt, h0)]).mean()
                        )
                    )
                gap = self._joint_rbm_energy(biases, h0, z0) - self._joint_rbm_energy(
                    biases, hk, zk
                )
                optimizer.zero_grad()
                gap.mean().backward()
                optimizer.step()
            self._record("joint-rbm", epoch, errors)

    def _joint_rbm_energy(
        self, biases: Sequence[Tensor], hs: Sequence[Tensor], z: Tensor
    ) -> Tensor:
        total = -(z @ self.joint_bias)
        for path, e, h in zip(self._paths(), biases, hs):
            total = total - h @ e - ((h @ path.joint_weight) * z).sum(1)
        return total

    def _fit_dbm(
        self,
        vs: Sequence[Tensor],
        masks: Sequence[Tensor],
        rows: Tensor,
        generator: torch.Generator,
    ) -> None:
        """Joint training: mean-field data term, (persistent) Gibbs chains for the model term."""
        optimizer = self._optimizer(
            [t for p in self._paths() for t in (p.weight, p.joint_weight)],
            [t for p in self._paths() for t in (p.visible_bias, p.hidden_bias)] + [self.joint_bias],
            self.lr,
        )
        chains: list[Tensor] | None = None
        for epoch in self._epochs(self.epochs, "dbm"):
            errors = []
            for batch in self._batches(rows, generator):
                v0, k0 = [v[batch] for v in vs], [k[batch] for k in masks]
                with torch.no_grad():
                    state = self._mean_field(v0, k0, self.mean_field_steps)
                    if chains is None or not self.persistent:
                        chains = [_bernoulli(h, generator) for h in state.hidden]
                    for _ in range(self.cd_k):
                        v_neg, z_neg, h_neg, chains = self._gibbs(chains, generator)
                    errors.append(float(self._reconstruction_error(v0, k0, state.hidden)))
                gap = (
                    self._energy(state.visible, state.hidden, state.joint).mean()
                    - self._energy(v_neg, h_neg, z_neg).mean()
                )
                optimizer.zero_grad()
                gap.backward()
                optimizer.step()
            self._record("dbm", epoch, errors)

    def fit(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> MultimodalDBM:
        """Standardise, pretrain greedily, then train the DBM jointly (see the class).

        Starts from fresh weights drawn with ``seed``. Nodes without any modality are left
        out; a node's absent modalities are latent, never data.

        Args:
            xs (Mapping[str, Tensor]): The modalities ``[N, d_m]``, in the data's scale.
            masks (Mapping[str, Tensor], optional): Presence masks ``[N]``.
                (default: all present)

        Returns:
            The fitted model itself. :attr:`history_` holds one record per epoch and stage
            (``"rbm:<modality>"``, ``"joint-rbm"``, ``"dbm"``): the mean reconstruction error
            of its batches, of the visible units in stds of each feature (of the hidden
            probabilities for the joint RBM).

        Raises:
            InputError: A modality has no present row.
        """
        x_list, mask_list = prepare_inputs(self.in_channels, xs, masks, module=self)
        x_list = [x.detach() for x in x_list]
        for m, mask in zip(self.modalities, mask_list):
            if not bool(mask.any()):
                raise InputError(
                    f"Modality {m!r} is absent from every node: the DBM cannot learn it; build "
                    "the model without it, or give it some present rows"
                )
        generator = make_generator(self.seed)
        self.reset_parameters(generator)
        self.history_ = []
        with torch.no_grad():
            for path, x, mask in zip(self._paths(), x_list, mask_list):
                present = x[mask]
                path.mean.copy_(present.mean(0))
                std = present.std(0, unbiased=False) if present.size(0) > 1 else None
                if std is None:
                    path.std.fill_(1.0)
                else:
                    path.std.copy_(torch.where(std > _TINY_STD, std, torch.ones_like(std)))
        vs, mask_list = self._standardise(
            dict(zip(self.modalities, x_list)), dict(zip(self.modalities, mask_list))
        )
        rows = torch.stack(mask_list, 1).any(1).nonzero().view(-1)
        with torch.enable_grad():  # the updates are SGD steps, even under torch.no_grad()
            for j, (v, mask) in enumerate(zip(vs, mask_list)):
                self._fit_rbm(j, v[mask], generator)
            self._fit_joint_rbm(vs, mask_list, rows, generator)
            self._fit_dbm(vs, mask_list, rows, generator)
        return self

    def __repr__(self) -> str:
        sizes = set(self.hidden_channels.values())
        hidden = next(iter(sizes)) if len(sizes) == 1 else format_dims(self.hidden_channels)
        return (
            f"{self.__class__.__name__}({format_dims(self.in_channels)}, "
            f"out_channels={self.out_channels}, hidden_channels={hidden}, cd_k={self.cd_k}, "
            f"persistent={self.persistent}, mean_field_steps={self.mean_field_steps})"
        )


@register(FUSION_HEADS, "boltzmann")
class BoltzmannFusion(FusionHead):
    r"""A :class:`MultimodalDBM` used as a fusion head: ``forward`` returns its joint code.

    Registered as the fusion head ``"boltzmann"`` (:data:`mmgraph.fusion.FUSION_HEADS`). The
    output is the mean field :math:`\boldsymbol{\nu}` of the joint layer given the present
    modalities (``mean_field_steps`` unrolled steps), differentiable with respect to the
    inputs and the DBM's weights, which are *fine-tuned* with the model: pretrain them first
    with ``head.boltzmann.fit(xs, masks)`` on the modality embeddings (``mmgraph train
    --pretrain-epochs N`` does so), or train from scratch by backpropagation; to freeze them
    instead, call ``head.requires_grad_(False)``. Until :meth:`MultimodalDBM.fit` runs, the
    inputs are not standardised (mean 0, std 1).

    Args:
        in_channels (Mapping[str, int]): Embedding size :math:`d_m` of each modality.
        out_channels (int): Size of the joint code.
        hidden_channels (int or Mapping[str, int], optional): Size of each modality's hidden
            layer. (default: :obj:`64`)
        mean_field_steps (int, optional): Mean-field steps of the forward pass.
            (default: :obj:`10`)
        **kwargs: The fitting options of :class:`MultimodalDBM` (``cd_k``, ``persistent``,
            ``lr``, ``epochs``, ``pretrain_epochs``, ``batch_size``, ``seed``, ...).

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`
        - **output:** :math:`(N, \text{out\_channels})`
    """

    def __init__(
        self,
        in_channels: Mapping[str, int],
        out_channels: int,
        hidden_channels: int | Mapping[str, int] = 64,
        mean_field_steps: int = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(in_channels)
        self.boltzmann = MultimodalDBM(
            in_channels,
            out_channels,
            hidden_channels,
            mean_field_steps=mean_field_steps,
            **kwargs,
        )
        self.out_channels = out_channels
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the DBM (global RNG)."""
        self.boltzmann.reset_parameters()

    def forward(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """Return the DBM's joint code (mean field, differentiable)."""
        return self.boltzmann.encode(xs, masks)

    def _repr_args(self) -> str:
        dbm = self.boltzmann
        sizes = set(dbm.hidden_channels.values())
        hidden = next(iter(sizes)) if len(sizes) == 1 else format_dims(dbm.hidden_channels)
        return f"hidden_channels={hidden}, mean_field_steps={dbm.mean_field_steps}"
