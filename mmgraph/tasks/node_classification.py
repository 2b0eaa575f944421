"""Node classification runs: train, evaluate, predict and embed, each from a run folder."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import math
import shutil
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from mmgraph import heartbeat
from mmgraph.config import ConfigBase
from mmgraph.data.graph import UNLABELLED, MultimodalGraph
from mmgraph.data.images import check_on_error
from mmgraph.data.registry import load_dataset
from mmgraph.data.schema import GraphSchema, conform
from mmgraph.data.split import check_trainable_split
from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.distributed import barrier, init_distributed, is_distributed, is_main_process
from mmgraph.encoders.text import WORD_TEXT_ENCODERS
from mmgraph.errors import InputError, read_yaml
from mmgraph.eval.metrics import to_jsonable
from mmgraph.models import FeatureConfig, ModelConfig, MultimodalGNN, featurize
from mmgraph.models.auto import AUTO, DESIGN_OPTIONS, design_candidates, text_candidates
from mmgraph.seed import seed_everything
from mmgraph.tasks.run_folder import (
    RunFolder,
    check_output_file,
    data_inputs,
    run_kind,
    staging_path,
    write_atomic,
)
from mmgraph.train import TrainConfig, Trainer
from mmgraph.train.checkpoint import CHECKPOINT, WEIGHTS, load_weights
from mmgraph.train.trainer import Callback, numbered_callback

log = logging.getLogger(__name__)

DEFAULT_SPLIT = (0.6, 0.2, 0.2)
NODE_TRAIN_DEFAULTS: dict[str, Any] = {"optimizer": "adam"}
"""Where node classification trains unlike :class:`~mmgraph.train.TrainConfig`'s defaults:
Adam with the weight decay as an L2 term of the gradient, GCN's recipe, which did better
than AdamW's decoupled decay across the six labelled node data sets
(``benchmarks/results/text_selection_compare.md``). ``mmgraph train`` has the same
defaults."""


def node_train_config(**options: Any) -> TrainConfig:
    """The :class:`~mmgraph.train.TrainConfig` of node classification's defaults, updated."""
    return TrainConfig(**{**NODE_TRAIN_DEFAULTS, **options})


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


def load_graph(
    spec: DataSpec,
    need_labels: bool = False,
    split: bool = True,
    loaded: Any = None,
    warn_without_edges: bool = True,
) -> MultimodalGraph:
    """Load the node-level graph of ``spec``; set a stratified split where it has none.

    ``split=False`` leaves a graph without a split of its own unsplit (see
    :func:`draw_split`); ``loaded``: what ``load_dataset`` gave for ``spec`` already.
    A graph without edges is warned of (classified from its nodes' own features) unless
    ``warn_without_edges=False`` (the caller refuses it, or reads no edges).
    """
    data = (
        loaded if loaded is not None else load_dataset(spec.source, root=spec.root, **spec.options)
    )
    if isinstance(data, SubgraphDataset):
        raise ValueError(
            f"{spec.source!r} is a subgraph data set ({len(data)} node sets): use "
            "`mmgraph subgraph train` for it"
        )
    graph = data
    y = getattr(graph, "y", None)
    if need_labels and (y is None or not bool((y >= 0).any())):
        raise ValueError(
            f"The data {spec.source!r} has no labels: `train` needs them (a dataset card's "
            "'label' column; in a TwiBot-20 file, each user's 'label'). Unlabelled graphs work "
            "with `mmgraph embed --objective node2vec`"
        )
    edge_index = getattr(graph, "edge_index", None)
    if warn_without_edges and (edge_index is None or edge_index.size(1) == 0):
        warnings.warn(
            f"{spec.source!r} has no edges between its nodes: every node is classified from "
            "its own features alone, the graph layers see no neighbours. If it should have "
            "some, check its edges (a card's edge table; in TwiBot files, neighbours count "
            "only when they are users of the same files)",
            UserWarning,
            stacklevel=2,
        )
    if split:
        draw_split(graph, spec)
    return graph


def needs_split(graph: MultimodalGraph) -> bool:
    """Whether ``graph`` is labelled and has no split of its own (:func:`draw_split` draws one)."""
    y = getattr(graph, "y", None)
    return y is not None and getattr(graph, "train_mask", None) is None and bool((y >= 0).any())


def draw_split(graph: MultimodalGraph, spec: DataSpec) -> bool:
    """Set ``spec``'s seeded stratified split on a labelled ``graph`` that has none of its own.

    In place; whether a split was drawn (:obj:`False` for a graph with its own split or
    without labels: :func:`needs_split`). Such a graph gets another split from each
    ``spec.split_seed``.
    """
    if not needs_split(graph):
        return False
    train, val, test = spec.split
    graph.set_split(train, val, test, seed=spec.split_seed)
    return True


@dataclasses.dataclass
class RunResult:
    """What :func:`train_node_classifier` returns."""

    run_dir: Path | None
    metrics: dict[str, dict[str, float]]
    trainer: Trainer
    graph: MultimodalGraph
    selection: list[dict[str, Any]] | None = None
    """With ``"auto"`` design options: each candidate's ``options``, ``val_accuracy``,
    ``val_loss`` and ``chosen`` (see :func:`train_node_classifier`)."""


SELECTION = "selection.json"
"""The run folder's record of the designs compared on validation data, if any."""

CHOICE = "choice.yaml"
"""In the staging folder of a run that chooses its design on validation data: the options
it started with (``"auto"`` ones included), from which ``resume`` takes up the choice."""

