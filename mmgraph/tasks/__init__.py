"""End-to-end tasks behind the command line: node classification runs and the demo."""

from __future__ import annotations

from mmgraph.tasks.node_classification import (
    DataSpec,
    LoadedRun,
    RunResult,
    embed_run,
    evaluate_run,
    load_graph,
    load_run,
    node_train_config,
    predict_run,
    resume_node_classifier,
    resume_node_classifier_seeds,
    train_node_classifier,
    train_node_classifier_seeds,
)
from mmgraph.tasks.python_run import save_run

__all__ = [
    "DataSpec",
    "LoadedRun",
    "RunResult",
    "embed_run",
    "evaluate_run",
    "load_graph",
    "load_run",
    "node_train_config",
    "predict_run",
    "resume_node_classifier",
    "resume_node_classifier_seeds",
    "save_run",
    "train_node_classifier",
    "train_node_classifier_seeds",
]
