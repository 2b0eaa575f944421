"""Scale: a graph of 1M nodes and about 10M edges, out-of-core text features (issue 7).

The graph is an Erdős–Rényi :math:`G(n, m)` graph from ``mmgraph.data.generators`` (1M nodes,
5M undirected edges stored in both directions: 10M directed edges) with 8 numeric attributes
(5% missing), 4 generated classes, and a short generated text per node (90% of the nodes;
words drawn from a Zipf vocabulary, a third from the node's class topic). Each phase runs in
its own process, so its peak memory is its own:

* ``prepare``: generate the graph, attributes, labels and texts; save them to the work folder;
* ``encode``: ``featurize`` with the hashing encoder into the out-of-core feature store
  (chunk by chunk, memory-mapped afterwards);
* ``sample``: one epoch of neighbour sampling over all nodes (fan-outs 15, 10, batch 1024,
  shuffled): the bare sampler, and the loader that also gathers every batch's features
  from the memory map;
* ``walk``: random walks of length 20 from every node, uniform and biased (p 0.5, q 2);
* ``train``: one mini-batch training epoch of a MultimodalGNN (hashed text + numeric
  attributes, concat fusion, 2 GraphSAGE-mean layers, hidden 64) over all nodes as seeds,
  through the Trainer with a supervised objective on the generated labels; once in 1
  process with 2 threads, once under ``torchrun`` with 2 gloo processes of 1 thread each
  (the same global batch of 1024);
* ``infer``: exact layer-wise inference of every node's logits (``model.inference``);
* ``er100k``: sampled nodes/s on ER-100k (the graph of ``../shared/perf/ANCHORS.md``, 128-dim
  features, fan-outs 15, 10, batch 1024, all nodes as seeds) against the compiled sampler's
  1.04 M/s there; with ``--reference-path`` (a folder holding torch-sparse, e.g.
  ``pip install --target /tmp/refpkgs --no-deps ../shared/perf/wheels/*.whl``) PyG's
  NeighborLoader runs alternately in the same process and the ratio is reported.

Peak memory is the process's ``ru_maxrss`` (which counts pages of memory-mapped files it
touched) and, sampled every 0.1 s, its anonymous (heap) resident memory.

Usage::

    python benchmarks/scale.py                          # full size, about 25 minutes
    python benchmarks/scale.py --nodes 100000 --edges 500000 --out /tmp/scale-small.md
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "scale.md"
PHASES = ("prepare", "encode", "sample", "walk", "train1", "train2", "infer", "er100k")
ANCHOR_NODES_PER_S = 1.04e6
ANCHOR_EPOCH_S = 5.60
TARGET_EPOCH_S = 600.0
TARGET_PEAK_GIB = 8.0
NUM_CLASSES = 4
NUM_NUMERIC = 8
VOCAB = 5000
TOPIC_WORDS = 50


# ------------------------------------------------------------------------- memory
class PeakMemory:
    """Peak resident memory of this process: ``ru_maxrss`` and sampled anonymous memory."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak_anon = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def anon_bytes() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_anon = max(self.peak_anon, self.anon_bytes())
            self._stop.wait(self.interval)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self.peak_anon = max(self.peak_anon, self.anon_bytes())
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return {"peak_rss_gib": maxrss / 2**30, "peak_anon_gib": self.peak_anon / 2**30}


# ------------------------------------------------------------------------ the data
def data_dir(args: argparse.Namespace) -> Path:
    return Path(args.workdir) / f"graph-{args.nodes}-{args.edges}-seed{args.seed}"


