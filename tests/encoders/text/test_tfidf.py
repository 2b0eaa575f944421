"""The TF-IDF text encoder (mmgraph.encoders.text.tfidf)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mmgraph.encoders.text import (
    TFIDF_META,
    BagOfWordsTextEncoder,
    TfidfTextEncoder,
    build_text_encoder,
)

DOCS = ["graphs and nodes", "nodes with text", None, ["images of flags", "flags"], "stock market"]


def test_tfidf_fits_on_training_nodes_only() -> None:
    train = torch.tensor([True, True, False, True, False])
    enc = TfidfTextEncoder(out_channels=3, seed=0).fit(DOCS, mask=train)
    assert "market" not in enc.vectorizer.vocabulary_  # only in a test node
    assert "flags" in enc.vectorizer.vocabulary_
    x, mask = enc.encode(DOCS)
    assert x.shape == (5, 3) and mask.tolist() == [True, True, False, True, True]
    assert torch.equal(x[2], torch.zeros(3))
    again = TfidfTextEncoder(out_channels=3, seed=0).fit(DOCS, mask=train).encode(DOCS)[0]
    assert torch.equal(x, again)  # seeded


def test_tfidf_joins_a_nodes_texts_and_pads(caplog: pytest.LogCaptureFixture) -> None:
    enc = TfidfTextEncoder(out_channels=None).fit(DOCS)
    x, _ = enc.encode([["images of flags", "flags"], "images of flags\nflags"])
    assert torch.equal(x[0], x[1]) and x.size(1) == enc.out_channels == len(
        enc.vectorizer.vocabulary_
    )
    with caplog.at_level("INFO", logger="mmgraph.encoders.text.tfidf"):
        small = TfidfTextEncoder(out_channels=50, seed=0).fit(DOCS)
    assert "padded with zeros to out_channels=50" in caplog.text  # a note: zeros change nothing
    x, _ = small.encode(DOCS)
    assert x.shape == (5, 50) and torch.equal(x[:, 4:], torch.zeros(5, 46))


def test_tfidf_errors() -> None:
    with pytest.raises(ValueError, match="Expected 'out_channels' to be a positive int or None"):
        TfidfTextEncoder(out_channels=0)
    with pytest.raises(ValueError, match="is not fitted"):
        TfidfTextEncoder().encode(DOCS)
    with pytest.raises(ValueError, match="known after `fit`"):
        _ = TfidfTextEncoder(out_channels=None).out_channels
    with pytest.raises(ValueError, match="No node has a text to fit the vocabulary on"):
        TfidfTextEncoder().fit([None, " "])
    with pytest.raises(ValueError, match=r"Expected 'mask' to be a bool tensor of shape \[5\]"):
        TfidfTextEncoder().fit(DOCS, mask=torch.ones(4, dtype=torch.bool))
    with pytest.raises(ValueError, match="Could not build a TF-IDF vocabulary"):
        TfidfTextEncoder().fit(["a", "b"])


def test_tfidf_save_load_gives_the_same_features(tmp_path: Path) -> None:
    texts = ["the cat sat", ["a dog ran", "the dog sat"], None, "cats and dogs", "birds fly"]
    enc = TfidfTextEncoder(out_channels=3, seed=0).fit(texts)
    loaded = TfidfTextEncoder.load(enc.save(tmp_path / "tfidf"))
    new = ["a cat and a bird", None, "dogs sat"]
    x, mask = enc.encode(new)
    y, mask2 = loaded.encode(new)
    torch.testing.assert_close(x, y)
    assert torch.equal(mask, mask2)
    with pytest.raises(FileNotFoundError, match="No fitted TF-IDF encoder"):
        TfidfTextEncoder.load(tmp_path / "nothing")
    with pytest.raises(ValueError, match="not fitted: nothing to save"):
        TfidfTextEncoder().save(tmp_path / "x")


def test_a_damaged_tfidf_state_names_its_file(tmp_path: Path) -> None:
    """Truncated or edited files raise an InputError naming the file and the fix."""
    import shutil

    from mmgraph.encoders.text.tfidf import TFIDF_TENSORS
    from mmgraph.errors import InputError

    def without_terms(data: bytes) -> bytes:
        meta = json.loads(data)
        del meta["terms"]
        return json.dumps(meta).encode()

    texts = ["the cat sat", "a dog ran", "cats and dogs", "birds fly"]
    saved = TfidfTextEncoder(out_channels=3, seed=0).fit(texts).save(tmp_path / "tfidf")
    for name, damage, needle in (
        (TFIDF_META, lambda data: data[:40], "is truncated or not JSON"),
        (TFIDF_TENSORS, lambda data: data[:40], "is truncated or not a safetensors file"),
        (TFIDF_META, without_terms, "lacks terms"),
    ):
        folder = tmp_path / "damaged"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(saved, folder)
        (folder / name).write_bytes(damage((folder / name).read_bytes()))
        with pytest.raises(InputError, match=needle) as caught:
            TfidfTextEncoder.load(folder)
        assert str(folder) in str(caught.value) and "--overwrite" in str(caught.value)


def test_tfidf_loads_a_folder_saved_with_the_old_dim_key(tmp_path: Path) -> None:
    texts = ["the cat sat", "a dog ran", "cats and dogs", "birds fly"]
    enc = TfidfTextEncoder(out_channels=3, seed=0).fit(texts)
    folder = enc.save(tmp_path / "tfidf")
    meta = json.loads((folder / TFIDF_META).read_text())
    assert meta["out_channels"] == 3 and "dim" not in meta
    meta["dim"] = meta.pop("out_channels")  # the key written before issue 15
    (folder / TFIDF_META).write_text(json.dumps(meta))
    loaded = TfidfTextEncoder.load(folder)
    assert loaded.out_channels == 3
    torch.testing.assert_close(loaded.encode(texts)[0], enc.encode(texts)[0])


def test_bag_of_words_marks_which_words_a_text_has(tmp_path: Path) -> None:
    texts = ["cat cat cat dog", ["dog", "bird"], None, "cat bird fish"]
    enc = build_text_encoder("bow", out_channels=None).fit(texts)
    assert isinstance(enc, BagOfWordsTextEncoder) and enc.out_channels == 4
    vocab = enc.vectorizer.vocabulary_
    x, mask = enc.encode(texts + ["cat"])
    assert mask.tolist() == [True, True, False, True, True]
    # a word counts once however often it occurs, every word weighs one, rows have length 1
    expected = torch.zeros(5, 4)
    for row, words in enumerate([("cat", "dog"), ("dog", "bird"), (), ("cat", "bird", "fish")]):
        for word in words:
            expected[row, vocab[word]] = 1 / len(words) ** 0.5
    expected[4, vocab["cat"]] = 1.0
    torch.testing.assert_close(x, expected)
    # TF-IDF of the same texts weighs rare words and repeats: other features
    tfidf = TfidfTextEncoder(out_channels=None).fit(texts).encode(texts)[0]
    assert not torch.allclose(tfidf, x[:4])
    loaded = TfidfTextEncoder.load(enc.save(tmp_path / "bow"))
    assert isinstance(loaded, TfidfTextEncoder) and (loaded.binary, loaded.use_idf) == (True, False)
    torch.testing.assert_close(loaded.encode(texts + ["cat"])[0], x)
    assert "binary=True" in enc.identity()["tfidf"]
    assert enc.identity() != TfidfTextEncoder(out_channels=None).fit(texts).identity()


def test_tfidf_loads_a_folder_saved_before_the_bag_of_words(tmp_path: Path) -> None:
    texts = ["the cat sat sat", "a dog ran", "cats and dogs", "birds fly"]
    enc = TfidfTextEncoder(out_channels=None).fit(texts)
    folder = enc.save(tmp_path / "tfidf")
    meta = json.loads((folder / TFIDF_META).read_text())
    assert (meta["binary"], meta["use_idf"]) == (False, True)
    del meta["binary"], meta["use_idf"]  # the keys written before
    (folder / TFIDF_META).write_text(json.dumps(meta))
    loaded = TfidfTextEncoder.load(folder)
    assert (loaded.binary, loaded.use_idf) == (False, True)
    torch.testing.assert_close(loaded.encode(texts)[0], enc.encode(texts)[0])
