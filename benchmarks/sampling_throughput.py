"""Throughput of mmgraph's random walks and neighbour sampling (see ../shared/perf/ANCHORS.md).

Measures, on ER-10k, ER-100k and PL-100k built by ``mmgraph.data.generators``:

* random-walk steps per second (walk length 20, one walk per node, CSR prebuilt) for
  DeepWalk (p = q = 1) and node2vec (p = 0.5, q = 2);
* neighbour sampling (fan-outs [15, 10], batch 1024, all nodes as seeds): epoch time,
  subgraphs/s and sampled nodes/s, for the bare sampler and for the loader with 128-dim
  node features.

Machines here are shared and noisy, so every measurement is repeated and the best and the
median are reported. On a machine whose cores are busy with other work, OpenMP's default
spin-waiting makes every 2-thread torch op wait for a descheduled thread (milliseconds per
op, 100x slower): run with ``OMP_WAIT_POLICY=PASSIVE`` there (the policy is printed).

When the compiled PyG companions are importable (for example
``pip install --target /tmp/refpkgs --no-deps ../shared/perf/wheels/*.whl`` and
``PYTHONPATH=/tmp/refpkgs``), torch-cluster's walker and PyG's NeighborLoader run
alternately with mmgraph in the same process, and their ratio is reported too.

Usage::

    python benchmarks/sampling_throughput.py [--threads 2] [--repeats 5] [--graphs ER-100k]

The functions are reused by other benchmark scripts.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from mmgraph.data import MultimodalGraph
from mmgraph.data.generators import GeneratedGraph, chung_lu_power_law, erdos_renyi_gnm
from mmgraph.sampling import CSRGraph, NeighborLoader, NeighborSampler, random_walk

RESULTS = Path(__file__).resolve().parent / "results" / "sampling_throughput.md"

GRAPHS: dict[str, Callable[[int], GeneratedGraph]] = {
    # ER-10k: as PyG's erdos_renyi_graph(10_000, 0.001), about 100k directed edges.
    "ER-10k": lambda seed: erdos_renyi_gnm(10_000, 50_000, seed=seed),
    "ER-100k": lambda seed: erdos_renyi_gnm(100_000, 500_000, seed=seed),
    "PL-100k": lambda seed: chung_lu_power_law(100_000, gamma=2.5, avg_degree=10, seed=seed),
}


@dataclass
class Timing:
    """Wall-clock seconds of repeated runs of one measurement."""

    seconds: list[float]

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def build_graph(name: str, seed: int = 0) -> GeneratedGraph:
    """One of the named benchmark graphs (``ER-10k``, ``ER-100k``, ``PL-100k``)."""
    if name not in GRAPHS:
        raise KeyError(f"Unknown graph {name!r}; valid graphs: {sorted(GRAPHS)}")
    return GRAPHS[name](seed)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def alternate(fns: Sequence[Callable[[], object]], repeats: int) -> list[Timing]:
    """Run each function once as a warm-up, then ``repeats`` rounds of all, alternating."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            times[i].append(timed(fn))
    return [Timing(t) for t in times]


def reference_walker() -> Callable[..., torch.Tensor] | None:
    """torch-cluster's compiled walker, when installed."""
    try:
        import torch_cluster  # noqa: F401
    except ImportError:
        return None
    return torch.ops.torch_cluster.random_walk


def walk_timings(
    graph: GeneratedGraph, p: float, q: float, walk_length: int = 20, repeats: int = 5
) -> tuple[Timing, Timing | None]:
    """Seconds to walk once from every node: mmgraph's walker, and torch-cluster's if any."""
    csr = CSRGraph.from_edge_index(graph.edge_index, graph.num_nodes)
    start = torch.arange(graph.num_nodes)
    seeds = iter(range(10**6))
    fns: list[Callable[[], object]] = [
        lambda: random_walk(csr, start, walk_length, p=p, q=q, seed=next(seeds))
    ]
    ref = reference_walker()
    if ref is not None:
        rowptr, col = csr.rowptr, csr.col
        fns.append(lambda: ref(rowptr, col, start, walk_length, p, q))
    timings = alternate(fns, repeats)
    return timings[0], timings[1] if ref is not None else None


def first_walk_seconds(graph: GeneratedGraph, p: float, q: float, walk_length: int = 20) -> float:
    """Seconds of mmgraph's first walk on a fresh CSR: it builds the tables cached on the CSR
    (for node2vec, which entries have common neighbours), which the timings above exclude."""
    csr = CSRGraph.from_edge_index(graph.edge_index, graph.num_nodes)
    start = torch.arange(graph.num_nodes)
    return timed(lambda: random_walk(csr, start, walk_length, p=p, q=q, seed=0))


def sampler_timing(
    graph: GeneratedGraph,
    fanouts: Sequence[int] = (15, 10),
    batch_size: int = 1024,
    repeats: int = 3,
) -> tuple[Timing, int, int]:
    """Epoch seconds of the bare sampler over all nodes; (timing, batches, sampled nodes)."""
    csr = CSRGraph.from_edge_index(graph.edge_index, graph.num_nodes, by="target")
    sampler = NeighborSampler(csr, list(fanouts), seed=0)
    seeds = torch.arange(graph.num_nodes).split(batch_size)
    counts = []

    def epoch() -> None:
        counts.append(sum(sampler.sample(batch).n_id.numel() for batch in seeds))

    timing = alternate([epoch], repeats)[0]
    return timing, len(seeds), counts[-1]


