"""The out-of-core feature store and featurize's chunked, resumable, memory-mapped path."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor

from mmgraph import seed_everything
from mmgraph.data.synthetic import make_social_graph
from mmgraph.encoders import HashingTextEncoder
from mmgraph.encoders.store import FEATURES, FeatureStore
from mmgraph.models import FeatureConfig, MultimodalGNN, featurize
from mmgraph.sampling import NeighborLoader
from mmgraph.train import TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[2]


def rows(start: int, stop: int, dim: int = 3) -> tuple[Tensor, Tensor]:
    """Deterministic features: row r holds r * dim, ..., r * dim + dim - 1; odd rows missing."""
    x = torch.arange(start * dim, stop * dim, dtype=torch.float32).view(-1, dim)
    return x, torch.arange(start, stop) % 2 == 0


class Interrupted(RuntimeError):
    pass


class Encoder:
    """Counts the chunks it encodes; raises after ``fail_after`` of them when set."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls: list[tuple[int, int]] = []
        self.fail_after = fail_after

    def __call__(self, start: int, stop: int) -> tuple[Tensor, Tensor]:
        if self.fail_after is not None and len(self.calls) == self.fail_after:
            raise Interrupted("stopped on purpose")
        self.calls.append((start, stop))
        return rows(start, stop)


def mapped_files() -> str:
    return Path("/proc/self/maps").read_text()


# ---------------------------------------------------------------------------- the store
def test_fill_writes_every_chunk(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path / "s", num_rows=10, dim=3, chunk_size=4, key="k")
    assert (store.num_chunks, store.chunk_range(2)) == (3, (8, 10))
    assert store.missing_chunks() == [0, 1, 2] and not store.complete
    encoder = Encoder()
    assert store.fill(encoder) == 3
    assert encoder.calls == [(0, 4), (4, 8), (8, 10)]
    assert store.complete and store.finished_chunks() == [0, 1, 2]
    expected, mask = rows(0, 10)
    assert torch.equal(store.features(), expected)
    assert torch.equal(store.mask(), mask)
    assert repr(store) == (
        f"FeatureStore({str(tmp_path / 's')!r}, num_rows=10, dim=3, chunk_size=4, finished=3/3)"
    )
    # The file is a plain .npy array, readable without mmgraph.
    assert np.array_equal(np.load(tmp_path / "s" / FEATURES), expected.numpy())
    assert store.fill(encoder) == 0  # nothing left to do


def test_interrupted_fill_resumes_with_unfinished_chunks_only(tmp_path: Path) -> None:
    path = tmp_path / "s"
    store = FeatureStore(path, num_rows=23, dim=3, chunk_size=5, key="k")
    with pytest.raises(Interrupted):
        store.fill(Encoder(fail_after=2))
    assert store.finished_chunks() == [0, 1]
    with pytest.raises(ValueError, match="3 of 5 chunks unfinished \\(first: 2\\); call `fill`"):
        store.features()
    # A crash in the middle of writing chunk 2: rows on disk, but no marker.
    array = np.load(path / FEATURES, mmap_mode="r+")
    array[10:15] = -1.0
    array.flush()
    del array
    resumed = Encoder()
    assert FeatureStore(path, num_rows=23, dim=3, key="k").fill(resumed) == 3
    assert resumed.calls == [(10, 15), (15, 20), (20, 23)]
    fresh = FeatureStore(tmp_path / "fresh", num_rows=23, dim=3, chunk_size=5, key="k")
    fresh.fill(Encoder())
    assert torch.equal(FeatureStore.open(path).features(), fresh.features())
    assert torch.equal(FeatureStore.open(path).mask(), fresh.mask())


def test_processes_split_the_chunks(tmp_path: Path) -> None:
    path = tmp_path / "s"
    a = FeatureStore(path, num_rows=10, dim=3, chunk_size=2, key="k")
    b = FeatureStore(path, num_rows=10, dim=3, key="k")  # takes the existing chunk size
    first, second = Encoder(), Encoder()
    assert a.fill(first, rank=0, world_size=2) == 3
    assert b.fill(second, rank=1, world_size=2) == 2
    assert first.calls == [(0, 2), (4, 6), (8, 10)] and second.calls == [(2, 4), (6, 8)]
    assert torch.equal(a.features(), rows(0, 10)[0])


