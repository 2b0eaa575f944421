"""How :class:`TextEncoder` batches: one tokenization, length-sorted batches, deduplication."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import torch

from mmgraph.encoders.text import TextEncoder

TEXTS = [
    "short",
    "a somewhat longer text with more tokens about graphs",
    "mid length text",
    "x y",
    "hello world",
    "one two three images flags nodes",
    "the market",
]


class CountingTokenizer:
    """Delegates to a tokenizer and counts the calls that tokenize text."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.tokenizer(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tokenizer, name)


@pytest.fixture
def encoder(tiny_bert_dir: Path) -> TextEncoder:
    return TextEncoder(tiny_bert_dir, batch_size=3, use_cache=False, progress=False)


@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_equals_tokenize(encoder: TextEncoder, side: str) -> None:
    encoder.tokenizer.padding_side = side
    ids = encoder.tokenizer(TEXTS, truncation=True, max_length=encoder.max_length)["input_ids"]
    padded, expected = encoder._pad(ids), encoder.tokenize(TEXTS)
    assert set(padded) == set(expected)
    for name, value in expected.items():
        assert torch.equal(padded[name], value), name


def test_pad_truncated_texts_equal_tokenize(tiny_bert_dir: Path) -> None:
    enc = TextEncoder(tiny_bert_dir, max_length=6, use_cache=False, progress=False)
    ids = enc.tokenizer(TEXTS, truncation=True, max_length=6)["input_ids"]
    assert max(len(row) for row in ids) == 6
    assert torch.equal(enc._pad(ids)["input_ids"], enc.tokenize(TEXTS)["input_ids"])


def test_texts_are_tokenized_once(encoder: TextEncoder) -> None:
    counting = CountingTokenizer(encoder.tokenizer)
    encoder.tokenizer = counting
    try:
        encoder.encode(TEXTS)  # 7 texts, 3 batches
    finally:
        encoder.tokenizer = counting.tokenizer
    assert counting.calls == 1


def test_sorted_batches_equal_unsorted_and_single_texts(encoder: TextEncoder) -> None:
    random.seed(0)
    order = list(range(len(TEXTS)))
    random.shuffle(order)
    x, _ = encoder.encode(TEXTS)
    shuffled, _ = encoder.encode([TEXTS[i] for i in order])
    torch.testing.assert_close(shuffled, x[order], atol=1e-5, rtol=0)
    with torch.no_grad():
        single = torch.cat([encoder(**encoder.tokenize([t])) for t in TEXTS])
    torch.testing.assert_close(x, single, atol=1e-5, rtol=0)


def test_batches_go_longest_first(encoder: TextEncoder) -> None:
    lengths: list[int] = []
    encoder.model.register_forward_pre_hook(
        lambda _m, _a, kw: lengths.append(kw["input_ids"].size(1)), with_kwargs=True
    )
    encoder.encode(TEXTS)
    token_counts = sorted((len(encoder.tokenizer(t)["input_ids"]) for t in TEXTS), reverse=True)
    assert lengths == token_counts[::3]  # each batch pads to its first (longest) text


def test_duplicate_texts_are_encoded_once(encoder: TextEncoder) -> None:
    sizes: list[int] = []
    encoder.model.register_forward_pre_hook(
        lambda _m, _a, kw: sizes.append(kw["input_ids"].size(0)), with_kwargs=True
    )
    texts = ["hello world", ["x y", "hello world"], "x y", "hello world", None]
    x, mask = encoder.encode(texts)
    assert sum(sizes) == 2 and mask.tolist() == [True, True, True, True, False]
    assert torch.equal(x[0], x[3])
    torch.testing.assert_close(x[1], (x[0] + x[2]) / 2)


def test_cached_rerun_equals_cold_run(tiny_bert_dir: Path, tmp_path: Path) -> None:
    cold = TextEncoder(tiny_bert_dir, batch_size=2, cache_dir=tmp_path, progress=False)
    cold.flush_every = 1  # one shard per batch: the cached read spans several shards
    x, _ = cold.encode(TEXTS)
    fresh = TextEncoder(tiny_bert_dir, batch_size=2, cache_dir=tmp_path, progress=False)
    sizes: list[int] = []
    fresh.model.register_forward_pre_hook(lambda *_: sizes.append(1))
    again, _ = fresh.encode(TEXTS[::-1])
    assert not sizes and torch.equal(again, x.flip(0))
    uncached = TextEncoder(tiny_bert_dir, batch_size=5, use_cache=False, progress=False)
    torch.testing.assert_close(uncached.encode(TEXTS)[0], x, atol=1e-5, rtol=0)
