"""A model trained from Python, written as a run folder the commands open."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from mmgraph.data.graph import SPLIT_MASKS, MultimodalGraph
from mmgraph.data.schema import GraphSchema
from mmgraph.encoders.text import TEXT_ENCODER_CLASSES
from mmgraph.errors import InputError
from mmgraph.models import FeatureConfig, MultimodalGNN
from mmgraph.models.features import FROZEN_CNN
from mmgraph.tasks.node_classification import (
    METRICS,
    RUN_CONFIG,
    DataSpec,
    load_graph,
    split_metrics,
    write_json,
    write_run_config,
)
from mmgraph.tasks.run_folder import RUN_MARKER, holds_run
from mmgraph.train import Trainer
from mmgraph.train.checkpoint import WEIGHTS, save_weights

ENCODER_STATES = ("text_encoder", "image_encoder")  # what featurize(state_dir=) writes


def save_run(
    folder: str | Path,
    trainer: Trainer,
    graph: MultimodalGraph,
    features: FeatureConfig,
    data: str | Path | DataSpec,
    overwrite: bool = False,
) -> Path:
    """Write a model trained from Python as a run folder the commands open.

    ``mmgraph evaluate``, ``predict``, ``embed --run`` and ``retrieve`` (and
    :func:`~mmgraph.tasks.load_run`) read it as a run of ``mmgraph train``. The folder
    receives ``config.yaml`` (where the data comes from, the features, the model, the
    training settings and the columns' schema), ``model.safetensors`` (the trainer's model:
    the best weights once :meth:`~mmgraph.train.Trainer.fit` returns), ``metrics.json`` and
    the run marker. It may be the trainer's own ``out_dir``, whose
    history and checkpoint then stay beside them.

    Args:
        folder (str or Path): The run folder.
        trainer (Trainer): A trainer of a :class:`~mmgraph.models.MultimodalGNN`.
        graph (MultimodalGraph): The featurized graph it was trained on.
        features (FeatureConfig): The settings ``graph`` was featurized with, which new
            data is featurized with. A text or image encoder fitted on the data (TF-IDF,
            bag of words, the ``"cnn"`` autoencoder) must have been saved in ``folder``:
            ``featurize(graph, features, state_dir=folder)``.
        data (str, Path or DataSpec): Where the graph comes from (its dataset card or a
            built-in name, as ``--data`` takes), reloaded by ``evaluate``. Its split must be
            the graph's: a graph split with ``set_split(train, val, test, seed=s)`` on a card
            without a split of its own needs ``DataSpec(card, split=[train, val, test],
            split_seed=s)`` (the defaults are ``set_split``'s).
        overwrite (bool, optional): Replace the run already in ``folder``.
            (default: :obj:`False`)

    Returns:
        Path: The run folder.

    Raises:
        InputError: A model other than ``MultimodalGNN``, data that does not load to the
            graph's nodes, labels and split, features that do not give the graph's again
            (checked on its first :data:`CHECKED_NODES` nodes), a fitted encoder not saved
            in ``folder``, or a folder holding a run (without ``overwrite``) or other files.
    """
    folder = Path(folder).expanduser()
    model = trainer.model
    if not isinstance(model, MultimodalGNN):
        raise InputError(
            f"save_run writes runs of MultimodalGNN models (got {type(model).__name__}): "
            "the commands rebuild the model from its config"
        )
    spec = data if isinstance(data, DataSpec) else DataSpec(str(data))
    loaded = _check_same_data(spec, graph)
    _check_fitted_encoders(features, graph, folder)
    _check_folder(folder, trainer, overwrite)
    _check_same_features(folder, spec, features, trainer, graph, loaded)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RUN_MARKER).write_text("a run folder written by mmgraph\n")
    # the schema of the data as loaded, as `mmgraph train` records it: the featurized graph's
    # modalities no longer name the raw text and images that new data is encoded from
    schema = GraphSchema.of(loaded)
    write_run_config(folder, spec, features, model.config, trainer.config, schema, graph=loaded)
    save_weights(model.state_dict(), folder / WEIGHTS)
    labelled = getattr(graph, "y", None) is not None and model.head is not None
    write_json(folder / METRICS, split_metrics(trainer, graph) if labelled else {})
    return folder


def _check_same_data(spec: DataSpec, graph: MultimodalGraph) -> MultimodalGraph:
    """Refuse a ``spec`` that loads other nodes, labels or split than ``graph``'s.

    Returns the graph ``spec`` loads.
    """
    loaded = load_graph(spec)
    mine, theirs = getattr(graph, "y", None), getattr(loaded, "y", None)
    if isinstance(mine, Tensor) and isinstance(theirs, Tensor):
        same_labels = mine.shape == theirs.shape and torch.equal(mine.cpu(), theirs)
    else:
        same_labels = mine is None and theirs is None
    if loaded.num_nodes != graph.num_nodes or not same_labels:
        what = (
            f"loads {loaded.num_nodes} nodes, the graph has {graph.num_nodes}"
            if loaded.num_nodes != graph.num_nodes
            else "gives other labels than the graph's"
        )
        raise InputError(
            f"The data {spec.source!r} {what}: pass the card or name the graph was loaded from"
        )
    for key in SPLIT_MASKS:
        mine, theirs = getattr(graph, key, None), getattr(loaded, key, None)
        if mine is None or (theirs is not None and torch.equal(mine.cpu(), theirs)):
            continue
        raise InputError(
            f"The graph's {key} is not the split that {spec.source!r} gives (its own split "
            f"column, or the split drawn with fractions {spec.split} and seed "
            f"{spec.split_seed}), so `mmgraph evaluate` would score other nodes: pass "
            "data=DataSpec(source, split=[train, val, test], split_seed=seed) with the "
            "arguments of your `set_split`"
        )
    return loaded


CHECKED_NODES = 64
"""How many nodes :func:`save_run` featurizes again to check the features it records."""


def _check_same_features(
    folder: Path,
    spec: DataSpec,
    features: FeatureConfig,
    trainer: Trainer,
    graph: MultimodalGraph,
    loaded: MultimodalGraph,
) -> None:
    """Refuse ``features`` that do not give ``graph``'s features on its first nodes.

    New data is featurized with them: the commands would otherwise feed the model features
    of another encoder (or fail on their width).
    """
    from mmgraph.models.inference import select_nodes
    from mmgraph.tasks.node_classification import LoadedRun

    model = trainer.model
    assert isinstance(model, MultimodalGNN)  # save_run refused others
    run = LoadedRun(folder, spec, features, trainer.config, GraphSchema.of(loaded), model)
    index = torch.arange(min(CHECKED_NODES, int(graph.num_nodes or 0)))
    part = run.prepare(select_nodes(loaded, index), progress=False)
    for key in ("x_text", "x_image", "image"):
        mine, theirs = getattr(graph, key, None), getattr(part, key, None)
        if not isinstance(mine, Tensor):
            continue
        same = False
        if isinstance(theirs, Tensor) and mine.shape[1:] == theirs.shape[1:]:
            same = True
            if mine.layout == torch.strided and theirs.layout == torch.strided:
                rows = mine.index_select(0, index).float()
                same = torch.allclose(rows, theirs.float(), rtol=1e-3, atol=1e-4)
        if not same:
            shape = list(theirs.shape[1:]) if isinstance(theirs, Tensor) else "none"
            raise InputError(
                f"The features given do not reproduce the graph's {key} (width "
                f"{list(mine.shape[1:])}; they give {shape} on its first nodes): pass the "
                "FeatureConfig the graph was featurized with, which new data is encoded with"
            )


def _check_fitted_encoders(features: FeatureConfig, graph: MultimodalGraph, folder: Path) -> None:
    """Refuse an encoder fitted on the data whose fitted state is not in ``folder``."""
    missing = []
    text_class = TEXT_ENCODER_CLASSES.get(features.text_encoder or "")
    if getattr(text_class, "fitted_per_run", False) and getattr(graph, "x_text", None) is not None:
        if not text_class.is_saved(folder / "text_encoder"):  # type: ignore[union-attr]
            missing.append(f"the {features.text_encoder} text encoder ('text_encoder/')")
    if features.image_encoder == FROZEN_CNN and getattr(graph, "x_image", None) is not None:
        if not (folder / "image_encoder").is_dir():
            missing.append("the cnn image autoencoder ('image_encoder/')")
    if missing:
        raise InputError(
            f"{' and '.join(missing)} was fitted on the training data, and new data must be "
            f"encoded with the same fit, which is not saved in '{folder}': featurize with "
            f"`featurize(graph, features, state_dir='{folder}')` before training"
        )


def _check_folder(folder: Path, trainer: Trainer, overwrite: bool) -> None:
    """Refuse to replace a run without ``overwrite``, or to write among others' files."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"'{folder}' is a file, not a run folder: choose another path")
    if not folder.is_dir():
        return
    others = [p for p in folder.iterdir() if p.name not in ENCODER_STATES]
    if not others:
        return
    own = trainer.out_dir is not None and Path(trainer.out_dir).resolve() == folder.resolve()
    if (folder / RUN_CONFIG).is_file() and not overwrite:
        raise InputError(
            f"'{folder}' holds a run already: pass overwrite=True to replace it, or another folder"
        )
    if not own and not holds_run(folder):
        raise InputError(
            f"'{folder}' holds other files and is not an mmgraph run or this trainer's "
            "out_dir: choose a new or empty folder"
        )
