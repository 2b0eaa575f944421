"""TF-IDF text features reduced by truncated SVD (latent semantic analysis).

Also the bag of words (which words a document has), the kind of features WebKB and
Planetoid ship.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from mmgraph.encoders._inputs import check_node_mask
from mmgraph.encoders.cache import hash_tensor
from mmgraph.encoders.text._texts import TextInput, documents
from mmgraph.errors import InputError, read_json, read_safetensors
from mmgraph.seed import make_generator

log = logging.getLogger(__name__)

TFIDF_META = "tfidf.json"
TFIDF_TENSORS = "tfidf.safetensors"
"""The files :meth:`TfidfTextEncoder.save` writes (nothing pickled)."""

_META_KEYS: tuple[str, ...] = ("out_channels", "max_features", "ngram_range", "min_df")
_META_KEYS += ("sublinear_tf", "seed", "terms")
"""The keys :meth:`TfidfTextEncoder.load` needs in ``tfidf.json``."""


MAX_FEATURES = 20000
"""The default vocabulary size of :class:`TfidfTextEncoder` (the most frequent terms)."""


class TfidfTextEncoder:
    """TF-IDF features reduced by truncated SVD (latent semantic analysis), scikit-learn based.

    A node's texts are joined into one document. :meth:`fit` learns the vocabulary, the
    inverse document frequencies and the SVD on the (training) nodes given; :meth:`encode`
    then maps any texts. When fewer than ``out_channels`` components exist (a small vocabulary
    or few documents), the missing ones are zero columns, so the output always has
    ``out_channels`` columns.

    Args:
        out_channels (int, optional): Output size (SVD components); :obj:`None` keeps the raw TF-IDF
            features (``max_features`` at most). (default: :obj:`128`)
        max_features (int, optional): Vocabulary size (most frequent terms).
            (default: :obj:`20000`)
        ngram_range (tuple[int, int], optional): Word n-gram sizes. (default: ``(1, 1)``)
        min_df (int, optional): Ignore terms in fewer documents. (default: :obj:`1`)
        sublinear_tf (bool, optional): Use ``1 + log(tf)``. (default: :obj:`True`)
        binary (bool, optional): Count a word once however often it occurs (its presence).
            (default: :obj:`False`)
        use_idf (bool, optional): Weigh each word by its inverse document frequency; without
            it every word weighs one. (default: :obj:`True`)
        seed (int, optional): Seed of the randomized SVD. (default: :obj:`None`)

    Shapes:
        - **input:** ``N`` entries (string, list of strings or :obj:`None`)
        - **output:** ``(x [N, dim], mask [N])``
    """

    fitted_per_run: ClassVar[bool] = True
    """Whether the encoder is fitted on each run's training texts (not pretrained): a run
    fits it, encodes in process and saves it with :meth:`save` (found by :meth:`is_saved`)."""

    def __init__(
        self,
        out_channels: int | None = 128,
        max_features: int | None = MAX_FEATURES,
        ngram_range: tuple[int, int] = (1, 1),
        min_df: int = 1,
        sublinear_tf: bool = True,
        binary: bool = False,
        use_idf: bool = True,
        seed: int | None = None,
    ) -> None:
        if out_channels is not None and (not isinstance(out_channels, int) or out_channels < 1):
            raise ValueError(
                f"Expected 'out_channels' to be a positive int or None (got {out_channels!r})"
            )
        self._out_channels = out_channels
        self.max_features = max_features
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.sublinear_tf = sublinear_tf
        self.binary = binary
        self.use_idf = use_idf
        self.seed = seed
        self.vectorizer: Any = None
        self.svd: Any = None

    @property
    def out_channels(self) -> int:
        """Output size (known before :meth:`fit` unless ``out_channels=None``)."""
        if self._out_channels is not None:
            return self._out_channels
        if self.vectorizer is None:
            raise ValueError("The size of raw TF-IDF features is known after `fit`; call it first")
        return len(self.vectorizer.vocabulary_)

    def fit(self, texts: Sequence[TextInput], mask: Tensor | None = None) -> TfidfTextEncoder:
        """Learn vocabulary, IDF and SVD from the nodes in ``mask`` (all when :obj:`None`)."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        docs, present = documents(texts)
        if mask is not None:
            present = present & check_node_mask(mask, len(docs)).cpu()
        train = [docs[i] for i in present.nonzero().flatten().tolist()]
        if not train:
            where = "training node" if mask is not None else "node"
            raise ValueError(
                f"No {where} has a text to fit the vocabulary on (the text column is empty "
                f"on every {where}): drop the text column from the data's modalities, or "
                "use a text encoder without a vocabulary ('hashing', a transformers model)"
            )
        vectorizer = TfidfVectorizer(
            max_features=self.max_features,
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            sublinear_tf=self.sublinear_tf,
            binary=self.binary,
            use_idf=self.use_idf,
        )
        try:
            tfidf = vectorizer.fit_transform(train)
        except ValueError as error:  # empty vocabulary
            raise ValueError(
                f"Could not build a TF-IDF vocabulary from {len(train)} documents ({error}); "
                "the texts may hold only stop words or one-letter tokens"
            ) from error
        if not self.use_idf:
            # every word weighs one, as weights of one, which save and load as they are: the
            # vectorizer that load() rebuilds, whose output is the fitted one's (x * 1 == x)
            vectorizer = self._vectorizer(vectorizer.vocabulary_, np.ones(tfidf.shape[1]))
            tfidf.sort_indices()  # as the rebuilt vectorizer's output (the SVD's sum order)
        self.vectorizer = vectorizer
        self.svd = None
        if self._out_channels is not None:
            k = min(self._out_channels, tfidf.shape[0], tfidf.shape[1])
            if k < self._out_channels:  # zero columns change no model: a note, not a warning
                log.info(
                    "TF-IDF has only %d terms over %d documents: %d SVD components, padded "
                    "with zeros to out_channels=%d",
                    tfidf.shape[1],
                    tfidf.shape[0],
                    k,
                    self._out_channels,
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
        docs, mask = documents(texts)
        rows = mask.nonzero().flatten()
        if not len(rows):
            return torch.zeros(len(docs), self.out_channels), mask
        tfidf = self.vectorizer.transform([docs[i] for i in rows.tolist()])
        if self.svd is None:  # float32 before densifying: one dense copy, not three
            values = tfidf.astype(np.float32).toarray()
        else:
            values = np.asarray(self.svd.transform(tfidf), dtype=np.float32)
        if len(rows) == len(docs) and values.shape[1] == self.out_channels:
            return torch.from_numpy(values), mask
        x = torch.zeros(len(docs), self.out_channels)
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
            "out_channels": self._out_channels,
            "max_features": self.max_features,
            "ngram_range": list(self.ngram_range),
            "min_df": self.min_df,
            "sublinear_tf": self.sublinear_tf,
            "binary": self.binary,
            "use_idf": self.use_idf,
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
        from sklearn.decomposition import TruncatedSVD

        folder = Path(folder)
        if not (folder / TFIDF_META).is_file():
            raise FileNotFoundError(f"No fitted TF-IDF encoder in {folder} ({TFIDF_META})")
        fix = "restore the file, or train the run again with --overwrite"
        meta = read_json(folder / TFIDF_META, "fitted TF-IDF encoder file", fix)
        if isinstance(meta, dict) and "dim" in meta:  # written before issue 15's renaming
            meta["out_channels"] = meta.pop("dim")
        tensors, _ = read_safetensors(folder / TFIDF_TENSORS, "fitted TF-IDF encoder file")
        missing = [k for k in _META_KEYS if not isinstance(meta, dict) or k not in meta]
        missing += [] if "idf" in tensors else [f"idf in {TFIDF_TENSORS}"]
        if missing:
            raise InputError(
                f"The fitted TF-IDF encoder in '{folder}' lacks {', '.join(missing)}: {fix}"
            )
        encoder = cls(
            out_channels=meta["out_channels"],
            max_features=meta["max_features"],
            ngram_range=tuple(meta["ngram_range"]),
            min_df=meta["min_df"],
            sublinear_tf=meta["sublinear_tf"],
            binary=meta.get("binary", False),  # absent: saved before the bag of words
            use_idf=meta.get("use_idf", True),
            seed=meta["seed"],
        )
        vocabulary = {t: i for i, t in enumerate(meta["terms"])}
        encoder.vectorizer = encoder._vectorizer(vocabulary, tensors["idf"].numpy())
        if "components" in tensors:
            components = tensors["components"].numpy()
            svd = TruncatedSVD(n_components=components.shape[0])
            svd.components_ = components
            svd.n_features_in_ = components.shape[1]
            encoder.svd = svd
        return encoder

    def _vectorizer(self, vocabulary: dict[str, int], idf: np.ndarray) -> Any:
        """A fitted vectorizer of this encoder's settings from its vocabulary and weights."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(
            vocabulary=vocabulary,
            ngram_range=self.ngram_range,
            sublinear_tf=self.sublinear_tf,
            binary=self.binary,
        )
        vectorizer.idf_ = idf
        return vectorizer

    @staticmethod
    def is_saved(folder: str | os.PathLike[str]) -> bool:
        """Whether ``folder`` holds an encoder written by :meth:`save`."""
        return (Path(folder) / TFIDF_META).is_file()

    def identity(self) -> dict[str, Any]:
        """What makes the output what it is: the settings and the fitted state (a digest)."""
        if self.vectorizer is None:
            raise ValueError("A TF-IDF encoder's identity includes its fitted state; call `fit`")
        vocab = self.vectorizer.vocabulary_
        digest = hashlib.sha256("\n".join(sorted(vocab, key=vocab.__getitem__)).encode())
        digest.update(hash_tensor(torch.as_tensor(self.vectorizer.idf_)).encode())
        if self.svd is not None:
            digest.update(hash_tensor(torch.as_tensor(self.svd.components_)).encode())
        return {"tfidf": repr(self), "state": digest.hexdigest()}

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(out_channels={self._out_channels}, "
            f"max_features={self.max_features}, "
            f"ngram_range={self.ngram_range}, min_df={self.min_df}, "
            f"sublinear_tf={self.sublinear_tf}, binary={self.binary}, "
            f"use_idf={self.use_idf}, seed={self.seed})"
        )


class BagOfWordsTextEncoder(TfidfTextEncoder):
    """Which words a document has: one column per word, 1 where it occurs, rows of length 1.

    A :class:`TfidfTextEncoder` with other defaults (``binary=True``, ``use_idf=False``,
    ``sublinear_tf=False``); it takes the same arguments.

    The features of WebKB's and Planetoid's graphs are such 0/1 word vectors. As the raw
    candidate of ``mmgraph train``'s ``text_encoder="auto"`` it gave higher test accuracy
    than raw TF-IDF on both WebKB sets (Cornell 81.1% against 76.7, Texas 89.4 against
    87.8; ``benchmarks/results/text_selection.md``): a page's kind shows in which words it
    has more than in how often it repeats them.
    """

    DEFAULTS: ClassVar[dict[str, bool]] = {"binary": True, "use_idf": False, "sublinear_tf": False}

    def __init__(self, out_channels: int | None = 128, **kwargs: Any) -> None:
        super().__init__(out_channels, **{**self.DEFAULTS, **kwargs})


def vocabulary_size(
    texts: Sequence[TextInput], mask: Tensor | None = None, limit: int | None = MAX_FEATURES
) -> int:
    """The size of the vocabulary a word encoder would fit on the texts in ``mask``.

    The distinct words (lowercased, two characters or more: scikit-learn's default tokens,
    those of :class:`TfidfTextEncoder` and :class:`BagOfWordsTextEncoder`) of the nodes in
    ``mask`` (all when :obj:`None`), counted without building a matrix and at most ``limit``
    (the count stops there: a vocabulary keeps ``max_features`` words at most).
    """
    from sklearn.feature_extraction.text import CountVectorizer

    docs, present = documents(texts)
    if mask is not None:
        present = present & check_node_mask(mask, len(docs)).cpu()
    analyze = CountVectorizer().build_analyzer()
    words: set[str] = set()
    for i in present.nonzero().flatten().tolist():
        words.update(analyze(docs[i]))
        if limit is not None and len(words) >= limit:
            return limit
    return len(words)