def make_texts(y: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Short texts: 4 to 12 words, a third from the node's class topic, the rest Zipf."""
    n = y.size
    length = rng.integers(4, 13, size=n)
    general = np.minimum(rng.zipf(1.3, size=(n, 12)) - 1, VOCAB - 1)
    topic = VOCAB + y[:, None] * TOPIC_WORDS + rng.integers(0, TOPIC_WORDS, size=(n, 12))
    words = np.where(rng.random((n, 12)) < 1 / 3, topic, general)
    vocab = [f"w{i}" for i in range(VOCAB)] + [
        f"topic{c}x{i}" for c in range(NUM_CLASSES) for i in range(TOPIC_WORDS)
    ]
    present = rng.random(n) < 0.9
    rows = words.tolist()
    return [
        " ".join(vocab[w] for w in row[:k]) if keep else ""
        for row, k, keep in zip(rows, length.tolist(), present.tolist())
    ]


def phase_prepare(args: argparse.Namespace) -> dict[str, Any]:
    from mmgraph.data.generators import erdos_renyi_gnm

    out = data_dir(args)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    edge_index, n = erdos_renyi_gnm(args.nodes, args.edges, seed=args.seed)
    graph_s = time.perf_counter() - start
    rng = np.random.default_rng(args.seed)
    y = rng.integers(0, NUM_CLASSES, size=n)
    numeric = rng.normal(size=(n, NUM_NUMERIC)).astype(np.float32)
    numeric[:, :2] += y[:, None].astype(np.float32) * 0.5
    numeric[rng.random((n, NUM_NUMERIC)) < 0.05] = np.nan
    texts = make_texts(y, rng)
    np.save(out / "edge_index.npy", edge_index.numpy())
    np.save(out / "numeric.npy", numeric)
    np.save(out / "y.npy", y)
    (out / "texts.txt").write_text("\n".join(texts) + "\n")
    return {
        "nodes": n,
        "directed_edges": int(edge_index.size(1)),
        "graph_s": graph_s,
        "seconds": time.perf_counter() - start,
    }


def load_graph(args: argparse.Namespace, texts: bool = False) -> Any:
    """The saved graph as a MultimodalGraph (edges, numeric, labels, all nodes training)."""
    from mmgraph.data import MultimodalGraph

    folder = data_dir(args)
    if not (folder / "y.npy").is_file():
        raise FileNotFoundError(f"No prepared graph in {folder}: run the 'prepare' phase first")
    y = torch.from_numpy(np.load(folder / "y.npy"))
    kwargs: dict[str, Any] = {}
    if texts:
        kwargs["text"] = (folder / "texts.txt").read_text().split("\n")[: y.numel()]
    return MultimodalGraph(
        torch.from_numpy(np.load(folder / "edge_index.npy")),
        numeric=torch.from_numpy(np.load(folder / "numeric.npy")),
        y=y,
        train_mask=torch.ones(y.numel(), dtype=torch.bool),
        class_names=[f"class{c}" for c in range(NUM_CLASSES)],
        **kwargs,
    )


def feature_config(args: argparse.Namespace) -> Any:
    from mmgraph.models import FeatureConfig

    return FeatureConfig(
        text_encoder="hashing",
        image_encoder=None,
        hashing_dim=args.text_dim,
        store_dir=str(Path(args.workdir) / "store"),
        store_chunk_size=args.chunk_size,
    )


def featurized_graph(args: argparse.Namespace) -> Any:
    """The graph with ``x_text`` memory-mapped from the store (raw texts dropped after)."""
    from mmgraph.models import featurize

    graph = featurize(load_graph(args, texts=True), feature_config(args), progress=False)
    del graph.text  # the model reads x_text; batches need not carry the raw strings
    return graph


def phase_encode(args: argparse.Namespace) -> dict[str, Any]:
    import sklearn.feature_extraction.text  # noqa: F401  (imported before the clock starts)

    from mmgraph.encoders.store import FeatureStore
    from mmgraph.models import featurize

    shutil.rmtree(Path(args.workdir) / "store", ignore_errors=True)  # encode from scratch
    graph = load_graph(args, texts=True)
    start = time.perf_counter()
    out = featurize(graph, feature_config(args), progress=False)
    seconds = time.perf_counter() - start
    (folder,) = [p for p in (Path(args.workdir) / "store").iterdir() if p.name.startswith("text-")]
    store = FeatureStore.open(folder)
    return {
        "seconds": seconds,
        "nodes_per_s": graph.num_nodes / seconds,
        "store_gib": store.num_rows * store.dim * 4 / 2**30,
        "chunks": store.num_chunks,
        "x_text": list(out.x_text.shape),
    }


def phase_sample(args: argparse.Namespace) -> dict[str, Any]:
    from mmgraph.sampling import CSRGraph, NeighborLoader, NeighborSampler

    graph = featurized_graph(args)
    n = int(graph.num_nodes)
    csr = CSRGraph.from_graph(graph, by="target")
    sampler = NeighborSampler(csr, args.fanouts, seed=0)
    seeds = torch.randperm(n, generator=torch.Generator().manual_seed(0)).split(args.batch_size)
    start = time.perf_counter()
    bare_nodes = sum(sampler.sample(batch).n_id.numel() for batch in seeds)
    bare_s = time.perf_counter() - start
    loader = NeighborLoader(graph, args.fanouts, batch_size=args.batch_size, shuffle=True, seed=0)
    start = time.perf_counter()
    loader_nodes = 0
    for batch in loader:
        loader_nodes += batch.num_nodes
    loader_s = time.perf_counter() - start
    return {
        "batches": len(seeds),
        "sampler_s": bare_s,
        "sampler_nodes": bare_nodes,
        "loader_s": loader_s,
        "loader_nodes": loader_nodes,
    }


def phase_walk(args: argparse.Namespace) -> dict[str, Any]:
    from mmgraph.sampling import CSRGraph, random_walk

    folder = data_dir(args)
    edge_index = torch.from_numpy(np.load(folder / "edge_index.npy"))
    n = int(np.load(folder / "y.npy", mmap_mode="r").shape[0])
    csr = CSRGraph.from_edge_index(edge_index, n)
    del edge_index
    start_nodes = torch.arange(n)
    out: dict[str, Any] = {"steps": n * args.walk_length}
    for name, p, q in (("uniform", 1.0, 1.0), ("biased", 0.5, 2.0)):
        random_walk(csr, start_nodes[:1000], args.walk_length, p=p, q=q, seed=1)  # tables
        start = time.perf_counter()
        random_walk(csr, start_nodes, args.walk_length, p=p, q=q, seed=0)
        out[f"{name}_s"] = time.perf_counter() - start
    return out


def phase_train(args: argparse.Namespace) -> dict[str, Any]:
    from mmgraph import seed_everything
    from mmgraph.distributed import init_distributed, rank, world_size
    from mmgraph.models import MultimodalGNN
    from mmgraph.train import TrainConfig, Trainer

    init_distributed()
    graph = featurized_graph(args)
    seed_everything(0)
    model = MultimodalGNN.from_graph(
        graph, hidden=64, modality_dim=64, aggregator=args.aggregator, num_layers=2, dropout=0.5
    )
    config = TrainConfig(
        epochs=1,
        lr=0.01,
        batch_size=args.batch_size,
        fanouts=args.fanouts,
        patience=None,
        class_weights=False,
        progress=False,
        seed=0,
    )
    start = time.perf_counter()
    cpu = time.process_time()
    trainer = Trainer(model, config).fit(graph)
    record = trainer.history[0]
    out = {
        "rank": rank(),
        "world_size": world_size(),
        "epoch_s": record["time"],
        "fit_s": time.perf_counter() - start,
        "fit_cpu_s": time.process_time() - cpu,
        "train_loss": record["train_loss"],
        "seeds": int(graph.num_nodes),
    }
    if rank() == 0 and args.save_model:
        from mmgraph.train.checkpoint import save_weights

        save_weights(trainer.model.state_dict(), Path(args.workdir) / "model.safetensors")
        (Path(args.workdir) / "model.json").write_text(json.dumps(model.config.to_dict()))
    return out


def phase_infer(args: argparse.Namespace) -> dict[str, Any]:
    from mmgraph.models import ModelConfig, MultimodalGNN
    from mmgraph.train.checkpoint import load_weights

    graph = featurized_graph(args)
    workdir = Path(args.workdir)
    model = MultimodalGNN.from_config(
        ModelConfig.from_dict(json.loads((workdir / "model.json").read_text()))
    )
    model.load_state_dict(load_weights(workdir / "model.safetensors"))
    start = time.perf_counter()
    logits = model.inference(graph, batch_size=args.infer_batch_size)
    seconds = time.perf_counter() - start
    accuracy = float((logits.argmax(1) == graph.y).float().mean())
    return {"seconds": seconds, "nodes": int(graph.num_nodes), "train_accuracy": accuracy}


def phase_er100k(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    import sampling_throughput as st

    graph = st.build_graph("ER-100k")
    sampler, batches, sampler_nodes = st.sampler_timing(graph, repeats=args.repeats)
    ours, ref, _, nodes, ref_nodes = st.loader_timings(graph, repeats=args.repeats)
    out: dict[str, Any] = {
        "batches": batches,
        "sampler_s": sampler.seconds,
        "sampler_nodes": sampler_nodes,
        "loader_s": ours.seconds,
        "loader_nodes": nodes,
    }
    if ref is not None:
        out.update(ref_s=ref.seconds, ref_nodes=ref_nodes)
    return out


PHASE_FUNCTIONS = {
    "prepare": phase_prepare,
    "encode": phase_encode,
    "sample": phase_sample,
    "walk": phase_walk,
    "train": phase_train,
    "infer": phase_infer,
    "er100k": phase_er100k,
}


def run_phase(args: argparse.Namespace) -> dict[str, Any]:
    """Run ``args.phase`` in this process; its result with the peak memory."""
    torch.set_num_threads(args.threads)
    monitor = PeakMemory()
    result = PHASE_FUNCTIONS[args.phase](args)
    result.update(monitor.stop())
    return result


# -------------------------------------------------------------------- orchestration
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_args(args: argparse.Namespace, phase: str, threads: int) -> list[str]:
    return [
        str(Path(__file__).resolve()),
        "--phase",
        phase,
        "--threads",
        str(threads),
        "--nodes",
        str(args.nodes),
        "--edges",
        str(args.edges),
        "--seed",
        str(args.seed),
        "--text-dim",
        str(args.text_dim),
        "--chunk-size",
        str(args.chunk_size),
        "--batch-size",
        str(args.batch_size),
        "--fanouts",
        *map(str, args.fanouts),
        "--walk-length",
        str(args.walk_length),
        "--aggregator",
        args.aggregator,
        "--repeats",
        str(args.repeats),
        "--infer-batch-size",
        str(args.infer_batch_size),
        "--workdir",
        str(args.workdir),
        *(["--save-model"] if phase == "train" else []),
    ]


def spawn(args: argparse.Namespace, phase: str) -> list[dict[str, Any]]:
    """Run a phase in fresh processes; one result per process."""
    env = dict(os.environ)
    results = Path(args.workdir) / "results"
    results.mkdir(parents=True, exist_ok=True)
    for old in results.glob(f"{phase}-*.json"):
        old.unlink()
    if phase == "train2":
        for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_PORT"):
            env.pop(key, None)
        env["OMP_NUM_THREADS"] = "1"
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            "2",
            "--master-addr",
            "127.0.0.1",
            "--master-port",
            str(free_port()),
            *child_args(args, "train", 1),
        ]
    else:
        name = "train" if phase == "train1" else phase
        command = [sys.executable, *child_args(args, name, args.threads)]
        if phase == "er100k" and args.reference_path:
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (args.reference_path, env.get("PYTHONPATH")) if p
            )
    env["MMGRAPH_SCALE_RESULT"] = str(results / f"{phase}-{{rank}}.json")
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True)
    wall = time.perf_counter() - start
    out = [json.loads(p.read_text()) for p in sorted(results.glob(f"{phase}-*.json"))]
    for result in out:
        result["wall_s"] = wall
    return out


