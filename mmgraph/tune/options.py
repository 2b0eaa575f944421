"""The options of each task, named as the command line names them, and what they build.

Each task's options are a flat mapping keyed by the long option names of its command
(``hidden``, ``lr``, ``text_encoder``, ...: ``mmgraph train`` for ``node``,
``mmgraph subgraph train`` for ``subgraph``, ``mmgraph embed --objective node2vec`` for
``unsupervised``), with the same defaults. The search spaces of :mod:`mmgraph.tune.space`
name these options, ``best.yaml`` is one such mapping, and ``--config best.yaml`` reads it
back, so a tuned configuration reruns with the command line unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from mmgraph.coordination import COORDINATION_LOSSES
from mmgraph.encoders.attributes import NUMERIC_SCALINGS
from mmgraph.encoders.text import WORD_TEXT_ENCODERS
from mmgraph.errors import InputError, as_flag
from mmgraph.fusion import FUSION_HEADS
from mmgraph.nn import AGGREGATORS
from mmgraph.resolver import MODALITIES, lookup, option_names
from mmgraph.subgraph.inputs import NODE_INPUTS
from mmgraph.tune.defaults import _LR_GAMMA, _MODEL, LOADER_OPTIONS, loader_options
from mmgraph.tune.defaults import COMMANDS as COMMANDS
from mmgraph.tune.defaults import NODE_OPTIMIZERS as NODE_OPTIMIZERS
from mmgraph.tune.defaults import OPTIONS as OPTIONS
from mmgraph.tune.defaults import TASKS as TASKS

WHOLE_GRAPH_DEFAULTS: dict[str, Any] = {
    "method": "pool",
    "aggregator": "gin",
    "hidden": 32,
    "layers": 4,
    # every layer's mean pooled, without dropout: chosen across MUTAG, PTC, ENZYMES and
    # IMDB-MULTI (benchmarks/results/defaults.md, second and third whole-graph rounds)
    "pool": "mean",
    "jk": True,
    "dropout": 0.0,
    "batch_size": 32,
    "epochs": 300,
    "lr": 0.01,
    "lr_step_size": 50,
    "monitor": "loss",
    "patience": None,
    "norm": "batch",
}
"""The subgraph task's defaults for whole graphs (TU folders), where GLASS's labelling trick
has nothing to mark: a pooling GNN with GIN layers and every layer's output pooled and
concatenated. The layers and training are those ``benchmarks/subgraph.py`` chose on inner
validation splits of MUTAG's folds (``benchmarks/results/subgraph.md``); the readout, the
mean of each layer rather than GIN's sum, was chosen by ``benchmarks/defaults.py`` on the
inner validation of all four TU sets (a tie in average rank, 1.5 each, broken by the lower
validation loss; with the sum ENZYMES did not fit its own training graphs), and so was
dropout 0 (average rank 1.88 against 2.12 for dropout 0.5 and 2.00 for hidden 64 without
dropout)."""

STRUCTURE_DEFAULTS: dict[str, Any] = {"node_input": "degree"}
"""What whole graphs whose nodes carry nothing but structure change of
:data:`WHOLE_GRAPH_DEFAULTS` (:func:`~mmgraph.subgraph.inputs.structure_only`: no features,
or one tag on every node, as IMDB-MULTI and the social sets of TU): a learned vector per
degree, GIN's input on such sets, instead of one constant vector. Chosen by
``benchmarks/defaults.py grid --family graph-structure --folds 10`` (IMDB-MULTI, and MUTAG,
PTC and ENZYMES with their tags removed; inner validation of each fold's training graphs):
average rank 1.75 against 2.75 for the constant input and for the sum readout with either
input; the pick in every leave-one-data-set-out round (``benchmarks/results/defaults.md``)."""


def whole_graph_defaults(graph: Any | None = None) -> dict[str, Any]:
    """The defaults of whole graphs like ``graph``.

    :data:`WHOLE_GRAPH_DEFAULTS`, and where ``graph``'s nodes carry nothing but structure
    (:func:`~mmgraph.subgraph.inputs.structure_only`) :data:`STRUCTURE_DEFAULTS` over them.
    """
    from mmgraph.subgraph.inputs import structure_only

    defaults = dict(WHOLE_GRAPH_DEFAULTS)
    if graph is not None and structure_only(graph):
        defaults.update(STRUCTURE_DEFAULTS)
    return defaults


WHOLE_GRAPH_WORK = 42_000_000
"""How much work one fold of a whole-graph run may do under the default epochs: epochs times
:func:`whole_graph_epoch_work`. Set so that IMDB-MULTI, the largest set the defaults were
chosen on (138,228 units an epoch), keeps its 300 epochs; a larger set trains fewer epochs
for about as long (one thread: 16-19 minutes for the 10 folds on the sets of
``benchmarks/results/graph_epochs.md``), not longer. ``--epochs`` overrides."""

WHOLE_GRAPH_EDGE_COST = 0.125
WHOLE_GRAPH_BATCH_COST = 2_000
"""What an edge and a batch cost against a node in :func:`whole_graph_epoch_work`: a
least-squares fit of epoch times of the default model (4 GIN layers of width 32, batches of
32 graphs, one thread) on the four shared TU sets and three generated ones of 73k-332k nodes
and 0.25-2.4 M edges (``python benchmarks/graph_epochs.py``): about 0.125 of a node's time
an edge, 1,500-2,400 nodes' time a batch."""

WHOLE_GRAPH_MIN_EPOCHS = 10
"""The fewest epochs the cap leaves (a set so large that even these take long)."""


def whole_graph_epoch_work(
    num_graphs: int,
    num_nodes: int,
    num_edges: int,
    batch_size: int | None = WHOLE_GRAPH_DEFAULTS["batch_size"],
) -> float:
    """The work of one epoch over whole graphs, in units of a node's time.

    ``num_graphs`` graphs of ``num_nodes`` nodes and ``num_edges`` directed edges in all, in
    batches of ``batch_size`` graphs (:obj:`None`: one batch): the nodes, plus
    :data:`WHOLE_GRAPH_EDGE_COST` per edge and :data:`WHOLE_GRAPH_BATCH_COST` per batch.
    """
    batches = 1 if not batch_size else -(-int(num_graphs) // int(batch_size))
    return (
        float(num_nodes)
        + WHOLE_GRAPH_EDGE_COST * float(num_edges)
        + WHOLE_GRAPH_BATCH_COST * batches
    )


def whole_graph_epochs(
    num_graphs: int,
    num_nodes: int,
    num_edges: int,
    batch_size: int | None = WHOLE_GRAPH_DEFAULTS["batch_size"],
    epochs: int = WHOLE_GRAPH_DEFAULTS["epochs"],
    lr_step_size: int | None = WHOLE_GRAPH_DEFAULTS["lr_step_size"],
) -> tuple[int, int | None]:
    """The default epochs and learning-rate step of whole graphs of this size.

    ``epochs``, or fewer (at least :data:`WHOLE_GRAPH_MIN_EPOCHS`) where ``epochs`` epochs
    would do more than :data:`WHOLE_GRAPH_WORK`; the step shrinks with them, so the
    learning rate is halved as many times. The four TU sets the defaults were chosen on
    (MUTAG, PTC, ENZYMES, IMDB-MULTI) keep 300 epochs and a step of 50.

    Example:
        >>> whole_graph_epochs(188, 3_371, 7_442)  # MUTAG
        (300, 50)
        >>> whole_graph_epochs(4_110, 122_203, 247_038)  # a set of NCI1's size
        (102, 17)
    """
    work = whole_graph_epoch_work(num_graphs, num_nodes, num_edges, batch_size)
    if work <= 0 or epochs * work <= WHOLE_GRAPH_WORK:
        return epochs, lr_step_size
    capped = max(WHOLE_GRAPH_MIN_EPOCHS, int(WHOLE_GRAPH_WORK // work))
    if capped >= epochs:
        return epochs, lr_step_size
    step = None if lr_step_size is None else max(1, round(lr_step_size * capped / epochs))
    return capped, step


_AGGREGATORS = tuple(AGGREGATORS)
_FUSIONS = tuple(FUSION_HEADS)  # importing coordination registers its heads
_MODEL_CHOICES: dict[str, tuple[Any, ...]] = {
    "aggregator": ("auto", *_AGGREGATORS),
    "fusion": _FUSIONS,
    "sequence_encoder": ("gru", "lstm", "conv", "mean"),
    "mvlstm_topology": (None, "view_specific", "coupled", "fully_connected", "hybrid"),
    "head": ("linear", "conv"),
    "numeric_scaling": ("auto", *NUMERIC_SCALINGS),
    "coordination": (None, *COORDINATION_LOSSES),
    "source": (None, *MODALITIES),
}

_DESIGN = ("layers", "head", "modality_dim")
"""Options a node run may leave to ``auto``: the design chosen on validation data."""

_AUTO_OPTIONS = (*_DESIGN, "dropout")
"""Numeric options that take ``auto`` where their task's default is ``auto``."""

CHOICES: dict[str, dict[str, tuple[Any, ...]]] = {
    "node": {**_MODEL_CHOICES, "head": ("auto", "linear", "conv"), "optimizer": NODE_OPTIMIZERS},
    "subgraph": {
        "method": ("glass", "pool", "sub2vec"),
        "node_input": NODE_INPUTS,
        "pool": ("auto", "mean", "sum", "max", "size", "attention"),
        "aggregator": ("auto", "sum", *_AGGREGATORS),  # sum: GLASS's; see SubgraphConfig
        "norm": ("batch", "frozen", "none"),  # SUBGRAPH_NORMS (mmgraph.subgraph; not imported here)
        "tokens": ("degree", "node"),
        "sub2vec_mode": ("dbow", "dm"),
    },
    "unsupervised": {
        **_MODEL_CHOICES,
        "objective": ("node2vec",),
        "encoder": ("shallow", "gnn"),
        "negative_distribution": ("uniform", "unigram"),
    },
}
"""The values each option with a fixed set of values accepts."""


def check_value(task: str, name: str, value: Any, where: str) -> None:
    """Refuse a value of the wrong type or outside the option's choices."""
    default = OPTIONS[task][name]
    choices = CHOICES[task].get(name)
    if choices is not None:
        if value not in choices:
            raise InputError(
                f"{where}: {value!r} is not a value of '{name}' (choose from "
                f"{', '.join(str(c) for c in choices)})"
            )
        return
    if value is None or (value == "auto" and default == "auto" and name in _AUTO_OPTIONS):
        return
    if isinstance(default, bool):
        ok = isinstance(value, bool)
        kind = "true or false"
    elif isinstance(default, int) or name in _DESIGN[::2]:  # layers, modality_dim
        ok = isinstance(value, int) and not isinstance(value, bool)
        kind = "an integer"
    elif isinstance(default, float) or name in _PROBABILITIES:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        kind = "a number"
    else:
        return
    if not ok:
        raise InputError(f"{where}: '{name}' takes {kind} (got {value!r})")
    if not isinstance(value, bool):
        low, high, rule = _bounds(name)
        if not (low is None or value >= low) or not (high is None or value < high):
            raise InputError(f"{where}: '{name}' takes {rule} (got {value!r})")


_PROBABILITIES = ("dropout", "head_dropout")
_AT_LEAST_ZERO = (
    "weight_decay",
    "coordination_weight",
    "translation_weight",
    "pretrain_epochs",
    "seed",
    "modality_dim",
)


def _bounds(name: str) -> tuple[float | None, float | None, str]:
    """``(low, high, words)``: the values an option takes are ``low <= v < high``."""
    if name in _PROBABILITIES:
        return 0.0, 1.0, "a number in [0, 1)"
    if name in ("z_ratio", "lr_gamma"):
        return 0.0, 1.0 + 1e-12, "a number in [0, 1]"
    if name in _AT_LEAST_ZERO:
        return 0.0, None, "a number >= 0"
    return 1e-300, None, "a number > 0"


def resolve(task: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The task's defaults updated by ``options``; unknown names refused, listing the valid."""
    table = OPTIONS[task]
    if task == "subgraph":
        from mmgraph.tasks.subgraph import migrate_subgraph_options

        options = migrate_subgraph_options(options)  # an earlier `aggr` (GLASS's)
    unknown = sorted(set(options) - set(table))
    if unknown:
        raise InputError(
            f"Unknown options {unknown} for {COMMANDS[task]} (valid: {', '.join(sorted(table))})"
        )
    return {**table, **options}


# ---------------------------------------------------------------------- node
@dataclasses.dataclass
class NodeRun:
    """The arguments of :func:`~mmgraph.tasks.train_node_classifier` for a node task."""

    data: Any  # DataSpec
    features: Any  # FeatureConfig
    model: dict[str, Any]
    train: Any  # TrainConfig
    pretrain_epochs: int


def _none_or(value: Any) -> Any:
    return None if value is None or str(value).lower() == "none" else value


def _features(options: Mapping[str, Any]) -> Any:
    from mmgraph.models import FeatureConfig

    text_encoder = _none_or(options["text_encoder"])
    dim = options.get("text_dim", 128)
    if dim != 128 and text_encoder not in WORD_TEXT_ENCODERS:
        raise InputError(
            f"text_dim (--text-dim {dim}) sizes the 'tfidf' and 'bow' text encoders, not "
            f"{text_encoder!r}: give --text-encoder tfidf (or bow), or drop --text-dim"
        )
    return FeatureConfig(
        text_encoder=text_encoder,
        image_encoder=_none_or(options["image_encoder"]),
        image_size=options["image_size"],
        text_dim=None if dim in (0, None) else int(dim),
        cache_dir=options["cache_dir"],
        on_image_error=options.get("on_image_error", "raise"),
    )


def model_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ModelConfig`` options of a command's model flags (``mmgraph train``, ``embed``)."""
    model: dict[str, Any] = {
        "aggregator": options["aggregator"],
        "fusion": options["fusion"],
        "hidden": options["hidden"],
        "num_layers": options["layers"],
        "modality_dim": options["modality_dim"] or None,
        "dropout": options["dropout"],
        "head": options["head"],
        "numeric_scaling": options["numeric_scaling"],
        # None: flags only where a numeric value is missing (mmgraph.models.auto)
        "missing_indicator": False if options["no_missing_indicator"] else None,
    }
    model.update(part_options(options))
    if options["modalities"]:
        model["modalities"] = list(options["modalities"])
    return model


def part_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The model options of the flags that belong to one part of the model.

    ``--sequence-encoder`` (:func:`sequence_options`); the fusion head's own flags, read by
    the head (its ``flag_names`` and ``options_from_flags``) into ``fusion_options``; and
    ``--coordination`` with its weight and size. ``mmgraph train`` and ``mmgraph embed``
    share it, so no flag is read by one and ignored by the other.

    Raises:
        InputError: A flag of another fusion head is given (it would be ignored).
    """
    out = sequence_options(options)
    fusion_options = fusion_flag_options(options)
    given_options = dict(options.get("fusion_options") or {})
    if given_options:
        head = lookup(FUSION_HEADS, options["fusion"], what="fusion head")
        _check_option_names(
            head, given_options, f"--fusion {options['fusion']}", "--fusion-options"
        )
        both = sorted(set(given_options) & set(fusion_options))
        if both:
            raise InputError(
                f"--fusion-options sets {', '.join(both)}, which the head's own flags set too: "
                "give each once"
            )
        fusion_options = {**given_options, **fusion_options}
    if fusion_options:
        out["fusion_options"] = fusion_options
    if options.get("coordination"):
        out.update(
            coordination=options["coordination"],
            coordination_weight=options["coordination_weight"],
            coordination_dim=options["coordination_dim"],
        )
        coordination_options = dict(options.get("coordination_options") or {})
        if coordination_options:
            loss = lookup(COORDINATION_LOSSES, options["coordination"], what="coordination loss")
            _check_option_names(
                loss,
                coordination_options,
                f"--coordination {options['coordination']}",
                "--coordination-options",
            )
            out["coordination_options"] = coordination_options
    else:
        given = [
            k
            for k in ("coordination_weight", "coordination_dim", "coordination_options")
            if k in options and options[k] != _MODEL.get(k)
        ]
        if given:
            flags = ", ".join(map(as_flag, given))
            one = len(given) == 1
            raise InputError(
                f"{flags} {'sets' if one else 'set'} the coordination loss, and none is "
                f"chosen: {'it' if one else 'they'} would change nothing. Add --coordination "
                f"NAME (one of {sorted(COORDINATION_LOSSES)}) or drop {'it' if one else 'them'}"
            )
    return out


def _check_option_names(cls: Any, options: Mapping[str, Any], what: str, flag: str) -> None:
    """Refuse ``options`` that ``cls`` (a fusion head or coordination loss) does not take."""
    names = option_names(cls)
    if names is None:  # it takes any
        return
    valid = [name for name in names if name not in ("in_channels", "out_channels")]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise InputError(
            f"{flag} gives {', '.join(unknown)}, which {what} does not take (its options: "
            f"{', '.join(valid) or 'none'})"
        )


def fusion_flag_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``fusion_options`` that the chosen head reads from its own flags.

    Each head names its flags (``flag_names``: ``source``, ``cycle`` and ``translation_weight``
    for translation; ``mvlstm_topology`` and ``mvlstm_gates`` for the MV-LSTM). A flag of
    another head, set away from its default, is refused rather than ignored.
    """
    head = lookup(FUSION_HEADS, options["fusion"], what="fusion head")
    own = tuple(getattr(head, "flag_names", ()))
    for name, other in FUSION_HEADS.items():
        given = [
            k
            for k in getattr(other, "flag_names", ())
            if k not in own and k in options and options[k] != _MODEL.get(k)
        ]
        if given:
            flags = ", ".join(map(as_flag, given))
            raise InputError(
                f"Options of --fusion {name} given with fusion {options['fusion']!r}: "
                f"{flags} ({', '.join(given)}); drop them, or use --fusion {name}"
            )
    return dict(head.options_from_flags(options)) if own else {}


def sequence_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The model option of ``--sequence-encoder``, when not the default."""
    if options["sequence_encoder"] != _MODEL["sequence_encoder"]:
        return {"sequence_encoder": options["sequence_encoder"]}
    return {}


def _train_config(o: Mapping[str, Any], progress: bool, **extra: Any) -> Any:
    """The ``TrainConfig`` of the training options supervised tasks share, plus ``extra``."""
    from mmgraph.train import TrainConfig

    if o["lr_step_size"] is None and o["lr_gamma"] != _LR_GAMMA:
        raise InputError(
            f"--lr-gamma {o['lr_gamma']} multiplies the learning rate every --lr-step-size "
            "epochs, and no step is given, so it would change nothing: add --lr-step-size "
            "EPOCHS or drop --lr-gamma"
        )
    return TrainConfig(
        epochs=o["epochs"],
        lr=o["lr"],
        lr_step_size=o["lr_step_size"],
        lr_gamma=o["lr_gamma"],
        weight_decay=o["weight_decay"],
        patience=o["patience"],
        monitor=o["monitor"],
        seed=o["seed"],
        progress=progress,
        **extra,
    )


def node_run(options: Mapping[str, Any], progress: bool = False) -> NodeRun:
    """What ``mmgraph train`` with these options trains (``options``: see :data:`OPTIONS`)."""
    from mmgraph.tasks import DataSpec
    from mmgraph.tasks.node_classification import design_choices

    o = resolve("node", options)
    model = model_options(o)
    design_choices(model)  # refuses bad combinations now
    train = _train_config(
        o,
        progress,
        class_weights=not o["no_class_weights"],
        optimizer=o["optimizer"],
        batch_size=o["batch_size"],
        fanouts=o["fanouts"],
    )
    split_seed = o["seed"] if o["split_seed"] is None else o["split_seed"]
    data = DataSpec(
        str(o["data"]),
        root=o["root"],
        options=loader_options(o),
        split=list(o["split"]),
        split_seed=split_seed,
    )
    return NodeRun(data, _features(o), model, train, int(o["pretrain_epochs"]))


# ------------------------------------------------------------------ subgraph
@dataclasses.dataclass
class SubgraphRun:
    """The arguments of :func:`~mmgraph.tasks.subgraph.run_subgraph_task`."""

    config: Any  # SubgraphConfig
    train: Any  # TrainConfig
    features: Any  # FeatureConfig
    seeds: list[int]
    source: dict[str, Any]


def subgraph_run(
    options: Mapping[str, Any],
    progress: bool = False,
    whole_graphs: bool = False,
    dataset: Any | None = None,
) -> SubgraphRun:
    """What ``mmgraph subgraph train`` with these options runs.

    ``whole_graphs``: the data are whole graphs (TU), whose defaults are
    :data:`WHOLE_GRAPH_DEFAULTS` for the options not in ``options`` (with ``dataset`` given,
    :func:`whole_graph_defaults` of its graph). ``dataset``: those graphs (a
    :class:`~mmgraph.data.SubgraphDataset`); without ``epochs`` in ``options``, its size
    caps the epochs (and their learning-rate step) as :func:`whole_graph_epochs` says
    (``mmgraph subgraph train`` prints it when it does).
    """
    from mmgraph.tasks.subgraph import (
        GLASS_ON_WHOLE_GRAPHS,
        LEARNED_IDS,
        SubgraphConfig,
        learned_ids_on_whole_graphs,
    )

    defaults = whole_graph_defaults(getattr(dataset, "graph", None)) if whole_graphs else {}
    if whole_graphs and dataset is not None and "epochs" not in options:
        graph = dataset.graph
        epochs, step = whole_graph_epochs(
            len(dataset),
            int(graph.num_nodes or 0),
            int(graph.edge_index.size(1)),
            batch_size=options.get("batch_size", defaults["batch_size"]),
        )
        defaults.update(epochs=epochs, lr_step_size=step)  # a given step still wins below
    o = resolve("subgraph", {**defaults, **options})
    if whole_graphs and o["method"] == "glass":  # before the pool's defaults are checked
        raise InputError(GLASS_ON_WHOLE_GRAPHS)
    if whole_graphs and o["node_input"] in LEARNED_IDS:
        raise InputError(learned_ids_on_whole_graphs(o["node_input"]))
    config = SubgraphConfig(
        method=o["method"],
        node_input=o["node_input"],
        hidden=o["hidden"],
        num_layers=o["layers"],
        pool=o["pool"],
        aggregator=o["aggregator"],
        z_ratio=o["z_ratio"],
        dropout=o["dropout"],
        jk=o["jk"],
        head_layers=o["head_layers"],
        head_dropout=o["head_dropout"],
        head_fit=o["head_fit"],
        norm=o["norm"],
        split_messages=o["split_messages"],
        batch_size=o["batch_size"],
        tokens=o["tokens"],
        sub2vec_mode=o["sub2vec_mode"],
        walk_length=o["walk_length"],
        walks_per_node=o["walks_per_node"],
    )
    train = _train_config(o, progress, class_weights=not o["no_class_weights"])
    seeds = list(range(o["seed"], o["seed"] + o["repeats"]))
    source = {"data": str(o["data"]), "root": None if o["root"] is None else str(o["root"])}
    return SubgraphRun(config, train, _features(o), seeds, source)


# -------------------------------------------------------------- unsupervised
@dataclasses.dataclass
class EmbedRun:
    """The arguments of :func:`~mmgraph.tasks.unsupervised.node2vec_embeddings`."""

    data: Any  # DataSpec
    encoder: str
    node2vec: dict[str, Any]
    features: Any | None
    model: dict[str, Any] | None
    train: Any | None  # TrainConfig


def embed_run(options: Mapping[str, Any], progress: bool = False) -> EmbedRun:
    """What ``mmgraph embed --objective node2vec`` with these options learns."""
    from mmgraph.tasks import DataSpec
    from mmgraph.tasks.unsupervised import GNN_TRAIN_DEFAULTS
    from mmgraph.train import TrainConfig

    o = resolve("unsupervised", options)
    wl, cs = o["walk_length"], o["context_size"]
    if wl is not None and cs is not None and cs > wl:
        raise InputError(
            f"'context_size' {cs} is longer than 'walk_length' {wl}; give a context size <= "
            "the walk length"
        )
    walk = {
        "walk_length": wl,
        "context_size": cs,
        "walks_per_node": o["walks_per_node"],
        "num_negatives": o["negatives"],
        "p": o["p"],
        "q": o["q"],
        "negative_distribution": o["negative_distribution"],
    }
    walk = {key: value for key, value in walk.items() if value is not None}
    data = DataSpec(str(o["data"]), root=o["root"], options=loader_options(o))
    if o["encoder"] == "shallow":
        settings = {
            **walk,
            "embedding_dim": o["dim"],
            "batch_size": o["batch_size"],
            "lr": o["lr"],
            "seed": o["seed"],
        }
        if o["epochs"] is not None:
            settings["epochs"] = o["epochs"]
        return EmbedRun(data, "shallow", settings, None, None, None)
    from mmgraph.models import ModelConfig

    model = model_options(o)
    ModelConfig(**model)
    train = TrainConfig(
        **{
            **GNN_TRAIN_DEFAULTS,
            **({"epochs": o["epochs"]} if o["epochs"] is not None else {}),
            "lr": o["lr"],
        },
        weight_decay=o["weight_decay"],
        seed=o["seed"],
        progress=progress,
    )
    walk.update(normalize=not o["dot"], temperature=o["temperature"])
    return EmbedRun(data, "gnn", walk, _features(o), model, train)


BUILDERS: dict[str, Callable[..., Any]] = {
    "node": node_run,
    "subgraph": subgraph_run,
    "unsupervised": embed_run,
}
"""Each task's options -> run arguments."""


# --------------------------------------------------------- run config files
_MODEL_KEYS = {
    "aggregator": "aggregator",
    "fusion": "fusion",
    "sequence_encoder": "sequence_encoder",
    "modalities": "modalities",
    "hidden": "hidden",
    "num_layers": "layers",
    "modality_dim": "modality_dim",
    "dropout": "dropout",
    "head": "head",
    "numeric_scaling": "numeric_scaling",
    "coordination": "coordination",
    "coordination_weight": "coordination_weight",
    "coordination_dim": "coordination_dim",
}
_SUBGRAPH_KEYS = {
    "method": "method",
    "node_input": "node_input",
    "hidden": "hidden",
    "num_layers": "layers",
    "pool": "pool",
    "aggregator": "aggregator",
    "z_ratio": "z_ratio",
    "dropout": "dropout",
    "jk": "jk",
    "head_layers": "head_layers",
    "head_dropout": "head_dropout",
    "head_fit": "head_fit",
    "norm": "norm",
    "split_messages": "split_messages",
    "batch_size": "batch_size",
    "tokens": "tokens",
    "sub2vec_mode": "sub2vec_mode",
    "walk_length": "walk_length",
    "walks_per_node": "walks_per_node",
}
_TRAIN_KEYS = ("epochs", "lr", "weight_decay", "lr_step_size", "lr_gamma", "patience", "monitor")
_RUN_SECTIONS = ("data", "features", "model", "train", "subgraph")


def is_run_config(doc: Any) -> bool:
    """Whether ``doc`` is a run folder's ``config.yaml`` (sections, not flat options)."""
    return (
        isinstance(doc, Mapping)
        and isinstance(doc.get("train"), Mapping)
        and any(isinstance(doc.get(key), Mapping) for key in ("model", "subgraph", "features"))
    )


def options_from_run_config(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The command-line options of a run folder's ``config.yaml``.

    Reads the sections that ``mmgraph train`` / ``embed --save-run`` (``data``,
    ``features``, ``model``, ``train``) and ``mmgraph subgraph train`` (``data``,
    ``subgraph``, ``train``, ``seeds``) write; sizes the model derived from the data, the
    schema and the trainer's internal settings are left out. A model without a head (an
    ``embed --save-run`` run's) gives ``encoder: gnn``, which ``embed`` reads.
    """
    out: dict[str, Any] = {}
    data = doc.get("data") or {}
    if isinstance(data, Mapping):
        if "source" in data:  # a node run's DataSpec
            out["data"] = data["source"]
            if data.get("split") is not None:
                out["split"] = list(data["split"])
        elif "data" in data:
            out["data"] = data["data"]
        if data.get("root") is not None:
            out["root"] = data["root"]
        for key, value in (data.get("options") or {}).items():
            if key in LOADER_OPTIONS:
                out[key] = value
    features = doc.get("features") or {}
    for key in ("text_encoder", "image_encoder", "image_size", "cache_dir", "on_image_error"):
        if key in features:
            value = features[key]
            out[key] = "none" if value is None and key != "cache_dir" else value
    if features.get("text_encoder") in WORD_TEXT_ENCODERS and "text_dim" in features:
        out["text_dim"] = features["text_dim"] or 0  # None: one column per word
    model = doc.get("model") or {}
    for key, option in _MODEL_KEYS.items():
        if key in model:
            out[option] = model[key]
    if model.get("num_classes") == 0:  # a headless GNN: `embed --encoder gnn --save-run`
        out["encoder"] = "gnn"
    fusion_options = model.get("fusion_options")
    head = FUSION_HEADS.get(str(model.get("fusion")))
    if head is not None and isinstance(fusion_options, Mapping):  # the head's own flags
        flags: dict[str, Any] = getattr(head, "flags_from_options", lambda o: {})(fusion_options)
        out.update(flags)
        by_flags = set(head.options_from_flags(flags)) if flags else set()
        rest = {k: v for k, v in fusion_options.items() if k not in by_flags}
        if rest:
            out["fusion_options"] = rest
    coordination_options = model.get("coordination_options")
    if (
        model.get("coordination")
        and isinstance(coordination_options, Mapping)
        and coordination_options
    ):
        out["coordination_options"] = dict(coordination_options)
    if "missing_indicator" in model:
        out["no_missing_indicator"] = not model["missing_indicator"]
    subgraph = doc.get("subgraph") or {}
    if isinstance(subgraph, Mapping):
        from mmgraph.tasks.subgraph import migrate_subgraph_options

        subgraph = migrate_subgraph_options(subgraph)  # a run saved with `aggr`
    for key, option in _SUBGRAPH_KEYS.items():
        if key in subgraph:
            out[option] = subgraph[key]
    train = doc.get("train") or {}
    for key in _TRAIN_KEYS:
        if key in train:
            out[key] = train[key]
    if "class_weights" in train:
        out["no_class_weights"] = not train["class_weights"]
    if train.get("optimizer") in NODE_OPTIMIZERS and not subgraph:
        out["optimizer"] = train["optimizer"]
    if not subgraph:
        for key in ("batch_size", "fanouts"):
            if key in train:
                out[key] = train[key]
    seeds = doc.get("seeds")
    if isinstance(seeds, list) and seeds:
        out["seed"], out["repeats"] = seeds[0], len(seeds)
    elif "seed" in train:
        out["seed"] = train["seed"]
    if doc.get("pretrain_epochs"):
        out["pretrain_epochs"] = doc["pretrain_epochs"]
    return out
