"""The command line of unsupervised embeddings: ``embed --objective`` and ``cluster``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mmgraph.cli import main
from mmgraph.data import load_card, save_card
from mmgraph.data.synthetic import make_social_graph
from mmgraph.eval import CLUSTERING_KEYS
from mmgraph.tasks.node_classification import load_run

SHALLOW = ["--dim", "8", "--walk-length", "6", "--context-size", "3", "--walks-per-node", "2"]
GNN = ["--text-encoder", "tfidf", "--image-size", "8", "--hidden", "8", "--modality-dim", "8"]


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    graph = make_social_graph(120, seed=3, image_size=8)
    return save_card(graph, tmp_path_factory.mktemp("card"))


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    graph = make_social_graph(60, seed=4, image_size=8)
    del graph.y, graph.train_mask, graph.val_mask, graph.test_mask
    return save_card(graph, tmp_path_factory.mktemp("unlabelled"))


@pytest.fixture(scope="module")
def shallow_embeddings(card: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("emb") / "shallow.npy"
    args = ["embed", "--objective", "node2vec", "--data", str(card), "--out", str(out)]
    assert main([*args, *SHALLOW, "--epochs", "2", "--quiet"]) == 0
    return out


def test_embed_shallow_node2vec(shallow_embeddings: Path, card: Path, capsys) -> None:
    emb = np.load(shallow_embeddings)
    assert emb.shape == (120, 8) and np.isfinite(emb).all()
    # Seeded: the same command gives the same embeddings.
    again = shallow_embeddings.with_name("again.npy")
    args = ["embed", "--objective", "node2vec", "--data", str(card), "--out", str(again)]
    assert main([*args, *SHALLOW, "--epochs", "2", "--quiet"]) == 0
    assert "node2vec (shallow): 2 epochs" in capsys.readouterr().out
    np.testing.assert_array_equal(np.load(again), emb)
    # --data alone: node2vec is the default objective, the same embeddings
    plain = shallow_embeddings.with_name("plain.npy")
    args = ["embed", "--data", str(card), "--out", str(plain)]
    assert main([*args, *SHALLOW, "--epochs", "2", "--quiet"]) == 0
    np.testing.assert_array_equal(np.load(plain), emb)


def test_cluster_writes_assignments_metrics_and_plot(
    shallow_embeddings: Path, card: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "clusters"
    args = ["cluster", "--embeddings", str(shallow_embeddings), "--data", str(card)]
    assert main([*args, "--k", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert all(key in printed for key in CLUSTERING_KEYS)
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {*CLUSTERING_KEYS, "k", "method"}
    assert metrics["k"] == 3 and metrics["method"] == "kmeans"
    assert all(isinstance(metrics[key], float) for key in CLUSTERING_KEYS)
    frame = pd.read_csv(out / "assignments.csv", dtype={"node_id": str})
    graph = load_card(card)
    assert list(frame.columns) == ["node_id", "cluster", "true_class"]
    assert frame["node_id"].tolist() == graph.node_id
    assert set(frame["cluster"]) == {0, 1, 2}
    assert set(frame["true_class"]) == {"human", "bot"}
    assert (out / "tsne.png").stat().st_size > 0


def test_cluster_defaults_k_to_the_classes_and_other_methods(
    shallow_embeddings: Path, card: Path, tmp_path: Path
) -> None:
    out = tmp_path / "agg"
    args = ["cluster", "--embeddings", str(shallow_embeddings), "--data", str(card)]
    assert main([*args, "--method", "agglomerative", "--no-plot", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["k"] == 2 and metrics["method"] == "agglomerative"
    assert not (out / "tsne.png").exists()


def test_unlabelled_data_gives_null_label_metrics(unlabelled: Path, tmp_path: Path, capsys) -> None:
    emb = tmp_path / "e.npy"
    args = ["embed", "--objective", "node2vec", "--data", str(unlabelled), "--out", str(emb)]
    assert main([*args, *SHALLOW, "--epochs", "1", "--quiet"]) == 0
    cluster = ["cluster", "--embeddings", str(emb), "--data", str(unlabelled)]
    assert main([*cluster, "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "Give the number of clusters (--k on the command line" in err
    assert "the data has no labels" in err
    assert main([*cluster[:3], "--out", str(tmp_path / "c")]) == 2  # no --data at all
    assert "no data was given to take the number of classes from" in capsys.readouterr().err
    assert main([*cluster, "--k", "3", "--no-plot", "--out", str(tmp_path / "c")]) == 0
    metrics = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert metrics["nmi"] is None and metrics["ari"] is None and metrics["acc"] is None
    assert isinstance(metrics["silhouette"], float) and isinstance(metrics["modularity"], float)
    frame = pd.read_csv(tmp_path / "c" / "assignments.csv")
    assert list(frame.columns) == ["node_id", "cluster"]
    # Without --data: only the silhouette.
    assert (
        main(
            [
                "cluster",
                "--embeddings",
                str(emb),
                "--k",
                "2",
                "--no-plot",
                "--out",
                str(tmp_path / "d"),
            ]
        )
        == 0
    )
    metrics = json.loads((tmp_path / "d" / "metrics.json").read_text())
    assert metrics["modularity"] is None and isinstance(metrics["silhouette"], float)


def test_embed_gnn_saves_a_run_that_embeds_new_data(
    card: Path, unlabelled: Path, tmp_path: Path, capsys
) -> None:
    out, run = tmp_path / "gnn.npy", tmp_path / "run"
    args = ["embed", "--objective", "node2vec", "--encoder", "gnn", "--data", str(card)]
    args += [
        *GNN,
        "--epochs",
        "3",
        "--walk-length",
        "4",
        "--context-size",
        "3",
        "--temperature",
        "0.5",
        "--text-dim",
        "5",
    ]
    assert main([*args, "--save-run", str(run), "--out", str(out), "--quiet"]) == 0
    assert "node2vec (gnn): 3 epochs" in capsys.readouterr().out
    emb = np.load(out)
    assert emb.shape == (120, 8) and np.isfinite(emb).all()
    for name in ("config.yaml", "model.safetensors", "objective.yaml", "history.csv"):
        assert (run / name).is_file(), name
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["features"]["text_dim"] == config["model"]["text_dim"] == 5  # was left unread
    assert config["model"]["center_features"] is True  # the route's default, kept in the run
    offset = load_run(run).model.encoders.encoders["text"].offset
    assert offset is not None and float(offset.abs().sum()) > 0  # fitted, and reloaded
    settings = yaml.safe_load((run / "objective.yaml").read_text())
    assert settings["name"] == "node2vec" and settings["temperature"] == 0.5
    assert settings["normalize"] is True and settings["walk_length"] == 4
    # The saved run embeds the training data the same way, and new, unlabelled data.
    again = tmp_path / "again.npy"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its own data, unchanged: no "not the data" warning
        assert main(["embed", "--run", str(run), "--out", str(again), "--quiet"]) == 0
    assert "not the data the run" not in capsys.readouterr().err
    np.testing.assert_allclose(np.load(again), emb, rtol=1e-4, atol=1e-5)
    new = tmp_path / "new.npy"
    assert (
        main(["embed", "--run", str(run), "--data", str(unlabelled), "--out", str(new), "--quiet"])
        == 0
    )
    assert np.load(new).shape == (60, 8)


def test_a_gnn_embedding_does_not_depend_on_the_labels(card: Path, tmp_path: Path) -> None:
    """Labels (and the split drawn from them) would make featurization fit on 60% of nodes."""
    graph = load_card(card)
    del graph.train_mask, graph.val_mask, graph.test_mask
    labelled = save_card(graph, tmp_path / "labelled")  # `train` would draw a split
    del graph.y
    unlabelled = save_card(graph, tmp_path / "unlabelled")
    args = ["embed", "--objective", "node2vec", "--encoder", "gnn", *GNN, "--epochs", "2"]
    args += ["--walk-length", "4", "--context-size", "3", "--quiet"]
    a, b = tmp_path / "labelled.npy", tmp_path / "unlabelled.npy"
    assert main([*args, "--data", str(labelled), "--out", str(a)]) == 0
    assert main([*args, "--data", str(unlabelled), "--out", str(b)]) == 0
    np.testing.assert_array_equal(np.load(a), np.load(b))


def test_errors(card: Path, shallow_embeddings: Path, tmp_path: Path, capsys) -> None:
    out = str(tmp_path / "e.npy")
    assert main(["embed", "--out", out]) == 2
    assert "needs --run" in capsys.readouterr().err
    assert main(["embed", "--objective", "node2vec", "--out", out]) == 2
    assert "needs --data" in capsys.readouterr().err
    assert (
        main(["embed", "--objective", "node2vec", "--run", "x", "--data", str(card), "--out", out])
        == 2
    )
    assert "not both" in capsys.readouterr().err
    args = ["embed", "--objective", "node2vec", "--data", str(card), "--out", out]
    assert main([*args, "--save-run", str(tmp_path / "r")]) == 2
    assert "--save-run keeps a trained GNN" in capsys.readouterr().err
    assert main([*args, "--walk-length", "3"]) == 2
    assert "at least 'context_size' = 10 nodes" in capsys.readouterr().err
    cluster = ["cluster", "--out", str(tmp_path / "c")]
    assert main([*cluster, "--embeddings", str(tmp_path / "missing.npy"), "--k", "2"]) == 2
    assert "No embeddings file" in capsys.readouterr().err
    small = make_social_graph(30, seed=1, image_size=8)
    other = save_card(small, tmp_path / "other")
    assert main([*cluster, "--embeddings", str(shallow_embeddings), "--data", str(other)]) == 2
    assert "120 rows but the data has 30 nodes" in capsys.readouterr().err
    assert main([*cluster, "--embeddings", str(shallow_embeddings), "--k", "500"]) == 2
    assert "'k' <= the number of nodes 120" in capsys.readouterr().err
    assert main([*cluster, "--embeddings", str(shallow_embeddings), "--k", "1"]) == 2
    assert "Expected 2 or more clusters (got k=1)" in capsys.readouterr().err
    fixed = ["--k", "2", "--method", "agglomerative", "--no-plot", "--seed", "5"]
    assert main([*cluster, "--embeddings", str(shallow_embeddings), *fixed]) == 2
    assert "draws nothing at random, so it would change nothing" in capsys.readouterr().err
    one_class = load_card(card)
    one_class.y[one_class.y != -1] = 0
    one = save_card(one_class, tmp_path / "one")
    assert main([*cluster, "--embeddings", str(shallow_embeddings), "--data", str(one)]) == 2
    assert "The labels hold one class" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_embed_gnn_reads_the_coordination_and_fusion_flags(
    card: Path, tmp_path: Path, capsys
) -> None:
    args = ["embed", "--objective", "node2vec", "--encoder", "gnn", "--data", str(card), *GNN]
    args += ["--epochs", "1", "--walk-length", "4", "--context-size", "3", "--quiet"]
    run = tmp_path / "run"
    flags = ["--coordination", "cosine", "--coordination-weight", "0.5"]
    flags += ["--fusion", "translation", "--source", "attributes", "--cycle"]
    code = main([*args, *flags, "--save-run", str(run), "--out", str(tmp_path / "e.npy")])
    assert code == 0
    model = yaml.safe_load((run / "config.yaml").read_text())["model"]
    assert (model["coordination"], model["coordination_weight"]) == ("cosine", 0.5)
    assert model["fusion"] == "translation"
    assert model["fusion_options"]["source"] == "attributes"
    assert model["fusion_options"]["cycle"] is True
    # another head's flags are refused, not ignored
    out = str(tmp_path / "x.npy")
    assert main([*args, "--source", "text", "--out", out]) == 2
    assert "Options of --fusion translation given with fusion 'concat'" in capsys.readouterr().err
    assert main([*args, "--mvlstm-topology", "coupled", "--out", out]) == 2
    assert "Options of --fusion mvlstm given with fusion 'concat'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--hidden", "8"], "node2vec with the shallow encoder (a table of node vectors"),
        (["--temperature", "0.5", "--dot"], "does not read --dot, --temperature, which would"),
        (["--text-encoder", "hashing"], "does not read --text-encoder, which would change"),
        (["--encoder", "gnn", "--dim", "8"], "node2vec with the GNN encoder (its size is --hidden"),
        (["--encoder", "gnn", "--batch-size", "8"], "does not read --batch-size"),
        # auto picks from the labels' homophily: the embedding reads no label, test ones included
        (["--encoder", "gnn", "--aggregator", "auto"], "learned without labels reads none"),
    ],
)
def test_embed_refuses_flags_its_encoder_would_not_read(
    flags: list[str], message: str, card: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "e.npy"
    argv = ["embed", "--data", str(card), "--epochs", "1", "--quiet", *flags, "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "mmgraph embed: error:" in err and message in err
    assert not out.exists()


def test_embed_with_a_run_refuses_node2vec_flags(
    card: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run = tmp_path / "run"
    argv = ["train", "--data", str(card), "--epochs", "1", "--hidden", "4", "--quiet"]
    assert main([*argv, "--out", str(run)]) == 0
    out = tmp_path / "e.npy"
    refused = ["embed", "--run", str(run), "--p", "2", "--dim", "3", "--out", str(out)]
    assert main(refused) == 2
    err = capsys.readouterr().err
    assert "`embed --run` (the run's own trained model) does not read --dim, --p" in err
    assert main(["embed", "--run", str(run), "--data", str(card), "--out", str(out)]) == 0
    assert np.load(out).shape[0] == 120


def test_cluster_names_what_is_wrong_with_an_embeddings_file(tmp_path: Path, capsys) -> None:
    cluster = ["cluster", "--k", "2", "--no-plot", "--out", str(tmp_path / "c")]
    rows = np.random.default_rng(0).normal(size=(12, 3))
    cases = {
        "text.npy": (b"hello", "is not a NumPy .npy file (it starts with b'hello')"),
        "objects.npy": (np.array([[object()]] * 12, dtype=object), "holds Python objects"),
        "flat.npy": (rows[:, 0], "of shape [N, D] (got [12])"),
        "folds.npy": (np.stack([rows, rows]), "holds 2 arrays [N, D] (shape [2, 12, 3])"),
        "bool.npy": (rows > 0, "to be of numeric type (got 'bool')"),
        "complex.npy": (rows.astype(np.complex64), "to be of numeric type (got 'complex64')"),
        "nan.npy": (
            np.where(np.arange(12)[:, None] % 5 == 1, np.nan, rows),
            "in 3 rows: 1, 6, 11, counting",
        ),
    }
    for name, (content, needle) in cases.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            np.save(path, content, allow_pickle=True)
        for size in (100, 200):  # in the header, in the data
            (tmp_path / f"cut{size}-{name}").write_bytes(path.read_bytes()[:size])
        assert main([*cluster, "--embeddings", str(path)]) == 2
        err = capsys.readouterr().err
        assert needle in err and f"'{path}'" in err and "allow_pickle" not in err, err
        assert len(err.strip().splitlines()) == 1, err
    for size in (100, 200):
        assert main([*cluster, "--embeddings", str(tmp_path / f"cut{size}-nan.npy")]) == 2
        assert "cannot be read as .npy" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
    # a run over folds: --fold picks one of its arrays (sweep 6 F7)
    folds = str(tmp_path / "folds.npy")
    assert main([*cluster, "--embeddings", folds]) == 2
    assert "give the fold, 1 to 2 (`mmgraph cluster --fold 1`)" in capsys.readouterr().err
    for fold, needle in (("3", "Expected a fold from 1 to 2"), ("0", "argument --fold")):
        assert main([*cluster, "--embeddings", folds, "--fold", fold]) == 2
        assert needle in capsys.readouterr().err
    np.save(tmp_path / "one.npy", rows)
    assert main([*cluster, "--embeddings", str(tmp_path / "one.npy"), "--fold", "1"]) == 2
    assert "not one per fold: leave out the fold (--fold)" in capsys.readouterr().err
    assert main([*cluster, "--embeddings", folds, "--fold", "2"]) == 0
    assert json.loads((tmp_path / "c" / "metrics.json").read_text())["k"] == 2


@pytest.fixture(scope="module")
def density(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small SubGNN folder of the density task."""
    folder = tmp_path_factory.mktemp("subgnn") / "density"
    argv = ["subgraph", "generate", "--task", "density", "--nodes", "120", "--subgraphs", "30"]
    assert main([*argv, "--out", str(folder)]) == 0
    return folder