SEEDS_DOC = "seeds.yaml"
"""In the staging folder of a multi-seed run (``train --seeds``): the options and seeds it
started with, from which ``resume`` takes up the seeds not done."""


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
    overwrite: bool = False,
    resume: bool = False,
    callbacks: Sequence[Callback] = (),
) -> RunResult:
    """Train a :class:`~mmgraph.models.MultimodalGNN` node classifier end to end.

    Loads the data (or uses ``graph``), featurizes it, trains with early stopping on the
    validation split, and reports validation and test metrics. With ``out``, the run folder
    receives ``config.yaml``, the weights, logs and ``metrics.json``
    (``{"val": {...}, "test": {...}}``); it is written as a transaction
    (:class:`~mmgraph.tasks.run_folder.RunFolder`): into ``.NAME.partial`` beside it, moved
    into place once complete. An existing run is only replaced with ``overwrite=True``;
    ``resume=True`` continues an interrupted one (see :func:`resume_node_classifier`).
    ``prefeaturized=True`` says ``graph`` already went through
    :func:`~mmgraph.models.featurize` with ``features`` (to share it across runs).
    With ``pretrain_epochs`` (and ``fusion="autoencoder"`` or ``"boltzmann"``), the joint
    fusion head is first pretrained without labels (:func:`pretrain_fusion`: denoising
    reconstruction, or the DBM's contrastive divergence), then the whole model is fine-tuned.
    Without ``train``, it trains with :func:`node_train_config` (the command's defaults:
    Adam, the weight decay as an L2 term of the gradient).
    ``callbacks`` go to the classifier's :meth:`~mmgraph.train.Trainer.fit` (per epoch);
    with a design choice, to every candidate's, their records numbered across the
    candidates (``candidate``, ``step``): a pruner or a time budget (``mmgraph tune``) can
    then stop the choice itself.

    **Designs chosen on validation data.** ``model_options`` may set ``num_layers``,
    ``head`` and ``modality_dim`` to ``"auto"`` (as ``mmgraph train`` does by default):
    each design of :data:`mmgraph.models.auto.DESIGNS` is then trained on the featurized
    graph (:func:`~mmgraph.models.auto.design_candidates`), the one whose kept checkpoint
    has the highest validation accuracy is kept (ties: the lowest validation loss over its
    epochs, then the earlier design), and the run is that design's training, with the
    seed's random state, written as any other run (its ``config.yaml`` holds the chosen
    values; ``selection.json`` the scores of all). The test split plays no part in the
    choice. With ``out`` each design trains into a folder of its own inside the run's
    staging folder, and the chosen one's files become the run (nothing is trained twice).

    Raises:
        InputError: The run folder exists (without ``overwrite``), there is nothing to
            resume, or training would be degenerate: no training or validation nodes, or
            a single class among the training labels.
    """
    features = features or FeatureConfig()
    train = train or node_train_config()
    if pretrain_epochs < 0:
        raise InputError(f"Expected 'pretrain_epochs' >= 0 (got {pretrain_epochs})")
    hops = len(train.fanouts) if train.batch_size and train.fanouts else None
    candidates = design_choices(model_options, hops)
    if prefeaturized and features.text_encoder == AUTO:
        raise InputError(
            "text_encoder 'auto' featurizes the graph once per text candidate: pass the graph "
            "before featurize (prefeaturized=False), or the text encoder it was featurized with"
        )
    choosing = len(candidates) > 1 or features.text_encoder == AUTO
    init_distributed()  # under torchrun: join the process group before encoding
    if resume and choosing and (out is None or is_distributed()):
        raise InputError(
            "resume reads the chosen design from the run folder's config.yaml: use "
            "resume_node_classifier (or `mmgraph train --resume DIR`)"
        )
    folder = (
        RunFolder(out, overwrite=overwrite, resume=resume, kind="train").check() if out else None
    )
    if graph is None:
        graph = load_graph(data, need_labels=True)
    check_trainable(graph, data.source)
    feature_choices = text_candidates(features, graph, (model_options or {}).get("modalities"))
    pairs = [(f, c) for f in feature_choices for c in candidates]
    selection = None
    choose = functools.partial(
        _choose_design, data, pairs, train, graph, progress, prefeaturized, pretrain_epochs,
        callbacks,
    )  # fmt: skip
    if len(pairs) > 1 and folder is not None and not is_distributed():
        # each design trains into a folder of its own in the staging folder, resumably
        with folder.transaction(keep_partial=_choice_to_resume) as staging:
            if not resume:
                doc = {
                    "data": data.to_dict(),
                    "features": features.to_dict(),
                    "model": dict(model_options or {}),
                    "train": train.to_dict(),
                    "pretrain_epochs": pretrain_epochs,
                    DATA_CHECK: data_check(graph),
                }
                text = yaml.safe_dump(doc, sort_keys=False)
                write_atomic(staging / CHOICE, lambda fh: fh.write(text))
            chosen, selection = choose(staging, resume)
            write_json(staging / SELECTION, selection)
            (staging / CHOICE).unlink()
        return dataclasses.replace(chosen, run_dir=folder.final, selection=selection)
    if len(pairs) > 1:  # no folder, or under torchrun: resume was refused above
        chosen, selection = choose(None, False)
        if folder is None:
            return chosen
        features, model_options = pairs[next(i for i, c in enumerate(selection) if c["chosen"])]
    else:
        features, model_options = pairs[0]
    barrier()  # every rank has checked the run folder before rank 0 creates its staging

    def train_into(run_dir: Path | None) -> RunResult:
        # under torchrun, the chosen design is trained again into the run folder (the same
        # seeded run, so the same result)
        with heartbeat.stage("the chosen design") if selection else contextlib.nullcontext():
            result = _train(
                data,
                features,
                model_options,
                train,
                run_dir,
                graph,
                progress,
                prefeaturized,
                pretrain_epochs,
                resume,
                callbacks,
            )
        if selection is not None and run_dir is not None and is_main_process():
            write_json(run_dir / SELECTION, selection)
        return dataclasses.replace(result, selection=selection)

    if folder is None:
        return train_into(None)
    if not is_main_process():  # rank 0 alone writes; the others only need the path
        return dataclasses.replace(train_into(folder.staging), run_dir=folder.final)
    with folder.transaction(keep_partial=has_checkpoint) as staging:
        result = train_into(staging)
    return dataclasses.replace(result, run_dir=folder.final)


def design_choices(
    model_options: dict[str, Any] | None, hops: int | None = None
) -> list[dict[str, Any]]:
    """The model options :func:`train_node_classifier` chooses between (one: no choice).

    Those of :func:`~mmgraph.models.auto.design_candidates` that a model accepts; the first
    error if none does, so option errors surface before any work or write. A design the
    other options rule out (the conv head with a GGNN aggregator, or one reading more hops
    than mini-batches sample: ``hops``, the number of fan-outs) is left out of the choice.
    """
    valid, errors = [], []
    for candidate in design_candidates(model_options or {}):
        try:
            config = ModelConfig(**candidate)
        except ValueError as error:
            errors.append(error)
            continue
        needed = int(config.num_layers) + (config.head == "conv")
        if hops is not None and needed > hops:
            errors.append(
                InputError(
                    f"The design {describe_design(candidate)} reads {needed} hops and the "
                    f"mini-batches sample {hops} (one per fan-out): give --fanouts "
                    f"{' '.join(['10'] * needed)}"
                )
            )
            continue
        valid.append(candidate)
    if not valid:
        raise errors[0]
    for refused in errors:
        log.info("A design is left out of the choice: %s", refused)
    return valid


def describe_design(options: dict[str, Any]) -> str:
    """A design's options in words, e.g. ``2 layers, linear head, modality dim 64``.

    With a text encoder among them (chosen too), e.g. ``..., text tfidf``.
    """
    layers, dim = options.get("num_layers"), options.get("modality_dim")
    text = ""
    if "text_encoder" in options:
        name = str(options["text_encoder"]).rsplit("/", 1)[-1]
        text = f", text {name}" + (
            ""
            if name not in WORD_TEXT_ENCODERS or options.get("text_dim") is not None
            else " (no SVD)"
        )
    return (
        f"{layers} layer{'' if layers == 1 else 's'}, {options.get('head')} head, "
        f"{'no projection' if dim is None else f'modality dim {dim}'}{text}"
    )


def describe_selection(selection: Sequence[dict[str, Any]]) -> str:
    """One line: the designs compared and their validation accuracy/loss, the chosen marked.

    Accuracies show 3 decimals, more where two different ones would print the same (0.9995
    and 1.0 are not a tie broken by the loss).
    """
    scores = [float(s["val_accuracy"]) for s in selection]
    places = next(
        (d for d in range(3, 7) if len({f"{v:.{d}f}" for v in scores}) == len(set(scores))), 6
    )
    return "; ".join(
        f"{describe_design(s['options'])} {s['val_accuracy']:.{places}f}/{s['val_loss']:.4f}"
        + (" (chosen)" if s["chosen"] else "")
        for s in selection
    )


def min_val_loss(trainer: Trainer) -> float:
    """The lowest validation loss of ``trainer``'s evaluations (``inf`` if none)."""
    losses = [float(r["val_loss"]) for r in trainer.history if "val_loss" in r]
    return min((v for v in losses if not math.isnan(v)), default=math.inf)