def fmt_rate(value: float) -> str:
    return f"{value / 1e6:.2f} M" if value >= 1e5 else f"{value:,.0f}"


def gib(result: dict[str, Any]) -> str:
    return f"{result['peak_rss_gib']:.2f} | {result['peak_anon_gib']:.2f}"


def report(args: argparse.Namespace, res: dict[str, list[dict[str, Any]]], loads: list[float]):
    """The Markdown report of the phases that ran."""
    command = "python benchmarks/scale.py " + " ".join(shlex.quote(a) for a in (args.argv or []))
    lines = [
        "# Scale benchmark (issue 7)",
        "",
        f"Command: `{command.strip()}`",
        "",
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, {args.threads} threads per process "
        f"(1 per process under torchrun), "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(default)')}; 1-minute load "
        f"average {loads[0]:.2f} at the start and {loads[-1]:.2f} at the end "
        f"(max between phases {max(loads):.2f}).",
        "",
    ]
    prep = res.get("prepare", [{}])[0]
    if prep:
        lines += [
            f"Graph: Erdős–Rényi G(n, m), {prep['nodes']:,} nodes, "
            f"{prep['directed_edges']:,} directed edges (generated in {prep['graph_s']:.1f} s); "
            f"{NUM_NUMERIC} numeric attributes, {args.text_dim}-dim hashed text of 90% of the "
            f"nodes through the feature store, {NUM_CLASSES} classes. Fan-outs "
            f"{args.fanouts}, batch {args.batch_size}.",
            "",
        ]
    lines += [
        "| phase | measure | value | peak RSS (GiB) | peak anonymous RSS (GiB) |",
        "|---|---|---|---|---|",
    ]

    def row(phase: str, measure: str, value: str, result: dict[str, Any]) -> None:
        lines.append(f"| {phase} | {measure} | {value} | {gib(result)} |")

    if prep:
        row(
            "prepare",
            "generate and save graph, attributes, texts",
            f"{prep['seconds']:.1f} s",
            prep,
        )
    if "encode" in res:
        r = res["encode"][0]
        row(
            "encode",
            f"hashing encoder into the store ({r['chunks']} chunks, {r['store_gib']:.2f} GiB)",
            f"{r['seconds']:.1f} s ({fmt_rate(r['nodes_per_s'])} nodes/s)",
            r,
        )
    if "sample" in res:
        r = res["sample"][0]
        for what, key in (
            ("bare sampler", "sampler"),
            ("loader, features from the store", "loader"),
        ):
            s, nodes = r[f"{key}_s"], r[f"{key}_nodes"]
            row(
                "sample",
                f"{what}: epoch of {r['batches']} batches",
                f"{s:.1f} s, {r['batches'] / s:.1f} batches/s, {fmt_rate(nodes / s)} nodes/s",
                r,
            )
    if "walk" in res:
        r = res["walk"][0]
        for name in ("uniform", "biased"):
            pq = "p = q = 1" if name == "uniform" else "p = 0.5, q = 2"
            s = r[f"{name}_s"]
            row(
                "walk",
                f"{name} ({pq}), length {args.walk_length}, one walk per node",
                f"{s:.1f} s, {fmt_rate(r['steps'] / s)} steps/s",
                r,
            )
    for phase, label in (("train1", "1 process x 2 threads"), ("train2", "2 processes x 1 thread")):
        if phase not in res:
            continue
        ranks = res[phase]
        r0 = min(ranks, key=lambda r: r["rank"])
        worst = {
            "peak_rss_gib": max(r["peak_rss_gib"] for r in ranks),
            "peak_anon_gib": max(r["peak_anon_gib"] for r in ranks),
        }
        anon = sum(r["peak_anon_gib"] for r in ranks)
        note = (
            f" (per process; {anon:.2f} GiB anonymous together, the store's pages are shared)"
            if len(ranks) > 1
            else ""
        )
        row(
            "train",
            f"one epoch, all {r0['seeds']:,} nodes as seeds, {label}{note}",
            f"{r0['epoch_s']:.1f} s (loss {r0['train_loss']:.3f}; {r0['wall_s']:.0f} s with "
            f"start-up; CPU time of the fit {sum(r['fit_cpu_s'] for r in ranks):.0f} s, all "
            "processes and threads)",
            worst,
        )
    if "infer" in res:
        r = res["infer"][0]
        row(
            "infer",
            "layer-wise logits of every node",
            f"{r['seconds']:.1f} s (training accuracy {r['train_accuracy']:.3f})",
            r,
        )
    if "er100k" in res:
        r = res["er100k"][0]
        lines += [
            "",
            "## ER-100k against the compiled sampler",
            "",
            f"ER-100k (100,000 nodes, 999,932 directed edges), fan-outs [15, 10], batch 1024, all "
            f"nodes as seeds, 128-dim features; best of {args.repeats} epochs (median in "
            "brackets). Anchor: PyG's NeighborLoader via torch-sparse, "
            f"{ANCHOR_EPOCH_S} s per epoch, {fmt_rate(ANCHOR_NODES_PER_S)} sampled nodes/s "
            "(../shared/perf/ANCHORS.md).",
            "",
            "| sampler | epoch (s) | sampled nodes/s | vs anchor |",
            "|---|---|---|---|",
        ]
        entries = [
            ("mmgraph NeighborSampler (bare)", "sampler"),
            ("mmgraph NeighborLoader", "loader"),
        ]
        if "ref_s" in r:
            entries.append(("PyG NeighborLoader (torch-sparse), same run", "ref"))
        for what, key in entries:
            secs = sorted(r[f"{key}_s"])
            nodes = r[f"{key}_nodes"]
            best, median = secs[0], secs[len(secs) // 2]
            lines.append(
                f"| {what} | {best:.2f} ({median:.2f}) | {fmt_rate(nodes / best)} "
                f"({fmt_rate(nodes / median)}) | {nodes / best / ANCHOR_NODES_PER_S:.2f}x |"
            )
        if "ref_s" in r:
            ratios = [b / a for a, b in zip(r["loader_s"], r["ref_s"])]
            lines += [
                "",
                f"Median per-round speed ratio mmgraph loader / PyG loader: "
                f"{sorted(ratios)[len(ratios) // 2]:.2f}x (higher is faster).",
            ]
    lines += ["", "## Targets", ""]
    for phase in ("train1", "train2"):
        if phase in res:
            r0 = min(res[phase], key=lambda r: r["rank"])
            peak = max(r["peak_rss_gib"] for r in res[phase])
            lines.append(
                f"- {phase}: epoch {r0['epoch_s']:.0f} s (target < {TARGET_EPOCH_S:.0f} s: "
                f"{'met' if r0['epoch_s'] < TARGET_EPOCH_S else 'missed'}), peak RSS "
                f"{peak:.2f} GiB per process (target < {TARGET_PEAK_GIB:.0f} GiB: "
                f"{'met' if peak < TARGET_PEAK_GIB else 'missed'})."
            )
    if "er100k" in res:
        r = res["er100k"][0]
        rate = r["loader_nodes"] / min(r["loader_s"])
        lines.append(
            f"- ER-100k: {fmt_rate(rate)} sampled nodes/s with the loader (target >= "
            f"{fmt_rate(ANCHOR_NODES_PER_S)}: {'met' if rate >= ANCHOR_NODES_PER_S else 'missed'})."
        )
    return "\n".join(lines) + "\n"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phases", nargs="+", default=list(PHASES), choices=PHASES)
    parser.add_argument("--phase", choices=sorted(PHASE_FUNCTIONS), help=argparse.SUPPRESS)
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=5_000_000, help="undirected edges")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--text-dim", type=int, default=256, help="hashed text size")
    parser.add_argument("--chunk-size", type=int, default=65536, help="store chunk (nodes)")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--fanouts", type=int, nargs="+", default=[15, 10])
    parser.add_argument("--aggregator", default="mean", help="mean (GraphSAGE), gcn or ggnn")
    parser.add_argument("--walk-length", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="ER-100k epochs")
    parser.add_argument("--infer-batch-size", type=int, default=65536)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", default="/tmp/mmgraph-scale")
    parser.add_argument("--reference-path", default=None, help="folder holding torch-sparse")
    parser.add_argument("--save-model", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


def main(argv: Sequence[str] | None = None) -> str:
    args = parse(argv)
    if args.phase is not None:
        result = run_phase(args)
        rank = os.environ.get("RANK", "0")
        target = os.environ.get("MMGRAPH_SCALE_RESULT", "")
        if target:
            Path(target.format(rank=rank)).write_text(json.dumps(result))
        print(json.dumps(result), flush=True)
        return ""
    if "infer" in args.phases and "train1" not in args.phases:
        if not (Path(args.workdir) / "model.safetensors").is_file():
            raise SystemExit("The 'infer' phase reads the model of 'train1': run it too")
    res: dict[str, list[dict[str, Any]]] = {}
    loads = [os.getloadavg()[0]]
    for phase in PHASES:
        if phase not in args.phases:
            continue
        print(f"== {phase} (load {loads[-1]:.2f})", flush=True)
        res[phase] = spawn(args, phase)
        loads.append(os.getloadavg()[0])
    text = report(args, res, loads)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return text


if __name__ == "__main__":
    main()
