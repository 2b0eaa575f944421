from __future__ import annotations

import itertools
import math
import warnings

import networkx as nx
import numpy as np
import pytest
import torch

from mmgraph.eval import (
    CLUSTER_METHODS,
    CLUSTERING_KEYS,
    Clusterer,
    cluster_embeddings,
    clustering_accuracy,
    clustering_metrics,
    modularity,
)
from mmgraph.seed import make_generator

# Spectral clustering of well separated blobs: the k-NN graph has one component per blob.
pytestmark = pytest.mark.filterwarnings(
    "ignore:The 10-nearest-neighbour graph of the embeddings:UserWarning"
)


def blobs(per_class: int = 15, seed: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    """Three well separated Gaussian blobs in 4-D, classes 0, 1, 2 in blocks."""
    gen = make_generator(seed)
    centres = torch.tensor([[10.0, 0, 0, 0], [0, 10.0, 0, 0], [0, 0, 10.0, 0]])
    emb = centres.repeat_interleave(per_class, 0) + 0.3 * torch.randn(
        3 * per_class, 4, generator=gen
    )
    return emb, np.repeat(np.arange(3), per_class)


@pytest.mark.parametrize("method", CLUSTER_METHODS)
def test_methods_recover_blobs_deterministically(method: str) -> None:
    emb, y = blobs()
    pred = cluster_embeddings(emb, 3, method=method, seed=1)
    assert pred.dtype == np.int64 and pred.shape == (45,)
    assert set(pred.tolist()) == {0, 1, 2}
    assert clustering_accuracy(y, pred) == 1.0
    np.testing.assert_array_equal(pred, cluster_embeddings(emb.numpy(), 3, method=method, seed=1))


def test_spectral_says_which_graph_falls_apart() -> None:
    """scikit-learn's "Graph is not fully connected" names no graph: the k-NN one is meant."""
    emb, y = blobs()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pred = cluster_embeddings(emb, 3, method="spectral", seed=1)
    messages = [str(w.message) for w in caught]
    assert clustering_accuracy(y, pred) == 1.0
    assert not [m for m in messages if "Graph is not fully connected" in m]
    assert [m for m in messages if m.startswith("The 10-nearest-neighbour graph of the emb")]


def test_k_one_and_kwargs() -> None:
    emb, _ = blobs(5)
    np.testing.assert_array_equal(cluster_embeddings(emb, 1), np.zeros(15, dtype=np.int64))
    single = cluster_embeddings(emb, 3, method="agglomerative", linkage="single")
    assert clustering_accuracy(np.repeat(np.arange(3), 5), single) == 1.0
    with pytest.raises(TypeError, match="not_a_parameter"):
        cluster_embeddings(emb, 3, not_a_parameter=1)
    # Seed None draws a fresh seed: still a valid clustering.
    assert set(cluster_embeddings(emb, 3, seed=None).tolist()) == {0, 1, 2}


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((3,), {"method": "dbscan"}, ValueError, "kmeans, spectral, agglomerative"),
        ((0,), {}, ValueError, "'k' to be an int >= 1"),
        ((16,), {}, ValueError, "'k' <= the number of nodes 15"),
        ((15,), {"method": "spectral"}, ValueError, "'k' < the number of nodes 15 with spectral"),
        ((2.0,), {}, TypeError, "'k' to be an int"),
        ((3,), {"n_clusters": 3}, TypeError, "Pass 'n_clusters' of KMeans as 'k'"),
        ((3,), {"random_state": 3}, TypeError, "Pass 'random_state' of KMeans as 'seed'"),
        ((3,), {"n_clusterz": 3}, TypeError, r"Unknown option \['n_clusterz'\] of KMeans"),
        ((3,), {"method": "agglomerative", "n_init": 3}, TypeError, "its options are"),
        ((3,), {"seed": "a"}, TypeError, "'seed' to be an int or None"),
    ],
)
def test_cluster_errors(args, kwargs, error, match) -> None:
    emb, _ = blobs(5)
    with pytest.raises(error, match=match):
        cluster_embeddings(emb, *args, **kwargs)


