"""Unsupervised node embeddings (node2vec, shallow or through a GNN) and their clustering."""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch import Tensor

from mmgraph.data.graph import SPLIT_MASKS, UNLABELLED, MultimodalGraph
from mmgraph.data.schema import GraphSchema
from mmgraph.errors import InputError
from mmgraph.models import FeatureConfig, MultimodalGNN, featurize
from mmgraph.sampling.options import GNN_WALKS, SHALLOW_WALKS
from mmgraph.seed import seed_everything
from mmgraph.tasks.node_classification import (
    DataSpec,
    load_graph,
    save_npy,
    write_json,
    write_run_config,
)
from mmgraph.tasks.run_folder import RunFolder, check_output_file, data_inputs, write_atomic
from mmgraph.train import TrainConfig, Trainer

log = logging.getLogger(__name__)

ENCODERS: tuple[str, ...] = ("shallow", "gnn")
"""The routes of :func:`node2vec_embeddings`: embedding tables, or a MultimodalGNN."""

WALK_SETTINGS: tuple[str, ...] = ("walk_length", "context_size", "walks_per_node", "num_negatives")
"""The walk settings the routes' defaults name (the others default alike on both routes)."""

SHALLOW_DEFAULTS: dict[str, Any] = {
    "embedding_dim": 128,
    **{key: getattr(SHALLOW_WALKS, key) for key in WALK_SETTINGS},
    "epochs": 5,
    "batch_size": 128,
    "lr": 0.01,
}
"""Settings of the shallow route: the walks of :data:`~mmgraph.sampling.SHALLOW_WALKS` (PyG's
``Node2Vec`` example), 5 epochs."""

GNN_DEFAULTS: dict[str, Any] = {key: getattr(GNN_WALKS, key) for key in WALK_SETTINGS}
"""Walk settings of the GNN route: :data:`~mmgraph.sampling.GNN_WALKS` (one walk from every
node per step; why the routes differ is said there)."""

GNN_MODEL_DEFAULTS: dict[str, Any] = {"hidden": 64, "dropout": 0.0, "center_features": True}
"""Model settings of the GNN route unless given (no head: ``num_classes`` is 0).

``center_features``: sentence vectors of short texts share most of their direction, and fed
raw they drowned the graph: on a generated 4-block graph with uninformative bios, k-means
NMI was 0.106 raw and 0.887 centred (README, "Unsupervised clustering")."""

GNN_TRAIN_DEFAULTS: dict[str, Any] = {"epochs": 100, "lr": 0.01, "patience": None}
"""Trainer settings of the GNN route unless given."""

OBJECTIVE_CONFIG = "objective.yaml"
ASSIGNMENTS = "assignments.csv"
TSNE_PLOT = "tsne.png"
METRICS = "metrics.json"


@dataclasses.dataclass
class EmbedResult:
    """What :func:`node2vec_embeddings` returns."""

    embeddings: Tensor
    path: Path | None
    graph: MultimodalGraph
    history: list[dict[str, Any]]


