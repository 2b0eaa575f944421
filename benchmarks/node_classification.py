"""Node classification: our aggregators inside ``MultimodalGNN`` against PyG's GCN and GraphSAGE.

Data sets (``--datasets``):

* ``synthetic``: the built-in bot-detection graph (``make_social_graph``, 2,000 accounts, its
  own 60/20/20 split), all modalities: MiniLM text, 16 px avatars through the small CNN,
  numeric counts (``log1p``) and categorical flags, two relations (following, follower);
* ``cora``, ``citeseer``: the public Planetoid split (20 labels per class, 500 validation,
  1,000 test nodes); the bag of words is the ``numeric`` modality, row-normalised as in
  Kipf & Welling;
* ``cornell``, ``texas``: WebKB pages with all-MiniLM-L6-v2 text features; no standard split,
  so each seed draws its own stratified 60/20/20 split. Besides the text-plus-graph rows,
  "text only" (the same model with ``num_layers=0``, an MLP that ignores the edges) and
  "graph only" (the GNN over one-hot node ids, the featureless-GCN setting: no text at all)
  show what each source gives alone.

Rows: ``ours: mean|gcn|ggnn`` are :class:`~mmgraph.models.MultimodalGNN` with that aggregator;
``PyG GCNConv`` and ``PyG SAGEConv`` are plain 2-layer PyG models,
``conv2(drop(relu(conv1(drop(x)))))``, on the same features (text, image and attribute
features concatenated where there are several; see :func:`reference_features`) and split.
Every row trains with the same :class:`~mmgraph.train.Trainer` (Adam with L2 weight decay
5e-4, lr 0.01, the best validation epoch kept) over 5 seeds; the table shows the test
accuracy, mean and standard deviation.

On Cora and CiteSeer our rows follow the standard GCN recipe through :data:`GCN_RECIPE`,
options of :class:`~mmgraph.models.ModelConfig`: raw numeric attributes
(``numeric_scaling="none"``, ``missing_indicator=False``), no projection of the single
modality (``modality_dim=None``: the first layer reads the bag of words), and a
graph-convolution head (``head="conv"``: one more aggregator layer maps to the classes, as in
the GCN paper, instead of a linear layer after the last one) after ``num_layers=1``, so
``ours: gcn`` is Kipf & Welling's two-layer GCN. A GGNN step cannot map to the classes, so
``ours: ggnn`` keeps the linear head with two steps. ``--variants`` also runs
``ours: gcn (defaults)``, the model with its default options, to show the gap.

Timing: one full-batch training epoch (forward, the trainer's loss, backward, Adam step) of
each of our models and of the matching PyG model (mean: ``SAGEConv``; gcn: ``GCNConv``;
ggnn: a linear input map, ``GatedGraphConv`` and a linear head), alternated (the order flips
every repeat) in one process; medians of wall and process CPU time, and the ratio ours / PyG
(target: at most 1.2). Models compared are whole models on the same features, so the ratio
includes what ours does around the aggregators (encoders, fusion, head).

Run::

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/node_classification.py \
        [--seeds 5] [--datasets synthetic cora citeseer cornell texas] [--repeats 30]

It prints each table and writes them, with the command, to
``benchmarks/results/node_classification.md``.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import logging
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.nn import GatedGraphConv, SAGEConv
from torch_geometric.nn import GCNConv as PyGGCNConv

from mmgraph.data import MultimodalGraph, load_dataset
from mmgraph.data.synthetic import make_social_graph
from mmgraph.encoders.attributes import NumericStandardizer
from mmgraph.models import FeatureConfig, MultimodalGNN, featurize
from mmgraph.objectives import SupervisedObjective
from mmgraph.seed import seed_everything
from mmgraph.tasks.report import format_markdown
from mmgraph.train import TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MMGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results"
DATASETS = ("synthetic", "cora", "citeseer", "cornell", "texas")
AGGREGATORS = ("mean", "gcn", "ggnn")
REFERENCES = {"mean": "SAGEConv", "gcn": "GCNConv", "ggnn": "GatedGraphConv"}
TEXT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
GCN_RECIPE: dict[str, Any] = {
    "numeric_scaling": "none",
    "missing_indicator": False,
    "modality_dim": None,
    "head": "conv",
    "num_layers": 1,
}
"""``ModelConfig`` options of Kipf & Welling's GCN recipe (with ``aggregator="gcn"``): the raw
features into one hidden aggregator layer, then an aggregator layer to the classes."""

log = logging.getLogger("node_classification")


# --------------------------------------------------------------------------- data sets
@dataclasses.dataclass
class Bench:
    """A prepared data set: the featurized graph and how to train on it.

    Args:
        name (str): Display name.
        graph (MultimodalGraph): The graph with model-ready features.
        resplit (bool): Draw a new stratified 60/20/20 split for each seed.
        train (dict): :class:`TrainConfig` settings.
        model (dict): :class:`~mmgraph.models.ModelConfig` settings of our rows.
        recipe (bool): Our rows follow :data:`GCN_RECIPE` (``--variants`` then adds the
            defaults row).
        ablations (bool): Also run the text-only and graph-only rows.
        scale_reference (bool): Standardise the numeric columns of the PyG models' features.
    """

    name: str
    graph: MultimodalGraph
    resplit: bool = False
    train: dict[str, Any] = dataclasses.field(default_factory=dict)
    model: dict[str, Any] = dataclasses.field(default_factory=dict)
    recipe: bool = False
    ablations: bool = False
    scale_reference: bool = True

    def graph_for(self, seed: int) -> MultimodalGraph:
        """The graph with the split of ``seed`` (a shallow copy when it is redrawn)."""
        if not self.resplit:
            return self.graph
        graph = copy.copy(self.graph)
        return graph.set_split(0.6, 0.2, 0.2, seed=seed, replace=True)


def _load(name: str, root: Path) -> MultimodalGraph:
    graph = load_dataset(name, root=root)
    if not isinstance(graph, MultimodalGraph):
        raise TypeError(f"Expected {name!r} to be a node-level graph (got {type(graph).__name__})")
    return graph


def row_normalize(numeric: Tensor) -> Tensor:
    """Divide each row by its sum (rows summing to 0 stay 0; NaN rows stay NaN)."""
    total = torch.nan_to_num(numeric, nan=0.0).sum(dim=1, keepdim=True)
    return numeric / torch.where(total > 0, total, torch.ones_like(total))


def prepare(name: str, root: Path = SHARED_DATA, progress: bool = False) -> Bench:
    """Load and featurize one data set of :data:`DATASETS`."""
    common = {"lr": 0.01, "weight_decay": 5e-4, "optimizer": "adam", "progress": False}
    if name == "synthetic":
        graph = make_social_graph(2000, seed=0)
        features = FeatureConfig(text_encoder=TEXT_ENCODER, image_encoder="cnn", image_size=16)
        return Bench(
            "synthetic bots",
            featurize(graph, features, progress=progress),
            train={**common, "epochs": 150, "patience": 30, "monitor": "macro_f1"},
            model={"log1p": True},
        )
    if name in ("cora", "citeseer"):
        graph = _load(name, root)
        graph.numeric = row_normalize(graph.numeric)
        return Bench(
            graph.name,
            graph,
            train={**common, "epochs": 200, "patience": None, "monitor": "accuracy"},
            recipe=True,
            scale_reference=False,
        )
    if name in ("cornell", "texas"):
        graph = _load(name, root)
        features = FeatureConfig(text_encoder=TEXT_ENCODER)
        return Bench(
            graph.name,
            featurize(graph, features, progress=progress),
            resplit=True,
            train={**common, "epochs": 200, "patience": 50, "monitor": "accuracy"},
            model={"num_layers": 1},
            ablations=True,
        )
    raise ValueError(f"Unknown data set {name!r}; expected one of {list(DATASETS)}")


def structure_only(graph: MultimodalGraph) -> MultimodalGraph:
    """A copy whose only features are one-hot node ids (numeric), for the graph-only rows."""
    out = copy.copy(graph)
    for key in ("text", "text_present", "x_text", "image", "image_present", "x_image"):
        if getattr(out, key, None) is not None:
            delattr(out, key)
    for key in ("categorical", "categorical_present"):
        if getattr(out, key, None) is not None:
            delattr(out, key)
    out.numeric = torch.eye(graph.num_nodes)
    out.numeric_present = torch.ones(graph.num_nodes, dtype=torch.bool)
    out.numeric_names = [f"node_{i}" for i in range(graph.num_nodes)]
    return out


def reference_features(graph: MultimodalGraph, scale_numeric: bool = True) -> Tensor:
    """One feature matrix for the plain PyG models, from the modalities the graph has.

    Concatenates ``x_text`` (zeros where absent), ``x_image`` or the avatar pixels averaged
    to 4 x 4, the numeric columns (signed ``log1p`` and standardised on the training nodes
    when ``scale_numeric``; missing values 0, plus missing flags when any are missing) and a
    one-hot of each categorical column (code 0, missing, included).
    """
    parts: list[Tensor] = []
    if getattr(graph, "x_text", None) is not None:
        parts.append(graph.x_text.float())
    if getattr(graph, "x_image", None) is not None:
        parts.append(graph.x_image.float())
    elif isinstance(getattr(graph, "image", None), Tensor):
        pixels = F.adaptive_avg_pool2d(graph.image.float(), 4).flatten(1)
        parts.append(pixels * graph.presence_mask("image").unsqueeze(1))
    numeric = getattr(graph, "numeric", None)
    if numeric is not None:
        missing = torch.isnan(numeric)
        if scale_numeric:
            scaler = NumericStandardizer(numeric.size(1), log1p=True, missing_indicator=False)
            values = scaler.fit(numeric, getattr(graph, "train_mask", None))(numeric)
        else:
            values = torch.nan_to_num(numeric, nan=0.0)
        parts.append(values)
        if bool(missing.any()):
            parts.append(missing.float())
    categorical = getattr(graph, "categorical", None)
    if categorical is not None:
        for c in range(categorical.size(1)):
            parts.append(F.one_hot(categorical[:, c].long()).float())
    return torch.cat(parts, dim=1)


# --------------------------------------------------------------------------- models
class PyGReference(nn.Module):
    """A plain 2-layer PyG model reading ``batch.x``: ``conv2(drop(relu(conv1(drop(x)))))``.

    ``"GatedGraphConv"`` (timing only) is ``lin2(drop(relu(GGNN(lin1(drop(x))))))`` with
    ``num_layers`` propagation steps, the shape of our GGNN model.
    """

    def __init__(
        self, conv: str, in_channels: int, hidden: int, num_classes: int, dropout: float = 0.5
    ) -> None:
        super().__init__()
        self.conv = conv
        self.dropout = dropout
        self.layers = nn.ModuleList()
        if conv == "GCNConv":
            self.layers.extend([PyGGCNConv(in_channels, hidden), PyGGCNConv(hidden, num_classes)])
        elif conv == "SAGEConv":
            self.layers.extend([SAGEConv(in_channels, hidden), SAGEConv(hidden, num_classes)])
        elif conv == "GatedGraphConv":
            self.layers.extend(
                [
                    nn.Linear(in_channels, hidden),
                    GatedGraphConv(hidden, num_layers=2),
                    nn.Linear(hidden, num_classes),
                ]
            )
        else:
            raise ValueError(
                f"Unknown PyG layer {conv!r}; expected one of {list(REFERENCES.values())}"
            )

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        for layer in self.layers:
            layer.reset_parameters()  # type: ignore[operator]

    def forward(self, batch: Data) -> Tensor:
        """Logits ``[N, num_classes]``."""
        x = F.dropout(batch.x, p=self.dropout, training=self.training)
        if self.conv == "GatedGraphConv":
            lin1, ggnn, lin2 = self.layers
            h = ggnn(lin1(x), batch.edge_index)
            return lin2(F.dropout(F.relu(h), p=self.dropout, training=self.training))
        conv1, conv2 = self.layers
        h = F.dropout(F.relu(conv1(x, batch.edge_index)), p=self.dropout, training=self.training)
        return conv2(h, batch.edge_index)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.conv!r}, layers={len(self.layers)})"


# --------------------------------------------------------------------------- rows
@dataclasses.dataclass
class Row:
    """One row of the accuracy table: how to build its model and what it reads."""

    name: str
    build: Callable[[Any], nn.Module]
    view: Callable[[MultimodalGraph], Data] = lambda graph: graph


def our_rows(bench: Bench, variants: bool = False, hidden: int = 64) -> list[Row]:
    """``ours: <aggregator>`` rows (and the ablations, and the defaults variant)."""
    rows = []
    for aggregator in AGGREGATORS:
        options = {"aggregator": aggregator, "hidden": hidden, **bench.model}
        if bench.recipe:
            options.update(GCN_RECIPE)
            if aggregator == "ggnn":  # a GGNN step cannot map to the classes
                options.update(head="linear", num_layers=2)
        rows.append(Row(f"ours: {aggregator}", _builder(options)))
    if bench.ablations:
        mlp = {"hidden": hidden, **bench.model, "num_layers": 0}
        rows.append(Row("text only (MLP, no edges)", _builder(mlp)))
        for aggregator in AGGREGATORS:
            rows.append(
                Row(
                    f"graph only ({aggregator}, one-hot ids)",
                    _builder({"aggregator": aggregator, "hidden": hidden, **bench.model}),
                    structure_only,
                )
            )
    if variants and bench.recipe:
        rows.append(Row("ours: gcn (defaults)", _builder({"aggregator": "gcn", "hidden": hidden})))
    return rows


def _builder(options: dict[str, Any]) -> Callable[[MultimodalGraph], nn.Module]:
    def build(graph: MultimodalGraph) -> nn.Module:
        return MultimodalGNN.from_graph(graph, **options)

    return build


def reference_rows(bench: Bench, hidden: int = 64) -> list[Row]:
    """The PyG rows, reading :func:`reference_features` as ``x``."""
    cache: dict[int, Tensor] = {}

    def view(graph: MultimodalGraph) -> Data:
        key = id(graph.train_mask)
        if key not in cache:
            cache[key] = reference_features(graph, bench.scale_reference)
        out = copy.copy(graph)
        out.x = cache[key]
        return out

    return [Row(f"PyG {c}", _pyg_builder(c, hidden), view) for c in ("GCNConv", "SAGEConv")]


def _pyg_builder(conv: str, hidden: int) -> Callable[[Data], nn.Module]:
    def build(data: Data) -> nn.Module:
        return PyGReference(conv, int(data.x.size(1)), hidden, int(data.y.max()) + 1)

    return build


def run_row(
    row: Row, graph: MultimodalGraph, train: TrainConfig
) -> tuple[float, int, nn.Module, Data]:
    """Train one seed of one row; returns (test accuracy, epochs run, the model, its data)."""
    data = row.view(graph)
    seed_everything(train.seed)
    model = row.build(data)
    trainer = Trainer(model, train).fit(data)
    return trainer.evaluate(data, "test_mask")["accuracy"], len(trainer.history), model, data


# --------------------------------------------------------------------------- timing
def _epoch(model: nn.Module, data: Data, opt: torch.optim.Optimizer) -> tuple[float, float]:
    objective = SupervisedObjective()
    wall, cpu = time.perf_counter(), time.process_time()
    model.train()
    opt.zero_grad()
    loss = objective(model, data)
    loss.backward()
    opt.step()
    return time.perf_counter() - wall, time.process_time() - cpu


def time_pair(
    ours: tuple[nn.Module, Data],
    theirs: tuple[nn.Module, Data],
    repeats: int = 30,
    warmup: int = 3,
) -> dict[str, float]:
    """Median epoch times (ms) of two models, run alternately, and the ratios ours / theirs."""
    runs = []
    for model, data in (ours, theirs):
        opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
        runs.append((model, data, opt))
    walls: list[list[float]] = [[], []]
    cpus: list[list[float]] = [[], []]
    for i in range(warmup + repeats):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for k in order:
            wall, cpu = _epoch(*runs[k])
            if i >= warmup:
                walls[k].append(wall * 1e3)
                cpus[k].append(cpu * 1e3)
    w = [statistics.median(v) for v in walls]
    c = [statistics.median(v) for v in cpus]
    return {
        "ours_wall": w[0],
        "pyg_wall": w[1],
        "wall_ratio": w[0] / w[1],
        "ours_cpu": c[0],
        "pyg_cpu": c[1],
        "cpu_ratio": c[0] / c[1],
    }


# --------------------------------------------------------------------------- driver
def mean_std(values: Sequence[float]) -> str:
    """``mean ± std`` in percent (sample std; 0 for one value)."""
    mean = 100 * statistics.fmean(values)
    std = 100 * statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.1f} ± {std:.1f}"


def benchmark_dataset(
    bench: Bench,
    seeds: Sequence[int],
    repeats: int = 30,
    variants: bool = False,
    hidden: int = 64,
    echo: Callable[[str], None] = print,
) -> tuple[dict[str, list[float]], list[dict[str, Any]]]:
    """Accuracy of every row over ``seeds`` and the epoch-time pairs on one data set."""
    rows = our_rows(bench, variants, hidden) + reference_rows(bench, hidden)
    accuracy: dict[str, list[float]] = {row.name: [] for row in rows}
    last: dict[str, tuple[nn.Module, Data]] = {}
    for seed in seeds:
        graph = bench.graph_for(seed)
        train = TrainConfig(seed=seed, **bench.train)
        for row in rows:
            start = time.perf_counter()
            acc, epochs, model, data = run_row(row, graph, train)
            accuracy[row.name].append(acc)
            last[row.name] = (model, data)
            echo(
                f"  {bench.name:14s} seed {seed}  {row.name:32s} test acc {100 * acc:5.1f}  "
                f"({epochs} epochs, {time.perf_counter() - start:.0f} s)"
            )
    timing = time_dataset(bench, last, seeds[0], repeats, hidden, echo) if repeats > 0 else []
    return accuracy, timing


def time_dataset(
    bench: Bench,
    ours: dict[str, tuple[nn.Module, Data]] | None,
    seed: int,
    repeats: int = 30,
    hidden: int = 64,
    echo: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Epoch-time pairs of our rows against the matching PyG models on one data set.

    ``ours`` maps ``"ours: <aggregator>"`` to a (trained) model and its data; :obj:`None`
    builds fresh, untrained models (``--timing-only``: an epoch costs the same).
    """
    graph = bench.graph_for(seed)
    if ours is None:
        ours = {}
        for row in our_rows(bench, hidden=hidden):
            data = row.view(graph)
            seed_everything(seed)
            ours[row.name] = (row.build(data), data)
    timing = []
    for aggregator, conv in REFERENCES.items():
        ref_row = reference_rows(bench, hidden)[0]
        data = ref_row.view(graph)
        seed_everything(seed)
        theirs = PyGReference(conv, int(data.x.size(1)), hidden, graph.num_classes)
        result = time_pair(ours[f"ours: {aggregator}"], (theirs, data), repeats=repeats)
        timing.append(
            {"data set": bench.name, "pair": f"ours {aggregator} vs PyG {conv}", **result}
        )
        echo(
            f"  {bench.name:14s} epoch ours {aggregator} {result['ours_wall']:.1f} ms, PyG "
            f"{conv} {result['pyg_wall']:.1f} ms (wall ratio {result['wall_ratio']:.2f}, "
            f"CPU ratio {result['cpu_ratio']:.2f})"
        )
    return timing


