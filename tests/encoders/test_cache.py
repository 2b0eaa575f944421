from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from mmgraph.encoders.cache import (
    FeatureCache,
    default_cache_dir,
    fingerprint_module,
    fingerprint_path,
    hash_bytes,
    hash_tensor,
    hash_text,
    make_model_key,
)


def test_put_then_get_many(tmp_path: Path) -> None:
    cache = FeatureCache("model-a", cache_dir=tmp_path)
    assert len(cache) == 0 and cache.dim is None
    found, x = cache.get_many(["a", "b"])
    assert found.tolist() == [False, False] and x.shape == (2, 0)

    feats = torch.arange(12, dtype=torch.float32).view(3, 4)
    cache.put_many(["a", "b", "c"], feats)
    found, x = cache.get_many(["c", "zz", "a"])
    assert found.tolist() == [True, False, True]
    assert torch.equal(x[0], feats[2]) and torch.equal(x[2], feats[0])
    assert torch.equal(x[1], torch.zeros(4))
    assert cache.dim == 4 and len(cache) == 3 and "b" in cache
    assert (
        repr(cache) == f"FeatureCache({str(tmp_path / 'features' / 'model-a')!r}, items=3, dim=4)"
    )


def test_persists_across_instances_and_sees_new_shards(tmp_path: Path) -> None:
    first = FeatureCache("m", cache_dir=tmp_path)
    first.put_many(["a"], torch.ones(1, 3))
    second = FeatureCache("m", cache_dir=tmp_path)  # as another process would open it
    assert second.get_many(["a"])[0].tolist() == [True]
    first.put_many(["b"], torch.full((1, 3), 2.0))  # written after `second` read the index
    found, x = second.get_many(["b"])
    assert found.tolist() == [True] and torch.equal(x, torch.full((1, 3), 2.0))
    meta = json.loads((tmp_path / "features" / "m" / "meta.json").read_text())
    assert meta["dim"] == 3 and meta["dtype"] == "float32"


def test_models_do_not_share_entries(tmp_path: Path) -> None:
    FeatureCache("m1", cache_dir=tmp_path).put_many(["a"], torch.ones(1, 2))
    assert FeatureCache("m2", cache_dir=tmp_path).get_many(["a"])[0].tolist() == [False]


def test_interrupted_writes_are_ignored_and_compacted(tmp_path: Path) -> None:
    cache = FeatureCache("m", cache_dir=tmp_path)
    cache.put_many(["a", "b"], torch.randn(2, 3, generator=torch.Generator().manual_seed(0)))
    cache.put_many(["c"], torch.ones(1, 3))
    folder = tmp_path / "features" / "m"
    # A crash after the data file but before the keys file, and one mid temporary write.
    np.save(folder / "shard-orphan.npy", np.ones((1, 3), dtype=np.float32))
    (folder / ".tmp-123-shard-x.npy").write_bytes(b"partial")
    reopened = FeatureCache("m", cache_dir=tmp_path)
    assert len(reopened) == 3
    before = reopened.get_many(["a", "b", "c"])[1]

    reopened.compact()
    assert len(list(folder.glob("shard-*.keys"))) == 1
    assert sorted(p.name for p in folder.glob("shard-*.npy")) == sorted(
        p.with_suffix(".npy").name for p in folder.glob("shard-*.keys")
    )
    assert not list(folder.glob(".tmp-*"))
    after = FeatureCache("m", cache_dir=tmp_path).get_many(["a", "b", "c"])[1]
    assert torch.equal(before, after)