def node2vec_embeddings(
    data: DataSpec | None = None,
    encoder: str = "shallow",
    node2vec: Mapping[str, Any] | None = None,
    features: FeatureConfig | None = None,
    model_options: Mapping[str, Any] | None = None,
    train: TrainConfig | None = None,
    out: str | Path | None = None,
    run_dir: str | Path | None = None,
    graph: MultimodalGraph | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> EmbedResult:
    """Learn node embeddings with the node2vec loss; labels are not needed.

    * ``encoder="shallow"``: :class:`~mmgraph.embedding.Node2Vec` on the edges alone;
      ``node2vec`` holds its settings (``embedding_dim``, ``walk_length``, ``epochs``, ...,
      defaults :data:`SHALLOW_DEFAULTS`).
    * ``encoder="gnn"``: the graph is featurized (``features``; fitted on every node, a
      split of the data left aside: :func:`without_split`), a
      :class:`~mmgraph.models.MultimodalGNN` without head (``model_options``, defaults
      :data:`GNN_MODEL_DEFAULTS`) is trained by the :class:`~mmgraph.train.Trainer`
      (``train``, defaults :data:`GNN_TRAIN_DEFAULTS`) with a
      :class:`~mmgraph.objectives.Node2VecObjective` (``node2vec``, defaults
      :data:`GNN_DEFAULTS`), and embeds every node. With ``run_dir`` the run folder is
      written as by ``mmgraph train`` (plus ``objective.yaml``), so that
      :func:`~mmgraph.tasks.embed_run` embeds new nodes or graphs with it.

    Args:
        data (DataSpec, optional): Where the graph comes from (unless ``graph`` is given).
        encoder (str, optional): ``"shallow"`` or ``"gnn"``. (default: :obj:`"shallow"`)
        node2vec (Mapping, optional): Walk, skip-gram and (shallow) training settings.
        features (FeatureConfig, optional): Featurization of the GNN route.
        model_options (Mapping, optional): :class:`~mmgraph.models.ModelConfig` overrides.
        train (TrainConfig, optional): Trainer settings of the GNN route.
        out (str or Path, optional): ``.npy`` file to write the embeddings to.
        run_dir (str or Path, optional): Run folder of the GNN route.
        graph (MultimodalGraph, optional): The graph, instead of loading ``data``.
        progress (bool, optional): Show progress bars. (default: :obj:`True`)
        overwrite (bool, optional): Replace an existing ``out`` file or ``run_dir`` run
            (which are otherwise refused before anything is computed). (default: :obj:`False`)

    Returns:
        EmbedResult: the embeddings ``[N, D]``, the ``.npy`` path, the graph and the
        training history.
    """
    from mmgraph.embedding import Node2Vec
    from mmgraph.objectives import Node2VecObjective

    if encoder not in ENCODERS:
        raise ValueError(f"Unknown encoder {encoder!r}; expected one of {list(ENCODERS)}")
    if run_dir is not None and encoder != "gnn":
        raise ValueError("'run_dir' saves a trained GNN: use it with encoder='gnn'")
    if encoder == "gnn" and str((model_options or {}).get("aggregator", "")).lower() == "auto":
        raise InputError(
            "aggregator 'auto' chooses gcn or mean from the training labels' homophily, and "
            "an embedding learned without labels reads none: pass aggregator 'gcn' (the "
            "default) or 'mean' (`--aggregator gcn`)"
        )
    if out is not None:
        check_output_file(out, data_inputs(data) if data is not None else (), overwrite)
    run = (
        RunFolder(
            run_dir, overwrite=overwrite, option="--save-run", resumable=False, kind="embed"
        ).check()
        if run_dir
        else None
    )
    if graph is None:
        if data is None:
            raise ValueError("Pass 'data' (a DataSpec) or 'graph'")
        graph = load_graph(data, warn_without_edges=False)  # refused here instead
    if graph.edge_index.size(1) == 0:
        raise InputError(
            f"The graph {graph.name or ''!s} has no edges: node2vec's random walks cannot "
            "leave their start node, so the embeddings would be random; give it an edge table"
        )
    settings = dict(node2vec or {})
    history: list[dict[str, Any]]
    if encoder == "shallow":
        settings = {**SHALLOW_DEFAULTS, **settings}
        settings.setdefault("progress", progress)
        estimator = Node2Vec(**settings).fit(graph)
        embeddings, history = estimator.get_embedding(), estimator.history_
    else:
        settings = {**GNN_DEFAULTS, **settings}
        features = features or FeatureConfig()
        train = train or TrainConfig(**GNN_TRAIN_DEFAULTS, progress=progress)
        settings.setdefault("seed", train.seed)
        objective = Node2VecObjective(**settings)
        spec = data or DataSpec(graph.name or "graph")
        unsplit = without_split(graph)
        if run is None:
            embeddings, history = _train_gnn(
                unsplit, spec, objective, settings, features, model_options, train, None, progress
            )
        else:
            with run.transaction() as folder:
                embeddings, history = _train_gnn(
                    unsplit,
                    spec,
                    objective,
                    settings,
                    features,
                    model_options,
                    train,
                    folder,
                    progress,
                    loaded=graph,
                )
    path = None
    if out is not None:
        path = save_npy(out, embeddings.detach().cpu().numpy())
    return EmbedResult(embeddings.detach(), path, graph, history)


def without_split(graph: MultimodalGraph) -> MultimodalGraph:
    """A shallow copy of ``graph`` without its split and labels, for learning without labels.

    Featurization and the model fit their statistics (a text vocabulary, numeric means and
    deviations) on the training nodes of a split: an embedding learned without labels fits
    them on every node, so that it does not depend on whether the data has labels; and
    nothing it runs can read a label (those ``cluster`` scores it with).
    """
    out = copy.copy(graph)
    for key in (*SPLIT_MASKS, "y"):
        if key in out:
            del out[key]
    return out


def _train_gnn(
    graph: MultimodalGraph,
    data: DataSpec,
    objective: Any,
    settings: Mapping[str, Any],
    features: FeatureConfig,
    model_options: Mapping[str, Any] | None,
    train: TrainConfig,
    folder: Path | None,
    progress: bool,
    loaded: MultimodalGraph | None = None,
) -> tuple[Tensor, list[dict[str, Any]]]:
    """Train a headless MultimodalGNN with ``objective``; write the run into ``folder``.

    ``loaded``: the data as loaded (``graph`` is it without labels and split), whose
    :func:`~mmgraph.tasks.node_classification.data_check` the run records: the commands
    that reload the run's data compare it with the data as they load it.
    """
    featured = featurize(graph, features, progress=progress, state_dir=folder, load_state=False)
    seed_everything(train.seed, deterministic=train.deterministic)
    options = {**GNN_MODEL_DEFAULTS, **dict(model_options or {}), "num_classes": 0}
    model = MultimodalGNN.from_graph(featured, **options)
    if folder is not None:
        write_run_config(
            folder, data, features, model.config, train, GraphSchema.of(graph),
            graph=graph if loaded is None else loaded,
        )  # fmt: skip
        text = yaml.safe_dump({"name": objective.name, **settings}, sort_keys=False)
        write_atomic(folder / OBJECTIVE_CONFIG, lambda fh: fh.write(text))
    trainer = Trainer(model, train, out_dir=folder).fit(featured, objective=objective)
    return trainer.embed(featured), trainer.history


@dataclasses.dataclass
class ClusterResult:
    """What :func:`cluster_nodes` returns."""

    metrics: dict[str, float]
    assignments: np.ndarray
    out: Path | None
    k: int
    scored_on: str | None = None
    """Which items the label metrics count, where not all (a subgraph set's held-out ones,
    or the labelled nodes of a graph where some have no label)."""
    held_out: bool = False
    """Whether ``scored_on`` are the held-out items (the others trained the embedding)."""


def load_embeddings(
    source: str | Path | Tensor | np.ndarray, fold: int | None = None
) -> np.ndarray:
    """Embeddings ``[N, D]`` from a ``.npy`` file (or an array), as float64.

    ``fold`` (from 1) picks one array of a ``[K, N, D]`` file, which ``subgraph train`` on
    cross-validation folds writes (one per fold's model); such a file needs it.
    Never unpickles: a file of Python objects is refused, as is one that is not ``.npy``.
    """
    from mmgraph.eval._checks import as_matrix

    where, name = "the embeddings", "embeddings"
    if isinstance(source, (str, Path)):
        path = Path(source)
        where, name = f"the embeddings file '{path}'", str(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"No embeddings file '{path}': write one with `mmgraph embed --out {path.name}`"
            )
        with open(path, "rb") as fh:
            magic = fh.read(6)
            if magic != b"\x93NUMPY":
                raise InputError(
                    f"{where} is not a NumPy .npy file (it starts with {magic!r}): give the "
                    "file `mmgraph embed --out` wrote, or one saved with numpy.save"
                )
            try:
                fh.seek(0)
                version = np.lib.format.read_magic(fh)
                read = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                header = read(fh)  # (shape, fortran order, dtype)
            except (ValueError, OSError, EOFError) as error:
                raise InputError(
                    f"{where} cannot be read as .npy (its header: {error}): write it again"
                ) from None
        if header[2].hasobject:
            raise InputError(
                f"{where} holds Python objects, which mmgraph does not unpickle: save a "
                "numeric array (numpy.save(path, array.astype('float32')))"
            )
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:  # e.g. a truncated file
            raise InputError(f"{where} cannot be read as .npy ({error}): write it again") from None
    elif isinstance(source, Tensor):
        array = source.detach().cpu().numpy()
    else:
        array = np.asarray(source)
    if array.ndim == 3 and fold is None:
        raise ValueError(
            f"{where} holds {array.shape[0]} arrays [N, D] (shape {list(array.shape)}): "
            "`subgraph train` on cross-validation folds writes one per fold's model. Cluster "
            f"one of them: give the fold, 1 to {array.shape[0]} (`mmgraph cluster --fold 1`)"
        )
    if fold is not None:
        if array.ndim != 3:
            raise ValueError(
                f"{where} holds one array (shape {list(array.shape)}), not one per fold: "
                "leave out the fold (--fold)"
            )
        if not 1 <= fold <= array.shape[0]:
            raise ValueError(
                f"Expected a fold from 1 to {array.shape[0]}, the arrays {where} holds (got {fold})"
            )
        array = array[fold - 1]
    return as_matrix(array, name)  # [N, D], one row per node; numbers, finite


def cluster_nodes(
    embeddings: str | Path | Tensor | np.ndarray,
    data: DataSpec | None = None,
    k: int | None = None,
    method: str = "kmeans",
    out: str | Path | None = None,
    seed: int = 0,
    plot: bool = True,
    graph: MultimodalGraph | None = None,
    overwrite: bool = False,
    fold: int | None = None,
) -> ClusterResult:
    """Cluster node embeddings and score the clusters.

    The metrics (:func:`~mmgraph.eval.clustering_metrics`) are ``nmi``, ``ari`` and ``acc``
    against the labels (NaN, written ``null``, when the data has none), ``silhouette`` of
    the embeddings and ``modularity`` of the clusters on the graph (NaN without data). With
    ``out``, the folder receives ``assignments.csv`` (``node_id``, ``cluster`` and, with
    labels, ``true_class``), ``metrics.json`` and, with ``plot``, ``tsne.png`` (t-SNE
    coloured by cluster and by class).

    Args:
        embeddings: A ``.npy`` file or an array ``[N, D]``.
        data (DataSpec, optional): The graph the rows belong to (labels, edges, node ids).
        k (int, optional): Number of clusters; default: the number of classes.
        method (str, optional): ``"kmeans"``, ``"spectral"`` or ``"agglomerative"``.
            (default: :obj:`"kmeans"`)
        out (str or Path, optional): Folder for the files.
        seed (int, optional): Seed of the clustering and the plot. (default: :obj:`0`)
        plot (bool, optional): Write the t-SNE plot. (default: :obj:`True`)
        graph (MultimodalGraph, optional): The graph, instead of loading ``data``.
        overwrite (bool, optional): Replace an existing ``out`` folder (refused otherwise,
            before anything is computed; the old one stays until the new one is complete).
            (default: :obj:`False`)
        fold (int, optional): The fold (from 1) of a ``[K, N, D]`` file of per-fold
            embeddings (:func:`load_embeddings`). (default: :obj:`None`)
    """
    from mmgraph.eval import cluster_embeddings, clustering_metrics

    run: RunFolder | None = None
    if out is not None:
        run = RunFolder(out, overwrite=overwrite, resumable=False, kind="cluster").check()
    emb = load_embeddings(embeddings, fold)
    if graph is None and data is not None:
        graph = _clustered_items(data, fold)
    n = emb.shape[0]
    y: Tensor | None = None
    if graph is not None:
        if graph.num_nodes != n:
            what = "subgraphs" if isinstance(graph, _Subgraphs) else "nodes"
            raise ValueError(
                f"The embeddings have {n} rows but the data has {graph.num_nodes} {what}: "
                "embed the same data set you cluster"
            )
        y = getattr(graph, "y", None)
        if y is not None and not bool((y != UNLABELLED).any()):
            y = None
    if k is None:
        if y is None:
            why = (
                "no data was given to take the number of classes from (--data with labels)"
                if graph is None
                else "the data has no labels to take the number of classes from"
            )
            raise ValueError(
                f"Give the number of clusters (--k on the command line, k= in Python): {why}"
            )
        k = int(y[y != UNLABELLED].unique().numel())
        if k < 2:
            raise InputError(
                "The labels hold one class, so the number of clusters taken from them is 1, "
                "and one cluster would score a perfect match with any embedding: give the "
                "number of clusters, 2 or more (--k on the command line, k= in Python)"
            )
    if k < 2:
        raise InputError(
            f"Expected 2 or more clusters (got k={k}): one cluster groups every node "
            "together and says nothing of the embeddings"
        )
    assignments = cluster_embeddings(emb, k, method=method, seed=seed)
    edge_index = getattr(graph, "edge_index", None) if graph is not None else None
    scored, scored_on = y, None
    held_out = getattr(graph, "held_out", None)
    if y is not None and held_out is not None:  # the labels a model fitted are left out
        scored = torch.where(held_out, y, torch.full_like(y, UNLABELLED))
        scored_on = getattr(graph, "held_out_name", None)
    elif y is not None and bool((y == UNLABELLED).any()):
        scored_on = f"the {int((y != UNLABELLED).sum()):,} labelled nodes of {n:,}"
    metrics = clustering_metrics(
        None if scored is None else scored.numpy(),
        assignments,
        emb=emb,
        edge_index=edge_index,
        seed=seed,
    )
    if run is not None:
        extra = {} if scored_on is None else {"scored_on": scored_on}
        with run.transaction() as staging:
            _write_clusters(
                staging, graph, emb, assignments, y, {**metrics, **extra}, k, method, plot, seed
            )
    return ClusterResult(
        metrics,
        assignments,
        None if run is None else run.final,
        k,
        scored_on,
        held_out=y is not None and held_out is not None,
    )


@dataclasses.dataclass
class _Subgraphs:
    """What clustering reads of a subgraph data set: one item per subgraph, no edges."""

    num_nodes: int
    y: Tensor
    class_names: list[str] | None
    node_id: list[str]
    edge_index: None = None
    held_out: Tensor | None = None
    """Bool ``[S]``: the subgraphs whose labels the clusters are scored against."""
    held_out_name: str | None = None
    id_name: str = "subgraph"
    """The header of ``assignments.csv``'s id column (``graph`` for whole graphs)."""


def _clustered_items(data: DataSpec, fold: int | None = None) -> Any:
    """The graph of ``data``, or its subgraphs (their labels) for a subgraph data set.

    ``mmgraph subgraph train`` writes one embedding per subgraph (or whole graph);
    clustering them is scored against the subgraphs' labels, without modularity, and only
    those its model did not train on: fold ``fold``'s test graphs (TU folds; its model
    fitted the other nine tenths, whose embeddings group by their labels however little
    the model generalises), else the test split. All of them are clustered.
    """
    from mmgraph.data.registry import load_dataset
    from mmgraph.data.subgraphs import SubgraphDataset

    loaded = load_dataset(data.source, root=data.root, **data.options)
    if not isinstance(loaded, SubgraphDataset):
        return load_graph(data, loaded=loaded, warn_without_edges=False)  # labels are read
    if loaded.multi_label:
        raise InputError(
            f"{data.source!r} is multi-label (several labels a subgraph): clusters cannot be "
            "scored against one label each; cluster without --data (give --k)"
        )
    count = len(loaded)
    held_out, name = None, None
    what = "graphs" if loaded.whole_graphs else "subgraphs"
    if fold is not None and loaded.folds:
        if fold > len(loaded.folds):
            raise InputError(
                f"--fold {fold}: {data.source!r} has {len(loaded.folds)} folds; give one of "
                f"1 to {len(loaded.folds)}"
            )
        held_out = torch.zeros(count, dtype=torch.bool)
        held_out[loaded.folds[fold - 1][1]] = True
        name = f"fold {fold}'s {int(held_out.sum())} test {what}"
    elif loaded.test_mask is not None and bool(loaded.test_mask.any()):
        held_out = loaded.test_mask.clone()
        name = f"the {int(held_out.sum())} test {what}"
    return _Subgraphs(
        count,
        loaded.y,
        loaded.class_names,
        [f"{what[:-1]}_{i}" for i in range(count)],  # i: its place among the file's
        held_out=held_out,
        held_out_name=name,
        id_name=what[:-1],
    )


def _write_clusters(
    folder: Path,
    graph: MultimodalGraph | None,
    emb: np.ndarray,
    assignments: np.ndarray,
    y: Tensor | None,
    metrics: dict[str, float],
    k: int,
    method: str,
    plot: bool,
    seed: int,
) -> None:
    """Write ``assignments.csv``, ``metrics.json`` and the t-SNE plot into ``folder``."""
    import pandas as pd

    from mmgraph.eval import plot_tsne

    node_ids = getattr(graph, "node_id", None) if graph is not None else None
    ids = node_ids or [str(i) for i in range(len(assignments))]
    frame = pd.DataFrame({getattr(graph, "id_name", "node_id"): ids, "cluster": assignments})
    if y is not None:
        names = getattr(graph, "class_names", None)
        frame["true_class"] = [
            None if v == UNLABELLED else (names[v] if names else v) for v in y.tolist()
        ]
    frame.to_csv(folder / ASSIGNMENTS, index=False)
    write_json(folder / METRICS, {**metrics, "k": k, "method": method})
    if plot:
        plot_tsne(
            emb,
            assignments,
            None if y is None else y.numpy(),
            path=folder / TSNE_PLOT,
            seed=seed,
            title=f"{method}, k = {k}",
            class_names=getattr(graph, "class_names", None),
        )
