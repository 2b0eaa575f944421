"""The README's main command: bot detection on the built-in synthetic social graph."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmgraph.data.summary import format_summary, summarize
from mmgraph.data.synthetic import make_social_graph
from mmgraph.models import DEFAULT_TEXT_ENCODER, FeatureConfig, featurize
from mmgraph.tasks.node_classification import (
    DataSpec,
    node_train_config,
    train_node_classifier,
)
from mmgraph.tasks.report import format_markdown, format_table
from mmgraph.tasks.run_folder import RunFolder

DEMO_SETTINGS: tuple[tuple[str, str, list[str] | None, str], ...] = (
    ("all modalities, mean", "mean", None, "concat"),
    ("all modalities, gcn", "gcn", None, "concat"),
    ("all modalities, ggnn", "ggnn", None, "concat"),
    ("all modalities, mean, low-rank fusion", "mean", None, "lowrank"),
    ("text only, gcn", "gcn", ["text"], "concat"),
    ("attributes only, gcn", "gcn", ["attributes"], "concat"),
    ("images only, gcn", "gcn", ["image"], "concat"),
)
"""Rows of the demo table: (name, aggregator, modalities (None = all), fusion head).

In a share of the synthetic accounts the label is the exclusive or of the text style and the
avatar type, which no sum of modality features can express: the low-rank fusion row
multiplies the modalities and can use it (see ``make_social_graph``)."""

COLUMNS = ["setting", "accuracy", "macro_f1", "f1", "roc_auc", "mcc", "epochs", "seconds"]


@dataclasses.dataclass
class DemoResult:
    """The demo's table rows and the summary of its data."""

    rows: list[dict[str, Any]]
    summary: dict[str, Any]

    def table(self) -> str:
        """The comparison table as aligned text."""
        return format_table(self.rows, COLUMNS)

    def markdown(self) -> str:
        """The comparison table as Markdown."""
        return format_markdown(self.rows, COLUMNS)


def run_demo(
    num_nodes: int = 2000,
    text_encoder: str = DEFAULT_TEXT_ENCODER,
    image_size: int = 16,
    epochs: int = 200,
    patience: int = 50,
    image_encoder: str = "cnn",
    seed: int = 0,
    out: str | Path | None = None,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
    overwrite: bool = False,
) -> DemoResult:
    """Train the bot detector on the synthetic graph: aggregators, a fusion head, ablations.

    Every row trains a fresh :class:`~mmgraph.models.MultimodalGNN` (test metrics of the
    ``bot`` class; early stopping on validation macro-F1). The text is encoded once (cached);
    the avatars feed a small CNN trained end to end.

    Args:
        num_nodes (int): Accounts in the synthetic graph. (default: :obj:`2000`)
        text_encoder (str): Text encoder name. (default: all-MiniLM-L6-v2)
        image_size (int): Side the avatars are resized to. (default: :obj:`16`)
        epochs (int): Maximum epochs per row. (default: :obj:`200`, as ``mmgraph train``)
        patience (int): Epochs without a better validation macro-F1 before a row stops.
            (default: :obj:`50`, as ``mmgraph train``)
        image_encoder (str): ``"cnn"`` (a small CNN trained once on the avatars, frozen) or
            ``"cnn-e2e"`` (trained with each model, every epoch). (default: ``"cnn"``)
        seed (int): Seed of the data and of training. (default: :obj:`0`)
        out (str or Path, optional): Folder for each row's run (checkpoints, logs).
        progress (bool): Show progress bars. (default: :obj:`True`)
        echo (Callable[[str], None], optional): Called with the data summary and the encoded
            feature shapes, as text.
        on_row (Callable[[dict], None], optional): Called with each finished table row.
        overwrite (bool): Replace the runs of an earlier demo in ``out``. (default:
            :obj:`False`: refuse, before anything is computed)
    """
    run_outs = {
        name: Path(out) / name.replace(", ", "-").replace(" ", "_") if out else None
        for name, *_ in DEMO_SETTINGS
    }
    for run_out in run_outs.values():
        if run_out is not None:
            RunFolder(run_out, overwrite=overwrite, resumable=False, kind="train").check()
    graph = make_social_graph(num_nodes, seed=seed)
    summary = summarize(graph)
    if echo is not None:
        echo(format_summary(summary))
    features = FeatureConfig(
        text_encoder=text_encoder, image_encoder=image_encoder, image_size=image_size
    )
    featured = featurize(graph, features, progress=progress)
    if echo is not None:
        image = getattr(featured, "x_image", None)
        shapes = {
            "text": list(featured.x_text.shape),
            "image": list((image if image is not None else featured.image).shape),
            "numeric": list(featured.numeric.shape),
            "categorical": list(featured.categorical.shape),
        }
        echo("encoded features: " + ", ".join(f"{k} {v}" for k, v in shapes.items()))
    spec = DataSpec("synthetic", options={"num_nodes": num_nodes, "seed": seed})
    rows = []
    for name, aggregator, modalities, fusion in DEMO_SETTINGS:
        options: dict[str, Any] = {
            "aggregator": aggregator,
            "modality_dim": 32,
            "hidden": 32,
            "fusion": fusion,
        }
        if modalities is not None:
            options["modalities"] = modalities
        # node classification's training (Adam, L2 decay), as `mmgraph train` trains
        train = node_train_config(epochs=epochs, patience=patience, seed=seed, progress=progress)
        run_out = run_outs[name]
        start = time.perf_counter()
        result = train_node_classifier(
            spec,
            features,
            options,
            train,
            out=run_out,
            graph=featured,
            progress=progress,
            prefeaturized=True,
            overwrite=overwrite,
        )
        test = result.metrics["test"]
        row = {
            "setting": name,
            **{k: test[k] for k in ("accuracy", "macro_f1", "f1", "roc_auc", "mcc")},
            "epochs": len(result.trainer.history),
            "seconds": f"{time.perf_counter() - start:.1f}",
        }
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return DemoResult(rows, summary)