def test_clear(tmp_path: Path) -> None:
    cache = FeatureCache("m", cache_dir=tmp_path)
    cache.put_many(["a"], torch.ones(1, 2))
    cache.clear()
    assert len(cache) == 0 and not (tmp_path / "features" / "m").exists()
    assert FeatureCache("m", cache_dir=tmp_path).get_many(["a"])[0].tolist() == [False]


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Expected 'model_key' made of letters"):
        FeatureCache("../escape", cache_dir=tmp_path)
    cache = FeatureCache("m", cache_dir=tmp_path)
    with pytest.raises(ValueError, match=r"Expected features of shape \[2, D\]"):
        cache.put_many(["a", "b"], torch.ones(3, 2))
    with pytest.raises(ValueError, match="Expected non-empty string keys"):
        cache.put_many(["a\nb"], torch.ones(1, 2))
    cache.put_many(["a"], torch.ones(1, 2))
    with pytest.raises(ValueError, match="Expected features of size 2"):
        cache.put_many(["b"], torch.ones(1, 5))


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MMGRAPH_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    assert FeatureCache("m").path == tmp_path / "c" / "features" / "m"
    monkeypatch.delenv("MMGRAPH_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "mmgraph"


def test_hashes_are_hashlib_digests() -> None:
    assert hash_text("héllo") == hashlib.sha256(b"text\0" + "héllo".encode()).hexdigest()
    assert hash_bytes(b"\x00\x01") == hashlib.sha256(b"bytes\0\x00\x01").hexdigest()
    t = torch.arange(6, dtype=torch.float32).view(2, 3)
    assert hash_tensor(t) == hash_tensor(t.clone())
    assert hash_tensor(t) != hash_tensor(t.view(3, 2))
    assert hash_tensor(t) != hash_tensor(t.double())
    assert hash_text("a") != hash_text("b")


def test_model_key_tracks_identity_and_options(tmp_path: Path) -> None:
    base = make_model_key("bert", {"hidden_size": 16}, pooling="mean", max_length=8)
    assert base == make_model_key("bert", {"hidden_size": 16}, max_length=8, pooling="mean")
    assert base != make_model_key("bert", {"hidden_size": 16}, pooling="cls", max_length=8)
    assert base != make_model_key("bert", {"hidden_size": 32}, pooling="mean", max_length=8)
    assert base != make_model_key("roberta", {"hidden_size": 16}, pooling="mean", max_length=8)

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights-1")
    (folder / "README.md").write_text("ignored")
    key = make_model_key(folder)
    fingerprint = fingerprint_path(folder)
    (folder / "README.md").write_text("still ignored")
    assert make_model_key(folder) == key and fingerprint_path(folder) == fingerprint
    (folder / "model.safetensors").write_bytes(b"weights-2")  # same size, new contents
    assert make_model_key(folder) != key and fingerprint_path(folder) != fingerprint
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        fingerprint_path(tmp_path / "nope")


def test_fingerprint_module_sees_weight_changes() -> None:
    torch.manual_seed(0)
    lin = torch.nn.Linear(300, 200)
    before = fingerprint_module(lin)
    assert fingerprint_module(lin) == before
    with torch.no_grad():
        lin.weight.add_(1e-3)
    assert fingerprint_module(lin) != before


def test_get_many_reads_shuffled_keys_across_shards(tmp_path: Path) -> None:
    cache = FeatureCache("model-shards", cache_dir=tmp_path)
    keys = [f"k{i}" for i in range(10)]
    feats = torch.arange(30, dtype=torch.float32).view(10, 3)
    for start in range(0, 10, 4):  # three shards: rows 0-3, 4-7, 8-9
        cache.put_many(keys[start : start + 4], feats[start : start + 4])
    wanted = ["k9", "missing", "k0", "k5", "k9", "k3", "k4"]
    found, x = FeatureCache("model-shards", cache_dir=tmp_path).get_many(wanted)
    assert found.tolist() == [True, False, True, True, True, True, True]
    expected = torch.stack([feats[9], torch.zeros(3), feats[0], feats[5], feats[9], feats[3]])
    assert torch.equal(x, torch.cat([expected, feats[4:5]]))
    found, x = cache.get_many([])
    assert found.shape == (0,) and x.shape == (0, 3)
