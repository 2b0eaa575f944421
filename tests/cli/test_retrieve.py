"""`mmgraph retrieve` and Retriever.from_run on a tiny coordinated run of the synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmgraph.cli import main
from mmgraph.data import load_dataset, save_card
from mmgraph.data.synthetic import make_social_graph
from mmgraph.retrieval import Retriever

QUERY_TEXT = "totally free crypto signals today"
"""Node 5's whole text in the card: a text query with it is that node's own text."""


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    graph = make_social_graph(120, seed=3, image_size=8)
    del graph.train_mask, graph.val_mask, graph.test_mask  # let `train` split it
    graph.text[5] = QUERY_TEXT
    graph.text_present[5] = True
    return save_card(graph, tmp_path_factory.mktemp("card"))


@pytest.fixture(scope="module")
def run(card: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "coordinated"
    args = ["train", "--data", str(card), "--text-encoder", "tfidf", "--image-encoder"]
    args += ["cnn-e2e", "--image-size", "8", "--epochs", "3", "--hidden", "8"]
    args += ["--modality-dim", "8", "--layers", "1", "--head", "linear"]
    args += ["--coordination", "cosine", "--coordination-dim", "4", "--quiet", "--out", str(out)]
    assert main(args) == 0
    return out


def test_a_text_query_goes_through_the_runs_tfidf(run: Path) -> None:
    retriever = Retriever.from_run(run)
    assert retriever.modalities == ["text", "image", "attributes"]
    # The query is node 5's whole text: embedded by the run's saved TF-IDF, it is node 5's.
    same = retriever.search(QUERY_TEXT, k=3, target="text")
    assert same.queries == [QUERY_TEXT] and same.source == "text"
    assert int(same.index[0, 0]) == 5 and float(same.score[0, 0]) == pytest.approx(1.0)
    assert same.names is not None and same.names[0][0] == "u0005"
    found = retriever.search(QUERY_TEXT, k=7)  # the default target: image
    assert found.target == "image" and found.index.shape == (1, 7)
    assert bool((found.score[0, :-1] >= found.score[0, 1:]).all())


def test_an_image_file_query_goes_through_the_runs_image_input(run: Path, card: Path) -> None:
    retriever = Retriever.from_run(run)
    graph = load_dataset(str(card))
    node = int(graph.image_present.nonzero()[3])
    path = Path(graph.image_root or card) / graph.image[node]
    found = retriever.search(path, k=2, target="image")
    assert found.source == "image" and int(found.index[0, 0]) == node
    assert float(found.score[0, 0]) == pytest.approx(1.0)


def test_an_attribute_query_is_conformed_to_the_runs_columns(run: Path) -> None:
    retriever = Retriever.from_run(run)
    found = retriever.search({"followers_count": 120.0, "lang": "en"}, k=3, target="text")
    assert found.source == "attributes" and found.index.shape == (1, 3)
    assert found.queries == [{"followers_count": 120.0, "lang": "en"}]


def test_retrieve_node_query_prints_a_table_and_writes_json(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "found.json"
    args = ["retrieve", "--run", str(run), "--query-node", "u0005", "7", "--from", "text"]
    assert main([*args, "--to", "image", "--k", "4", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "text -> image: nearest of" in printed and "cosine coordination projections" in printed
    assert "query node 5 (u0005)" in printed and "rank  node  name   score" in printed
    doc = json.loads(out.read_text())
    assert doc["source"] == "text" and doc["target"] == "image"
    assert [r["query"] for r in doc["results"]] == [5, 7]
    for result in doc["results"]:
        neighbours = result["neighbours"]
        assert [n["rank"] for n in neighbours] == [1, 2, 3, 4]
        assert result["query"] not in [n["node"] for n in neighbours]
        scores = [n["score"] for n in neighbours]
        assert scores == sorted(scores, reverse=True)


def test_retrieve_text_query_defaults(run: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["retrieve", "--run", str(run), "--query-text", QUERY_TEXT, "--k", "2"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("text -> image:")
    assert f"query {QUERY_TEXT!r}" in printed
    assert len(printed.strip().splitlines()) == 7  # header, blank, query, table head, rule, 2 rows


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--query-node", "u0005"], "give --from"),
        (["--query-node", "999", "--from", "text"], "Unknown node index 999"),
        (["--query-node", "u05", "--from", "text"], "Unknown node id 'u05'"),
        (["--query-text", "  "], "query is empty"),
        (["--query-attributes", "[1, 2]"], "must be a JSON object"),
        (["--query-attributes", '{"height": 3}'], "Unknown attribute column 'height': the"),
        (
            ["--query-attributes", '{"folowers_count": 3}'],
            "Unknown attribute column 'folowers_count' (did you mean 'followers_count'?)",
        ),
        (["--query-text", "x", "--k", "0"], "argument --k"),
        (["--query-text", "qqqq zzzz"], "'qqqq zzzz' encodes to zeros: none of its words"),
        (["--query-text", "crypto", "--from", "image"], "--from would change nothing"),
        (["--query-attributes", '{"followers_count": "abc"}'], "expected a number (got 'abc')"),
        (["--query-attributes", '{"lang": "zz"}'], "value 'zz' of the categorical column 'lang'"),
        (["--query-attributes", '{"followers_count": NaN}'], "Every value of the attribute query"),
    ],
)
def test_retrieve_refuses_bad_queries(
    run: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture
) -> None:
    assert main(["retrieve", "--run", str(run), "--quiet", *extra]) == 2
    assert message in capsys.readouterr().err


def test_an_image_query_that_is_not_an_image(
    run: Path, card: Path, capsys: pytest.CaptureFixture
) -> None:
    table = card.parent / "nodes.csv"
    assert main(["retrieve", "--run", str(run), "--quiet", "--query-image", str(table)]) == 2
    err = capsys.readouterr().err
    assert f"The image query '{table}' is not a readable image (not an image format" in err
    assert "BytesIO" not in err and "on_error" not in err


def test_retrieve_help(capsys: pytest.CaptureFixture) -> None:
    assert main(["retrieve", "--help"]) == 0
    text = capsys.readouterr().out
    for flag in ("--query-text", "--query-image", "--query-node", "--from", "--to", "--out"):
        assert flag in text


def test_retrieve_says_when_k_exceeds_the_gallery(run: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["retrieve", "--run", str(run), "--query-node", "u0005", "--from", "text"]
    assert main([*args, "--k", "500", "--quiet"]) == 0
    printed = capsys.readouterr().out
    gallery = int(printed.split("nearest of ")[1].split()[0])
    shown = gallery - 1  # the query node itself is left out
    assert f"(--k 500 asks for more nodes than the gallery offers: {shown} per query)" in printed
    assert printed.rstrip().splitlines()[-1].split()[0] == str(shown)  # the last rank
    assert main([*args, "--k", str(shown), "--quiet"]) == 0
    assert "asks for more" not in capsys.readouterr().out