def accuracy_table(results: dict[str, dict[str, list[float]]]) -> str:
    """Markdown: one row per model, one column per data set (test accuracy, mean ± std)."""
    names: list[str] = []
    for per_row in results.values():
        names += [n for n in per_row if n not in names]
    rows = []
    for name in names:
        row: dict[str, Any] = {"model": name}
        for dataset, per_row in results.items():
            row[dataset] = mean_std(per_row[name]) if name in per_row else ""
        rows.append(row)
    return format_markdown(rows, ["model", *results])


def timing_table(timing: list[dict[str, Any]]) -> str:
    """Markdown table of the epoch-time pairs."""
    columns = [
        "data set",
        "pair",
        "ours_wall",
        "pyg_wall",
        "wall_ratio",
        "ours_cpu",
        "pyg_cpu",
        "cpu_ratio",
    ]
    rows = [{k: (f"{v:.2f}" if isinstance(v, float) else v) for k, v in r.items()} for r in timing]
    return format_markdown(rows, columns)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write ``benchmarks/results/node_classification.md``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument(
        "--seeds", type=int, default=5, help="number of seeds, from --first-seed (default: 5)"
    )
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="start the seeds here, for splitting a run across processes (default: 0)",
    )
    parser.add_argument(
        "--repeats", type=int, default=30, help="timed epochs per model; 0 skips timing"
    )
    parser.add_argument(
        "--hidden", type=int, default=64, help="hidden size of every model (default: 64)"
    )
    parser.add_argument(
        "--variants", action="store_true", help="also run ours: gcn (defaults) on Planetoid"
    )
    parser.add_argument(
        "--timing-only",
        action="store_true",
        help="only time epochs of fresh models (no training, no accuracy); print the "
        "table and write it to results/node_classification_timing.md (--out unchanged)",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--root", type=Path, default=SHARED_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS / "node_classification.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    results: dict[str, dict[str, list[float]]] = {}
    timing: list[dict[str, Any]] = []
    start = time.perf_counter()
    if args.timing_only:
        for name in args.datasets:
            print(f"{name}: preparing", flush=True)
            bench = prepare(name, args.root)
            timing += time_dataset(bench, None, seeds[0], args.repeats, args.hidden)
        command = " ".join(
            ["python benchmarks/node_classification.py"]
            + [shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)]
        )
        text = "\n\n".join(
            [
                "# Node classification: epoch times only",
                f"Command: `{command}` (torch {torch.__version__}, {args.threads} threads, "
                f"load average {os.getloadavg()[0]:.1f}). Fresh, untrained models (an epoch "
                "costs the same); one full-batch training epoch (ms), medians of "
                "alternating repeats.",
                timing_table(timing),
            ]
        )
        path = RESULTS / "node_classification_timing.md"
        path.write_text(text + "\n")
        print(text)
        return 0
    for name in args.datasets:
        print(f"{name}: preparing", flush=True)
        bench = prepare(name, args.root)
        accuracy, pairs = benchmark_dataset(bench, seeds, args.repeats, args.variants, args.hidden)
        results[bench.name] = accuracy
        timing += pairs
        # Written after every data set, so that a long run leaves its finished tables.
        text = report(args, argv, seeds, results, timing, time.perf_counter() - start)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    print(accuracy_table(results))
    print(timing_table(timing))
    return 0


def report(
    args: argparse.Namespace,
    argv: Sequence[str] | None,
    seeds: Sequence[int],
    results: dict[str, dict[str, list[float]]],
    timing: list[dict[str, Any]],
    seconds: float,
) -> str:
    """The Markdown report: the command, the accuracy table and the epoch times."""
    acc_md, time_md = accuracy_table(results), timing_table(timing)
    command = " ".join(
        [
            "OMP_WAIT_POLICY=" + os.environ.get("OMP_WAIT_POLICY", "(unset)"),
            ".venv/bin/python",
            "benchmarks/node_classification.py",
        ]
        + [shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)]
    )
    return "\n".join(
        [
            "# Node classification",
            "",
            f"Command: `{command}` ({seconds:.0f} s; torch "
            f"{torch.__version__}, {args.threads} threads, load average "
            f"{os.getloadavg()[0]:.1f}).",
            "",
            "Test accuracy (%), mean ± std over seeds " + ", ".join(map(str, seeds)) + ".",
            "",
            acc_md,
            "",
            "One full-batch training epoch (ms), medians of alternating repeats.",
            "",
            time_md,
            "",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