def test_cluster_input_errors() -> None:
    with pytest.raises(ValueError, match=r"shape \[N, D\]"):
        cluster_embeddings(torch.zeros(5), 2)
    bad = torch.zeros(5, 2)
    bad[1, 0] = math.nan
    with pytest.raises(ValueError, match="finite .* in 1 rows"):
        cluster_embeddings(bad, 2)
    with pytest.raises(ValueError, match=r"\[0, 4\] have no rows"):
        cluster_embeddings(np.zeros((0, 4)), 2)
    with pytest.raises(ValueError, match=r"\[6, 0\] have no columns"):
        cluster_embeddings(np.zeros((6, 0)), 2)


def test_clusterer_estimator() -> None:
    emb, _ = blobs(5)
    clusterer = Clusterer(3, method="spectral", seed=2, n_neighbors=4)
    assert repr(clusterer) == "Clusterer(3, method='spectral', seed=2, n_neighbors=4)"
    assert clusterer.labels_ is None
    assert clusterer.fit(emb) is clusterer
    expected = cluster_embeddings(emb, 3, "spectral", 2, n_neighbors=4)
    np.testing.assert_array_equal(clusterer.labels_, expected)
    np.testing.assert_array_equal(clusterer.fit_predict(emb), expected)
    with pytest.raises(ValueError, match="Unknown clustering method 'kmedoids'"):
        Clusterer(3, method="kmedoids")
    with pytest.raises(ValueError, match="'k' to be an int >= 1"):
        Clusterer(0)
    # an option the estimator does not take is named when set, not at fit
    with pytest.raises(TypeError, match=r"Unknown option \['n_clusterz'\] of KMeans"):
        Clusterer(3).set_params(n_clusterz=3)
    with pytest.raises(TypeError, match="as 'seed'"):
        Clusterer(3).set_params(random_state=5)


