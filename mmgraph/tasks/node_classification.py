"""Node classification runs: train, evaluate, predict and embed, each from a run folder."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from mmgraph.config import ConfigBase
from mmgraph.data.graph import UNLABELLED, MultimodalGraph
from mmgraph.data.registry import load_dataset
from mmgraph.data.schema import GraphSchema, conform
from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.distributed import init_distributed, is_main_process
from mmgraph.eval.metrics import to_jsonable
from mmgraph.models import FeatureConfig, ModelConfig, MultimodalGNN, featurize
from mmgraph.seed import seed_everything
from mmgraph.train import TrainConfig, Trainer
from mmgraph.train.checkpoint import WEIGHTS, load_weights

log = logging.getLogger(__name__)

DEFAULT_SPLIT = (0.6, 0.2, 0.2)
RUN_CONFIG = "config.yaml"
METRICS = "metrics.json"


@dataclasses.dataclass
class DataSpec(ConfigBase):
    """Where a run's graph comes from, so the run can be reloaded.

    Args:
        source (str): A dataset card (file or folder), a data folder, or a built-in name.
        root (str, optional): Folder of the built-in data sets. (default: :obj:`None`)
        options (dict): Keyword arguments of the loader (e.g. ``num_nodes`` for
            ``synthetic``).
        split (list[float]): Train/val/test fractions of the seeded stratified split used
            when the data has no split. (default: ``[0.6, 0.2, 0.2]``)
        split_seed (int): Seed of that split. (default: :obj:`0`)
    """

    source: str = "synthetic"
    root: str | None = None
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    split: list[float] = dataclasses.field(default_factory=lambda: list(DEFAULT_SPLIT))
    split_seed: int = 0

    def __post_init__(self) -> None:
        path = Path(self.source).expanduser()
        if path.exists():  # keep paths valid whatever the working directory later is
            self.source = str(path.resolve())
        if self.root is not None:
            self.root = str(Path(self.root).expanduser().resolve())
        if len(self.split) != 3:
            raise ValueError(f"Expected 3 split fractions train/val/test (got {self.split})")


def load_graph(spec: DataSpec, need_labels: bool = False) -> MultimodalGraph:
    """Load the node-level graph of ``spec``; set a stratified split where it has none."""
    data = load_dataset(spec.source, root=spec.root, **spec.options)
    if isinstance(data, SubgraphDataset):
        raise ValueError(
            f"{spec.source!r} is a subgraph data set ({len(data)} node sets): use "
            "`mmgraph subgraph train` for it"
        )
    graph = data
    y = getattr(graph, "y", None)
    if need_labels and (y is None or not bool((y >= 0).any())):
        raise ValueError(
            f"The data {spec.source!r} has no labels: `train` needs a label column ('label' in "
            "the dataset card). Unlabelled graphs work with `mmgraph embed --objective node2vec`"
        )
    if y is not None and getattr(graph, "train_mask", None) is None and bool((y >= 0).any()):
        train, val, test = spec.split
        graph.set_split(train, val, test, seed=spec.split_seed)
    return graph


@dataclasses.dataclass
class RunResult:
    """What :func:`train_node_classifier` returns."""

    run_dir: Path | None
    metrics: dict[str, dict[str, float]]
    trainer: Trainer
    graph: MultimodalGraph


def train_node_classifier(
    data: DataSpec,
    features: FeatureConfig | None = None,
    model_options: dict[str, Any] | None = None,
    train: TrainConfig | None = None,
    out: str | Path | None = None,
    graph: MultimodalGraph | None = None,
    progress: bool = True,
    prefeaturized: bool = False,
    pretrain_epochs: int = 0,
) -> RunResult:
    """Train a :class:`~mmgraph.models.MultimodalGNN` node classifier end to end.

    Loads the data (or uses ``graph``), featurizes it, trains with early stopping on the
    validation split, and reports validation and test metrics. With ``out``, the run folder
    receives ``config.yaml``, the weights, logs and ``metrics.json``
    (``{"val": {...}, "test": {...}}``). ``prefeaturized=True`` says ``graph`` already went
    through :func:`~mmgraph.models.featurize` with ``features`` (to share it across runs).
    With ``pretrain_epochs`` (and ``fusion="autoencoder"``), the joint autoencoder is first
    pretrained by denoising reconstruction, then the whole model is fine-tuned.
    """
    features = features or FeatureConfig()
    train = train or TrainConfig()
    init_distributed()  # under torchrun: join the process group before encoding
    if graph is None:
        graph = load_graph(data, need_labels=True)
    run_dir = Path(out) if out is not None else None
    main_process = is_main_process()
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
    if prefeaturized:
        featured = graph
    else:
        featured = featurize(graph, features, progress=progress, state_dir=run_dir)
    seed_everything(train.seed, deterministic=train.deterministic)
    model = MultimodalGNN.from_graph(featured, **(model_options or {}))
    if run_dir is not None and main_process:
        write_run_config(run_dir, data, features, model.config, train, GraphSchema.of(graph))
    if pretrain_epochs > 0:
        from mmgraph.objectives.autoencoder import AutoencoderPretraining

        if model.config.fusion != "autoencoder":
            raise ValueError(
                "Pretraining trains the joint autoencoder: use it with --fusion autoencoder "
                f"(got fusion={model.config.fusion!r})"
            )
        pretrain = dataclasses.replace(train, epochs=pretrain_epochs, patience=None)
        Trainer(model, pretrain).fit(featured, objective=AutoencoderPretraining(seed=train.seed))
    trainer = Trainer(model, train, out_dir=run_dir).fit(featured)
    metrics = split_metrics(trainer, featured)
    if run_dir is not None and main_process:
        (run_dir / METRICS).write_text(json.dumps(to_jsonable(metrics), indent=2))
    return RunResult(run_dir, metrics, trainer, featured)


def split_metrics(trainer: Trainer, graph: MultimodalGraph) -> dict[str, dict[str, float]]:
    """Validation and test metrics (the splits that have labelled nodes)."""
    out = {}
    for split in ("val", "test"):
        mask = getattr(graph, f"{split}_mask", None)
        if mask is not None and bool((mask & (graph.y >= 0)).any()):
            out[split] = trainer.evaluate(graph, mask)
    return out


def write_run_config(
    run_dir: Path,
    data: DataSpec,
    features: FeatureConfig,
    model: ModelConfig,
    train: TrainConfig,
    schema: GraphSchema,
) -> Path:
    """Write ``config.yaml``: everything needed to rebuild the run's data and model."""
    doc = {
        "data": data.to_dict(),
        "features": features.to_dict(),
        "model": model.to_dict(),
        "train": train.to_dict(),
        "schema": schema.to_dict(),
    }
    path = run_dir / RUN_CONFIG
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@dataclasses.dataclass
class LoadedRun:
    """A trained run read back from its folder."""

    run_dir: Path
    data: DataSpec
    features: FeatureConfig
    train: TrainConfig
    schema: GraphSchema
    model: MultimodalGNN

    def prepare(self, graph: MultimodalGraph, progress: bool = True) -> MultimodalGraph:
        """Conform ``graph`` to the run's schema and featurize it as in training."""
        graph = conform(graph, self.schema)
        return featurize(graph, self.features, progress=progress, state_dir=self.run_dir)


