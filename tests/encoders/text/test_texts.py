"""What the text encoders share: node texts and building an encoder by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmgraph.encoders.text import (
    HashingTextEncoder,
    TextEncoder,
    TfidfTextEncoder,
    build_text_encoder,
    split_texts,
)


def test_split_texts() -> None:
    assert split_texts(["a", None, " ", ["b", " ", "c"], []]) == [["a"], [], [], ["b", "c"], []]


def test_build_text_encoder(tiny_bert_dir: Path) -> None:
    assert isinstance(build_text_encoder("tfidf", out_channels=4), TfidfTextEncoder)
    assert isinstance(build_text_encoder("hashing", out_channels=8), HashingTextEncoder)
    enc = build_text_encoder(str(tiny_bert_dir), use_cache=False, progress=False)
    assert isinstance(enc, TextEncoder) and enc.out_channels == 16
    with pytest.raises(
        FileNotFoundError, match="Other text encoders: \\('tfidf', 'bow', 'hashing'\\)"
    ):
        build_text_encoder("tfidff")
    with pytest.raises(ValueError, match="Expected a text encoder name"):
        build_text_encoder("")