def _choose_design(
    data: DataSpec,
    pairs: list[tuple[FeatureConfig, dict[str, Any]]],
    train: TrainConfig,
    graph: MultimodalGraph,
    progress: bool,
    prefeaturized: bool,
    pretrain_epochs: int,
    callbacks: Sequence[Callback] = (),
    staging: Path | None = None,
    resume: bool = False,
) -> tuple[RunResult, list[dict[str, Any]]]:
    """Train each candidate ``(features, model options)``; keep the best.

    With ``staging`` (a run's staging folder), each candidate trains into a folder of its
    own there (``.design-K``, the fitted encoders of its features in ``.features-K``), and
    the chosen one's files are moved into ``staging``: the run is that candidate's training.
    With ``resume``, a candidate whose folder holds a checkpoint continues from it (one
    that had finished trains no epoch), the others start anew.

    ``callbacks`` see every candidate's epochs, each record with ``candidate`` (its index)
    and ``step`` (``candidate * train.epochs + epoch``: one count across the candidates,
    as a pruner or a progress display needs).

    Returns the chosen candidate's result and the selection record: per candidate its
    ``options`` (the design's, and the text encoder's when several are compared),
    ``val_accuracy`` (of its kept checkpoint, the best epoch of ``train.monitor``),
    ``val_loss`` (the lowest validation loss of its epochs) and ``chosen``: the highest
    accuracy, ties broken by the lower loss, then by the earlier candidate. The graph is
    featurized once per feature config.

    Why accuracy first: with node classification's optimizer (Adam, L2 decay), picking on
    the validation accuracy ranked best across the six labelled node data sets, ahead of
    the lowest loss and of macro-F1 (``benchmarks/results/text_selection_compare.md``).
    With AdamW the kept checkpoint's accuracy (this rule) ranked best there too, and the
    lowest loss second (``benchmarks/results/design_selection.md``: 2.58 and 3.08).
    """
    featured: dict[str, MultimodalGraph] = {}
    feature_dirs: dict[str, Path | None] = {}
    results: list[RunResult] = []
    state_dirs: list[Path | None] = []  # each result's fitted encoders
    for features, candidate in pairs:
        key = repr(sorted(features.to_dict().items()))
        if key not in featured:
            state_dir = None if staging is None else staging / f".features-{len(featured)}"
            featured[key] = (
                graph
                if prefeaturized
                else featurize(graph, features, progress=progress, state_dir=state_dir)
            )  # resumed: the fitted encoders saved in state_dir are loaded
            feature_dirs[key] = state_dir
        numbered = [numbered_callback(cb, len(results), train.epochs) for cb in callbacks]
        if not results and len(pairs) > 1:
            numbered.append(_time_of_the_choice(pairs, train.epochs))
        run_dir = None if staging is None else staging / f".design-{len(results)}"
        again = False
        if run_dir is not None:
            again = resume and has_checkpoint(run_dir) and (run_dir / RUN_CONFIG).is_file()
            run_dir.mkdir(exist_ok=True)
        with heartbeat.stage(f"design {len(results) + 1} of {len(pairs)}"):
            result = _train(
                data, features, candidate, train, run_dir, graph, progress, prefeaturized,
                pretrain_epochs, again, numbered, featured=featured[key],
            )  # fmt: skip
        results.append(result)
        state_dirs.append(feature_dirs[key])
    losses = [min_val_loss(r.trainer) for r in results]
    accuracies = [float(r.metrics["val"]["accuracy"]) for r in results]
    best = min(range(len(losses)), key=lambda i: (-accuracies[i], losses[i], i))
    texts = len({f.text_encoder for f, _ in pairs}) > 1 or len({f.text_dim for f, _ in pairs}) > 1

    def described(features: FeatureConfig, candidate: dict[str, Any]) -> dict[str, Any]:
        options = {k: v for k, v in candidate.items() if k in DESIGN_OPTIONS}
        if texts:
            options["text_encoder"] = features.text_encoder
            if features.text_encoder in WORD_TEXT_ENCODERS:
                options["text_dim"] = features.text_dim
        return options

    selection = [
        {
            "options": described(*pair),
            "val_accuracy": accuracy,
            "val_loss": loss,
            "chosen": i == best,
        }
        for i, (pair, accuracy, loss) in enumerate(zip(pairs, accuracies, losses, strict=True))
    ]
    log.info("Design chosen on validation accuracy: %s", describe_selection(selection))
    if staging is not None:
        for source in (results[best].run_dir, state_dirs[best]):
            if source is not None and source.exists():
                for entry in source.iterdir():
                    entry.rename(staging / entry.name)
        for entry in [*staging.glob(".design-*"), *staging.glob(".features-*")]:
            shutil.rmtree(entry)
    return dataclasses.replace(results[best], selection=selection), selection


CHOICE_WARNING_SECONDS = 300.0
"""Above this estimate of the design choice's training time, the command says how long it
may take and how to train one design instead."""


def _time_of_the_choice(
    pairs: list[tuple[FeatureConfig, dict[str, Any]]], epochs: int, after: int = 3
) -> Callback:
    """A callback for the first candidate that warns when the choice may take long.

    After ``after`` epochs of the first candidate, the time an epoch takes (validation
    included) times the epochs of every candidate is the most the choice can take (early
    stopping may end candidates sooner). Above :data:`CHOICE_WARNING_SECONDS` the warning
    gives that figure and the options that fix the design and the text encoder, so that
    one model is trained: a default command on a graph of tens of thousands of nodes
    otherwise ran for most of an hour without a word.
    """
    import time

    start = time.perf_counter()
    said = False

    def check(trainer: Any, record: dict[str, Any]) -> None:
        nonlocal said
        epoch = int(record["epoch"])
        if said or epoch < after:
            return
        said = True
        per_epoch = (time.perf_counter() - start) / epoch
        most = per_epoch * epochs * len(pairs)
        if most <= CHOICE_WARNING_SECONDS:
            return
        designs = len({repr(sorted(c.items())) for _, c in pairs})
        texts = len({(f.text_encoder, f.text_dim) for f, _ in pairs})
        what = f"{designs} designs" + (f" x {texts} text encoders" if texts > 1 else "")
        fix = "--layers 1 --head linear --modality-dim 64 (or another design's three options)"
        if texts > 1:
            names = dict.fromkeys(
                f"{f.text_encoder}"
                + (
                    " --text-dim 0"
                    if f.text_encoder in WORD_TEXT_ENCODERS and f.text_dim is None
                    else ""
                )
                for f, _ in pairs
            )
            fix += " and one text encoder (--text-encoder " + " or ".join(names) + ")"
        log.warning(
            "Choosing the model trains %d candidates (%s) of up to %d epochs each: at %.1f s "
            "an epoch, up to %s. To train one model instead, fix them: %s",
            len(pairs), what, epochs, per_epoch, heartbeat.elapsed(most), fix,
        )  # fmt: skip

    return check


def _train(
    data: DataSpec,
    features: FeatureConfig,
    model_options: dict[str, Any] | None,
    train: TrainConfig,
    run_dir: Path | None,
    graph: MultimodalGraph,
    progress: bool,
    prefeaturized: bool,
    pretrain_epochs: int,
    resume: bool,
    callbacks: Sequence[Callback] = (),
    featured: MultimodalGraph | None = None,
) -> RunResult:
    """Train one design; ``featured``: ``graph`` featurized already (else done here)."""
    main_process = is_main_process()
    if featured is None and prefeaturized:
        featured = graph
    elif featured is None:
        featured = featurize(
            graph, features, progress=progress, state_dir=run_dir, load_state=resume
        )
    seed_everything(train.seed, deterministic=train.deterministic)
    model = MultimodalGNN.from_graph(featured, **(model_options or {}))
    if run_dir is not None and main_process and not resume:
        write_run_config(
            run_dir,
            data,
            features,
            model.config,
            train,
            GraphSchema.of(graph),
            pretrain_epochs=pretrain_epochs,
            graph=graph,
        )
    if pretrain_epochs > 0:
        # Resuming replays the pretraining (seeded, no checkpoint of its own); the resumed
        # fine-tuning then loads its checkpoint's weights and random state.
        pretrain_fusion(model, featured, train, pretrain_epochs)
    trainer = Trainer(model, train, out_dir=run_dir).fit(
        featured, resume=resume, callbacks=callbacks
    )
    metrics = split_metrics(trainer, featured)
    if run_dir is not None and main_process:
        write_json(run_dir / METRICS, metrics)
    return RunResult(run_dir, metrics, trainer, featured)


