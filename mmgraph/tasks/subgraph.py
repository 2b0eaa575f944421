"""Subgraph and whole-graph classification runs: GLASS, pooling and Sub2Vec, end to end.

:func:`train_subgraph_model` trains one method on a :class:`~mmgraph.data.SubgraphDataset`
with the :class:`~mmgraph.train.Trainer` and reports micro-F1 (for single-label classes,
the accuracy) and the other classification metrics per split; data sets with
cross-validation folds and no split (TU graph classification) are run fold by fold and
summarised by mean and standard deviation. :func:`run_subgraph_task` adds repeats over
seeds and writes ``metrics.json``, ``embeddings.npy`` and ``config.yaml`` to a folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch import Tensor, nn

from mmgraph import heartbeat, names
from mmgraph.config import ConfigBase
from mmgraph.data.graph import SPLIT_MASKS, labelled_rows
from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.errors import InputError, as_flag
from mmgraph.models.auto import AUTO
from mmgraph.nn import AGGREGATORS
from mmgraph.objectives import SupervisedObjective, balanced_class_weights
from mmgraph.seed import seed_everything
from mmgraph.subgraph import (
    GLASS,
    GLASS_AGGREGATORS,
    SUBGRAPH_NORMS,
    PoolGNN,
    SubgraphBatch,
    SubgraphLoader,
    build_node_input,
    make_subgraph_batch,
    with_split,
)
from mmgraph.subgraph.inputs import has_modalities, resolve_input_name
from mmgraph.subgraph.neighborhood import NeighborhoodCache
from mmgraph.subgraph.refit import HEAD_FITS, classifier_head, last_linear, refit_head
from mmgraph.tasks.node_classification import save_npy, warn_of_rare_classes, write_json
from mmgraph.tasks.run_folder import RunFolder
from mmgraph.train import TrainConfig, Trainer
from mmgraph.train.trainer import Callback, numbered_callback

log = logging.getLogger(__name__)

SUBGRAPH_METHODS: tuple[str, ...] = ("glass", "pool", "sub2vec")
"""Methods of :func:`train_subgraph_model`."""

POOL_CHOICES: tuple[str, ...] = ("mean", "sum")
"""The poolings ``pool="auto"`` chooses between on validation subgraphs (ties: the first).

Chosen by ``benchmarks/defaults.py``: the mean did best on density, cut ratio and coreness,
the sum alone solves SubGNN's component task (it counts the nodes each component brings:
validation micro-F1 1.00 against 0.72); no fixed pooling did best on all four
(``benchmarks/results/design_selection.md``, five seeds each)."""

INPUT_CHOICES: tuple[str, ...] = ("constant", "node2vec")
"""The node inputs ``node_input="auto"`` chooses between on a graph with nothing but edges.

A constant input sees only structure: the SubGNN-style sets (density, cut ratio,
coreness, component) are about a subgraph's shape, and it did best on all four. A learned
vector per node sees where a subgraph lies, what labels of real sets follow (SubGNN's
PPI-BP, HPO-METAB, EM-USER): on the ``position`` task, a constant input is at chance and
node ids are not (``benchmarks/results/defaults.md``). Which one a graph's labels follow
cannot be told from the data alone, so both are trained and compared on validation
subgraphs; ties keep the constant.

The ids start from a node2vec embedding of the base graph (``node2vec``), not from random
draws (``id``), as GLASS and SubGNN start their real sets from pretrained node embeddings:
a node no training subgraph holds then starts near its neighbours instead of from noise.
In a first check (the other defaults; one node2vec epoch, before
:data:`~mmgraph.subgraph.inputs.NODE2VEC_STEPS` made it three there), validation
micro-F1, random / node2vec ids: 0.727 / 0.945 on a ``position_multilabel`` instance of
120 subgraphs, where most nodes lie in none (three seeds), 0.830 / 0.938 on instance 0
(two seeds); position 1.000 with both. As shipped (``--node-input id`` against
``node2vec``, ``--repeats 3``): 0.727 / 0.933 and 0.812 / 0.899."""

DEPTH_CHOICES: tuple[int, int] = (1, 2)
"""The depths ``num_layers="auto"`` tries: the candidates are trained with the first, and
the one kept is trained again with the second, which replaces it when its validation
score is higher (ties keep the shallower, so a perfect score is not retrained;
:func:`deepens`).

One layer is what the four SubGNN-style shape sets were tuned at and what keeps node ids
affordable on graphs of millions of edges; a second layer lets a node's id reach its
neighbours', which is what labels that follow where a subgraph lies need (validation
micro-F1 76.5 to 82.9 and 77.7 to 89.4 on two ``position_multilabel`` instances,
``benchmarks/results/place_options.md``). Trying it on the kept candidate alone costs one
training more, not one per candidate (``benchmarks/results/defaults.md``, depth section)."""

LEARNED_IDS: tuple[str, ...] = ("id", "node2vec")
"""The node inputs that learn a vector per node (``node2vec`` starts it from an embedding)."""

ID_DROPOUT: float = names.ID_DROPOUT
"""The dropout ``dropout="auto"`` gives a model whose nodes start from learned ids.