def test_clusterer_in_a_scikit_learn_pipeline() -> None:
    """A pipeline passes y (None) to fit and fit_predict."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    emb, _ = blobs(5)
    labels = make_pipeline(StandardScaler(), Clusterer(3)).fit_predict(emb.numpy())
    expected = Clusterer(3).fit_predict(StandardScaler().fit_transform(emb.numpy()))
    np.testing.assert_array_equal(labels, expected)


def brute_force_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    classes, clusters = np.unique(y_true).tolist(), np.unique(y_pred).tolist()
    best = 0
    if len(clusters) <= len(classes):
        for image in itertools.permutations(classes, len(clusters)):
            mapping = dict(zip(clusters, image))
            best = max(best, sum(mapping[p] == t for t, p in zip(y_true, y_pred)))
    else:
        for image in itertools.permutations(clusters, len(classes)):
            mapping = dict(zip(image, classes))
            best = max(best, sum(mapping.get(p) == t for t, p in zip(y_true, y_pred)))
    return best / len(y_true)


def test_clustering_accuracy_by_hand() -> None:
    assert clustering_accuracy([0, 0, 1, 1, 2, 2], [1, 1, 0, 0, 0, 2]) == pytest.approx(5 / 6)
    assert clustering_accuracy([0, 0, 1, 1], [5, 5, 9, 9]) == 1.0
    # more clusters than classes: cluster 1 stays unmatched.
    assert clustering_accuracy([0, 0, 0, 1, 1, 1], [0, 0, 1, 2, 2, 2]) == pytest.approx(5 / 6)
    # fewer clusters than classes.
    assert clustering_accuracy(torch.tensor([0, 0, 1, 1, 2, 2]), np.zeros(6, int)) == 1 / 3


@pytest.mark.parametrize(("classes", "clusters"), [(3, 3), (2, 4), (4, 2)])
def test_clustering_accuracy_matches_brute_force(classes: int, clusters: int) -> None:
    gen = make_generator(classes * 10 + clusters)
    for _ in range(5):
        y = torch.randint(0, classes, (12,), generator=gen).numpy()
        p = torch.randint(0, clusters, (12,), generator=gen).numpy()
        assert clustering_accuracy(y, p) == pytest.approx(brute_force_accuracy(y, p))


def test_clustering_accuracy_errors() -> None:
    with pytest.raises(ValueError, match="same number of rows"):
        clustering_accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="at least one node"):
        clustering_accuracy(np.zeros(0, int), np.zeros(0, int))
    with pytest.raises(TypeError, match="'y_pred' to be of integer type"):
        clustering_accuracy([0, 1], [0.0, 1.0])


def closed_form_modularity(edges: list[tuple[int, int]], assignment: list[int]) -> float:
    """Q = sum_c (L_c / m - (d_c / 2m)^2) over an undirected simple graph."""
    pairs = {tuple(sorted(e)) for e in edges}
    m = len(pairs)
    degree = np.zeros(len(assignment))
    for u, v in pairs:
        degree[u] += 1
        degree[v] += 1
    q = 0.0
    for c in set(assignment):
        inside = sum(assignment[u] == c and assignment[v] == c for u, v in pairs)
        d_c = sum(degree[i] for i in range(len(assignment)) if assignment[i] == c)
        q += inside / m - (d_c / (2 * m)) ** 2
    return q


TWO_TRIANGLES = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]


def test_modularity_closed_form() -> None:
    edge_index = torch.tensor(TWO_TRIANGLES).T
    split = [0, 0, 0, 1, 1, 1]
    assert modularity(edge_index, split) == pytest.approx(
        closed_form_modularity(TWO_TRIANGLES, split)
    )
    assert modularity(edge_index, split) == pytest.approx(2 * (3 / 7 - (7 / 14) ** 2))
    # Both directions and repeated edges count once.
    both = torch.cat([edge_index, edge_index.flip(0), edge_index], dim=1)
    assert modularity(both, split) == pytest.approx(modularity(edge_index, split))
    # Relabelling the clusters does not matter; one cluster has modularity 0.
    assert modularity(edge_index, [7, 7, 7, -2, -2, -2]) == pytest.approx(
        modularity(edge_index, split)
    )
    assert modularity(edge_index, [0] * 6) == pytest.approx(0.0)
    gen = make_generator(3)
    random = torch.randint(0, 3, (6,), generator=gen).tolist()
    assert modularity(edge_index, random) == pytest.approx(
        closed_form_modularity(TWO_TRIANGLES, random)
    )


def test_modularity_isolated_nodes_and_no_edges() -> None:
    edge_index = torch.tensor(TWO_TRIANGLES).T
    with_isolated = modularity(edge_index, [0, 0, 0, 1, 1, 1, 2], num_nodes=7)
    assert with_isolated == pytest.approx(
        closed_form_modularity(TWO_TRIANGLES, [0, 0, 0, 1, 1, 1, 2])
    )
    assert math.isnan(modularity(torch.zeros(2, 0, dtype=torch.long), [0, 1, 1]))


def test_modularity_errors() -> None:
    edge_index = torch.tensor(TWO_TRIANGLES).T
    with pytest.raises(ValueError, match=r"shape \[2, E\]"):
        modularity(edge_index.T, [0] * 6)
    with pytest.raises(TypeError, match="'edge_index' to be of integer type"):
        modularity(edge_index.float(), [0] * 6)
    with pytest.raises(ValueError, match=r"must be in \[0, 5\)"):
        modularity(edge_index, [0] * 5)
    with pytest.raises(ValueError, match=r"one entry per node \(7\) \(got 6\)"):
        modularity(edge_index, [0] * 6, num_nodes=7)


def test_clustering_metrics_all_and_none() -> None:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score

    emb, y = blobs(5)
    pred = cluster_embeddings(emb, 3, seed=0)
    y_partial = y.copy()
    y_partial[[0, 7]] = -1
    edge_index = torch.tensor([[0, 1, 5, 6, 10, 11], [1, 2, 6, 7, 11, 12]])
    m = clustering_metrics(torch.tensor(y_partial), pred, emb=emb, edge_index=edge_index)
    assert list(m) == list(CLUSTERING_KEYS)
    keep = y_partial >= 0
    assert m["nmi"] == pytest.approx(normalized_mutual_info_score(y[keep], pred[keep]))
    assert m["ari"] == pytest.approx(adjusted_rand_score(y[keep], pred[keep]))
    assert m["acc"] == pytest.approx(clustering_accuracy(y[keep], pred[keep]))
    assert m["acc"] == 1.0
    assert m["silhouette"] == pytest.approx(silhouette_score(emb.numpy(), pred))
    assert m["modularity"] == pytest.approx(modularity(edge_index, pred))

    empty = clustering_metrics(None, pred)
    assert list(empty) == list(CLUSTERING_KEYS)
    assert all(math.isnan(v) for v in empty.values())
    unlabelled = clustering_metrics(np.full(15, -1), pred, emb=emb)
    assert math.isnan(unlabelled["nmi"]) and not math.isnan(unlabelled["silhouette"])
    one_cluster = clustering_metrics(y, np.zeros(15, int), emb=emb)
    assert math.isnan(one_cluster["silhouette"]) and one_cluster["acc"] == pytest.approx(1 / 3)


def test_clustering_metrics_silhouette_sample_is_seeded() -> None:
    emb, y = blobs(20)
    full = clustering_metrics(y, y, emb=emb)["silhouette"]
    a = clustering_metrics(y, y, emb=emb, max_silhouette_nodes=30, seed=4)["silhouette"]
    b = clustering_metrics(y, y, emb=emb, max_silhouette_nodes=30, seed=4)["silhouette"]
    assert a == b and a != full and a == pytest.approx(full, abs=0.1)


def test_clustering_metrics_errors() -> None:
    with pytest.raises(ValueError, match="same number of rows"):
        clustering_metrics([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="'emb' and 'y_pred'"):
        clustering_metrics(None, [0, 1], emb=torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"one entry per node \(3\)"):
        clustering_metrics(None, [0, 1], num_nodes=3)
    with pytest.raises(ValueError, match="'max_silhouette_nodes' to be an int >= 1"):
        clustering_metrics(None, [0, 1], max_silhouette_nodes=0)


def test_modularity_matches_networkx_on_karate() -> None:
    from networkx.algorithms.community import greedy_modularity_communities
    from networkx.algorithms.community import modularity as nx_modularity

    graph = nx.karate_club_graph()
    communities = greedy_modularity_communities(graph)
    assignment = np.zeros(graph.number_of_nodes(), dtype=np.int64)
    for c, members in enumerate(communities):
        assignment[list(members)] = c
    edge_index = torch.tensor(list(graph.edges)).T
    expected = nx_modularity(nx.Graph(graph.edges), communities)
    assert modularity(edge_index, assignment) == pytest.approx(expected)
    assert modularity(edge_index, assignment) == pytest.approx(
        closed_form_modularity(list(graph.edges), assignment.tolist())
    )


def test_clusterer_clones_and_sets_params_as_scikit_learn() -> None:
    from sklearn.base import clone

    emb, _ = blobs(5)
    clusterer = Clusterer(3, method="kmeans", seed=1, n_init=3)
    twin = clone(clusterer)
    assert twin is not clusterer and twin.get_params() == clusterer.get_params()
    assert twin.get_params() == {"k": 3, "method": "kmeans", "seed": 1, "n_init": 3}
    assert np.array_equal(twin.fit(emb).labels_, clusterer.fit_predict(emb))
    assert clusterer.set_params(k=2, n_init=5) is clusterer and clusterer.k == 2
    assert clusterer.kwargs == {"n_init": 5}
    with pytest.raises(ValueError, match="kmeans, spectral, agglomerative"):
        clusterer.set_params(method="dbscan")
    assert clusterer.method == "kmeans"


@pytest.mark.parametrize("method", ["kmeans", "spectral", "agglomerative"])
def test_fewer_distinct_embeddings_than_clusters_are_warned_of(method: str) -> None:
    emb = np.zeros((30, 4))
    emb[:10] = 1.0  # two distinct rows, three clusters asked
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cluster_embeddings(emb, 3, method=method)
    messages = [str(w.message) for w in caught]
    assert sum("2 distinct rows for k=3 clusters" in m for m in messages) == 1
    assert not any("Number of distinct clusters" in m for m in messages)  # k-means's own
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cluster_embeddings(emb, 2, method="agglomerative")  # as many as the distinct rows
