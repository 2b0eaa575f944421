"""How much gradient reaches the input features as stacks get deeper: GCN vs mean vs GGNN.

For each aggregator and depth K in (2, 4, 8, 16, 32): a freshly initialised
``GNNStack(aggregator, F, hidden, K)`` (GCN and mean: K layers with ReLU between them; GGNN:
one GGNN with K propagation steps, weights tied) followed by a linear classifier, on Cora
(or a random graph of Cora's size when the shared data is missing), in eval mode. The loss is
the cross-entropy on the 140 training nodes; the table reports ``||dL/dX||`` (Frobenius norm
of the gradient with respect to the input features), the geometric mean over seeds.

Run: ``.venv/bin/python benchmarks/depth_gradients.py [--hidden 64] [--seeds 3]``; prints a
table and writes ``benchmarks/results/depth_gradients.md``.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch_geometric.data import Data

from mmgraph.nn import GNNStack

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aggregator_speed import load_cora  # noqa: E402  (Cora, or a random graph of its size)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DEPTHS = (2, 4, 8, 16, 32)
AGGREGATORS = ("gcn", "mean", "ggnn")


def input_gradient_norm(data: Data, aggregator: str, depth: int, hidden: int, seed: int) -> float:
    """``||dL/dX||`` for one freshly initialised stack + linear head (seeded)."""
    torch.manual_seed(seed)
    stack = GNNStack(aggregator, data.num_features, hidden, num_layers=depth).eval()
    head = torch.nn.Linear(hidden, int(data.y.max()) + 1)
    x = data.x.clone().requires_grad_()
    out = head(stack(x, data.edge_index))
    loss = F.cross_entropy(out[data.train_mask], data.y[data.train_mask])
    (grad,) = torch.autograd.grad(loss, x)
    return float(grad.norm())


def gradient_table(
    data: Data,
    depths: Sequence[int] = DEPTHS,
    aggregators: Sequence[str] = AGGREGATORS,
    hidden: int = 64,
    seeds: Sequence[int] = (0, 1, 2),
) -> dict[str, dict[int, float]]:
    """``{aggregator: {depth: geometric mean over seeds of ||dL/dX||}}``."""
    table: dict[str, dict[int, float]] = {}
    for aggregator in aggregators:
        table[aggregator] = {}
        for depth in depths:
            norms = [input_gradient_norm(data, aggregator, depth, hidden, s) for s in seeds]
            logs = [math.log(max(n, 1e-300)) for n in norms]
            table[aggregator][depth] = math.exp(sum(logs) / len(logs))
    return table


def format_table(table: dict[str, dict[int, float]]) -> str:
    aggregators = list(table)
    depths = list(next(iter(table.values())))
    lines = [
        "| depth | " + " | ".join(aggregators) + " |",
        "|---:|" + "---:|" * len(aggregators),
    ]
    for depth in depths:
        cells = [f"{table[a][depth]:.3e}" for a in aggregators]
        lines.append(f"| {depth} | " + " | ".join(cells) + " |")
    ratio = [
        f"{table[a][depths[-1]] / table[a][depths[0]]:.1e}" if table[a][depths[0]] else "n/a"
        for a in aggregators
    ]
    lines.append(f"| ratio {depths[-1]} / {depths[0]} | " + " | ".join(ratio) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "depth_gradients.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data, source = load_cora()
    start = time.perf_counter()
    table = gradient_table(data, hidden=args.hidden, seeds=range(args.seeds))
    header = (
        f"Gradient norm reaching the input features, ||dL/dX|| (Frobenius), of a freshly "
        f"initialised stack + linear head on {source} ({data.num_nodes} nodes, {data.num_features} "
        f"features), cross-entropy on the {int(data.train_mask.sum())} training nodes, hidden "
        f"{args.hidden}, eval mode, geometric mean over {args.seeds} seeds "
        f"({time.perf_counter() - start:.0f} s). GCN and mean: K layers with ReLU; GGNN: "
        f"K propagation steps of one GGNN (tied weights)."
    )
    text = format_table(table)
    print(header)
    print()
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = f"python benchmarks/depth_gradients.py {shlex.join(sys.argv[1:])}".strip()
    args.out.write_text(f"# Gradients versus depth\n\nCommand: `{command}`\n\n{header}\n\n{text}\n")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