def test_features_are_a_copy_on_write_memory_map(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path / "s", num_rows=10, dim=3, chunk_size=4)
    store.fill(Encoder())
    x = store.features()
    assert str(tmp_path / "s" / FEATURES) in mapped_files()
    x[0] = 100.0  # changes this view only
    assert torch.equal(store.features(), rows(0, 10)[0])
    # index_select (what a mini-batch does) gives the rows.
    assert torch.equal(x.index_select(0, torch.tensor([7, 2])), rows(0, 10)[0][[7, 2]])


def test_reopening_checks_what_the_store_holds(tmp_path: Path) -> None:
    path = tmp_path / "s"
    FeatureStore(path, num_rows=10, dim=3, chunk_size=4, key="text-a", description={"x": 1})
    assert json.loads((path / "meta.json").read_text())["description"] == {"x": 1}
    with pytest.raises(ValueError, match="holds .*'dim': 3.* \\(asked for .*'dim': 4"):
        FeatureStore(path, num_rows=10, dim=4, key="text-a")
    with pytest.raises(ValueError, match="'key': 'text-a'.*asked for.*'key': 'text-b'"):
        FeatureStore(path, num_rows=10, dim=3, key="text-b")
    with pytest.raises(ValueError, match="'chunk_size': 4.*asked for.*'chunk_size': 5"):
        FeatureStore(path, num_rows=10, dim=3, chunk_size=5, key="text-a")
    with pytest.raises(ValueError, match="use another folder for other features"):
        FeatureStore(path, num_rows=11, dim=3, key="text-a")
    opened = FeatureStore.open(path)
    assert (opened.num_rows, opened.dim, opened.chunk_size, opened.key) == (10, 3, 4, "text-a")
    with pytest.raises(FileNotFoundError, match="No feature store at .*meta.json"):
        FeatureStore.open(tmp_path / "nothing")