def pretrain_fusion(
    model: MultimodalGNN, graph: MultimodalGraph, train: TrainConfig, epochs: int
) -> None:
    """Pretrain the model's joint fusion head without labels, before fine-tuning.

    The head is found by its attribute, as the model builders read flags: a joint
    autoencoder (``autoencoder``, ``fusion="autoencoder"``) is trained for ``epochs`` epochs
    of :class:`~mmgraph.objectives.autoencoder.AutoencoderPretraining` by the trainer; a
    multimodal DBM (``boltzmann``, ``fusion="boltzmann"``) is fitted
    (:meth:`~mmgraph.coordination.MultimodalDBM.fit`: ``epochs`` epochs of each greedy RBM and
    of the joint training, seeded with ``train.seed``) on the modality embeddings of every
    node, computed once by the frozen encoders (evaluation mode); no label is read.

    Raises:
        InputError: The fusion head has nothing to pretrain.
    """
    head = model.fusion
    if getattr(head, "autoencoder", None) is not None:
        from mmgraph.objectives.autoencoder import AutoencoderPretraining

        pretrain = dataclasses.replace(train, epochs=epochs, patience=None)
        Trainer(model, pretrain).fit(graph, objective=AutoencoderPretraining(seed=train.seed))
        return
    dbm = getattr(head, "boltzmann", None)
    if dbm is None:
        raise InputError(
            "Pretraining trains a joint fusion head: use it with --fusion autoencoder or "
            f"--fusion boltzmann (got fusion={model.config.fusion!r})"
        )
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            xs, masks = model.modality_embeddings(graph)
    finally:
        model.train(was_training)
    saved = dbm.epochs, dbm.pretrain_epochs, dbm.seed
    dbm.epochs, dbm.pretrain_epochs, dbm.seed = epochs, epochs, train.seed
    try:
        dbm.fit(xs, masks)
    finally:
        dbm.epochs, dbm.pretrain_epochs, dbm.seed = saved


SEED_FOLDER = "seed-{}"
"""The run folder of each seed inside a multi-seed run (``DIR/seed-0``, ``DIR/seed-1``, ...)."""


def _with_split(graph: MultimodalGraph, spec: DataSpec) -> MultimodalGraph:
    """A copy of ``graph`` with ``spec``'s split drawn where it has none (:func:`draw_split`)."""
    graph = graph.clone()
    draw_split(graph, spec)
    return graph


