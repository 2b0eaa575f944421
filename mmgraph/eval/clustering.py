"""Clustering node embeddings and scoring the clusters against labels and the graph."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from mmgraph.data.graph import UNLABELLED
from mmgraph.eval._checks import (
    as_labels,
    as_matrix,
    check_edge_index,
    check_same_length,
    resolve_seed,
)
from mmgraph.resolver import InputTypeError, check_positive_int

CLUSTER_METHODS: tuple[str, ...] = ("kmeans", "spectral", "agglomerative")
"""The names :func:`cluster_embeddings` accepts."""

CLUSTERING_KEYS: tuple[str, ...] = ("nmi", "ari", "acc", "silhouette", "modularity")
"""The keys of :func:`clustering_metrics`, in order."""


def _check_method(method: str) -> None:
    if method not in CLUSTER_METHODS:
        raise ValueError(
            f"Unknown clustering method {method!r}; expected one of {', '.join(CLUSTER_METHODS)}"
        )


def _check_estimator_options(method: str, options: dict[str, Any]) -> None:
    """Refuse ``options`` the method's scikit-learn estimator does not take, or sets here.

    Raises:
        InputTypeError: An unknown option (listing the estimator's), ``n_clusters`` (``k``)
            or ``random_state`` (``seed``).
    """
    if not options:
        return
    from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering

    cls = {"kmeans": KMeans, "spectral": SpectralClustering}.get(method, AgglomerativeClustering)
    for given, ours in (("n_clusters", "k"), ("random_state", "seed")):
        if given in options:
            raise InputTypeError(f"Pass {given!r} of {cls.__name__} as {ours!r}")
    valid = sorted(set(cls().get_params()) - {"n_clusters", "random_state"})
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise InputTypeError(
            f"Unknown option{'s' if len(unknown) > 1 else ''} {unknown} of {cls.__name__} "
            f"(method {method!r}): its options are {valid}"
        )


def cluster_embeddings(
    emb: Any,
    k: int,
    method: str = "kmeans",
    seed: int | None = 0,
    **kwargs: Any,
) -> np.ndarray:
    """Cluster node embeddings into ``k`` groups with scikit-learn.

    * ``"kmeans"``: :class:`~sklearn.cluster.KMeans` with ``n_init=10``.
    * ``"spectral"``: :class:`~sklearn.cluster.SpectralClustering` on a symmetric k-nearest-
      neighbour affinity of the embeddings (``n_neighbors=min(10, N - 1)``).
    * ``"agglomerative"``: :class:`~sklearn.cluster.AgglomerativeClustering` with Ward
      linkage (deterministic: ``seed`` is unused).

    Args:
        emb (array-like): Node embeddings ``[N, D]``, finite.
        k (int): Number of clusters, in ``[1, N]``.
        method (str, optional): One of :obj:`CLUSTER_METHODS`. (default: :obj:`"kmeans"`)
        seed (int, optional): Seed of the random initialisation; :obj:`None` draws a fresh
            one. (default: :obj:`0`)
        **kwargs: Further arguments of the scikit-learn estimator, overriding the defaults
            above (for example ``n_init=20`` or ``linkage="average"``).

    Returns:
        Cluster ids ``[N]`` (``int64``, in ``[0, k)``).

    Shapes:
        N nodes, D embedding dimensions.
    """
    _check_method(method)
    x = as_matrix(emb, "emb")
    k = check_positive_int(k, "k")
    n = x.shape[0]
    if n == 0 or x.shape[1] == 0:
        what = "no rows (no nodes)" if n == 0 else "no columns (0-dimensional vectors)"
        raise ValueError(
            f"The embeddings {list(x.shape)} have {what}: there is nothing to cluster; check "
            "the file or array (an embedding has one row per node and at least one column)"
        )
    if k > n:
        raise ValueError(f"Expected 'k' <= the number of nodes {n} (got {k})")
    _check_estimator_options(method, kwargs)
    random_state = resolve_seed(seed)
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    if method == "spectral" and k == n:
        raise ValueError(
            f"Expected 'k' < the number of nodes {n} with spectral clustering (got {k}): it "
            "draws k eigenvectors of the n-node affinity, which needs k < n; use fewer "
            "clusters, or method='kmeans' (or 'agglomerative'), which take k = n"
        )

    distinct = len(np.unique(x, axis=0))
    if distinct < k:  # (scikit-learn's k-means says so in words that name no cause)
        warnings.warn(
            f"The embeddings hold {distinct} distinct row{'s' * (distinct != 1)} for "
            f"k={k} clusters: identical rows are split between clusters arbitrarily, so "
            "the clusters say nothing there. Check the embeddings (did training "
            "collapse them?) or ask for fewer clusters",
            UserWarning,
            stacklevel=2,
        )

    from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering

    estimator: Any
    if method == "kmeans":
        params: dict[str, Any] = {"n_init": 10, "random_state": random_state}
        estimator = KMeans(n_clusters=k, **{**params, **kwargs})
    elif method == "spectral":
        params = {
            "affinity": "nearest_neighbors",
            "n_neighbors": min(10, n - 1),
            "assign_labels": "kmeans",
            "random_state": random_state,
        }
        estimator = SpectralClustering(n_clusters=k, **{**params, **kwargs})
    else:
        estimator = AgglomerativeClustering(n_clusters=k, **{"linkage": "ward", **kwargs})
    if method != "spectral":
        with warnings.catch_warnings():
            if distinct < k:  # said above
                warnings.filterwarnings("ignore", message="Number of distinct clusters")
            return np.asarray(estimator.fit_predict(x), dtype=np.int64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels = np.asarray(estimator.fit_predict(x), dtype=np.int64)
    for warning in caught:  # scikit-learn's words name no graph of the user's: say which
        message = str(warning.message)
        if "not fully connected" in message:
            neighbours = estimator.get_params()["n_neighbors"]
            message = (
                f"The {neighbours}-nearest-neighbour graph of the embeddings (spectral "
                "clustering's affinity, not the data's graph) falls into several pieces: "
                "a piece may become a cluster of its own whatever its size; more neighbours "
                "(n_neighbors=...) or method 'kmeans' avoid it"
            )
        warnings.warn(message, warning.category, stacklevel=2)
    return labels


class Clusterer:
    """Estimator-style wrapper of :func:`cluster_embeddings`.

    Hyperparameters go to ``__init__``; :meth:`fit` clusters and sets ``labels_``.

    Args:
        k (int): Number of clusters.
        method (str, optional): One of :obj:`CLUSTER_METHODS`. (default: :obj:`"kmeans"`)
        seed (int, optional): Seed of the random initialisation. (default: :obj:`0`)
        **kwargs: Further arguments of the scikit-learn estimator.

    Example:
        >>> labels = Clusterer(3, method="spectral", seed=0).fit(emb).labels_
    """

    def __init__(self, k: int, method: str = "kmeans", seed: int | None = 0, **kwargs: Any) -> None:
        _check_method(method)
        _check_estimator_options(method, kwargs)
        self.k = check_positive_int(k, "k")
        self.method = method
        self.seed = seed
        self.kwargs = kwargs
        self.labels_: np.ndarray | None = None

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """``k``, ``method``, ``seed`` and the scikit-learn arguments, as scikit-learn's.

        So :func:`sklearn.base.clone` copies it; ``deep`` changes nothing (no argument is an
        estimator).
        """
        return {"k": self.k, "method": self.method, "seed": self.seed, **self.kwargs}

    def set_params(self, **params: Any) -> Clusterer:
        """Set ``k``, ``method``, ``seed`` or scikit-learn arguments, checked; returns ``self``."""
        checked = type(self)(**{**self.get_params(), **params})  # raises on a bad value
        self.k, self.method, self.seed, self.kwargs = (
            checked.k,
            checked.method,
            checked.seed,
            checked.kwargs,
        )
        return self

    def fit(self, emb: Any, y: Any = None) -> Clusterer:
        """Cluster ``emb`` ``[N, D]``; return ``self`` with ``labels_`` ``[N]`` set.

        ``y`` is ignored: it is there for scikit-learn's pipelines, which pass one.
        """
        self.fit_predict(emb)
        return self

    def fit_predict(self, emb: Any, y: Any = None) -> np.ndarray:
        """Cluster ``emb`` ``[N, D]`` and return the cluster ids ``[N]`` (``y`` is ignored)."""
        labels = cluster_embeddings(emb, self.k, self.method, self.seed, **self.kwargs)
        self.labels_ = labels
        return labels

    def __repr__(self) -> str:
        extra = "".join(f", {key}={value!r}" for key, value in self.kwargs.items())
        return f"{type(self).__name__}({self.k}, method={self.method!r}, seed={self.seed}{extra})"


def clustering_accuracy(y_true: Any, y_pred: Any) -> float:
    """Accuracy of clusters under the best one-to-one matching of clusters to classes.

    The matching maximises the number of nodes whose cluster is matched to their class
    (Hungarian algorithm, :func:`scipy.optimize.linear_sum_assignment`). The numbers of
    clusters and classes may differ: nodes of clusters (or classes) left unmatched count as
    errors.

    Args:
        y_true (array-like): True classes ``[N]`` (any integers).
        y_pred (array-like): Cluster ids ``[N]`` (any integers).

    Returns:
        The accuracy, in ``[0, 1]``.
    """
    from scipy.optimize import linear_sum_assignment

    truth = as_labels(y_true, "y_true")
    pred = as_labels(y_pred, "y_pred")
    check_same_length(truth, pred, "y_true", "y_pred")
    if truth.size == 0:
        raise ValueError("Expected at least one node to evaluate (got 0)")
    _, class_of = np.unique(truth, return_inverse=True)
    _, cluster_of = np.unique(pred, return_inverse=True)
    counts = np.zeros((cluster_of.max() + 1, class_of.max() + 1), dtype=np.int64)
    np.add.at(counts, (cluster_of, class_of), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / truth.size)


def modularity(edge_index: Any, assignment: Any, num_nodes: int | None = None) -> float:
    r"""Newman modularity of a node partition on the undirected, unweighted graph.

    .. math::
        Q = \frac{1}{2m} \sum_{ij} \Big(A_{ij} - \frac{d_i d_j}{2m}\Big) \delta(c_i, c_j)

    computed by :func:`networkx.algorithms.community.modularity`. Edge directions, repeated
    edges and edge weights are ignored (a pair of nodes is joined or not).

    Args:
        edge_index (array-like): Edges ``[2, E]``.
        assignment (array-like): Cluster id of each node ``[N]``.
        num_nodes (int, optional): Number of nodes. (default: :obj:`None`: ``len(assignment)``)

    Returns:
        The modularity, in ``[-1/2, 1)``; ``NaN`` when the graph has no edges.

    Shapes:
        N nodes, E edges.
    """
    import networkx as nx
    from networkx.algorithms.community import modularity as nx_modularity

    labels = as_labels(assignment, "assignment")
    n = labels.shape[0] if num_nodes is None else int(num_nodes)
    if labels.shape[0] != n:
        raise ValueError(
            f"Expected 'assignment' to have one entry per node ({n}) (got {labels.shape[0]})"
        )
    edges = check_edge_index(edge_index, n)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges.T.tolist())
    if graph.number_of_edges() == 0:
        return math.nan
    order = np.argsort(labels, kind="stable")
    _, starts = np.unique(labels[order], return_index=True)
    communities = [set(part.tolist()) for part in np.split(order, starts[1:])]
    return float(nx_modularity(graph, communities))


def clustering_metrics(
    y_true: Any | None,
    y_pred: Any,
    emb: Any | None = None,
    edge_index: Any | None = None,
    num_nodes: int | None = None,
    seed: int | None = 0,
    max_silhouette_nodes: int = 10_000,
) -> dict[str, float]:
    """Score a clustering against labels, embeddings and the graph, as far as they are given.

    * ``nmi``, ``ari``: normalised mutual information and adjusted Rand index with
      ``y_true`` (scikit-learn), over the labelled nodes (``y_true != -1``).
    * ``acc``: :func:`clustering_accuracy` over the labelled nodes.
    * ``silhouette``: mean silhouette of the clusters in ``emb`` (Euclidean), over all nodes
      (a seeded sample of ``max_silhouette_nodes`` nodes when there are more).
    * ``modularity``: :func:`modularity` of the clusters on ``edge_index``.

    A metric that cannot be computed is ``NaN`` (:func:`~mmgraph.eval.to_jsonable` turns it
    into ``None``): the label metrics without ``y_true`` or labelled nodes, ``silhouette``
    without ``emb`` or unless there are between 2 and N - 1 clusters, ``modularity`` without
    ``edge_index`` or edges.

    Args:
        y_true (array-like, optional): True classes ``[N]``, ``-1`` for unlabelled, or
            :obj:`None`.
        y_pred (array-like): Cluster ids ``[N]``.
        emb (array-like, optional): Embeddings ``[N, D]`` that were clustered.
            (default: :obj:`None`)
        edge_index (array-like, optional): Edges ``[2, E]``. (default: :obj:`None`)
        num_nodes (int, optional): Number of nodes. (default: :obj:`None`: ``len(y_pred)``)
        seed (int, optional): Seed of the silhouette sample. (default: :obj:`0`)
        max_silhouette_nodes (int, optional): Most nodes the silhouette is computed on (its
            cost is quadratic). (default: :obj:`10000`)

    Returns:
        A dict with the keys ``nmi``, ``ari``, ``acc``, ``silhouette`` and ``modularity``.

    Shapes:
        N nodes, D embedding dimensions, E edges.
    """
    from sklearn.metrics import (
        adjusted_rand_score,
        normalized_mutual_info_score,
        silhouette_score,
    )

    pred = as_labels(y_pred, "y_pred")
    n = pred.shape[0] if num_nodes is None else int(num_nodes)
    if pred.shape[0] != n:
        raise ValueError(
            f"Expected 'y_pred' to have one entry per node ({n}) (got {pred.shape[0]})"
        )
    max_silhouette_nodes = check_positive_int(max_silhouette_nodes, "max_silhouette_nodes")
    out = dict.fromkeys(CLUSTERING_KEYS, math.nan)

    if y_true is not None:
        truth = as_labels(y_true, "y_true")
        check_same_length(truth, pred, "y_true", "y_pred")
        labelled = truth != UNLABELLED
        if labelled.any():
            t, p = truth[labelled], pred[labelled]
            out["nmi"] = float(normalized_mutual_info_score(t, p))
            out["ari"] = float(adjusted_rand_score(t, p))
            out["acc"] = clustering_accuracy(t, p)

    if emb is not None:
        x = as_matrix(emb, "emb")
        check_same_length(x, pred, "emb", "y_pred")
        if 2 <= np.unique(pred).size <= n - 1:
            sample = max_silhouette_nodes if n > max_silhouette_nodes else None
            out["silhouette"] = float(
                silhouette_score(x, pred, sample_size=sample, random_state=resolve_seed(seed))
            )

    if edge_index is not None:
        out["modularity"] = modularity(edge_index, pred, n)
    return out
