"""Time one full-batch training epoch of 2-layer models: our aggregators against PyG's.

Pairs (same sizes, same graph): our ``MeanConv`` vs PyG ``SAGEConv`` (mean), our ``GCNConv``
vs PyG ``GCNConv``, and our relational ``MeanConv`` (2 relations) vs PyG ``RGCNConv`` (mean).
An epoch is forward + cross-entropy on the training nodes + backward + Adam step. The two
models of a pair run alternately (their order flips every repeat) in one process; the table
reports medians of wall time and of process CPU time, and the ratios ours / PyG (target: at
most 1.2). Other processes sharing the CPU make wall times noisy; CPU time is steadier.

Run: ``.venv/bin/python benchmarks/aggregator_speed.py [--repeats 50] [--hidden 16]``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv as PyGGCNConv
from torch_geometric.nn import RGCNConv, SAGEConv

from mmgraph.nn import GCNConv, MeanConv

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MMGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results"


def load_cora(shared_data: Path = SHARED_DATA, seed: int = 0) -> tuple[Data, str]:
    """Cora from the shared Planetoid files, or a random graph of the same size without them."""
    raw = shared_data / "planetoid" / "Cora" / "raw"
    if raw.is_dir():  # our reader: PyG's unpickles the files, which can run code
        from mmgraph.data.loaders.planetoid import load_planetoid

        graph = load_planetoid(shared_data / "planetoid", "cora")
        masks = {k: getattr(graph, k) for k in ("train_mask", "val_mask", "test_mask")}
        x = torch.nan_to_num(graph.numeric)
        return Data(x=x, edge_index=graph.edge_index, y=graph.y, **masks), "Cora"
    gen = torch.Generator().manual_seed(seed)
    num_nodes, num_features, num_edges = 2708, 1433, 5278
    x = (torch.rand(num_nodes, num_features, generator=gen) < 0.0127).float()
    edge_index = torch.randint(num_nodes, (2, num_edges), generator=gen)
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    y = torch.randint(7, (num_nodes,), generator=gen)
    train_mask = torch.zeros(num_nodes, dtype=torch.bool)
    train_mask[:140] = True
    return Data(x=x, edge_index=edge_index, y=y, train_mask=train_mask), "random Cora-sized graph"


class TwoLayer(torch.nn.Module):
    """``conv2(dropout(relu(conv1(x))))`` for any pair of layers."""

    def __init__(self, conv1: torch.nn.Module, conv2: torch.nn.Module) -> None:
        super().__init__()
        self.conv1, self.conv2 = conv1, conv2

    def forward(self, x: Tensor, edge_args: tuple[Tensor, ...]) -> Tensor:
        h = F.dropout(F.relu(self.conv1(x, *edge_args)), p=0.5, training=self.training)
        return self.conv2(h, *edge_args)


def _pairs(
    in_channels: int, hidden: int, classes: int
) -> dict[str, tuple[Callable[[], TwoLayer], Callable[[], TwoLayer], bool]]:
    """name -> (make ours, make PyG's, uses edge types)."""
    return {
        "mean vs SAGEConv": (
            lambda: TwoLayer(MeanConv(in_channels, hidden), MeanConv(hidden, classes)),
            lambda: TwoLayer(SAGEConv(in_channels, hidden), SAGEConv(hidden, classes)),
            False,
        ),
        "gcn vs GCNConv": (
            lambda: TwoLayer(GCNConv(in_channels, hidden), GCNConv(hidden, classes)),
            lambda: TwoLayer(PyGGCNConv(in_channels, hidden), PyGGCNConv(hidden, classes)),
            False,
        ),
        "mean R=2 vs RGCNConv(mean)": (
            lambda: TwoLayer(
                MeanConv(in_channels, hidden, num_relations=2),
                MeanConv(hidden, classes, num_relations=2),
            ),
            lambda: TwoLayer(
                RGCNConv(in_channels, hidden, 2, aggr="mean"),
                RGCNConv(hidden, classes, 2, aggr="mean"),
            ),
            True,
        ),
    }


def _epoch(
    model: TwoLayer, opt: torch.optim.Optimizer, data: Data, edge_args: tuple
) -> tuple[float, float]:
    """One training epoch; returns (wall seconds, process CPU seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    opt.zero_grad()
    out = model(data.x, edge_args)
    loss = F.cross_entropy(out[data.train_mask], data.y[data.train_mask])
    loss.backward()
    opt.step()
    return time.perf_counter() - wall, time.process_time() - cpu


def benchmark(
    data: Data, hidden: int = 16, repeats: int = 50, warmup: int = 5, seed: int = 0
) -> list[dict[str, float | str]]:
    """Median epoch time (ms) of each pair, measured alternately; returns one row per pair.

    Each row has the median wall time and the median process CPU time (all threads) of an
    epoch, ours and PyG's, and their ratios. On a shared machine the CPU-time ratio is the
    steadier estimate of the relative cost: time spent waiting for a core does not count.
    """
    gen = torch.Generator().manual_seed(seed)
    edge_type = torch.randint(2, (data.edge_index.size(1),), generator=gen)
    classes = int(data.y.max()) + 1
    rows: list[dict[str, float | str]] = []
    for name, (make_ours, make_pyg, typed) in _pairs(data.num_features, hidden, classes).items():
        edge_args = (data.edge_index, edge_type) if typed else (data.edge_index,)
        torch.manual_seed(seed)
        models = {"ours": make_ours().train(), "pyg": make_pyg().train()}
        opts = {k: torch.optim.Adam(m.parameters(), lr=0.01) for k, m in models.items()}
        walls: dict[str, list[float]] = {"ours": [], "pyg": []}
        cpus: dict[str, list[float]] = {"ours": [], "pyg": []}
        for r in range(warmup + repeats):
            order = ("ours", "pyg") if r % 2 == 0 else ("pyg", "ours")
            for key in order:
                wall, cpu = _epoch(models[key], opts[key], data, edge_args)
                if r >= warmup:
                    walls[key].append(wall)
                    cpus[key].append(cpu)
        wall_ours, wall_pyg = statistics.median(walls["ours"]), statistics.median(walls["pyg"])
        cpu_ours, cpu_pyg = statistics.median(cpus["ours"]), statistics.median(cpus["pyg"])
        rows.append(
            {
                "pair": name,
                "ours_ms": 1e3 * wall_ours,
                "pyg_ms": 1e3 * wall_pyg,
                "ratio": wall_ours / wall_pyg,
                "ours_cpu_ms": 1e3 * cpu_ours,
                "pyg_cpu_ms": 1e3 * cpu_pyg,
                "cpu_ratio": cpu_ours / cpu_pyg,
            }
        )
    return rows


def format_table(rows: list[dict[str, float | str]]) -> str:
    lines = [
        "| pair | ours wall (ms) | PyG wall (ms) | wall ratio | ours CPU (ms) | PyG CPU (ms) "
        "| CPU ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['pair']} | {row['ours_ms']:.2f} | {row['pyg_ms']:.2f} | {row['ratio']:.2f} "
            f"| {row['ours_cpu_ms']:.2f} | {row['pyg_cpu_ms']:.2f} | {row['cpu_ratio']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "aggregator_speed.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data, source = load_cora(seed=args.seed)
    rows = benchmark(data, args.hidden, args.repeats, args.warmup, args.seed)
    header = (
        f"One training epoch (forward + backward + Adam step) of a 2-layer model on {source} "
        f"({data.num_nodes} nodes, {data.edge_index.size(1)} directed edges, "
        f"{data.num_features} features), hidden {args.hidden}, {args.threads} threads; "
        f"median of {args.repeats} alternating repeats after {args.warmup} warm-up epochs. "
        f"torch {torch.__version__}."
    )
    table = format_table(rows)
    print(header)
    print()
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = f"python benchmarks/aggregator_speed.py {shlex.join(sys.argv[1:])}".strip()
    args.out.write_text(f"# Aggregator speed\n\nCommand: `{command}`\n\n{header}\n\n{table}\n")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
