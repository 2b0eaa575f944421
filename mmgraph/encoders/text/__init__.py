"""Text encoders: one per file, each mapping one entry per node to ``(x, mask)``.

Every encoder takes one entry per node (a string, a list of strings such as a user's tweets,
or :obj:`None`) and returns ``(x, mask)``: features ``[N, D]`` and a bool mask ``[N]`` of
nodes with some non-blank text; rows of the other nodes are zeros.

* :class:`TextEncoder` (``transformer.py``): any Hugging Face transformer.
* :class:`TfidfTextEncoder` (``tfidf.py``): TF-IDF reduced by truncated SVD.
* :class:`BagOfWordsTextEncoder` (``tfidf.py``): which words a text has (0/1 per word).
* :class:`HashingTextEncoder` (``hashing.py``): hashed bag of words.

A new light encoder is a file here with a class that has ``out_channels``, ``fit(texts, mask)``
(returning itself) and ``encode(texts, progress)``, plus one line in
:data:`TEXT_ENCODER_CLASSES`.
"""

from __future__ import annotations

from typing import Any

from mmgraph.encoders._hub import build_by_name
from mmgraph.encoders.text._texts import TextInput, documents, mean_per_node, split_texts
from mmgraph.encoders.text.hashing import HashingTextEncoder
from mmgraph.encoders.text.tfidf import (
    TFIDF_META,
    TFIDF_TENSORS,
    BagOfWordsTextEncoder,
    TfidfTextEncoder,
)
from mmgraph.encoders.text.transformer import POOLINGS, TextEncoder
from mmgraph.names import WORD_TEXT_ENCODERS as WORD_TEXT_ENCODERS

TEXT_ENCODER_CLASSES: dict[str, Any] = {
    "tfidf": TfidfTextEncoder,
    "bow": BagOfWordsTextEncoder,
    "hashing": HashingTextEncoder,
}
"""Names :func:`build_text_encoder` maps to light (scikit-learn) encoders; any other name is
a transformers model (:class:`TextEncoder`)."""

LIGHT_TEXT_ENCODERS: tuple[str, ...] = tuple(TEXT_ENCODER_CLASSES)
"""The names of :data:`TEXT_ENCODER_CLASSES`."""


def build_text_encoder(
    name: str, **kwargs: Any
) -> TextEncoder | TfidfTextEncoder | HashingTextEncoder:
    """Build a text encoder by name.

    Args:
        name (str): ``"tfidf"`` (:class:`TfidfTextEncoder`), ``"bow"``
            (:class:`BagOfWordsTextEncoder`), ``"hashing"``
            (:class:`HashingTextEncoder`), or a transformers hub name or local folder
            (:class:`TextEncoder`).
        **kwargs: Arguments of the chosen class.
    """
    return build_by_name(name, TEXT_ENCODER_CLASSES, TextEncoder, "text encoder", **kwargs)


__all__ = [
    "LIGHT_TEXT_ENCODERS",
    "WORD_TEXT_ENCODERS",
    "POOLINGS",
    "TEXT_ENCODER_CLASSES",
    "TFIDF_META",
    "TFIDF_TENSORS",
    "BagOfWordsTextEncoder",
    "HashingTextEncoder",
    "TextEncoder",
    "TextInput",
    "TfidfTextEncoder",
    "build_text_encoder",
    "documents",
    "mean_per_node",
    "split_texts",
]