def train_node_classifier_seeds(
    data: DataSpec,
    features: FeatureConfig | None = None,
    model_options: dict[str, Any] | None = None,
    train: TrainConfig | None = None,
    seeds: Sequence[int] = (0,),
    out: str | Path | None = None,
    progress: bool = True,
    pretrain_epochs: int = 0,
    overwrite: bool = False,
    split_per_seed: bool = False,
    loaded: Any = None,
) -> dict[str, Any]:
    """Train one node classifier per seed and summarise them (``mmgraph train --seeds``).

    With ``split_per_seed``, data without a split of its own get the seeded stratified
    split of each seed (``data.split_seed`` replaced by the seed: repeated runs over
    splits, as ``mmgraph train --seeds`` does); otherwise every seed trains on the split of
    ``data.split_seed``.

    With one seed this is :func:`train_node_classifier` with ``train.seed`` replaced. With
    several, ``out`` holds one complete run per seed in ``seed-K/`` (each readable by
    ``evaluate``, ``predict``, ``embed``) and ``metrics.json`` in the multi-seed shape of
    :func:`~mmgraph.tasks.subgraph.run_subgraph_task`: per split the mean of each metric
    and ``<metric>_std`` beside it, ``runs`` (each seed's split metrics), ``seeds`` (the
    same, as each seed's ``metrics.json``) and ``seed_list``. The folder is one transaction:
    it appears once every seed is done. An interrupted one keeps its finished seeds and the
    checkpoints of the seed it was training, and :func:`resume_node_classifier_seeds`
    (``mmgraph train --resume``) goes on from there. The data are read once (``loaded``:
    what ``load_dataset`` gave for ``data`` already); each seed trains on a copy.

    Returns:
        dict: The metrics (written to ``metrics.json``).
    """
    train = train or node_train_config()
    seeds = [int(seed) for seed in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise InputError(f"Expected one or more distinct seeds (got {seeds})")
    if len(seeds) == 1:
        result = train_node_classifier(
            data,
            features,
            model_options,
            dataclasses.replace(train, seed=seeds[0]),
            out=out,
            graph=None if loaded is None else load_graph(data, need_labels=True, loaded=loaded),
            progress=progress,
            pretrain_epochs=pretrain_epochs,
            overwrite=overwrite,
        )
        return result.metrics
    return _train_seeds(
        data,
        features or FeatureConfig(),
        dict(model_options or {}),
        train,
        seeds,
        split_per_seed=split_per_seed,
        pretrain_epochs=pretrain_epochs,
        out=out,
        progress=progress,
        overwrite=overwrite,
        loaded=loaded,
    )


def resume_node_classifier_seeds(out: str | Path, progress: bool = True) -> dict[str, Any]:
    """Continue the interrupted multi-seed run ``out`` (:func:`train_node_classifier_seeds`).

    The finished seeds' runs are kept as they are, the seed that was training continues
    from its last checkpoint (:func:`resume_node_classifier`) and the others train: the
    result equals that of an uninterrupted run. Data that changed since the run began are
    refused.
    """
    path = staging_path(out) / SEEDS_DOC
    if not path.is_file():
        RunFolder(out, resume=True).check()  # explains what is there instead
        raise InputError(
            f"'{staging_path(out)}' is not an interrupted run of several seeds (it has no "
            f"{SEEDS_DOC}): continue it with resume_node_classifier"
        )
    doc = read_run_doc(path)
    try:
        started = (
            DataSpec.from_dict(doc["data"]),
            FeatureConfig.from_dict(doc["features"]),
            dict(doc["model"]),
            dataclasses.replace(TrainConfig.from_dict(doc["train"]), progress=progress),
            [int(seed) for seed in doc["seeds"]],
        )
        split_per_seed, pretrain_epochs = bool(doc["split_per_seed"]), int(doc["pretrain_epochs"])
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(
            f"'{path}' is not one `mmgraph train` wrote ({error}): start the run again with "
            "--overwrite"
        ) from None
    return _train_seeds(
        *started,
        split_per_seed=split_per_seed,
        pretrain_epochs=pretrain_epochs,
        out=out,
        progress=progress,
        resume_from=doc.get(DATA_CHECK) or {},
    )


def is_seeds_run(out: str | Path) -> bool:
    """Whether ``out`` has an interrupted multi-seed run to resume."""
    return (staging_path(out) / SEEDS_DOC).is_file()


def _train_seeds(
    data: DataSpec,
    features: FeatureConfig,
    model_options: dict[str, Any],
    train: TrainConfig,
    seeds: list[int],
    *,
    split_per_seed: bool,
    pretrain_epochs: int,
    out: str | Path | None,
    progress: bool,
    overwrite: bool = False,
    loaded: Any = None,
    resume_from: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train the seeds of a multi-seed run, or resume them.

    ``resume_from``: the :func:`data_check` the interrupted run's :data:`SEEDS_DOC` recorded.
    """
    from mmgraph.tasks.subgraph import summarize_folds

    resume = resume_from is not None
    folder: RunFolder | None = None
    if out is not None:
        folder = RunFolder(out, overwrite=overwrite, resume=resume, kind="train").check()
    unsplit = load_graph(data, need_labels=True, split=False, loaded=loaded)  # read once
    check_trainable(_with_split(unsplit, data), data.source)

    def run_one(seed: int, run_dir: Path | None) -> tuple[dict[str, Any], Any]:
        if resume and run_dir is not None and (run_dir / METRICS).is_file():  # done before
            metrics = json.loads((run_dir / METRICS).read_text())
            chosen = run_dir / SELECTION
            return metrics, json.loads(chosen.read_text()) if chosen.is_file() else None
        if resume and run_dir is not None and staging_path(run_dir).is_dir():
            partial = staging_path(run_dir)
            if (partial / RUN_CONFIG).is_file() or (partial / CHOICE).is_file():
                result = resume_node_classifier(run_dir, progress=progress)
                return result.metrics, result.selection
            shutil.rmtree(partial)  # stopped before its training began: start it again
        spec = dataclasses.replace(data, split_seed=seed) if split_per_seed else data
        result = train_node_classifier(
            spec,
            features,
            model_options,
            dataclasses.replace(train, seed=seed),
            out=run_dir,
            graph=_with_split(unsplit, spec),
            progress=progress,
            pretrain_epochs=pretrain_epochs,
        )
        return result.metrics, result.selection

    def run_all(staging: Path | None) -> dict[str, Any]:
        runs, selections = [], []
        for seed in seeds:
            run_dir = None if staging is None else staging / SEED_FOLDER.format(seed)
            with heartbeat.stage(f"seed {seed}"):
                metrics, selection = run_one(seed, run_dir)
            runs.append(metrics)
            selections.append(selection)
        metrics = summarize_folds(runs)
        metrics["seeds"] = runs
        metrics["seed_list"] = seeds
        if any(selections):
            metrics["selection"] = selections
        if staging is not None:
            write_json(staging / METRICS, metrics)
            (staging / SEEDS_DOC).unlink(missing_ok=True)  # a complete run, not one to resume
        return metrics

    if folder is None:
        return run_all(None)

    def keep(staging: Path) -> bool:  # a seed done or with a checkpoint: worth resuming
        done = [staging / SEED_FOLDER.format(seed) for seed in seeds]
        return any((d / METRICS).is_file() or staging_path(d).is_dir() for d in done)

    with folder.transaction(keep_partial=keep) as staging:
        if resume_from is not None:
            refuse_changed_data(resume_from, unsplit, data.source, staging)
        else:
            doc = seeds_doc(
                data, features, model_options, train, seeds, split_per_seed, pretrain_epochs
            )
            doc[DATA_CHECK] = data_check(unsplit)
            text = yaml.safe_dump(doc, sort_keys=False)
            write_atomic(staging / SEEDS_DOC, lambda fh: fh.write(text))
        return run_all(staging)


def seeds_doc(
    data: DataSpec,
    features: FeatureConfig,
    model_options: Mapping[str, Any],
    train: TrainConfig,
    seeds: Sequence[int],
    split_per_seed: bool,
    pretrain_epochs: int,
) -> dict[str, Any]:
    """The options a multi-seed run records in :data:`SEEDS_DOC` (its data check aside).

    Plain values (tuples as lists), as read back from the file: :meth:`NodeSearch.
    resume_final <mmgraph.tune.searches.NodeSearch.resume_final>` compares them.
    """
    return to_jsonable(
        {
            "data": data.to_dict(),
            "features": features.to_dict(),
            "model": dict(model_options),
            "train": train.to_dict(),
            "seeds": [int(seed) for seed in seeds],
            "split_per_seed": bool(split_per_seed),
            "pretrain_epochs": int(pretrain_epochs),
        }
    )


def resume_node_classifier(out: str | Path, progress: bool = True) -> RunResult:
    """Continue the interrupted run ``out`` exactly where its last checkpoint left it.

    The options come from the ``config.yaml`` of its staging folder (``.NAME.partial``);
    the result equals that of an uninterrupted run.
    """
    staging = staging_path(out)
    if (staging / SEEDS_DOC).is_file():
        raise InputError(
            f"'{staging}' is an interrupted run of several seeds: continue it with "
            "resume_node_classifier_seeds (`mmgraph train --resume` does)"
        )
    path = staging / RUN_CONFIG
    if not path.is_file() and (staging / CHOICE).is_file():
        path = staging / CHOICE  # stopped while choosing the design: the choice goes on
    if not path.is_file():
        RunFolder(out, resume=True).check()  # explains what is there instead
        raise InputError(
            f"The interrupted run '{staging}' has no {RUN_CONFIG} (it stopped before "
            "training began): start it again with --overwrite"
        )
    doc = read_run_doc(path)
    # stopped before its first checkpoint: nothing was kept, so its training starts again
    # (the same seeded run) in place of the staging folder
    again = path.name == RUN_CONFIG and not (staging / CHECKPOINT).is_file()
    try:
        train = dataclasses.replace(TrainConfig.from_dict(doc["train"]), progress=progress)
        spec = DataSpec.from_dict(doc["data"])
        graph = None
        if isinstance(doc.get(DATA_CHECK), dict):  # runs of older versions have no record
            graph = load_graph(spec, need_labels=True)
            refuse_changed_data(doc[DATA_CHECK], graph, spec.source, staging)
        if again:
            log.info("'%s' stopped before its first checkpoint: its training starts again", staging)
        return train_node_classifier(
            spec,
            FeatureConfig.from_dict(doc["features"]),
            dict(doc["model"]),  # the saved config, derived sizes included
            train,
            out=out,
            graph=graph,
            progress=progress,
            pretrain_epochs=int(doc.get("pretrain_epochs", 0)),
            resume=not again,
            overwrite=again,
        )
    except (KeyError, TypeError) as error:
        raise InputError(
            f"The run config '{path}' is not one `mmgraph train` wrote ({error}): start the "
            "run again with --overwrite"
        ) from None


def check_trainable(graph: MultimodalGraph, source: str = "the data") -> None:
    """Refuse degenerate training: no training or validation nodes, or a single class."""
    how = (
        "give the data a split column with 'train' and 'val' rows, or (without one) --split "
        "fractions > 0 for both"
    )
    if getattr(graph, "y", None) is None:
        raise InputError(f"{source!r} has no labels: a node classifier needs a label column")
    check_trainable_split(graph, repr(source), how)
    _warn_of_rare_classes(graph, source)


def _warn_of_rare_classes(graph: MultimodalGraph, source: str) -> None:
    """Warn of a class with one training node, or none while other nodes have it.

    Balanced class weights make the one training node of a class count as much as a whole
    class, so the model may predict it more often than it occurs (on a new user's card with
    one such node, macro-F1 fell to 0.715); a class no training node has is never predicted.
    """
    y = graph.y
    labelled = y >= 0
    warn_of_rare_classes(
        y[graph.train_mask & labelled],
        y[labelled],
        getattr(graph, "class_names", None),
        f"In {source!r}",
        "node",
    )


def warn_of_rare_classes(
    train: torch.Tensor,
    labelled: torch.Tensor,
    names: Sequence[str] | None,
    where: str,
    item: str,
) -> None:
    """Warn of a class with one ``item`` among the ``train`` labels, or none in ``labelled``.

    ``train`` and ``labelled``: class indices of the training items and of every labelled
    one; ``where`` starts the sentence (``"In 'cora'"``); ``item`` is ``"node"`` or
    ``"subgraph"``. See :func:`_warn_of_rare_classes`.
    """
    if labelled.numel() == 0:
        return
    size = int(labelled.max()) + 1
    counts = torch.bincount(train, minlength=size)
    present = torch.bincount(labelled, minlength=counts.numel()) > 0
    names = list(names or []) or [str(i) for i in range(counts.numel())]
    once = [names[i] for i in range(counts.numel()) if counts[i] == 1]
    never = [names[i] for i in range(counts.numel()) if counts[i] == 0 and present[i]]
    parts = []
    if once:
        parts.append(
            f"{', '.join(map(repr, once))} ha{'ve' if len(once) > 1 else 's'} one training "
            f"{item}: balanced class weights (the default) make that {item} count as much as a "
            "whole class, so the model may predict it more often than it occurs"
        )
    if never:
        parts.append(
            f"{', '.join(map(repr, never))} ha{'ve' if len(never) > 1 else 's'} no training "
            f"{item}, so it is never predicted"
        )
    if parts:
        several = len(once) + len(never) > 1
        warnings.warn(
            f"{where}, class {'; class '.join(parts)}. Label more {item}s of "
            f"{'these classes' if several else 'it'}, or merge "
            f"{'them' if several else 'it'} into another class",
            UserWarning,
            stacklevel=4,
        )


def has_checkpoint(folder: Path) -> bool:
    """Whether a staging folder holds a trainer checkpoint that ``resume`` can continue."""
    return any(folder.glob("checkpoint*.safetensors")) or any(folder.glob("trainer_state*"))


def _choice_to_resume(staging: Path) -> bool:
    """Whether a design choice's staging folder holds a checkpoint that ``resume`` can use."""
    return (staging / CHOICE).is_file() and any(map(has_checkpoint, staging.glob(".design-*")))


def write_json(path: Path, value: Any) -> Path:
    """Write ``value`` as indented JSON, atomically."""
    text = json.dumps(to_jsonable(value), indent=2)
    return write_atomic(path, lambda fh: fh.write(text))


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
    pretrain_epochs: int = 0,
    graph: MultimodalGraph | None = None,
) -> Path:
    """Write ``config.yaml``: everything needed to rebuild the run's data and model.

    With ``graph`` (the data as loaded), its :func:`data_check` too, which the commands
    that reload the run's data compare with what they load.
    """
    doc: dict[str, Any] = {
        "data": data.to_dict(),
        "features": features.to_dict(),
        "model": model.to_dict(),
        "train": train.to_dict(),
        "schema": schema.to_dict(),
    }
    if pretrain_epochs:
        doc["pretrain_epochs"] = pretrain_epochs
    if graph is not None:
        doc[DATA_CHECK] = data_check(graph)
    text = yaml.safe_dump(doc, sort_keys=False)
    return write_atomic(run_dir / RUN_CONFIG, lambda fh: fh.write(text))


DATA_CHECK = "data_check"
"""The key of a run's ``config.yaml`` that holds :func:`data_check` of its data."""

_CHECKED_FIELDS = (
    *("node_id", "y", "edge_index", "edge_type", "edge_weight"),
    *("text", "image", "numeric", "categorical", "sequence", "sequence_length"),
)


def data_check(graph: MultimodalGraph) -> dict[str, Any]:
    """Sizes and a digest of a graph's content, to tell its data from changed data later.

    The digest covers node ids, labels, edges (with types and weights) and every modality's
    values (text, image paths or pixels, numeric, categorical, sequences); not image files'
    content. The split (which the run's data spec draws again from the same content) has a
    digest of its own, ``"split"``, where the graph has one: :func:`check_run_split`.
    """
    import hashlib

    digest = hashlib.sha256()
    for key in _CHECKED_FIELDS:
        _digest_field(digest, key, getattr(graph, key, None))
    edge_index = getattr(graph, "edge_index", None)
    check = {
        "num_nodes": int(graph.num_nodes or 0),
        "num_edges": int(edge_index.size(1)) if isinstance(edge_index, torch.Tensor) else 0,
        "digest": digest.hexdigest()[:16],
    }
    split = split_digest(graph)
    if split is not None:
        check["split"] = split
    names = getattr(graph, "class_names", None)
    if names is not None and getattr(graph, "y", None) is not None:
        check["class_names"] = [str(name) for name in names]  # the order of the model's outputs
    return check


_SPLIT_FIELDS = ("train_mask", "val_mask", "test_mask")


def split_digest(graph: MultimodalGraph) -> str | None:
    """A digest of ``graph``'s train/validation/test masks (:obj:`None`: it has no split)."""
    import hashlib

    if getattr(graph, "train_mask", None) is None:
        return None
    digest = hashlib.sha256()
    for key in _SPLIT_FIELDS:
        _digest_field(digest, key, getattr(graph, key, None))
    return digest.hexdigest()[:16]


def _digest_field(digest: Any, key: str, value: Any) -> None:
    from mmgraph.encoders.cache import hash_tensor

    if value is None:
        return
    digest.update(f"{key}\0".encode())
    if isinstance(value, torch.Tensor):
        digest.update(hash_tensor(value).encode())
    else:
        digest.update("\x1f".join("" if v is None else str(v) for v in value).encode())


def changed_data(then: dict[str, Any], now: dict[str, Any]) -> str | None:
    """How the data of :func:`data_check` ``now`` differs from ``then`` (:obj:`None`: not)."""
    if now["digest"] == then.get("digest"):
        return None
    if (then.get("num_nodes"), then.get("num_edges")) == (now["num_nodes"], now["num_edges"]):
        return "the same sizes, other ids, labels, edges or values"
    return (
        f"{then.get('num_nodes')} nodes and {then.get('num_edges')} edges then, "
        f"{now['num_nodes']} and {now['num_edges']} now"
    )


def refuse_changed_data(
    then: dict[str, Any], graph: MultimodalGraph, source: str, staging: Path
) -> None:
    """Refuse to resume the interrupted run in ``staging`` on data other than it began on."""
    how = changed_data(then, data_check(graph))
    if how is not None:
        raise InputError(
            f"The data at {source!r} changed since the interrupted run '{staging}' began "
            f"({how}): its finished part was trained on the old data. Restore the data to "
            "resume, or start the run again with --overwrite"
        )


def check_run_data(run: LoadedRun, graph: MultimodalGraph, refuse: bool) -> None:
    """Refuse (or warn of) the run's data source holding other data than it was trained on.

    Runs written before the check was recorded pass.
    """
    if run.data_check is None:
        return
    sizes = changed_data(run.data_check, data_check(graph))
    if sizes is None:
        return
    message = (
        f"The data at {run.data.source!r} is not the data the run {run.run_dir} was trained "
        f"on ({sizes})"
    )
    if refuse:
        raise InputError(
            f"{message}: its splits and scores would not be the run's. Train the run again "
            "on this data, or restore the data"
        )
    warnings.warn(f"{message}: the results are those of the data as it is now", stacklevel=3)


def check_run_split(run: LoadedRun, graph: MultimodalGraph) -> None:
    """Refuse ``graph`` split otherwise than the run's data when it was trained.

    ``data.split`` or ``data.split_seed`` edited in the run's ``config.yaml`` (or data whose
    own split changed) would make ``evaluate`` score nodes the model was trained on. Runs
    written before the split was recorded pass.
    """
    then = (run.data_check or {}).get("split")
    now = split_digest(graph)
    if then is None or now == then:
        return
    raise InputError(
        f"The split of the data at {run.data.source!r} is not the one the run {run.run_dir} "
        f"was trained with (data.split {list(run.data.split)}, data.split_seed "
        f"{run.data.split_seed} in '{run.run_dir / RUN_CONFIG}'): its validation and test "
        "scores would count nodes the model was trained on. Restore the split the run was "
        "trained with (an edited split or split_seed), or train the run again with the new one"
    )


def read_run_doc(path: Path) -> dict[str, Any]:
    """Read a run's ``config.yaml`` (a mapping; YAML errors name the file and line)."""
    doc = read_yaml(path, "run config")
    if not isinstance(doc, dict):
        raise InputError(
            f"The run config '{path}' is not a mapping of options: restore it or train the run "
            "again with --overwrite"
        )
    return doc


@dataclasses.dataclass
class LoadedRun:
    """A trained run read back from its folder."""

    run_dir: Path
    data: DataSpec
    features: FeatureConfig
    train: TrainConfig
    schema: GraphSchema
    model: MultimodalGNN
    data_check: dict[str, Any] | None = None
    """The run's record of its data (:func:`data_check`; :obj:`None` in older runs)."""

    @property
    def read_schema(self) -> GraphSchema:
        """The run's schema cut to the modalities its model reads.

        A run trained with ``--modalities text`` on data with numeric columns does not need
        those columns in new data: :func:`~mmgraph.data.schema.conform` drops them.
        """
        reads = set(self.model.config.modalities)
        if "attributes" in reads:
            reads |= {"numeric", "categorical"}
        kept = [m for m in self.schema.modalities if m in reads]
        return dataclasses.replace(
            self.schema,
            modalities=kept,
            numeric_names=self.schema.numeric_names if "numeric" in kept else None,
            categorical_names=self.schema.categorical_names if "categorical" in kept else None,
            categorical_vocabs=self.schema.categorical_vocabs if "categorical" in kept else None,
            sequence_views=self.schema.sequence_views if "sequence" in kept else None,
        )

    def prepare(self, graph: MultimodalGraph, progress: bool = True) -> MultimodalGraph:
        """Conform ``graph`` to the run's schema and featurize it as in training.

        The encoders fitted in training (a TF-IDF vocabulary, the ``"cnn"`` image
        autoencoder) are loaded from the run: a missing one is an error, never refitted on
        this data (nor written into the run).
        """
        graph = conform(graph, self.read_schema)
        return featurize(
            graph, self.features, progress=progress, state_dir=self.run_dir, load_state=True
        )


def load_run(run_dir: str | Path) -> LoadedRun:
    """Read a run folder written by :func:`train_node_classifier`.

    Raises:
        InputError: The folder is not a complete run, or its files were edited or damaged
            (the message names the file).
    """
    run_dir = Path(run_dir)
    path = run_dir / RUN_CONFIG
    if not path.is_file():
        for folder, writer in ((run_dir, "train --seeds"), (run_dir / "runs", "tune")):
            seed_runs = folder.glob(SEED_FOLDER.format("*"))
            names = [p.name for p in seed_runs if (p / RUN_CONFIG).is_file()]
            seeds = sorted(names, key=lambda name: (len(name), name))  # seed-2 before seed-10
            if seeds:
                where = "" if folder == run_dir else f" in {folder}"
                raise InputError(
                    f"{run_dir} holds a run per seed{where} ({', '.join(seeds)}), written by "
                    f"`mmgraph {writer}`: pass one of them, e.g. --run {folder / seeds[0]}"
                )
        kind = run_kind(run_dir) if run_dir.is_dir() else None
        if kind not in (None, "train", "embed"):
            raise InputError(
                f"{run_dir} holds a `mmgraph {kind}` run, which has no trained model: pass the "
                "folder given to `mmgraph train --out`"
            )
        partial = staging_path(run_dir)
        hint = (
            f"; its interrupted training is in '{partial}' (`mmgraph train --resume --out "
            f"{run_dir}` continues it)"
            if partial.is_dir()
            else ""
        )
        raise FileNotFoundError(
            f"No {RUN_CONFIG} in {run_dir}: pass the folder given to `mmgraph train --out`{hint}"
        )
    doc = read_run_doc(path)
    if "model" not in doc and "subgraph" in doc:
        raise InputError(
            f"{run_dir} is a `mmgraph subgraph train` run, not a node model: its subgraph "
            f"embeddings are in {run_dir / 'embeddings.npy'} (`mmgraph cluster` scores them; "
            "`--fold K` picks one fold's, of a run over folds) "
            f"and its metrics in {run_dir / 'metrics.json'}; node commands need a run of "
            "`mmgraph train` (or `mmgraph embed --save-run`, for `embed --run`)"
        )
    try:
        model = MultimodalGNN.from_config(ModelConfig.from_dict(doc["model"]))
        spec = DataSpec.from_dict(doc["data"])
        features = FeatureConfig.from_dict(doc["features"])
        train = TrainConfig.from_dict(doc["train"])
        schema = GraphSchema.from_dict(doc["schema"])
    except KeyError as error:
        raise InputError(
            f"The run config '{path}' lacks the section {error}: restore it or train the run "
            "again with --overwrite"
        ) from None
    except (TypeError, ValueError, AttributeError) as error:
        detail = " ".join(str(error).split())
        raise InputError(
            f"The run config '{path}' holds a value the model cannot use ({detail}): restore "
            "it or train the run again with --overwrite"
        ) from None
    weights = load_weights(run_dir / WEIGHTS)
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        first = str(error).strip().splitlines()
        detail = " ".join(first[1:3]) if len(first) > 1 else str(error)
        raise InputError(
            f"The weights '{run_dir / WEIGHTS}' do not fit the model of '{path}' "
            f"({' '.join(detail.split())[:300]}): the run's files come from different runs; "
            "train it again with --overwrite"
        ) from None
    model.eval()
    check = doc.get(DATA_CHECK)
    order = check.get("class_names") if isinstance(check, dict) else None
    if order is not None and schema.class_names is not None and schema.class_names != order:
        raise InputError(
            f"The run config '{path}' names the classes {schema.class_names} (schema."
            f"class_names), but the model was trained with them in the order {order}: its "
            "outputs would be named and scored as other classes. Restore schema.class_names"
        )
    return LoadedRun(
        run_dir, spec, features, train, schema, model, check if isinstance(check, dict) else None
    )


def load_classifier_run(run_dir: str | Path, command: str) -> LoadedRun:
    """:func:`load_run`, refusing a run without a classifier (``embed --save-run``'s)."""
    run = load_run(run_dir)
    if not run.model.config.num_classes:
        raise InputError(
            f"{run.run_dir} is an unsupervised embedding run (node2vec, no classifier), so "
            f"`{command}` has nothing to score or predict: `mmgraph embed --run "
            f"{run.run_dir}` writes its embeddings, and `mmgraph cluster` clusters them"
        )
    return run


def evaluate_run(
    run_dir: str | Path,
    progress: bool = True,
    out: str | Path | None = None,
    overwrite: bool = False,
) -> dict[str, dict[str, float]]:
    """Re-evaluate a run on its data and return the metrics.

    The run folder is left as it is; with ``out`` the metrics are also written there as
    JSON (an existing file only with ``overwrite``).
    """
    run = load_classifier_run(run_dir, "mmgraph evaluate")
    if out is not None:
        check_output_file(out, [run.run_dir, *data_inputs(run.data)], overwrite=overwrite)
    loaded = load_run_graph(run, need_labels=True)
    check_run_data(run, loaded, refuse=True)
    check_run_split(run, loaded)
    graph = run.prepare(loaded, progress=progress)
    trainer = Trainer(run.model, dataclasses.replace(run.train, progress=False))
    metrics = split_metrics(trainer, graph)
    if out is not None:
        write_json(Path(out), metrics)
    return metrics


def load_run_graph(run: LoadedRun, data: DataSpec | None = None, **kwargs: Any) -> MultimodalGraph:
    """:func:`load_graph` of ``data``, or of the run's own data, named as such when gone.

    A run records where its data was (``data.source`` in its ``config.yaml``): data moved
    since, or a run copied to another machine, gets a message saying so and how to point
    the run at it, not only the path.
    """
    if data is not None:
        return load_graph(data, **kwargs)
    try:
        return load_graph(run.data, **kwargs)
    except FileNotFoundError as error:
        config = run.run_dir / RUN_CONFIG
        raise InputError(
            f"The data the run was trained on is gone ({error}): the run records it as "
            f"data.source {run.data.source!r} in '{config}'. Put the data back there, or "
            "write its new place into that file (predict and embed also take --data)"
        ) from None


def with_run_loader_options(data: DataSpec | None, run: LoadedRun) -> DataSpec | None:
    """``data`` (other data than the run's) read as the run read its own.

    TwiBot data keeps the run's ``max_tweets`` unless ``data`` sets its own.
    """
    kept = run.data.options.get("max_tweets")
    if data is None or kept is None or "max_tweets" in data.options:
        return data
    from mmgraph.data.registry import is_twibot

    if not is_twibot(data.source, data.root):
        return data
    return dataclasses.replace(data, options={**data.options, "max_tweets": kept})


def prepared_graph(
    run: LoadedRun,
    data: DataSpec | None = None,
    progress: bool = True,
    graph: MultimodalGraph | None = None,
) -> MultimodalGraph:
    """The data (the run's own by default) conformed and featurized as in training.

    A modality the model reads but the data lacks is marked missing on every node (the
    model's learned "missing" inputs stand in), with a warning; data with none of the
    model's modalities is refused. ``graph``: the data, loaded already.
    """
    from mmgraph.models.multimodal_gnn import available_modalities

    data = with_run_loader_options(data, run)
    if graph is None:
        graph = load_run_graph(run, data)
        if data is None:  # the run's own data: still as it was?
            check_run_data(run, graph, refuse=False)
    graph = run.prepare(graph, progress)
    config = run.model.config
    need = list(config.modalities)
    have = [m for m in available_modalities(graph) if m in need and _any_present(graph, m)]
    if not have:
        raise InputError(
            f"The data {(data or run.data).source!r} has none of the modalities the run was "
            f"trained on ({need}) on any node: give it at least one of those columns, named "
            "as in the training data"
        )
    lacking = [m for m in need if m not in have]
    if lacking:
        head = ""
        if "sequence" in lacking and config.fusion == "mvlstm":
            head = (
                " The run's fusion head is the multi-view LSTM, which reads the other "
                "modalities only beside the sequence's steps: without any step its outputs "
                "barely depend on them (a run of `--fusion concat` would keep more)."
            )
        warnings.warn(
            f"The data {(data or run.data).source!r} lacks the run's modalit"
            f"{'ies' if len(lacking) > 1 else 'y'} {lacking} on every node: the model reads "
            f"them as missing on all nodes, which it never saw in training, so its outputs rest "
            f"on {have} alone and may differ much from the run's metrics.{head} Give the data "
            "those columns, named as in the training data, if it has them",
            UserWarning,
            stacklevel=2,
        )
    if config.num_relations > 1 and getattr(graph, "edge_type", None) is None:
        if graph.edge_index.size(1) > 0:
            raise InputError(
                f"The run was trained on {config.num_relations} edge relations but the data "
                f"{(data or run.data).source!r} has none: give its edges a relation column, "
                "named as in the training data"
            )
        graph.edge_type = torch.empty(0, dtype=torch.long)
    n = int(graph.num_nodes)
    absent = torch.zeros(n, dtype=torch.bool)
    if "text" in need and getattr(graph, "x_text", None) is None:
        graph.x_text, graph.text_present = torch.zeros(n, config.text_dim), absent
    if "image" in need and config.image_encoder == "precomputed":
        if getattr(graph, "x_image", None) is None:
            graph.x_image, graph.image_present = torch.zeros(n, config.image_dim), absent
    elif "image" in need and getattr(graph, "image", None) is None:
        size = run.features.image_size
        graph.image, graph.image_present = torch.zeros(n, config.image_dim, size, size), absent
    return graph


def _any_present(graph: MultimodalGraph, modality: str) -> bool:
    """Whether some node of ``graph`` has ``modality``."""
    keys = ["numeric", "categorical"] if modality == "attributes" else [modality]
    masks = [getattr(graph, f"{key}_present", None) for key in keys]
    return any(mask is not None and bool(mask.any()) for mask in masks)


def with_image_errors(run: LoadedRun, on_image_error: str | None) -> LoadedRun:
    """``run`` reading images with ``on_image_error`` (:obj:`None`: its own setting).

    New data may hold image paths to no file, or broken files, where the run's own had none:
    ``"missing"`` marks those nodes as lacking an image instead of stopping.
    """
    if on_image_error is None:
        return run
    check_on_error(on_image_error)
    features = dataclasses.replace(run.features, on_image_error=on_image_error)
    return dataclasses.replace(run, features=features)


def predict_run(
    run_dir: str | Path,
    out: str | Path,
    data: DataSpec | None = None,
    progress: bool = True,
    overwrite: bool = False,
    on_image_error: str | None = None,
) -> Path:
    """Write ``node_id, predicted_class, probability`` (and each class's probability) to CSV.

    ``data`` defaults to the run's own data; any other data set (with or without labels)
    is conformed to the run's columns first. The data's own labels, classes the run never
    saw included, are written as ``true_class``. ``out`` may not be a file the command reads
    (the data's or the run's), nor an existing file unless ``overwrite``.
    ``on_image_error`` replaces the run's setting (see :func:`with_image_errors`).
    """
    import pandas as pd

    run = with_image_errors(load_classifier_run(run_dir, "mmgraph predict"), on_image_error)
    out = check_output_file(out, [run.run_dir, *data_inputs(data or run.data)], overwrite=overwrite)
    data = with_run_loader_options(data, run)
    graph = load_run_graph(run, data)
    if data is None:  # the run's own data: still as it was? (before its labels are dropped)
        check_run_data(run, graph, refuse=False)
    truth = _label_texts(graph)
    if getattr(graph, "y", None) is not None:
        del graph.y  # predictions need no labels: classes the run never saw are fine here
    graph = prepared_graph(run, data, progress, graph=graph)
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
    if truth is not None:
        frame["true_class"] = truth
    return write_atomic(out, lambda fh: frame.to_csv(fh, index=False))


def _label_texts(graph: MultimodalGraph) -> list[str | None] | None:
    """Each node's class name (None: unlabelled), or None for a graph without labels."""
    y = getattr(graph, "y", None)
    if y is None or y.dim() != 1:
        return None
    names = getattr(graph, "class_names", None) or [str(k) for k in range(int(y.max()) + 1)]
    return [None if v == UNLABELLED else names[v] for v in y.tolist()]


def save_npy(path: str | Path, array: np.ndarray) -> Path:
    """Write ``array`` to exactly ``path`` (``np.save`` would append ``.npy``), atomically."""
    return write_atomic(path, lambda fh: np.save(fh, array, allow_pickle=False), binary=True)


def embed_run(
    run_dir: str | Path,
    out: str | Path,
    data: DataSpec | None = None,
    progress: bool = True,
    overwrite: bool = False,
    on_image_error: str | None = None,
) -> tuple[Path, np.ndarray]:
    """Write the trained model's node embeddings ``[N, hidden]`` to a ``.npy`` file.

    ``on_image_error`` replaces the run's setting (see :func:`with_image_errors`).
    """
    run = with_image_errors(load_run(run_dir), on_image_error)
    out = check_output_file(out, [run.run_dir, *data_inputs(data or run.data)], overwrite=overwrite)
    graph = prepared_graph(run, data, progress)
    with torch.no_grad():
        emb = run.model.encode(graph).numpy()
    return save_npy(out, emb), emb
