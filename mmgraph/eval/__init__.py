"""Evaluation: classification metrics, clustering, linear probes, retrieval and plots."""

from __future__ import annotations

from mmgraph.eval.clustering import (
    CLUSTER_METHODS,
    CLUSTERING_KEYS,
    Clusterer,
    cluster_embeddings,
    clustering_accuracy,
    clustering_metrics,
    modularity,
)
from mmgraph.eval.metrics import (
    METRIC_KEYS,
    MULTILABEL_METRIC_KEYS,
    classification_metrics,
    multilabel_metrics,
    scores_to_proba,
    to_jsonable,
)
from mmgraph.eval.plots import plot_curves, plot_training_curves, plot_tsne, tsne_2d
from mmgraph.eval.probe import linear_probe
from mmgraph.eval.retrieval import (
    RETRIEVAL_METRICS,
    retrieval_metrics,
    retrieval_ranks,
    similarity,
)

__all__ = [
    "CLUSTERING_KEYS",
    "CLUSTER_METHODS",
    "Clusterer",
    "METRIC_KEYS",
    "MULTILABEL_METRIC_KEYS",
    "RETRIEVAL_METRICS",
    "classification_metrics",
    "cluster_embeddings",
    "clustering_accuracy",
    "clustering_metrics",
    "linear_probe",
    "modularity",
    "multilabel_metrics",
    "plot_curves",
    "plot_training_curves",
    "plot_tsne",
    "retrieval_metrics",
    "retrieval_ranks",
    "scores_to_proba",
    "similarity",
    "to_jsonable",
    "tsne_2d",
]
