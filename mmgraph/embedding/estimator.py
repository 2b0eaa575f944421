"""The base of the unsupervised embedding estimators, in karateclub's and scikit-learn's manner.

Hyperparameters (and the ``seed``) go to ``__init__`` and are stored as given; :meth:`fit`
takes the data, trains and returns ``self``; :meth:`get_embedding` returns the embeddings.
Every estimator trains a table model (sparse embeddings) with an objective and a loader in
the one :class:`~mmgraph.train.Trainer`, with SparseAdam's updates
(:class:`~mmgraph.train.sparse_adam.RowSparseAdam`).
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph.resolver import check_positive_int
from mmgraph.train import TrainConfig, Trainer

OWN_TRAIN_SETTINGS: tuple[str, ...] = ("epochs", "lr", "seed", "progress", "optimizer")
"""The :class:`~mmgraph.train.TrainConfig` settings an estimator sets itself (its own
hyperparameters, and the sparse optimizer its tables need); ``trainer_options`` cannot."""

TRAINER_OPTIONS: tuple[str, ...] = (
    "patience",
    "eval_every",
    "lr_step_size",
    "lr_gamma",
    "device",
    "deterministic",
)
"""The :class:`~mmgraph.train.TrainConfig` settings ``trainer_options`` may set. The others
would do nothing (``batch_size`` and ``fanouts``: the estimator's walks make the batches;
``weight_decay``: SparseAdam has none; ``class_weights``, ``monitor``,
``freeze_norm_epoch``: there are no labels, validation or batch norms; ``checkpoint_every``:
there is no run folder) or fail (``grad_clip``: sparse gradients are not clipped)."""

_WHY_NOT = {
    "batch_size": "pass batch_size to the estimator itself: its walks make the batches",
    "fanouts": "the estimator's walks make the batches, not neighbour sampling",
    "weight_decay": "SparseAdam, which trains the sparse tables, has no weight decay",
    "grad_clip": "sparse gradients are not clipped",
}


class NotFittedError(RuntimeError):
    """:meth:`Estimator.get_embedding` (or another result) was asked before :meth:`fit`."""


class Estimator:
    """Base of the unsupervised embedding estimators.

    :class:`~mmgraph.embedding.Node2Vec` and :class:`~mmgraph.subgraph.sub2vec.Sub2Vec`
    derive from it. A subclass lists its hyperparameters in ``__init__`` and passes them on
    with ``super().__init__(locals())``, which keeps each under its own name (so that
    :meth:`get_params` finds them) and checks those every estimator has (listed below); it
    checks its own, and implements :meth:`fit`, which builds a model with an
    ``encode() -> [N, D]`` method and trains it with :meth:`_train`.

    The hyperparameters every estimator has, besides its own:

    * ``embedding_dim`` (int): Size of the embeddings.
    * ``epochs`` (int): Passes over the corpus.
    * ``batch_size`` (int): Start nodes (or rows) of walks per step.
    * ``lr`` (float): SparseAdam learning rate.
    * ``progress`` (bool): Show a progress bar.
    * ``seed`` (int): Seed of everything the estimator draws (initialisation, walks,
      negatives).
    * ``trainer_options`` (Mapping, optional): Other :class:`~mmgraph.train.TrainConfig`
      settings, those of :data:`TRAINER_OPTIONS` (``patience`` and ``eval_every``, on the
      training loss; ``lr_step_size``, ``lr_gamma``, ``device``, ``deterministic``).

    Attributes:
        model_ (torch.nn.Module): The trained model (:obj:`None` before :meth:`fit`).
        history_ (list[dict]): One record per epoch of the trainer (``train_loss``...).
    """

    fit_argument: str = "data"
    """What :meth:`fit` takes, for the error of an estimator used before it is fitted."""

    repr_params: tuple[str, ...] = ()
    """The hyperparameters :meth:`__repr__` shows."""

    # The hyperparameters every estimator has, kept by ``__init__``.
    embedding_dim: int
    epochs: int
    batch_size: int
    lr: float
    progress: bool
    seed: int
    trainer_options: Mapping[str, Any] | None

    def __init__(self, params: Mapping[str, Any]) -> None:
        # ``params``: the subclass's ``locals()``; each hyperparameter is kept as given.
        for name in self._param_names():
            setattr(self, name, params[name])
        self.model_: nn.Module | None = None
        self.history_: list[dict[str, Any]] = []
        check_positive_int(self.embedding_dim, "embedding_dim")
        check_positive_int(self.epochs, "epochs")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral):
            raise TypeError(f"Expected 'seed' to be an int (got {type(self.seed).__name__!r})")
        clash = sorted(set(self.trainer_options or {}) & set(OWN_TRAIN_SETTINGS))
        if clash:
            raise ValueError(
                f"Found {clash} in 'trainer_options': pass them as the estimator's own "
                "arguments ('optimizer' is always 'sparse_adam')"
            )
        idle = sorted(set(self.trainer_options or {}) - set(TRAINER_OPTIONS))
        if idle:
            why = "; ".join(f"{k}: {_WHY_NOT[k]}" for k in idle if k in _WHY_NOT)
            raise ValueError(
                f"Found {idle} in 'trainer_options', which would change nothing in an "
                f"estimator's training{' (' + why + ')' if why else ''}; the settings it "
                f"reads are {list(TRAINER_OPTIONS)}"
            )

    @classmethod
    def _param_names(cls) -> list[str]:
        return list(inspect.signature(cls.__init__).parameters)[1:]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyperparameters, by name (those of ``__init__``), as scikit-learn's.

        ``deep`` is accepted for :func:`sklearn.base.clone` and its kin; no hyperparameter
        is an estimator of its own, so it changes nothing.
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Estimator:
        """Set hyperparameters by name, checked as ``__init__`` checks them; returns ``self``.

        The fitted model stays until the next :meth:`fit`, as in scikit-learn.

        Raises:
            ValueError: A name that is not a hyperparameter (the message lists them), or a
                value ``__init__`` refuses.
        """
        names = self._param_names()
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ValueError(
                f"Unknown hyperparameter{'s' if len(unknown) > 1 else ''} {unknown} of "
                f"{type(self).__name__}: valid ones are {names}"
            )
        checked = type(self)(**{**self.get_params(), **params})  # raises on a bad value
        for name in params:
            setattr(self, name, getattr(checked, name))
        return self

    def fit(self, *args: Any, **kwargs: Any) -> Estimator:
        """Learn the embeddings of the data; returns ``self``."""
        raise NotImplementedError

    def train_config(self) -> TrainConfig:
        """The :class:`~mmgraph.train.TrainConfig` of :meth:`fit`.

        Sparse Adam on the estimator's ``epochs``, ``lr`` and ``seed``, no weight decay, no
        early stopping, no class weights and no deterministic kernels, unless
        ``trainer_options`` says otherwise.
        """
        settings: dict[str, Any] = {
            "weight_decay": 0.0,
            "patience": None,
            "class_weights": False,
            "deterministic": False,
            **dict(self.trainer_options or {}),
            "epochs": self.epochs,
            "lr": self.lr,
            "seed": self.seed,
            "progress": self.progress,
            "optimizer": "sparse_adam",
        }
        return TrainConfig.from_dict(settings)

    def _train(self, model: nn.Module, data: Data, objective: Any, loader: Any) -> None:
        """Train ``model`` on ``loader``'s batches with ``objective``; keep it and its history."""
        trainer = Trainer(model, self.train_config())
        trainer.fit(data, objective=objective, loader=loader)
        self.model_ = model
        self.history_ = trainer.history

    def get_embedding(self) -> Tensor:
        """The embeddings ``[N, D]`` of the fitted model (a detached copy).

        Raises:
            NotFittedError: :meth:`fit` was not called yet.
        """
        if self.model_ is None:
            raise NotFittedError(
                f"Call `fit({self.fit_argument})` before `get_embedding()`: this "
                f"{type(self).__name__} is not fitted yet"
            )
        return self.model_.encode().detach().clone()  # type: ignore[operator]

    def __repr__(self) -> str:
        params = self.get_params()
        shown = ", ".join(f"{name}={_show(params[name])}" for name in self.repr_params)
        return f"{type(self).__name__}({shown})"


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value)