def load_run(run_dir: str | Path) -> LoadedRun:
    """Read a run folder written by :func:`train_node_classifier`."""
    run_dir = Path(run_dir)
    path = run_dir / RUN_CONFIG
    if not path.is_file():
        raise FileNotFoundError(
            f"No {RUN_CONFIG} in {run_dir}: pass the folder given to `mmgraph train --out`"
        )
    doc = yaml.safe_load(path.read_text())
    model = MultimodalGNN(ModelConfig.from_dict(doc["model"]))
    model.load_state_dict(load_weights(run_dir / WEIGHTS))
    model.eval()
    return LoadedRun(
        run_dir=run_dir,
        data=DataSpec.from_dict(doc["data"]),
        features=FeatureConfig.from_dict(doc["features"]),
        train=TrainConfig.from_dict(doc["train"]),
        schema=GraphSchema.from_dict(doc["schema"]),
        model=model,
    )


def evaluate_run(run_dir: str | Path, progress: bool = True) -> dict[str, dict[str, float]]:
    """Re-evaluate a run on its data; rewrites ``metrics.json`` and returns the metrics."""
    run = load_run(run_dir)
    graph = run.prepare(load_graph(run.data, need_labels=True), progress=progress)
    trainer = Trainer(run.model, dataclasses.replace(run.train, progress=False))
    metrics = split_metrics(trainer, graph)
    (run.run_dir / METRICS).write_text(json.dumps(to_jsonable(metrics), indent=2))
    return metrics


def predict_run(
    run_dir: str | Path,
    out: str | Path,
    data: DataSpec | None = None,
    progress: bool = True,
) -> Path:
    """Write ``node_id, predicted_class, probability`` (and each class's probability) to CSV.

    ``data`` defaults to the run's own data; any other data set (with or without labels)
    is conformed to the run's columns first.
    """
    import pandas as pd

    run = load_run(run_dir)
    graph = run.prepare(load_graph(data or run.data), progress=progress)
    with torch.no_grad():
        probs = run.model(graph).softmax(dim=-1)
    conf, pred = probs.max(dim=1)
    classes = run.schema.class_names or [str(k) for k in range(probs.size(1))]
    node_ids = getattr(graph, "node_id", None) or [str(i) for i in range(graph.num_nodes)]
    frame = pd.DataFrame(
        {
            "node_id": node_ids,
            "predicted_class": [classes[k] for k in pred.tolist()],
            "probability": conf.numpy(),
        }
    )
    for k, name in enumerate(classes):
        frame[f"p_{name}"] = probs[:, k].numpy()
    y = getattr(graph, "y", None)
    if y is not None:
        frame["true_class"] = [None if v == UNLABELLED else classes[v] for v in y.tolist()]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    return out


def embed_run(
    run_dir: str | Path,
    out: str | Path,
    data: DataSpec | None = None,
    progress: bool = True,
) -> tuple[Path, np.ndarray]:
    """Write the trained model's node embeddings ``[N, hidden]`` to a ``.npy`` file."""
    run = load_run(run_dir)
    graph = run.prepare(load_graph(data or run.data), progress=progress)
    with torch.no_grad():
        emb = run.model.encode(graph).numpy()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, emb)
    return out, emb
