"""Each task's options and their defaults, in a module that imports no torch.

The command line builds its parsers from :data:`OPTIONS` (``mmgraph train --help`` shows
them at once); :mod:`mmgraph.tune.options` turns options into runs and re-exports these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmgraph.names import DEFAULT_TEXT_ENCODER

TASKS: tuple[str, ...] = ("node", "subgraph", "unsupervised")
"""The tasks :func:`mmgraph.tune.tune` searches."""

COMMANDS: dict[str, str] = {
    "node": "mmgraph train",
    "subgraph": "mmgraph subgraph train",
    "unsupervised": "mmgraph embed",
}
"""The command whose options (and ``--config`` files) each task's options are."""

_FEATURES: dict[str, Any] = {
    "text_encoder": DEFAULT_TEXT_ENCODER,
    "image_encoder": "cnn",
    "image_size": 32,
    "text_dim": 128,
    "cache_dir": None,
    "on_image_error": "raise",
}

_LR_GAMMA = 0.5
"""The default ``--lr-gamma`` of every supervised command."""

_MODEL: dict[str, Any] = {
    "aggregator": "auto",
    "fusion": "concat",
    "sequence_encoder": "gru",
    "mvlstm_topology": None,
    "mvlstm_gates": False,
    "modalities": None,
    "hidden": 64,
    "layers": 2,
    "modality_dim": 64,
    "dropout": 0.5,
    "head": "linear",
    "numeric_scaling": "auto",
    "no_missing_indicator": False,
    "coordination": None,
    "coordination_weight": 0.1,
    "coordination_dim": 32,
    "fusion_options": None,
    "coordination_options": None,
    "source": None,
    "cycle": False,
    "translation_weight": 1.0,
}

OPTIONS: dict[str, dict[str, Any]] = {
    "node": {
        "data": None,
        "root": None,
        "max_tweets": None,
        **_FEATURES,
        **_MODEL,
        # chosen on validation data with the design (mmgraph.models.auto.TEXT_CANDIDATES)
        "text_encoder": "auto",
        # the design, chosen on validation data among mmgraph.models.auto.DESIGNS
        "layers": "auto",
        "head": "auto",
        "modality_dim": "auto",
        "epochs": 200,
        "lr": 0.01,
        "weight_decay": 5e-4,
        # GCN's recipe (L2 added to the gradient), chosen across the node data sets
        "optimizer": "adam",
        "lr_step_size": None,
        "lr_gamma": _LR_GAMMA,
        "patience": 50,
        "monitor": "macro_f1",
        "no_class_weights": False,
        "seed": 0,
        "seeds": None,
        "split": [0.6, 0.2, 0.2],
        "split_seed": None,
        "batch_size": None,
        "fanouts": None,
        "pretrain_epochs": 0,
    },
    "subgraph": {
        "data": None,
        "root": None,
        "method": "glass",
        "node_input": "auto",
        "hidden": 32,
        # one layer, and two for the candidate kept when validation says so
        # (mmgraph.tasks.subgraph.DEPTH_CHOICES)
        "layers": "auto",
        "pool": "auto",
        "aggregator": "auto",
        "z_ratio": 1.0,
        # on learned node ids only (mmgraph.tasks.subgraph.ID_DROPOUT)
        "dropout": "auto",
        "jk": False,
        "head_layers": 1,
        "head_dropout": 0.0,
        "head_fit": "auto",
        # batch statistics for a quarter of the epochs, then frozen: chosen across the four
        # SubGNN-style sets (benchmarks/results/defaults.md, second subgraph round)
        "norm": "frozen",
        "split_messages": False,
        "tokens": "degree",
        "sub2vec_mode": "dbow",
        "walk_length": 20,
        "walks_per_node": 2,
        "epochs": 100,
        "lr": 0.005,
        "weight_decay": 0.0,
        "lr_step_size": None,
        "lr_gamma": _LR_GAMMA,
        "patience": None,
        "monitor": "loss",
        "no_class_weights": False,
        "batch_size": 16,
        "seed": 0,
        "repeats": 1,
        **_FEATURES,
    },
    "unsupervised": {
        "data": None,
        "root": None,
        "max_tweets": None,
        "objective": "node2vec",
        "encoder": "shallow",
        "dim": 128,
        "walk_length": None,
        "context_size": None,
        "walks_per_node": None,
        "negatives": None,
        "negative_distribution": "uniform",
        "p": 1.0,
        "q": 1.0,
        "temperature": 1.0,
        "dot": False,
        "epochs": None,
        "batch_size": 128,
        "lr": 0.01,
        "weight_decay": 0.0,
        "seed": 0,
        **_FEATURES,
        **_MODEL,
        "aggregator": "gcn",  # no labels for the homophily rule of "auto"
        "dropout": 0.0,
    },
}
"""Each task's options and their defaults (those of its command; a test keeps them equal).

The subgraph task's are those of subgraphs inside one graph (SubGNN folders); whole graphs
(TU folders) start from :data:`WHOLE_GRAPH_DEFAULTS` instead where an option is not given.
"""

NODE_OPTIMIZERS = ("adam", "adamw")
"""The optimizers of ``mmgraph train --optimizer`` (the first is the default)."""


LOADER_OPTIONS = ("max_tweets",)
"""The options passed to the data's loader (a :class:`~mmgraph.tasks.DataSpec`'s
``options``): TwiBot's tweets kept per user."""


def loader_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The loader's options among ``options`` that are set."""
    return {k: options[k] for k in LOADER_OPTIONS if options.get(k) is not None}