def test_cluster_scores_subgraph_embeddings_against_their_labels(
    density: Path, tmp_path: Path, capsys
) -> None:
    folder = density
    run = tmp_path / "s2v"
    argv = ["subgraph", "train", "--data", str(folder), "--method", "sub2vec", "--epochs", "1"]
    assert main([*argv, "--quiet", "--out", str(run)]) == 0
    capsys.readouterr()
    out = tmp_path / "clusters"
    argv = ["cluster", "--embeddings", str(run / "embeddings.npy"), "--data", str(folder)]
    assert main([*argv, "--no-plot", "--out", str(out)]) == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["k"] == 3 and 0.0 <= metrics["nmi"] <= 1.0 and metrics["modularity"] is None
    frame = pd.read_csv(out / "assignments.csv")
    assert len(frame) == 30 and frame["subgraph"][0] == "subgraph_0"  # not a node id
    assert frame["true_class"].notna().all()
    # the label metrics count the held-out (test) subgraphs alone: all are clustered
    from mmgraph.data import load_dataset
    from mmgraph.eval import clustering_metrics

    dataset = load_dataset(folder)
    test = dataset.test_mask.numpy()
    assert metrics["scored_on"] == f"the {int(test.sum())} test subgraphs"
    held_out = np.where(test, dataset.y.numpy(), -1)
    expected = clustering_metrics(held_out, frame["cluster"].to_numpy())
    assert metrics["nmi"] == pytest.approx(expected["nmi"])
    assert "nmi, ari and acc on the" in capsys.readouterr().out
    labels = tmp_path / "multi"
    argv = ["subgraph", "generate", "--task", "position_multilabel", "--subgraphs", "30"]
    assert main([*argv, "--out", str(labels)]) == 0
    capsys.readouterr()
    argv = ["cluster", "--embeddings", str(run / "embeddings.npy"), "--data", str(labels)]
    assert main([*argv, "--no-plot", "--out", str(tmp_path / "c2")]) == 2
    assert "is multi-label" in capsys.readouterr().err