def test_damaged_store_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "s"
    FeatureStore(path, num_rows=10, dim=3)
    np.save(path / FEATURES, np.zeros((10, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="is damaged: features.npy holds float32 \\[10, 2\\]"):
        FeatureStore.open(path)


def test_write_chunk_errors(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path / "s", num_rows=10, dim=3, chunk_size=4)
    with pytest.raises(ValueError, match="Expected a chunk index in \\[0, 3\\) \\(got 3\\)"):
        store.write_chunk(3, torch.zeros(2, 3))
    with pytest.raises(ValueError, match="shape \\[2, 3\\] for chunk 2 \\(rows 8 to 10\\)"):
        store.write_chunk(2, torch.zeros(4, 3))
    with pytest.raises(ValueError, match="Expected a bool mask of shape \\[2\\] for chunk 2"):
        store.write_chunk(2, torch.zeros(2, 3), torch.ones(2))
    assert store.finished_chunks() == []
    store.write_chunk(2, torch.ones(2, 3))  # no mask: every row present
    assert store.finished_chunks() == [2]


def test_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Expected 'num_rows' to be at least 0 \\(got -1\\)"):
        FeatureStore(tmp_path / "a", num_rows=-1, dim=3)
    with pytest.raises(ValueError, match="Expected 'dim' to be at least 1 \\(got 0\\)"):
        FeatureStore(tmp_path / "a", num_rows=5, dim=0)
    with pytest.raises(TypeError, match="Expected 'chunk_size' to be an int \\(got 'float'\\)"):
        FeatureStore(tmp_path / "a", num_rows=5, dim=3, chunk_size=2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Expected 'key' to be a str \\(got 'int'\\)"):
        FeatureStore(tmp_path / "a", num_rows=5, dim=3, key=1)  # type: ignore[arg-type]
    store = FeatureStore(tmp_path / "b", num_rows=5, dim=3)
    with pytest.raises(ValueError, match="Expected 'rank' in \\[0, 2\\) \\(got 2\\)"):
        store.fill(Encoder(), rank=2, world_size=2)
    with pytest.raises(ValueError, match="Expected 'world_size' to be at least 1 \\(got 0\\)"):
        store.fill(Encoder(), world_size=0)


def test_empty_store(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path / "s", num_rows=0, dim=3)
    assert store.complete and store.features().shape == (0, 3)


# ---------------------------------------------------------------------- featurize
@pytest.fixture(scope="module")
def social():
    return make_social_graph(150, seed=3, image_size=8)


def hashing(**kw) -> FeatureConfig:
    return FeatureConfig(text_encoder="hashing", image_encoder=None, hashing_dim=32, **kw)


def test_featurize_through_a_store_equals_in_memory(social, tmp_path: Path) -> None:
    memory = featurize(social, hashing(), progress=False)
    stored = featurize(social, hashing(store_dir=str(tmp_path), store_chunk_size=40), False)
    assert stored.x_text.shape == (150, 32)
    assert torch.equal(stored.x_text, memory.x_text)
    assert torch.equal(stored.text_present, memory.text_present)
    (folder,) = tmp_path.iterdir()
    assert folder.name.startswith("text-")
    assert FeatureStore.open(folder).num_chunks == 4
    assert str(folder / FEATURES) in mapped_files()


def test_featurize_tfidf_through_a_store(social, tmp_path: Path) -> None:
    config = {"text_encoder": "tfidf", "image_encoder": None, "text_dim": 8}
    memory = featurize(social, FeatureConfig(**config), progress=False)
    stored = featurize(social, FeatureConfig(**config, store_dir=str(tmp_path)), progress=False)
    torch.testing.assert_close(stored.x_text, memory.x_text)


def test_featurize_images_through_a_store(social, tmp_path: Path, vision_dirs) -> None:
    config = {"text_encoder": None, "image_encoder": str(vision_dirs["vit"]), "cache_dir": None}
    memory = featurize(social, FeatureConfig(**config), progress=False)
    stored = featurize(
        social, FeatureConfig(**config, store_dir=str(tmp_path / "st"), store_chunk_size=64), False
    )
    assert stored.x_image.shape == memory.x_image.shape and "image" not in stored
    torch.testing.assert_close(stored.x_image, memory.x_image)
    assert torch.equal(stored.image_present, memory.image_present)
    (folder,) = (tmp_path / "st").iterdir()
    assert folder.name.startswith("image-") and FeatureStore.open(folder).num_chunks == 3


def test_featurize_resumes_an_interrupted_encoding(
    social, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    original = HashingTextEncoder.encode

    def encode(self, texts, progress=None):
        if len(calls) == 2 and fail:
            raise Interrupted("stopped on purpose")
        calls.append(len(texts))
        return original(self, texts, progress)

    monkeypatch.setattr(HashingTextEncoder, "encode", encode)
    config = hashing(store_dir=str(tmp_path), store_chunk_size=40)
    fail = True
    with pytest.raises(Interrupted):
        featurize(social, config, progress=False)
    fail = False
    resumed = featurize(social, config, progress=False)
    assert calls == [40, 40, 40, 30]  # chunks 0 and 1 before the stop, 2 and 3 after
    assert torch.equal(resumed.x_text, featurize(social, hashing(), progress=False).x_text)
    calls.clear()
    featurize(social, config, progress=False)
    assert calls == []  # a finished store is reused as it is


def test_other_inputs_or_encoders_get_their_own_store(social, tmp_path: Path) -> None:
    featurize(social, hashing(store_dir=str(tmp_path)), progress=False)
    other = social.clone()
    other.text = list(reversed(social.text))
    featurize(other, hashing(store_dir=str(tmp_path)), progress=False)
    config = FeatureConfig(
        text_encoder="hashing", image_encoder=None, hashing_dim=16, store_dir=str(tmp_path)
    )
    featurize(social, config, progress=False)
    assert len(list(tmp_path.iterdir())) == 3


def test_minibatch_training_reads_the_store(social, tmp_path: Path) -> None:
    stored = featurize(social, hashing(store_dir=str(tmp_path)), progress=False)
    memory = featurize(social, hashing(), progress=False)
    loader = NeighborLoader(stored, [5, 5], batch_size=32, seed=0)
    batch = next(iter(loader))
    assert torch.equal(batch.x_text, memory.x_text[batch.n_id])
    seed_everything(0)
    model = MultimodalGNN.from_graph(stored, hidden=8, modality_dim=8)
    config = TrainConfig(
        epochs=2, batch_size=32, fanouts=[5, 5], patience=None, progress=False, seed=0
    )
    trainer = Trainer(model, config).fit(stored)
    seed_everything(0)
    reference = MultimodalGNN.from_graph(memory, hidden=8, modality_dim=8)
    Trainer(reference, config).fit(memory)
    for (name, a), b in zip(trainer.model.state_dict().items(), reference.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)


def test_rank_variable_without_process_group_encodes_everything(
    social, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RANK", "1")  # as under torchrun before the process group starts
    stored = featurize(social, hashing(store_dir=str(tmp_path), store_chunk_size=40), False)
    assert torch.equal(stored.x_text, featurize(social, hashing(), progress=False).x_text)


def test_store_chunk_size_is_checked() -> None:
    message = "Expected FeatureConfig's 'store_chunk_size' to be a positive int"
    with pytest.raises(ValueError, match=message):
        FeatureConfig(store_chunk_size=0)
    config = hashing(store_dir="feats", store_chunk_size=7)
    assert FeatureConfig.from_dict(config.to_dict()) == config


WORKER = """
import sys
from pathlib import Path
import torch
from mmgraph.data.synthetic import make_social_graph
from mmgraph.distributed import init_distributed, rank
from mmgraph.models import FeatureConfig, featurize

torch.set_num_threads(1)
init_distributed()
config = FeatureConfig(
    text_encoder="hashing", image_encoder=None, hashing_dim=32, store_dir=sys.argv[1],
    store_chunk_size=40,
)
graph = featurize(make_social_graph(150, seed=3, image_size=8), config, progress=False)
torch.save(graph.x_text.clone(), Path(sys.argv[1]).parent / f"x{rank()}.pt")
"""


def test_torchrun_ranks_encode_their_share_of_one_store(social, tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2"]
        + ["--master-addr", "127.0.0.1", "--master-port", str(port)]
        + [str(script), str(tmp_path / "store")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = (tmp_path / "store").iterdir()
    markers = [json.loads(f.read_text()) for f in sorted((folder / "done").iterdir())]
    pids = [m["pid"] for m in markers]
    assert len(markers) == 4 and pids[0] == pids[2] != pids[1] == pids[3]  # chunks 0, 2 / 1, 3
    expected = featurize(social, hashing(), progress=False).x_text
    for r in range(2):
        assert torch.equal(torch.load(tmp_path / f"x{r}.pt"), expected)


def test_scale_benchmark_phases_on_a_tiny_graph(tmp_path: Path) -> None:
    """benchmarks/scale.py's phases, in this process, on 400 nodes (a smoke test)."""
    spec = importlib.util.spec_from_file_location("_bench_scale", ROOT / "benchmarks" / "scale.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    args = bench.parse(
        ["--nodes", "400", "--edges", "1600", "--text-dim", "16", "--chunk-size", "128"]
        + ["--batch-size", "100", "--fanouts", "4", "3", "--walk-length", "5"]
        + ["--workdir", str(tmp_path), "--threads", "1", "--save-model"]
    )
    res = {}
    for phase in ("prepare", "encode", "sample", "walk", "train", "infer"):
        args.phase = phase
        res[phase] = [bench.run_phase(args)]
    assert res["prepare"][0]["directed_edges"] == 3200
    assert res["encode"][0]["chunks"] == 4 and res["encode"][0]["x_text"] == [400, 16]
    assert res["sample"][0]["batches"] == 4
    assert res["train"][0]["seeds"] == 400 and res["train"][0]["peak_rss_gib"] > 0
    res["train1"] = res.pop("train")
    for r in res.values():
        r[0]["wall_s"] = 1.0
    text = bench.report(args, res, [0.5, 0.6])
    assert "| train | one epoch, all 400 nodes as seeds, 1 process x 2 threads |" in text
    assert "- train1: epoch" in text