A learned vector per node is a parameter per node: without dropout GLASS fitted every
training subgraph of ``position_multilabel`` (train micro-F1 1.000, validation 0.832 on
instance 0). With dropout on every input, validation on instance 0 rose to 0.844, 0.841
and 0.868 at 0.15, 0.3 and 0.5 and fell to 0.783 at 0.7; position rose from 0.987 to 1.000
from 0.3 on; coreness, which keeps the constant input, fell from 0.985 to 0.955 at 0.3
(``benchmarks/results/id_dropout.md``). So the constant, degree and feature inputs keep
none.
"""

METRICS = "metrics.json"
EMBEDDINGS = "embeddings.npy"
RUN_CONFIG = "config.yaml"
SPLITS = ("train", "val", "test")


@dataclasses.dataclass
class SubgraphConfig(ConfigBase):
    """Settings of a subgraph classification run (YAML round trip).

    Args:
        method (str): ``"glass"`` (labelling-trick GNN), ``"pool"`` (aggregator layers of
            :mod:`mmgraph.nn` and pooling; whole-graph classification) or ``"sub2vec"``
            (unsupervised walks and skip-gram, then a linear probe). (default: ``"glass"``)
        node_input (str): Node input, see :data:`mmgraph.subgraph.NODE_INPUTS`; ``"auto"``
            on subgraphs of a graph with nothing but its edges: each of
            :data:`INPUT_CHOICES` is trained and the better on validation kept, with the
            pooling (:func:`auto_inputs`). (default: ``"auto"``)
        hidden (int): Size of node and subgraph embeddings. (default: :obj:`32`)
        num_layers (int or str): Message passing layers, or ``"auto"``: the first of
            :data:`DEPTH_CHOICES` (one), and for ``glass`` or ``pool`` on subgraphs of one
            graph the candidate chosen at that depth is trained again with the second (two)
            and kept if it does better on validation (:func:`deepens`: not on whole graphs,
            which take one, nor where two layers would cost too much,
            :data:`DEEPEN_WORK`). (default: ``"auto"``)
        pool (str): Pooling, see :data:`mmgraph.subgraph.POOLINGS`, or ``"auto"``: each of
            :data:`POOL_CHOICES` is trained and the one with the best validation accuracy
            kept, per run (folds: on a tenth of each fold's training subgraphs).
            (default: ``"auto"``; whole graphs from the command line or ``mmgraph tune``:
            ``"mean"``, :data:`mmgraph.tune.options.WHOLE_GRAPH_DEFAULTS`)
        aggregator (str): How nodes aggregate their neighbours: for ``glass`` one of
            :data:`mmgraph.subgraph.GLASS_AGGREGATORS` (``sum``, ``mean``, ``gcn``), for
            ``pool`` an aggregator of :data:`mmgraph.nn.AGGREGATORS` (``mean``, ``gcn``,
            ``ggnn``, ``gin``), or
            ``"auto"``: ``sum`` for ``glass``, ``mean`` for ``pool``. A saved config's
            earlier ``aggr`` key (GLASS's) is read as ``aggregator``. (default: ``"auto"``)
        z_ratio (float): GLASS's mixing ratio. (default: :obj:`1.0`)
        dropout (float or str): Dropout, or ``"auto"``: :data:`ID_DROPOUT` where the
            nodes start from learned ids (``node_input="id"`` or ``"node2vec"``, or
            ``"auto"`` choosing them), else none (:meth:`resolved_dropout`). (default: ``"auto"``)
        jk (bool): Concatenate the pooled outputs of every layer. (default: :obj:`False`)
        head_layers (int): Layers of the MLP head. (default: :obj:`1`)
        head_dropout (float): Dropout on the subgraph embeddings before the head.
            (default: :obj:`0.0`)
        head_fit (str): ``"trained"`` (the head as trained with the rest), ``"refit"``
            (after training, the head's last linear layer is refit by a logistic regression
            on the frozen embeddings of the training subgraphs, its regularisation chosen
            by cross-validation on them: :func:`~mmgraph.subgraph.refit.refit_head`) or
            ``"auto"``: for ``glass`` the refit, kept if its validation accuracy is at
            least the trained head's (else the trained head is put back); for ``pool`` and
            on multi-label data the trained head (:meth:`resolved_head_fit`; ``"refit"``
            is refused on multi-label data). (default: ``"auto"``)
        norm (str): ``"batch"`` (batch norms in the layers, see :class:`~mmgraph.subgraph.GLASS`
            and :class:`~mmgraph.subgraph.PoolGNN`, with batch statistics throughout),
            ``"frozen"`` (the same norms; from the epoch after the first quarter they use
            their running statistics, frozen: see :func:`norm_train_config`) or ``"none"``.
            (default: ``"frozen"``)
        split_messages (bool): GLASS aggregates the messages of a subgraph's nodes and of
            the others apart (:class:`~mmgraph.subgraph.GLASSConv`'s ``split``); only
            ``glass`` has such labels. (default: :obj:`False`)
        batch_size (int, optional): Subgraphs per training batch; :obj:`None` for all.
            (default: :obj:`16`)
        tokens (str): Sub2Vec tokens, ``"node"`` or ``"degree"``. (default: ``"degree"``)
        sub2vec_mode (str): ``"dbow"`` or ``"dm"``. (default: ``"dbow"``)
        walk_length (int): Sub2Vec walk steps. (default: :obj:`20`)
        walks_per_node (int): Sub2Vec walks from each node. (default: :obj:`2`)
        context_size (int): Sub2Vec PV-DM window. (default: :obj:`5`)
        num_negatives (int): Sub2Vec negatives per token. (default: :obj:`5`)
        walk_batch_size (int): Sub2Vec start nodes per batch. (default: :obj:`256`)
        probe_c (float): Inverse regularisation of Sub2Vec's linear probe.
            (default: :obj:`1.0`)
    """

    method: str = "glass"
    node_input: str = "auto"
    hidden: int = 32
    num_layers: int | str = AUTO
    pool: str = "auto"
    aggregator: str = AUTO
    z_ratio: float = 1.0
    dropout: float | str = AUTO
    jk: bool = False
    head_layers: int = 1
    head_dropout: float = 0.0
    head_fit: str = AUTO
    norm: str = "frozen"
    split_messages: bool = False
    batch_size: int | None = 16
    tokens: str = "degree"
    sub2vec_mode: str = "dbow"
    walk_length: int = 20
    walks_per_node: int = 2
    context_size: int = 5
    num_negatives: int = 5
    walk_batch_size: int = 256
    probe_c: float = 1.0

    def __post_init__(self) -> None:
        if self.head_fit not in HEAD_FITS:
            raise InputError(
                f"Unknown head fit {self.head_fit!r}; expected one of {list(HEAD_FITS)}"
            )
        if self.norm not in SUBGRAPH_NORMS:
            raise InputError(f"Unknown norm {self.norm!r}; expected one of {list(SUBGRAPH_NORMS)}")
        if self.method not in SUBGRAPH_METHODS:
            raise ValueError(
                f"Unknown subgraph method {self.method!r}; expected one of {list(SUBGRAPH_METHODS)}"
            )
        if self.split_messages and self.method != "glass":
            raise InputError(
                f"split_messages splits GLASS's messages by the subgraph label; the "
                f"{self.method!r} method has no such label: drop --split-messages or use "
                "--method glass"
            )
        dropout = self.dropout
        if dropout != AUTO and (isinstance(dropout, (bool, str)) or not 0 <= float(dropout) < 1):
            raise InputError(f"dropout takes a number in [0, 1) or 'auto' (got {dropout!r})")
        layers = self.num_layers
        if layers != AUTO and (isinstance(layers, bool) or not isinstance(layers, int)):
            raise InputError(f"num_layers takes an integer or 'auto' (got {layers!r})")
        valid = {"glass": GLASS_AGGREGATORS, "pool": tuple(AGGREGATORS)}.get(self.method)
        if valid is not None and self.aggregator not in (AUTO, *valid):
            raise InputError(
                f"Unknown aggregator {self.aggregator!r} for the {self.method!r} method; "
                f"expected one of {[AUTO, *valid]}"
            )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> SubgraphConfig:
        """Build the config from a dict, reading an earlier ``aggr`` key (see ``aggregator``)."""
        return super().from_dict(migrate_subgraph_options(values))

    def resolved_aggregator(self) -> str:
        """The aggregator, with ``"auto"`` replaced by the method's default."""
        if self.aggregator != AUTO:
            return self.aggregator
        return "sum" if self.method == "glass" else "mean"

    def resolved_layers(self) -> int:
        """The layers a model is built with (``"auto"``: the first of :data:`DEPTH_CHOICES`)."""
        return DEPTH_CHOICES[0] if self.num_layers == AUTO else int(self.num_layers)

    def resolved_dropout(self, graph: Any) -> float:
        """The dropout a model on ``graph`` is built with (``"auto"``: see ``dropout``)."""
        if self.dropout != AUTO:
            return float(self.dropout)
        learned = resolve_input_name(self.node_input, graph) in LEARNED_IDS
        return ID_DROPOUT if learned else 0.0

    def resolved_head_fit(self) -> str:
        """The head fit to run: ``pool`` resolves ``"auto"`` to ``"trained"``.

        ``glass`` keeps ``"auto"`` (the refit, kept on validation; see ``head_fit``).
        """
        if self.head_fit != AUTO or self.method == "glass":
            return self.head_fit
        return "trained"


_LAYERED = ("glass", "pool")
METHOD_OPTIONS: dict[str, tuple[str, ...]] = {
    "z_ratio": ("glass",),
    "split_messages": ("glass",),
    **dict.fromkeys(("tokens", "sub2vec_mode", "walk_length", "walks_per_node"), ("sub2vec",)),
    **dict.fromkeys(
        (
            "node_input",
            "layers",
            "pool",
            "aggregator",
            "dropout",
            "jk",
            "head_layers",
            "head_dropout",
            "head_fit",
            "norm",
            "batch_size",
            "no_class_weights",
            # Sub2Vec's tables train on their own loss, without labels or validation, with
            # sparse Adam, which has no weight decay
            "weight_decay",
            "patience",
            "monitor",
        ),
        _LAYERED,
    ),
}
"""The options of ``mmgraph subgraph train`` that only some methods read, and which."""


def check_method_options(method: str, given: Iterable[str]) -> None:
    """Refuse options given for ``method`` that it would ignore (:data:`METHOD_OPTIONS`).

    ``given``: the option names a user set (on the command line); an option that the
    method does not read would otherwise change nothing, silently.
    """
    ignored = sorted(k for k in given if method not in METHOD_OPTIONS.get(k, (method,)))
    if ignored:
        flags = [as_flag(k) for k in ignored]
        readers = "; ".join(
            f"{flag}: --method {' or '.join(METHOD_OPTIONS[k])}"
            for flag, k in zip(flags, ignored, strict=True)
        )
        raise InputError(
            f"The {method!r} method does not read {', '.join(flags)}, which would change "
            f"nothing: drop {'it' if len(flags) == 1 else 'them'} or choose a method that "
            f"reads {'it' if len(flags) == 1 else 'them'} ({readers})"
        )


GLASS_ON_WHOLE_GRAPHS = (
    "GLASS's labelling trick marks a subgraph inside a larger graph; for whole graphs (TU data "
    "sets) every node is inside: use the 'pool' method"
)


def learned_ids_on_whole_graphs(node_input: str) -> str:
    """The error for learned node ids (:data:`LEARNED_IDS`) on whole graphs (TU)."""
    return (
        f"The node input {node_input!r} (learned node ids) gives each node of the base graph a "
        "vector of its own, trained where the node lies in a training subgraph; on whole graphs "
        "(TU data sets) a test graph's nodes lie in no training graph, so their vectors are "
        "never trained: use 'auto' (the graphs' own features, else a constant input), "
        "'constant' or 'degree'"
    )


def migrate_subgraph_options(values: Mapping[str, Any]) -> dict[str, Any]:
    """Subgraph options with the earlier ``aggr`` key (GLASS's aggregation) renamed.

    ``aggr`` held GLASS's aggregation and ``aggregator`` the ``pool`` method's; both are now
    ``aggregator``. For ``glass`` (the default method) ``aggr`` becomes ``aggregator``; for
    another method, which never read it, it is dropped.
    """
    out = dict(values)
    if "aggr" in out:
        aggr = out.pop("aggr")
        if out.get("method", "glass") == "glass":
            out["aggregator"] = aggr
    return out


@dataclasses.dataclass
class SubgraphResult:
    """What :func:`train_subgraph_model` returns.

    Attributes:
        metrics (dict): Per split (``train``, ``val``, ``test``) a dict of metrics with
            ``micro_f1``; for fold runs also ``folds`` (one dict per fold) and, under
            ``test``, ``<metric>_std`` across folds.
        embeddings (torch.Tensor): Subgraph embeddings ``[S, D]`` (fold runs: ``[K, S, D]``,
            one per fold's model).
        models (list[torch.nn.Module]): The trained model of each run (fold).
        val_outputs (list): Per run (fold), the kept model's logits on the labelled
            validation subgraphs and their labels, :obj:`None` where there are none
            (``tune``'s confirmation pairs option sets subgraph by subgraph); empty for
            ``sub2vec``.
    """

    metrics: dict[str, Any]
    embeddings: Tensor
    models: list[nn.Module]
    val_outputs: list[tuple[Tensor, Tensor] | None] = dataclasses.field(default_factory=list)


# ------------------------------------------------------------------------ models
def build_subgraph_model(
    dataset: SubgraphDataset, config: SubgraphConfig, graph: Any | None = None, seed: int = 0
) -> nn.Module:
    """The GLASS or PoolGNN model of ``config`` for ``dataset`` (``graph``: its featurized base).

    ``seed`` seeds what the node input computes before training (the walks of
    ``node_input="node2vec"``); the parameters are drawn from torch's global generator.
    """
    if config.pool == AUTO:
        raise ValueError(
            "pool='auto' is chosen on validation subgraphs by train_subgraph_model (mmgraph "
            f"subgraph train): a model needs one of {list(POOL_CHOICES)} or another pooling"
        )
    graph = dataset.graph if graph is None else graph
    name = resolve_input_name(config.node_input, graph)
    if dataset.whole_graphs and name in LEARNED_IDS:
        raise InputError(learned_ids_on_whole_graphs(name))
    options = {"seed": seed} if name == "node2vec" else {}
    node_input = build_node_input(config.node_input, graph, config.hidden, **options)
    if config.method == "glass":
        if dataset.whole_graphs:
            raise InputError(GLASS_ON_WHOLE_GRAPHS)
        return GLASS(
            node_input,
            config.hidden,
            dataset.num_classes,
            num_layers=config.resolved_layers(),
            aggregator=config.resolved_aggregator(),
            pool=config.pool,
            z_ratio=config.z_ratio,
            dropout=config.resolved_dropout(graph),
            jk=config.jk,
            head_layers=config.head_layers,
            head_dropout=config.head_dropout,
            norm=config.norm != "none",
            split_messages=config.split_messages,
        )
    if config.method == "pool":
        return PoolGNN(
            node_input,
            config.hidden,
            dataset.num_classes,
            num_layers=config.resolved_layers(),
            aggregator=config.resolved_aggregator(),
            pool=config.pool,
            jk=config.jk,
            dropout=config.resolved_dropout(graph),
            num_relations=_num_relations(graph),
            head_layers=config.head_layers,
            head_dropout=config.head_dropout,
            norm=config.norm != "none",
        )
    raise ValueError(f"Method {config.method!r} has no classifier model (see train_subgraph_model)")


def _num_relations(graph: Any) -> int:
    names = getattr(graph, "relation_names", None)
    return len(names) if names else 1


def _raw_modalities(graph: Any) -> bool:
    """Whether ``graph`` has raw text or images (file paths) still to featurize."""
    image = getattr(graph, "image", None)
    return getattr(graph, "text", None) is not None or (
        image is not None and not isinstance(image, Tensor)
    )


def _prepare_graph(dataset: SubgraphDataset, features: Any | None, progress: bool) -> Any:
    """The base graph with model-ready modalities (featurized when it has raw text/images)."""
    graph = dataset.graph
    raw = _raw_modalities(graph)
    if features is None and not raw:
        return graph
    if has_modalities(graph) and not raw:
        return graph
    from mmgraph.models import FeatureConfig, featurize

    return featurize(graph, features or FeatureConfig(), progress=progress)


# --------------------------------------------------------------------- training
def _with_micro(metrics: dict[str, float]) -> dict[str, float]:
    """Add ``micro_f1``: for single-label classes it equals the accuracy.

    Multi-label metrics (:func:`~mmgraph.eval.metrics.multilabel_metrics`) have their own.
    """
    if "micro_f1" in metrics:
        return metrics
    return {"micro_f1": float(metrics["accuracy"]), **metrics}


def selection_metric(dataset: SubgraphDataset) -> str:
    """The validation metric a run chooses its input, pooling and head on.

    ``accuracy`` for one class a subgraph (there it equals micro-F1); ``micro_f1`` for
    multi-label data, the metric SubGNN and GLASS report there (``accuracy`` is then the
    share of subgraphs whose every label is right).
    """
    return "micro_f1" if dataset.multi_label else "accuracy"


def auto_inputs(dataset: SubgraphDataset, config: SubgraphConfig) -> tuple[str, ...]:
    """The node inputs a run of ``config`` on ``dataset`` trains (and chooses between).

    :data:`INPUT_CHOICES` when ``node_input="auto"`` and the base graph has nothing but
    edges (no text, images, attributes or feature matrix), with ``glass`` or ``pool`` on
    subgraphs of one graph; else ``node_input`` alone. Whole graphs (TU) keep their input:
    a node's id means nothing in another graph.
    """
    graph = dataset.graph
    if (
        config.node_input != AUTO
        or config.method not in ("glass", "pool")
        or dataset.whole_graphs
        or _raw_modalities(graph)
        or resolve_input_name(AUTO, graph) != "constant"
    ):
        return (config.node_input,)
    return INPUT_CHOICES


DEEPEN_WORK = 1_000_000
"""The most in-edges the subgraphs' nodes may have for ``num_layers="auto"`` to try two layers.

A second layer aggregates over those edges and computes a row for every node one hop from
a subgraph, apart for each subgraph (the labelling trick), every epoch. The sets the
defaults were chosen on have 41,000-288,000 (a two-layer training 0.3-1.5 minutes on one
thread); a folder the size of SubGNN's HPO-METAB (2,400 subgraphs of 14 nodes on 3 million
edges) has 36 million, where a two-layer batch of 16 subgraphs took 0.6-1.2 s (one thread,
beside two other jobs): 1-2 minutes an epoch, hours a training."""


def deepen_work(dataset: SubgraphDataset) -> int:
    """The in-edges of every subgraph's nodes, counted per subgraph (see :data:`DEEPEN_WORK`)."""
    graph = dataset.graph
    degree = torch.bincount(graph.edge_index[1], minlength=int(graph.num_nodes or 0))
    nodes, _ = dataset.subgraph_index(list(range(len(dataset))))
    return int(degree.index_select(0, nodes).sum())


def deepens(dataset: SubgraphDataset, config: SubgraphConfig) -> bool:
    """Whether a run of ``config`` tries the second of :data:`DEPTH_CHOICES` too.

    With ``num_layers="auto"``, for ``glass`` and ``pool`` on subgraphs of one graph whose
    nodes have at most :data:`DEEPEN_WORK` in-edges (:func:`deepen_work`). Whole graphs
    (TU) keep their depth: ``mmgraph subgraph train`` gives them four layers of their own.
    """
    return _tries_depth(dataset, config) and deepen_work(dataset) <= DEEPEN_WORK


def depth_over_limit(dataset: SubgraphDataset, config: SubgraphConfig) -> int | None:
    """The :func:`deepen_work` where :data:`DEEPEN_WORK` keeps ``"auto"`` at one layer.

    :obj:`None` where ``num_layers="auto"`` tries two layers, or would not anyway.
    """
    if not _tries_depth(dataset, config):
        return None
    work = deepen_work(dataset)
    return work if work > DEEPEN_WORK else None


def _tries_depth(dataset: SubgraphDataset, config: SubgraphConfig) -> bool:
    return (
        config.num_layers == AUTO
        and config.method in ("glass", "pool")
        and not dataset.whole_graphs
    )


def _fit_classifier(
    dataset: SubgraphDataset,
    config: SubgraphConfig,
    train: TrainConfig,
    graph: Any,
    full: SubgraphBatch,
    train_index: Tensor,
    cache: NeighborhoodCache | None,
    callbacks: Sequence[Callback] = (),
) -> tuple[nn.Module, Trainer, list[dict[str, Any]] | None]:
    """Train ``config``'s classifier (with ``pool="auto"``, one per pooling; see below).

    With ``pool="auto"`` each pooling of :data:`POOL_CHOICES` is trained, with
    ``node_input="auto"`` on a graph without features each input of :data:`INPUT_CHOICES`
    (:func:`auto_inputs`), every pair of them; the one with the best validation score over
    its epochs is kept (:func:`selection_metric`: the accuracy, which equals micro-F1, or
    micro-F1 on multi-label data; each record also gives ``val_<metric>_kept``, the score of
    the epoch whose weights are kept, :func:`kept_val_score`), ties to the first, so the
    candidates after a perfect score are not trained (listed with ``"skipped": True`` and
    no score); the third value lists each candidate's (else :obj:`None`). The accuracy, not
    the loss the trainer monitors: in ``benchmarks/design_selection.py`` the lowest validation
    loss picked the sum on every run (ranked last of six criteria on the four subgraph sets);
    the best epoch's accuracy and the kept epoch's tied but for one subgraph each way
    (cut ratio 92.0 against 92.8, coreness 90.4 against 89.6; average ranks 3.25 and 3.12),
    so the rule stayed as it was. With ``num_layers="auto"`` (:func:`deepens`)
    the kept candidate is then trained with the second of :data:`DEPTH_CHOICES` (unless
    its validation score is perfect already) and replaces it if its validation score is
    higher; ties keep the shallower.
    A run without validation subgraphs (whole graphs in folds) chooses on a seeded,
    stratified tenth of its training subgraphs (:data:`INNER_VALIDATION`), the others
    training the candidates; the chosen pooling is then trained on all of them. The test
    subgraphs play no part.
    """
    pools = POOL_CHOICES if config.pool == AUTO else (config.pool,)
    layers = config.resolved_layers()
    candidates = [
        dataclasses.replace(config, node_input=i, pool=p, num_layers=layers)
        for i in auto_inputs(dataset, config)
        for p in pools
    ]
    deeper = deepens(dataset, config)

    def fit_all(candidate: SubgraphConfig) -> tuple[nn.Module, Trainer]:
        """``candidate`` trained on every training subgraph (the run's own model)."""
        return _fit_one(dataset, candidate, train, graph, full, train_index, cache, callbacks)

    if len(candidates) == 1 and not deeper:
        return (*fit_all(candidates[0]), None)
    val = getattr(full, "val_mask", None)
    inner = val is None or not bool((val & labelled_rows(full.y)).any())
    choose_on, choose_index = full, train_index
    if inner:
        choose_on, choose_index = _inner_split(full, train_index, train.seed)

    def fit(i: int, candidate: SubgraphConfig) -> tuple[nn.Module, Trainer]:
        numbered = () if inner else [numbered_callback(cb, i, train.epochs) for cb in callbacks]
        with heartbeat.stage(f"candidate {i + 1} of {total}"):
            return _fit_one(
                dataset, candidate, train, graph, choose_on, choose_index, cache, numbered
            )

    metric = selection_metric(dataset)
    total = len(candidates) + int(deeper)  # at most: a perfect score ends the list early
    fits: list[tuple[nn.Module, Trainer]] = []
    scores: list[float] = []
    for i, candidate in enumerate(candidates):
        if scores and max(scores) >= 1.0:  # a perfect score: the later ones could only tie
            break
        fits.append(fit(i, candidate))
        scores.append(best_val_score(fits[-1][1], metric))
    skipped = candidates[len(fits) :]
    del candidates[len(fits) :]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))  # ties: the earlier one
    if deeper and scores[best] < 1.0:  # a perfect score cannot be beaten
        candidates.append(dataclasses.replace(candidates[best], num_layers=DEPTH_CHOICES[1]))
        fits.append(fit(len(fits), candidates[-1]))
        scores.append(best_val_score(fits[-1][1], metric))
        if scores[-1] > scores[best]:  # ties: the shallower
            best = len(fits) - 1
    if len(fits) == 1 and not skipped:  # one candidate, a perfect score: nothing was chosen
        return (*(fit_all(candidates[0]) if inner else fits[0]), None)

    def record(
        candidate: SubgraphConfig, score: float | None, kept: float | None, chosen: bool
    ) -> dict[str, Any]:
        return {
            "node_input": resolve_input_name(candidate.node_input, graph),
            "pool": candidate.pool,
            "layers": candidate.num_layers,
            "dropout": candidate.resolved_dropout(graph),
            f"val_{metric}": score,
            f"val_{metric}_kept": kept,
            "chosen": chosen,
            "inner_validation": inner,
        }

    kept = [kept_val_score(trainer, metric) for _, trainer in fits]
    rows = enumerate(zip(candidates, scores, kept, strict=True))
    selection = [record(c, s, k, i == best) for i, (c, s, k) in rows]
    # not trained: after a perfect score they could only tie, and ties go to the earlier
    selection += [{**record(c, None, None, False), "skipped": True} for c in skipped]
    log.info("Input, pooling and depth chosen on validation %s: %s", metric, selection)
    return (*(fit_all(candidates[best]) if inner else fits[best]), selection)


def best_val_score(trainer: Trainer, metric: str = "accuracy") -> float:
    """The best validation ``metric`` of ``trainer``'s evaluations (``-inf`` if none)."""
    key = f"val_{metric}"
    values = [float(r[key]) for r in trainer.history if key in r]
    return max((v for v in values if not math.isnan(v)), default=-math.inf)


def kept_val_score(trainer: Trainer, metric: str = "accuracy") -> float | None:
    """The validation ``metric`` of the epoch whose weights ``trainer`` kept.

    Candidates are compared on :func:`best_val_score`, their best epoch; the weights kept
    are those of the epoch the trainer monitors best (for subgraphs the lowest validation
    loss), whose score may be lower. :obj:`None` where no epoch was kept or scored.
    """
    value = trainer.kept_record().get(f"val_{metric}")
    return None if value is None or math.isnan(float(value)) else float(value)


INNER_VALIDATION = 0.1
"""Share of a fold's training subgraphs that ``pool="auto"`` chooses on (whole graphs)."""


def _inner_split(
    full: SubgraphBatch, train_index: Tensor, seed: int
) -> tuple[SubgraphBatch, Tensor]:
    """``full`` split for a choice inside ``train_index``, and its training positions.

    A stratified :data:`INNER_VALIDATION` of ``train_index`` becomes the validation
    subgraphs, the rest the training ones; nothing is a test subgraph.
    """
    from mmgraph.data.split import split_off_validation

    fit, val = split_off_validation(full.y, train_index, INNER_VALIDATION, seed)
    none = torch.zeros_like(fit)
    return with_split(full, fit, none, val), fit.nonzero().view(-1)


def norm_train_config(config: SubgraphConfig, train: TrainConfig) -> TrainConfig:
    """``train`` with ``config.norm``'s schedule of the batch norms.

    ``"frozen"``: the statistics are frozen from epoch ``epochs // 4 + 1`` on (unless
    ``train.freeze_norm_epoch`` is set already); the other norms leave ``train`` as it is.
    """
    if config.norm != "frozen" or train.freeze_norm_epoch is not None:
        return train
    return dataclasses.replace(train, freeze_norm_epoch=train.epochs // 4 + 1)


def _fit_one(
    dataset: SubgraphDataset,
    config: SubgraphConfig,
    train: TrainConfig,
    graph: Any,
    full: SubgraphBatch,
    train_index: Tensor,
    cache: NeighborhoodCache | None,
    callbacks: Sequence[Callback] = (),
) -> tuple[nn.Module, Trainer]:
    train = norm_train_config(config, train)
    seed_everything(train.seed, deterministic=train.deterministic)
    model = build_subgraph_model(dataset, config, graph, seed=train.seed)
    loader = SubgraphLoader(
        dataset,
        index=train_index,
        batch_size=config.batch_size,
        graph=graph,
        seed=train.seed,
        neighborhoods=cache,
    )
    weights = None
    if train.class_weights:
        weights = balanced_class_weights(dataset.y[train_index], dataset.num_classes)
    trainer = Trainer(model, train)
    trainer.fit(
        _validation_batch(dataset, full, graph, cache),
        objective=SupervisedObjective(class_weights=weights),
        loader=loader,
        callbacks=callbacks,
    )
    return model, trainer


def _validation_batch(
    dataset: SubgraphDataset, full: SubgraphBatch, graph: Any, cache: NeighborhoodCache | None
) -> SubgraphBatch:
    """A batch of just the labelled validation subgraphs (``full`` when there are none).

    The trainer evaluates the graph it is given after every ``eval_every`` epochs; giving it
    the validation subgraphs alone spares running the model over the whole data set.
    """
    val = getattr(full, "val_mask", None)
    if val is None or not bool((val & labelled_rows(full.y)).any()):
        return full
    ids = full.subgraph_id[val & labelled_rows(full.y)]
    batch = make_subgraph_batch(dataset, ids, graph=graph, neighborhoods=cache)
    every = torch.ones(ids.numel(), dtype=torch.bool)
    batch.train_mask, batch.val_mask, batch.test_mask = ~every, every, ~every
    return batch


def _refit(
    model: nn.Module,
    emb: Tensor,
    batch: SubgraphBatch,
    index: Tensor,
    seed: int,
    on_validation: bool,
) -> dict[str, Any]:
    """Refit ``model``'s head on the training rows ``index`` of ``emb`` (:func:`refit_head`).

    With ``on_validation`` (``head_fit="auto"``) and validation subgraphs, the refit head is
    kept only if its validation accuracy is at least the trained head's, else the trained
    one is put back; ties go to the refit, whose validation score, unlike the trained
    checkpoint's (the best of every epoch's on the same subgraphs), chose nothing. The
    validation logits come from ``emb`` (``model.encode``), not another pass of the model.
    """
    val = getattr(batch, "val_mask", None)
    if isinstance(val, Tensor):
        val = val & labelled_rows(batch.y)
    if not (on_validation and isinstance(val, Tensor) and bool(val.any())):
        record = refit_head(model, emb[index], batch.y[index], seed=seed)
        if record["refit"]:
            record["kept"] = True
        return record
    head, last = classifier_head(model), last_linear(model)  # forward = head(encode)

    def val_accuracy() -> float:
        with torch.no_grad():
            predicted = head(emb[val]).argmax(-1)
        return float((predicted == batch.y[val]).float().mean())

    trained = {k: v.detach().clone() for k, v in last.state_dict().items()}
    before = val_accuracy()
    record = refit_head(model, emb[index], batch.y[index], seed=seed)
    if record["refit"]:
        after = val_accuracy()
        record.update(val_accuracy_trained=before, val_accuracy_refit=after, kept=after >= before)
        if after < before:
            last.load_state_dict(trained)
    return record


def _val_outputs(batch: SubgraphBatch, logits: Tensor) -> tuple[Tensor, Tensor] | None:
    """The ``logits`` and labels of ``batch``'s labelled validation subgraphs (None if none)."""
    mask = getattr(batch, "val_mask", None)
    if mask is None:
        return None
    mask = mask & labelled_rows(batch.y)
    if not bool(mask.any()):
        return None
    return logits[mask.to(logits.device)].detach().cpu(), batch.y[mask].cpu()


def _split_metrics(
    trainer: Trainer, batch: SubgraphBatch, logits: Tensor
) -> dict[str, dict[str, float]]:
    """Each split's metrics from the ``logits`` of every subgraph of ``batch``."""
    out = {}
    for split in SPLITS:
        mask = getattr(batch, f"{split}_mask", None)
        if mask is not None and bool((mask & labelled_rows(batch.y)).any()):
            out[split] = _with_micro(trainer.evaluate(batch, mask, logits=logits))
    return out


def _probe_metrics(
    emb: Tensor, batch: SubgraphBatch, c: float, seed: int
) -> dict[str, dict[str, float]]:
    from mmgraph.eval import linear_probe

    y = batch.y
    labelled = labelled_rows(y)
    train = batch.train_mask & labelled
    out = {}
    for split in SPLITS:
        mask = getattr(batch, f"{split}_mask", None)
        if mask is not None and bool((mask & labelled).any()):
            probe = linear_probe(emb, y, train, mask & labelled, seed=seed, C=c)
            out[split] = _with_micro(probe)
    return out


def _fit_sub2vec(dataset: SubgraphDataset, config: SubgraphConfig, train: TrainConfig) -> Tensor:
    """The subgraph vectors of the :class:`~mmgraph.subgraph.sub2vec.Sub2Vec` estimator."""
    from mmgraph.embedding.estimator import TRAINER_OPTIONS
    from mmgraph.subgraph.sub2vec import Sub2Vec

    settings = train.to_dict()
    estimator = Sub2Vec(
        embedding_dim=config.hidden,
        tokens=config.tokens,
        mode=config.sub2vec_mode,
        walk_length=config.walk_length,
        walks_per_node=config.walks_per_node,
        context_size=config.context_size,
        num_negatives=config.num_negatives,
        batch_size=config.walk_batch_size,
        epochs=train.epochs,
        lr=train.lr,
        progress=train.progress,
        seed=train.seed,
        trainer_options={k: v for k, v in settings.items() if k in TRAINER_OPTIONS},
    )
    return estimator.fit(dataset).get_embedding()


def _warn_of_rare_classes_in_folds(dataset: SubgraphDataset, labelled: Tensor) -> None:
    """Warn of classes with one training graph, or none, in some fold.

    :func:`~mmgraph.tasks.node_classification.warn_of_rare_classes` on each fold's training
    graphs: a stray label (a 'yes' among 0s and 1s) has one training graph in nine folds
    and none in the tenth. The folds give the same sentences, each shown once.
    """
    assert dataset.folds is not None and dataset.y is not None
    where = f"In {dataset.name!r}" if dataset.name else "In the data set"
    item = "graph" if dataset.whole_graphs else "subgraph"
    names = getattr(dataset, "class_names", None)
    for train_idx, _ in dataset.folds:
        rows = train_idx[labelled[train_idx]]
        warn_of_rare_classes(
            dataset.y[rows], dataset.y[labelled], names, f"{where}, in some folds", item
        )


def _check_two_classes(dataset: SubgraphDataset, rows: Tensor, which: str) -> None:
    """Refuse training subgraphs (``rows``) of a single class: nothing to tell apart."""
    classes = torch.unique(dataset.y[rows])
    if classes.numel() >= 2:
        return
    names = getattr(dataset, "class_names", None) or []
    value = int(classes[0]) if classes.numel() else None
    label = names[value] if value is not None and value < len(names) else value
    name = dataset.name or "the data set"
    if dataset.whole_graphs:
        items, where = "graphs", "the graph labels file (NAME_graph_labels.txt in TU format)"
    else:
        items, where = "subgraphs", "a SubGNN file's second column"
    raise InputError(
        f"All {int(rows.sum())} {which} {items} of {name} have the label {label!r}: a "
        f"classifier needs at least two classes. Label {items} of another class (in {where})"
    )


SMALL_SPLIT = 10
"""Fewer labelled validation or test subgraphs than this warn: one subgraph moves the
score by a tenth or more."""


def _warn_of_small_splits(dataset: SubgraphDataset, labelled: Tensor) -> None:
    """Warn of a validation or test split of fewer than :data:`SMALL_SPLIT` subgraphs."""
    for which in ("val", "test"):
        mask = getattr(dataset, f"{which}_mask", None)
        count = 0 if mask is None else int((mask & labelled).sum())
        if 0 < count < SMALL_SPLIT:
            name = dataset.name or "the data set"
            warnings.warn(
                f"The {'validation' if which == 'val' else 'test'} split of {name} holds "
                f"{count} labelled subgraph{'s' if count > 1 else ''}: each moves its score by "
                f"{100 / count:.0f} points, so its scores say little. Label more subgraphs "
                "(`mmgraph subgraph generate` draws more on a larger base graph: --nodes)",
                UserWarning,
                stacklevel=3,
            )


UNSEEN_IDS = 0.5
"""The share of the evaluation subgraphs' nodes in no training subgraph above which
``node_input="id"`` warns (:func:`unseen_nodes`)."""


def unseen_nodes(dataset: SubgraphDataset, train: Tensor, evaluated: Tensor) -> tuple[int, int]:
    """``(unseen, total)``: how many nodes of the ``evaluated`` subgraphs no ``train`` one holds.

    ``total`` counts the distinct nodes of the ``evaluated`` subgraphs, ``unseen`` those in
    none of the ``train`` subgraphs (both boolean masks over the subgraphs). A learned id
    (``node_input="id"``) is trained only where its node lies in a training subgraph; an
    unseen node keeps its random draw. On SubGNN's component file no node of a validation
    or test subgraph lies in a training subgraph: a search that kept random ids there tested
    at chance on one seed of five (validation 0.96, test 0.52).
    """
    rows = train.nonzero().view(-1).tolist()
    seen = torch.zeros(int(dataset.graph.num_nodes or 0), dtype=torch.bool)
    if rows:
        seen[dataset.subgraph_index(rows)[0]] = True
    chosen = evaluated.nonzero().view(-1).tolist()
    if not chosen:
        return 0, 0
    nodes = dataset.subgraph_index(chosen)[0].unique()
    return int((~seen[nodes]).sum()), int(nodes.numel())


def _warn_of_unseen_ids(dataset: SubgraphDataset, batch: SubgraphBatch) -> None:
    """Warn when most nodes of the validation and test subgraphs have untrained random ids."""
    labelled = labelled_rows(batch.y)
    evaluated = torch.zeros_like(labelled)
    for which in ("val", "test"):
        mask = getattr(batch, f"{which}_mask", None)
        if mask is not None:
            evaluated |= mask & labelled
    unseen, total = unseen_nodes(dataset, batch.train_mask & labelled, evaluated)
    if total and unseen > UNSEEN_IDS * total:
        warnings.warn(
            f"{unseen} of the {total} nodes of the validation and test subgraphs "
            f"({100 * unseen / total:.0f}%) lie in no training subgraph: with node_input "
            "'id' their vectors stay the random draws they start from, never trained, and "
            "scores on them vary with the seed. Use 'node2vec' (--node-input node2vec), whose "
            "ids start from a node2vec embedding, near their neighbours', or 'auto'",
            UserWarning,
            stacklevel=3,
        )


def train_subgraph_model(
    dataset: SubgraphDataset,
    config: SubgraphConfig | None = None,
    train: TrainConfig | None = None,
    features: Any | None = None,
    progress: bool = False,
    callbacks: Sequence[Callback] = (),
    echo: Callable[[str], None] | None = None,
) -> SubgraphResult:
    """Train one method on ``dataset`` and evaluate it per split (or per fold).

    * ``glass`` / ``pool``: a :class:`~mmgraph.subgraph.GLASS` or
      :class:`~mmgraph.subgraph.PoolGNN` trained by the :class:`~mmgraph.train.Trainer`
      on mini-batches of training subgraphs (early stopping on the validation split when
      there is one, else on the training loss);
    * ``sub2vec``: the :class:`~mmgraph.subgraph.sub2vec.Sub2Vec` estimator (without labels), then
      a logistic-regression probe fitted on the training subgraphs.

    Data sets with a split use it; with folds and no split (TU), each fold's train/test
    indices; with neither, a seeded stratified 80/10/10 split.

    Args:
        dataset (SubgraphDataset): The data set.
        config (SubgraphConfig, optional): The method. (default: :obj:`SubgraphConfig()`)
        train (TrainConfig, optional): Training settings. (default: :obj:`TrainConfig()`)
        features (mmgraph.models.FeatureConfig, optional): How to featurize a base graph
            with raw text or images. (default: :obj:`None`, the default encoders)
        progress (bool, optional): Show progress bars. (default: :obj:`False`)
        callbacks (Sequence, optional): Per-epoch callbacks of the classifier's
            :meth:`~mmgraph.train.Trainer.fit` (not called for ``sub2vec``, whose training
            has no validation curve); with ``pool="auto"`` on a validation split, called by
            each pooling's training too, records numbered across them
            (:func:`~mmgraph.train.trainer.numbered_callback`). (default: ``()``)
        echo (callable, optional): Called with a line after each fold (folds only): its
            test accuracy, time and the time left at that pace, so that ten folds of
            several minutes are not silent. (default: :obj:`None`)

    Whole graphs (TU) train on :data:`WHOLE_GRAPH_THREADS` thread unless
    ``OMP_NUM_THREADS`` is set, and their folds side by side, one process a core
    (:func:`fold_jobs`), except with ``callbacks`` (they report to this process).
    """
    single = dataset.whole_graphs if isinstance(dataset, SubgraphDataset) else False
    with threads(WHOLE_GRAPH_THREADS) if single else contextlib.nullcontext():
        return _train_subgraph_model(dataset, config, train, features, progress, callbacks, echo)


WHOLE_GRAPH_THREADS = 1
"""PyTorch's threads while whole graphs (TU) train, unless ``OMP_NUM_THREADS`` says
otherwise. Their kernels are small: on the idle 2-core machine two threads were no faster
(MUTAG's 10 folds of 20 epochs: 21.7 s, one thread 21.9 s, ``benchmarks/results/threads.md``),
and beside other work they waited on each other, 4 to 17 times slower (a 200-graph TU set:
577 s, one thread 146 s; sweep 6). The defaults table's TU rows ran with one thread."""


@contextlib.contextmanager
def threads(count: int) -> Iterator[None]:
    """PyTorch's intra-op threads set to ``count`` for the block, then restored.

    With ``OMP_NUM_THREADS`` set, the user's count is kept.
    """
    if os.environ.get("OMP_NUM_THREADS"):
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train_subgraph_model(
    dataset: SubgraphDataset,
    config: SubgraphConfig | None,
    train: TrainConfig | None,
    features: Any | None,
    progress: bool,
    callbacks: Sequence[Callback],
    echo: Callable[[str], None] | None,
) -> SubgraphResult:
    if not isinstance(dataset, SubgraphDataset):
        raise TypeError(
            f"Expected a SubgraphDataset (got {type(dataset).__name__!r}); node-level graphs "
            "train with `mmgraph.tasks.train_node_classifier`"
        )
    config = config or SubgraphConfig()
    train = train or TrainConfig()
    if train.progress != progress:
        train = TrainConfig.from_dict({**train.to_dict(), "progress": progress})
    labelled = dataset.labelled
    if not bool(labelled.any()):
        raise ValueError("The data set has no labelled subgraphs to classify")
    if dataset.multi_label and config.head_fit == "refit":
        raise InputError(
            "head_fit='refit' fits one class per subgraph, but this data set is multi-label "
            "(several labels a subgraph): use head_fit='trained' or 'auto' (--head-fit)"
        )
    graph = _prepare_graph(dataset, features, progress)
    cache = None
    if config.method == "glass":
        cache = NeighborhoodCache(dataset, config.resolved_layers())
    full = make_subgraph_batch(dataset, graph=graph, neighborhoods=cache)
    has_split = dataset.train_mask is not None and bool((dataset.train_mask & labelled).any())
    if not dataset.multi_label:
        mask = dataset.train_mask
        if has_split and mask is not None:
            _check_two_classes(dataset, labelled & mask, "training")
            items = "graph" if dataset.whole_graphs else "subgraph"
            warn_of_rare_classes(
                dataset.y[labelled & mask],
                dataset.y[labelled],
                getattr(dataset, "class_names", None),
                f"In {dataset.name!r}" if dataset.name else "In the data set",
                items,
            )
        else:
            _check_two_classes(dataset, labelled, "labelled")
            if dataset.folds:
                _warn_of_rare_classes_in_folds(dataset, labelled)
    if has_split:
        _warn_of_small_splits(dataset, labelled)
    runs: list[tuple[str, SubgraphBatch]] = []
    if has_split:
        runs.append(("split", full))
    elif dataset.folds:
        for k, (tr, te) in enumerate(dataset.folds):
            runs.append((f"fold {k + 1}", with_split(full, tr, te)))
    else:
        from mmgraph.data.split import stratified_split

        masks = stratified_split(dataset.y, 0.8, 0.1, 0.1, seed=train.seed)
        runs.append(("split", with_split(full, masks[0], masks[2], masks[1])))
    if (
        config.method in ("glass", "pool")
        and not dataset.whole_graphs
        and resolve_input_name(config.node_input, graph) == "id"
    ):
        _warn_of_unseen_ids(dataset, runs[0][1])
    unsupervised = None
    if config.method == "sub2vec":
        unsupervised = _fit_sub2vec(dataset, config, train)
    run_metrics: list[dict[str, dict[str, float]]] = []
    selections: list[list[dict[str, Any]] | None] = []
    refits: list[dict[str, Any]] = []
    embeddings: list[Tensor] = []
    models: list[nn.Module] = []
    val_outputs: list[tuple[Tensor, Tensor] | None] = []
    started = time.perf_counter()
    jobs = fold_jobs(len(runs)) if dataset.whole_graphs and not callbacks else 1
    if unsupervised is not None:
        outcomes: Iterable[_RunOutcome | Tensor] = (unsupervised for _ in runs)
    elif jobs > 1:
        log.info("Training %s on %d folds, %d at once", config.method, len(runs), jobs)
        if echo is not None:
            echo(
                f"{len(runs)} folds, {jobs} at once, one process each, without progress bars "
                f"({FOLD_JOBS_VARIABLE}=1: one after the other)"
            )
        outcomes = _forked_runs(jobs, (dataset, config, train, graph, runs, cache))
    else:
        outcomes = (
            _classify(dataset, config, train, graph, runs, i, cache, callbacks)
            for i in range(len(runs))
        )
    for (_, batch), outcome in zip(runs, outcomes, strict=True):
        if isinstance(outcome, Tensor):  # sub2vec's embedding, probed on each run
            emb = outcome
            run_metrics.append(_probe_metrics(emb, batch, config.probe_c, train.seed))
        else:
            selections.append(outcome.selection)
            if outcome.refit is not None:
                refits.append(outcome.refit)
            run_metrics.append(outcome.metrics)
            val_outputs.append(outcome.val_outputs)
            models.append(outcome.model)
            emb = outcome.embeddings
        embeddings.append(emb)
        if echo is not None and len(runs) > 1:
            echo(_fold_line(len(run_metrics), len(runs), run_metrics[-1], started, jobs))
    if len(runs) == 1:
        metrics: dict[str, Any] = dict(run_metrics[0])
        if selections and selections[0] is not None:
            metrics["selection"] = selections[0]
        if refits:
            metrics["head_refit"] = refits[0]
        return SubgraphResult(metrics, embeddings[0], models, val_outputs)
    metrics = summarize_folds(run_metrics)
    if any(selection is not None for selection in selections):
        metrics["selection"] = selections
    if refits:
        metrics["head_refit"] = refits
    return SubgraphResult(metrics, torch.stack(embeddings), models, val_outputs)


@dataclasses.dataclass
class _RunOutcome:
    """What one run (a split or a fold) of a classifier gives :func:`train_subgraph_model`."""

    metrics: dict[str, dict[str, float]]
    selection: list[dict[str, Any]] | None
    refit: dict[str, Any] | None
    embeddings: Tensor
    model: nn.Module
    val_outputs: tuple[Tensor, Tensor] | None


def _classify(
    dataset: SubgraphDataset,
    config: SubgraphConfig,
    train: TrainConfig,
    graph: Any,
    runs: Sequence[tuple[str, SubgraphBatch]],
    i: int,
    cache: NeighborhoodCache | None,
    callbacks: Sequence[Callback] = (),
) -> _RunOutcome:
    """Train and evaluate the classifier of ``runs[i]`` (its own seeded training)."""
    name, batch = runs[i]
    log.info("Training %s on %s", config.method, name)
    index = (batch.train_mask & labelled_rows(batch.y)).nonzero().view(-1)
    fold = heartbeat.stage(f"{name} of {len(runs)}") if len(runs) > 1 else None
    with fold or contextlib.nullcontext():
        model, trainer, selection = _fit_classifier(
            dataset, config, train, graph, batch, index, cache, callbacks
        )
    model.eval()
    with torch.no_grad():
        emb = model.encode(batch).detach()  # type: ignore[operator]
    refit = None
    head_fit = "trained" if dataset.multi_label else config.resolved_head_fit()
    if head_fit != "trained" and getattr(model, "head", None) is not None:
        refit = _refit(model, emb, batch, index, train.seed, head_fit == "auto")
    logits = trainer.predict_logits(batch)  # one forward pass for every split
    metrics = _split_metrics(trainer, batch, logits)
    return _RunOutcome(metrics, selection, refit, emb, model, _val_outputs(batch, logits))


def fold_jobs(folds: int) -> int:
    """How many folds of whole graphs train at once: one per core, each on its threads.

    Each fold trains on :data:`WHOLE_GRAPH_THREADS` thread (``OMP_NUM_THREADS`` if set), so
    the cores this process may use, divided by that, train as many folds side by side
    (never more than ``folds``), each in a process of its own forked from this one. Each
    fold's training is seeded on its own, so the results are those of one fold after the
    other, only sooner (``benchmarks/results/fold_jobs.md``). One where processes cannot
    be forked: not on Linux, inside a daemonic process (a multiprocessing pool's worker),
    under ``torchrun``, or with ``MMGRAPH_FOLD_JOBS=1`` (any other whole number caps it).
    An ``OMP_NUM_THREADS`` that is no whole number (OpenMP's nested ``4,2``) counts its
    first number.
    """
    import multiprocessing

    from mmgraph.distributed import is_distributed

    if folds < 2 or not sys.platform.startswith("linux") or is_distributed():
        return 1
    if multiprocessing.current_process().daemon:  # a pool's worker may not start processes
        return 1
    cores = len(os.sched_getaffinity(0))
    first = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    per_fold = int(first) if first.isdigit() and int(first) > 0 else WHOLE_GRAPH_THREADS
    jobs = min(folds, max(1, cores // per_fold))
    cap = _positive_env_int(FOLD_JOBS_VARIABLE)
    return min(jobs, cap) if cap else jobs


FOLD_JOBS_VARIABLE = "MMGRAPH_FOLD_JOBS"
"""The environment variable that caps :func:`fold_jobs` (``1``: one fold after the other)."""


def _positive_env_int(name: str) -> int | None:
    """The environment variable ``name`` as a whole number >= 1, else :obj:`None`."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise InputError(f"${name} must be a whole number >= 1 (got {value!r}); unset it or fix it")
    return int(value)


_FORKED: tuple[Any, ...] = ()
"""What the forked fold workers read: set just before they start, never pickled."""


def _forked_run(i: int) -> _RunOutcome:
    """Fold ``i`` in a forked worker, on :data:`WHOLE_GRAPH_THREADS` thread.

    Without a progress bar: several processes would draw theirs on one line.
    """
    dataset, config, train, graph, runs, cache = _FORKED
    if not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(WHOLE_GRAPH_THREADS)
    if train is not None and train.progress:
        train = TrainConfig.from_dict({**train.to_dict(), "progress": False})
    return _classify(dataset, config, train, graph, runs, i, cache)


def _forked_runs(jobs: int, state: tuple[Any, ...]) -> Iterator[_RunOutcome]:
    """Each fold's outcome, in order, from ``jobs`` forked processes.

    A fold that raises stops the others: the folds not started are cancelled, the running
    ones finish, then the error is raised here. (A ``multiprocessing.Pool`` terminated
    after a fold's error could wait forever on its task queue: it hung a test run once.)
    A worker that dies (killed for memory, say) is named with the way around it.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _FORKED
    _FORKED = state
    executor = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"))
    try:
        futures = [executor.submit(_forked_run, i) for i in range(len(state[4]))]
        for future in futures:
            try:
                outcome = future.result()
            except BrokenProcessPool as error:
                raise RuntimeError(
                    f"A process training folds {jobs} at once stopped without a result "
                    f"(killed, perhaps for memory): set {FOLD_JOBS_VARIABLE}=1 to train "
                    "one fold after the other in this process"
                ) from error
            yield outcome
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        _FORKED = ()


def _fold_line(
    done: int, total: int, metrics: dict[str, dict[str, float]], since: float, jobs: int = 1
) -> str:
    """``fold 3/10: test accuracy 1.000 (4 s in all, about 9 s left)``.

    With ``jobs`` folds at once, a fold is done every ``fold time / jobs`` seconds once
    they run side by side, but the first ones all end after a whole fold's time: until
    ``jobs`` are done, the time per fold is the time spent over ``jobs``.
    """
    spent = time.perf_counter() - since
    left = spent / max(done, min(jobs, total)) * (total - done)
    accuracy = metrics.get("test", {}).get("accuracy")
    score = "" if accuracy is None else f": test accuracy {accuracy:.3f}"
    rest = f", about {left:.0f} s left" if done < total else ""
    return f"fold {done}/{total}{score} ({spent:.0f} s in all{rest})"


def summarize_folds(runs: Sequence[dict[str, dict[str, float]]]) -> dict[str, Any]:
    """Mean and standard deviation over runs (folds or seeds) of every split's metrics.

    Returns ``{split: {metric: mean, metric + "_std": std}, "runs": [...]}``.
    """
    out: dict[str, Any] = {}
    for split in SPLITS:
        values = [r[split] for r in runs if split in r]
        if not values:
            continue
        summary: dict[str, float] = {}
        for key in values[0]:
            column = [float(v[key]) for v in values if key in v]
            finite = [x for x in column if math.isfinite(x)]
            summary[key] = float(np.mean(finite)) if finite else math.nan
            summary[f"{key}_std"] = float(np.std(finite)) if finite else math.nan
        out[split] = summary
    out["runs"] = list(runs)
    return out


def subgraph_data_digest(dataset: SubgraphDataset) -> str:
    """A digest of a subgraph data set's content: graph, subgraphs, labels, split, folds."""
    import hashlib

    from mmgraph.encoders.cache import hash_tensor
    from mmgraph.tasks.node_classification import data_check

    digest = hashlib.sha256(data_check(dataset.graph)["digest"].encode())
    for nodes in dataset.subgraphs:
        digest.update(hash_tensor(torch.as_tensor(nodes)).encode())
    digest.update(hash_tensor(dataset.y).encode())
    masks = [getattr(dataset, key) for key in SPLIT_MASKS]
    for tensor in [*masks, *(t for fold in dataset.folds or () for t in fold)]:
        digest.update(b"-" if tensor is None else hash_tensor(tensor).encode())
    return digest.hexdigest()[:16]


# ------------------------------------------------------------------------- runs
def load_subgraph_dataset(source: str | Path, root: str | Path | None = None) -> SubgraphDataset:
    """Load a subgraph data set by built-in name or path (SubGNN or TU folder)."""
    from mmgraph.data.registry import load_dataset

    data = load_dataset(source, root=root)
    if not isinstance(data, SubgraphDataset):
        raise ValueError(
            f"{str(source)!r} is a node-level graph, not a subgraph data set: use "
            "`mmgraph train` for it, or pass a SubGNN folder (edge_list.txt, subgraphs.pth), "
            "a TU folder, or one of the names density, component, mutag, ptc, enzymes, imdb-multi"
        )
    return data


def run_subgraph_task(
    dataset: SubgraphDataset,
    config: SubgraphConfig | None = None,
    train: TrainConfig | None = None,
    seeds: Sequence[int] = (0,),
    out: str | Path | None = None,
    features: Any | None = None,
    progress: bool = False,
    source: dict[str, Any] | None = None,
    overwrite: bool = False,
    echo: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train with each seed, summarise, and write the results into ``out``.

    ``out`` receives ``metrics.json``, ``embeddings.npy`` and ``config.yaml``.
    With one seed the metrics are those of :func:`train_subgraph_model`; with several,
    each split's metrics are averaged over the seeds (``<metric>_std`` beside them) and
    every seed's result is kept under ``seeds``. The embeddings are the first seed's.

    Args:
        dataset (SubgraphDataset): The data set.
        config (SubgraphConfig, optional): The method. (default: :obj:`SubgraphConfig()`)
        train (TrainConfig, optional): Training settings; ``seed`` is replaced by each of
            ``seeds``. (default: :obj:`TrainConfig()`)
        seeds (Sequence[int], optional): Seeds to repeat the run with. (default: ``(0,)``)
        out (str or Path, optional): Folder to write. (default: :obj:`None`)
        features (mmgraph.models.FeatureConfig, optional): Featurization of raw
            modalities. (default: :obj:`None`)
        progress (bool, optional): Show progress bars. (default: :obj:`False`)
        source (dict, optional): Where the data came from, recorded in ``config.yaml``.
            (default: :obj:`None`)
        overwrite (bool, optional): Replace an existing ``out`` folder (refused otherwise,
            before training; the old one stays until the new one is complete).
            (default: :obj:`False`)
        echo (callable, optional): Told a line after each fold (see
            :func:`train_subgraph_model`). (default: :obj:`None`)

    Returns:
        dict: The metrics written to ``metrics.json``.
    """
    run: RunFolder | None = None
    if out is not None:
        run = RunFolder(out, overwrite=overwrite, resumable=False, kind="subgraph train").check()
    config = config or SubgraphConfig()
    train = train or TrainConfig()
    seeds = list(seeds)
    if not seeds:
        raise ValueError("Expected at least one seed")
    results = []
    for seed in seeds:
        settings = {**train.to_dict(), "seed": int(seed)}
        with heartbeat.stage(f"seed {seed}") if len(seeds) > 1 else contextlib.nullcontext():
            results.append(
                train_subgraph_model(
                    dataset, config, TrainConfig.from_dict(settings), features, progress, echo=echo
                )
            )
    if len(results) == 1:
        metrics: dict[str, Any] = dict(results[0].metrics)
    else:
        per_seed = [{s: r.metrics[s] for s in SPLITS if s in r.metrics} for r in results]
        metrics = summarize_folds(per_seed)
        metrics["seeds"] = [r.metrics for r in results]
    metrics["method"] = config.method
    metrics["dataset"] = dataset.name
    metrics["whole_graphs"] = bool(dataset.whole_graphs)
    metrics["seed_list"] = seeds
    if run is not None:
        doc = {
            "data": source or {"name": dataset.name},
            "subgraph": config.to_dict(),
            "train": train.to_dict(),
            "seeds": seeds,
        }
        with run.transaction() as folder:
            write_json(folder / METRICS, metrics)
            save_npy(folder / EMBEDDINGS, results[0].embeddings.cpu().numpy())
            (folder / RUN_CONFIG).write_text(yaml.safe_dump(doc, sort_keys=False))
    return metrics