def reference_loader(data: object, fanouts: Sequence[int], batch_size: int) -> object | None:
    """PyG's NeighborLoader over torch-sparse, when installed."""
    try:
        import torch_sparse  # noqa: F401
        from torch_geometric.loader import NeighborLoader as PyGNeighborLoader
    except ImportError:
        return None
    return PyGNeighborLoader(data, num_neighbors=list(fanouts), batch_size=batch_size)


def loader_timings(
    graph: GeneratedGraph,
    fanouts: Sequence[int] = (15, 10),
    batch_size: int = 1024,
    feature_dim: int = 128,
    repeats: int = 3,
) -> tuple[Timing, Timing | None, int, int, int]:
    """Epoch seconds of :class:`NeighborLoader` with ``feature_dim`` node features, and of
    PyG's NeighborLoader if installed; also the batches and both epochs' sampled nodes."""
    from torch_geometric.data import Data

    x = torch.randn(graph.num_nodes, feature_dim, generator=torch.Generator().manual_seed(0))
    mm = MultimodalGraph(graph.edge_index, numeric=x)
    loader = NeighborLoader(mm, list(fanouts), batch_size=batch_size, seed=0)
    counts, ref_counts = [0], [0]

    def epoch() -> None:
        counts.append(sum(batch.num_nodes for batch in loader))

    fns: list[Callable[[], object]] = [epoch]
    ref = reference_loader(Data(x=x, edge_index=graph.edge_index), fanouts, batch_size)
    if ref is not None:
        fns.append(lambda: ref_counts.append(sum(b.num_nodes for b in ref)))  # type: ignore[attr-defined]
    timings = alternate(fns, repeats)
    ref_timing = timings[1] if ref is not None else None
    return timings[0], ref_timing, len(loader), counts[-1], ref_counts[-1]


def rate(amount: float, seconds: float) -> str:
    value = amount / seconds
    return f"{value / 1e6:.2f} M" if value >= 1e5 else f"{value:.1f}"


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--graphs", nargs="+", default=list(GRAPHS), choices=list(GRAPHS))
    parser.add_argument("--walk-length", type=int, default=20)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--skip-loader", action="store_true", help="only walks and sampler")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    env = " ".join(
        f"{k}={os.environ[k]}" for k in ("PYTHONPATH", "OMP_WAIT_POLICY") if k in os.environ
    )
    given = sys.argv[1:] if argv is None else list(argv)
    command = f"{env} python benchmarks/sampling_throughput.py {shlex.join(given)}".strip()

    lines = [
        "# Sampling throughput",
        "",
        f"Command: `{command}`",
        "",
        f"torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(default)')}, load average at "
        f"start {os.getloadavg()[0]:.1f}; best / median of {args.repeats} runs. "
        "Ratios are mmgraph over the reference from runs alternated in one process.",
        "",
        "## Random walks (walk length 20, one walk per node, steps/s)",
        "",
        "Throughput excludes the tables mmgraph builds once per CSR and caches (warm-up "
        "call); the last column is the seconds of that first call, tables included.",
        "",
        "| graph | p, q | mmgraph best | mmgraph median | torch-cluster best | "
        "torch-cluster median | median ratio | mmgraph first call (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    graphs = {}
    for name in args.graphs:
        start = time.perf_counter()
        graphs[name] = build_graph(name)
        print(f"built {name} in {time.perf_counter() - start:.2f} s", flush=True)
    for name, graph in graphs.items():
        steps = graph.num_nodes * args.walk_length
        for p, q in ((1.0, 1.0), (0.5, 2.0)):
            first = first_walk_seconds(graph, p, q, args.walk_length)
            ours, ref = walk_timings(graph, p, q, args.walk_length, args.repeats)
            ref_cols = "| | | |"
            if ref is not None:
                ratios = [r / o for o, r in zip(ours.seconds, ref.seconds)]
                ref_cols = (
                    f"{rate(steps, ref.best)} | {rate(steps, ref.median)} | "
                    f"{statistics.median(ratios):.2f} |"
                )
            line = (
                f"| {name} | {p:g}, {q:g} | {rate(steps, ours.best)} | "
                f"{rate(steps, ours.median)} | {ref_cols} {first:.2f} |"
            )
            lines.append(line)
            print(line, flush=True)
    lines += [
        "",
        "## Neighbour sampling (fan-outs [15, 10], batch 1024, all nodes as seeds)",
        "",
        "| graph | what | epoch best (s) | epoch median (s) | subgraphs/s (best) | "
        "sampled nodes/s (best) | sampled nodes/s (median) |",
        "|---|---|---|---|---|---|---|",
    ]
    repeats = max(1, args.repeats // 2 + 1)
    for name, graph in graphs.items():
        timing, batches, nodes = sampler_timing(graph, repeats=repeats)
        rows = [("mmgraph sampler", timing, batches, nodes)]
        if not args.skip_loader:
            ours, ref, batches, nodes, ref_nodes = loader_timings(graph, repeats=repeats)
            rows.append(("mmgraph loader, 128-dim x", ours, batches, nodes))
            if ref is not None:
                rows.append(("PyG NeighborLoader, 128-dim x", ref, batches, ref_nodes))
        for what, t, b, n in rows:
            line = (
                f"| {name} | {what} | {t.best:.2f} | {t.median:.2f} | {b / t.best:.1f} | "
                f"{rate(n, t.best)} | {rate(n, t.median)} |"
            )
            lines.append(line)
            print(line, flush=True)
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return text


if __name__ == "__main__":
    main()