def test_node_commands_name_the_kind_of_run_they_were_given(
    card: Path, density: Path, tmp_path: Path, capsys
) -> None:
    run = tmp_path / "n2v"
    args = ["embed", "--objective", "node2vec", "--encoder", "gnn", "--data", str(card), *GNN]
    args += ["--epochs", "1", "--walk-length", "4", "--context-size", "3"]
    assert main([*args, "--save-run", str(run), "--out", str(tmp_path / "e.npy"), "--quiet"]) == 0
    capsys.readouterr()
    for command in (["evaluate"], ["predict", "--out", str(tmp_path / "p.csv")]):
        assert main([*command, "--run", str(run), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "is an unsupervised embedding run (node2vec, no classifier)" in err, err
        assert "internal error" not in err
    folder = density
    sub = tmp_path / "sub"
    argv = ["subgraph", "train", "--data", str(folder), "--epochs", "1", "--hidden", "4"]
    assert main([*argv, "--quiet", "--out", str(sub)]) == 0
    capsys.readouterr()
    assert main(["embed", "--run", str(sub), "--out", str(tmp_path / "s.npy"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is a `mmgraph subgraph train` run, not a node model" in err and "lacks" not in err


def test_a_folds_clusters_are_scored_on_its_test_graphs(shared_data: Path) -> None:
    from mmgraph.data import load_dataset
    from mmgraph.tasks import DataSpec
    from mmgraph.tasks.unsupervised import cluster_nodes

    mutag = load_dataset("mutag", root=shared_data)
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(mutag.folds), len(mutag), 4)).astype(np.float32)
    test = mutag.folds[1][1]
    result = cluster_nodes(emb, data=DataSpec("mutag", root=str(shared_data)), fold=2)
    assert result.scored_on == f"fold 2's {test.numel()} test graphs"
    assert len(result.assignments) == len(mutag)  # all are clustered
    from mmgraph.eval import clustering_metrics

    held_out = np.full(len(mutag), -1)
    held_out[test.numpy()] = mutag.y[test].numpy()
    assert result.metrics["nmi"] == pytest.approx(
        clustering_metrics(held_out, result.assignments)["nmi"]
    )


def test_cluster_says_when_only_the_labelled_nodes_are_scored(
    shallow_embeddings: Path, card: Path, tmp_path: Path, capsys
) -> None:
    graph = make_social_graph(120, seed=3, image_size=8)
    graph.y[:50] = -1  # no label
    partly = save_card(graph, tmp_path / "partly")
    argv = ["cluster", "--embeddings", str(shallow_embeddings), "--no-plot", "--data"]
    assert main([*argv, str(partly), "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "nmi, ari and acc on the 70 labelled nodes of 120: the others have no label" in out
    metrics = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert metrics["scored_on"] == "the 70 labelled nodes of 120"
    assert main([*argv, str(card), "--out", str(tmp_path / "all")]) == 0
    assert "scored_on" not in json.loads((tmp_path / "all" / "metrics.json").read_text())
    assert "labelled nodes" not in capsys.readouterr().out
