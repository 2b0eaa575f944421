"""The hashing text encoder (mmgraph.encoders.text.hashing)."""

from __future__ import annotations

import pytest
import torch

from mmgraph.encoders.text import HashingTextEncoder

DOCS = ["graphs and nodes", "nodes with text", None, ["images of flags", "flags"], "stock market"]


def test_hashing_matches_sklearn() -> None:
    from sklearn.feature_extraction.text import HashingVectorizer

    enc = HashingTextEncoder(out_channels=64)
    assert enc.fit(DOCS) is enc
    x, mask = enc.encode(DOCS)
    ref = HashingVectorizer(n_features=64, alternate_sign=False).transform(["stock market"])
    torch.testing.assert_close(x[4], torch.tensor(ref.toarray()[0], dtype=torch.float32))
    assert torch.equal(x[2], torch.zeros(64)) and not mask[2]
    joined, _ = enc.encode(["images of flags\nflags"])
    assert torch.equal(x[3], joined[0])
    assert repr(enc) == "HashingTextEncoder(out_channels=64, ngram_range=(1, 1), norm='l2')"
    with pytest.raises(ValueError, match="Expected 'out_channels' to be a positive int"):
        HashingTextEncoder(out_channels=0)
