"""Hashed bag-of-words text features; nothing to learn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from mmgraph.encoders.text._texts import TextInput, documents


class HashingTextEncoder:
    """Hashed bag-of-words features (scikit-learn's ``HashingVectorizer``); stateless.

    A node's texts are joined into one document. Nothing is learned, so :meth:`fit` only
    returns the encoder.

    Args:
        out_channels (int, optional): Number of hash buckets (output size). (default: :obj:`1024`)
        ngram_range (tuple[int, int], optional): Word n-gram sizes. (default: ``(1, 1)``)
        norm (str, optional): Row normalisation, ``"l2"``, ``"l1"`` or :obj:`None`.
            (default: ``"l2"``)
        alternate_sign (bool, optional): Signed hashing, which keeps inner products unbiased.
            (default: :obj:`False`)

    Shapes:
        - **input:** ``N`` entries (string, list of strings or :obj:`None`)
        - **output:** ``(x [N, out_channels], mask [N])``
    """

    def __init__(
        self,
        out_channels: int = 1024,
        ngram_range: tuple[int, int] = (1, 1),
        norm: str | None = "l2",
        alternate_sign: bool = False,
    ) -> None:
        if not isinstance(out_channels, int) or out_channels < 1:
            raise ValueError(f"Expected 'out_channels' to be a positive int (got {out_channels!r})")
        from sklearn.feature_extraction.text import HashingVectorizer

        self.out_channels = out_channels
        self.ngram_range = tuple(ngram_range)
        self.norm = norm
        self.alternate_sign = alternate_sign
        self.vectorizer = HashingVectorizer(
            n_features=out_channels,
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
        """Features ``[N, out_channels]`` of the texts (zeros where missing), mask ``[N]``."""
        docs, mask = documents(texts)
        x = torch.zeros(len(docs), self.out_channels)
        rows = mask.nonzero().flatten()
        if len(rows):
            values = self.vectorizer.transform([docs[i] for i in rows.tolist()])
            x[rows] = torch.from_numpy(np.asarray(values.todense(), dtype=np.float32))
        return x, mask

    def identity(self) -> dict[str, Any]:
        """What makes the output what it is: the settings (nothing is fitted)."""
        return {
            "hashing": self.out_channels,
            "ngram_range": list(self.ngram_range),
            "norm": self.norm,
            "alternate_sign": self.alternate_sign,
        }

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(out_channels={self.out_channels}, "
            f"ngram_range={self.ngram_range}, "
            f"norm={self.norm!r})"
        )
