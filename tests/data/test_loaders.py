from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch_geometric.io import read_planetoid_data
from torch_geometric.utils import is_undirected

from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.loaders import load_planetoid, load_subgnn, load_tu, load_twibot, load_webkb
from mmgraph.data.loaders.twibot import TWIBOT20_REFERENCE_DATE, parse_date
from mmgraph.data.subgraphs import SubgraphDataset


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# =================================================================== Planetoid
@pytest.fixture(scope="module")
def cora(shared_data: Path) -> MultimodalGraph:
    return load_planetoid(shared_data / "planetoid", "Cora")


def test_cora_counts_and_public_split(cora: MultimodalGraph) -> None:
    assert cora.num_nodes == 2708
    assert cora.num_classes == 7
    assert cora.edge_index.size(1) == 10556
    assert is_undirected(cora.edge_index)
    assert cora.numeric.shape == (2708, 1433)
    assert int(cora.train_mask.sum()) == 140
    assert int(cora.val_mask.sum()) == 500
    assert int(cora.test_mask.sum()) == 1000
    assert bool(cora.numeric_present.all())
    assert torch.bincount(cora.y[cora.train_mask]).tolist() == [20] * 7


def test_cora_matches_pyg_reader(cora: MultimodalGraph, shared_data: Path) -> None:
    data = read_planetoid_data(str(shared_data / "planetoid" / "Cora" / "raw"), "cora")
    assert torch.equal(cora.numeric, data.x)
    assert torch.equal(cora.y, data.y)
    assert torch.equal(cora.edge_index, data.edge_index)


def test_planetoid_root_variants_and_nothing_written(shared_data: Path) -> None:
    before = listing(shared_data / "planetoid")
    a = load_planetoid(shared_data / "planetoid" / "Cora", "cora")
    b = load_planetoid(shared_data / "planetoid" / "Cora" / "raw", "CORA")
    assert a.num_nodes == b.num_nodes == 2708
    assert listing(shared_data / "planetoid") == before


def test_citeseer_isolated_rows_are_missing(shared_data: Path) -> None:
    g = load_planetoid(shared_data / "planetoid", "citeseer")
    assert g.num_nodes == 3327
    assert g.num_classes == 6
    assert g.numeric.size(1) == 3703
    missing = ~g.numeric_present
    assert int(missing.sum()) == 15
    assert bool(torch.isnan(g.numeric[missing]).all())
    assert not bool(torch.isnan(g.numeric[~missing]).any())
    assert bool((g.y[missing] == -1).all())
    assert not bool((g.train_mask | g.val_mask | g.test_mask)[missing].any())
    # The missing rows are exactly the ids absent from the raw test index.
    raw = shared_data / "planetoid" / "CiteSeer" / "raw"
    test_index = {int(v) for v in (raw / "ind.citeseer.test.index").read_text().split()}
    span = set(range(min(test_index), max(test_index) + 1))
    assert set(missing.nonzero().view(-1).tolist()) == span - test_index
    # Other rows agree with PyG's reader.
    data = read_planetoid_data(str(raw), "citeseer")
    assert torch.equal(g.numeric[~missing], data.x[~missing])
    assert int(g.test_mask.sum()) == 1000


def test_planetoid_errors(shared_data: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Unknown Planetoid data set 'corra'.*\['cora'"):
        load_planetoid(shared_data / "planetoid", "corra")
    with pytest.raises(FileNotFoundError, match="Planetoid root folder not found"):
        load_planetoid(tmp_path / "nowhere", "cora")
    with pytest.raises(FileNotFoundError, match=r"No Planetoid raw files 'ind.cora.\*'"):
        load_planetoid(tmp_path, "cora")
    raw = tmp_path / "Cora" / "raw"
    shutil.copytree(shared_data / "planetoid" / "Cora" / "raw", raw)
    (raw / "ind.cora.tx").unlink()
    with pytest.raises(FileNotFoundError, match="'ind.cora.tx' not found"):
        load_planetoid(tmp_path, "cora")


# ======================================================================= WebKB
def webkb_edges(csv: Path) -> set[tuple[int, int]]:
    table = pd.read_csv(csv)
    return {
        (int(u), int(v)) for u, nb in zip(table.node_id, table.neighbor_ids) for v in json.loads(nb)
    }


@pytest.mark.parametrize(("name", "pages"), [("Cornell", 191), ("Texas", 187)])
def test_webkb_counts_classes_and_links(shared_data: Path, name: str, pages: int) -> None:
    csv = shared_data / "webkb" / f"{name}.csv"
    g = load_webkb(csv, undirected=False)
    assert g.num_nodes == pages
    assert g.class_names == ["student", "faculty", "course", "project", "staff"]
    table = pd.read_csv(csv)
    assert [g.class_names[c] for c in g.y.tolist()] == table.category.tolist()
    assert g.text[0] == table.raw_text[0]
    links = webkb_edges(csv)
    assert {tuple(e) for e in g.edge_index.t().tolist()} == links
    assert g.edge_index.size(1) == len(links)
    sym = load_webkb(shared_data / "webkb", name.lower())
    assert is_undirected(sym.edge_index)
    assert {tuple(e) for e in sym.edge_index.t().tolist()} == links | {(v, u) for u, v in links}


def test_webkb_label_codes_differ_but_classes_agree(shared_data: Path) -> None:
    cornell = pd.read_csv(shared_data / "webkb" / "Cornell.csv")
    texas = pd.read_csv(shared_data / "webkb" / "Texas.csv")
    code = dict(zip(cornell.category, cornell.label))
    assert any(code[c] != lbl for c, lbl in zip(texas.category, texas.label))
    g = load_webkb(shared_data / "webkb" / "Texas.csv")
    assert Counter(g.label_name(c) for c in g.y.tolist()) == Counter(texas.category)


def test_webkb_errors(shared_data: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"is a folder: pass `name`.*'Cornell'"):
        load_webkb(shared_data / "webkb")
    with pytest.raises(FileNotFoundError, match="No 'Wisconsin.csv'"):
        load_webkb(shared_data / "webkb", "Wisconsin")
    header = "url,raw_text,category,node_id,label,len,neighbor_ids\n"
    cases = {
        "missing.csv": ("url,raw_text,node_id,neighbor_ids\nu,t,0,[]\n", r"'category'.* not found"),
        "cat.csv": (header + 'u,t,professor,0,0,1,"[]"\n', "Unknown category 'professor'"),
        "nb.csv": (header + "u,t,student,0,0,1,oops\n", "Expected 'neighbor_ids' .* row 1"),
        "unknown.csv": (header + 'u,t,student,0,0,1,"[7]"\n', "links to node id '7'"),
        "dup.csv": (
            header + 'u,t,student,0,0,1,"[]"\nv,t,staff,0,0,1,"[]"\n',
            "Duplicate node id '0'",
        ),
    }
    for file, (text, message) in cases.items():
        (tmp_path / file).write_text(text)
        with pytest.raises(ValueError, match=message):
            load_webkb(tmp_path / file)


# ===================================================================== TwiBot-20
@pytest.fixture(scope="module")
def twibot_sample(shared_data: Path) -> tuple[MultimodalGraph, list[dict]]:
    path = shared_data / "twibot20-sample" / "TwiBot-20_sample.json"
    return load_twibot(path), json.loads(path.read_text())


def test_twibot20_sample(twibot_sample: tuple[MultimodalGraph, list[dict]]) -> None:
    g, raw = twibot_sample
    assert g.num_nodes == 100
    assert getattr(g, "y", None) is None  # the sample has no labels
    assert g.node_id == [u["ID"] for u in raw]
    assert g.relation_names == ["follower", "following"]
    # Only neighbours inside the file remain; compare with a direct count.
    ids = {u["ID"] for u in raw}
    expected = {
        (u["ID"], rel, v.strip())
        for u in raw
        if u["neighbor"]
        for rel in ("follower", "following")
        for v in u["neighbor"][rel]
        if v.strip() in ids
    }
    got = {
        (g.node_id[s], g.relation_names[r], g.node_id[d])
        for (s, d), r in zip(g.edge_index.t().tolist(), g.edge_type.tolist())
    }
    assert got == expected
    # Text: the description then the tweets, stripped.
    first = raw[0]
    assert g.text[0][0] == first["profile"]["description"].strip()
    assert g.text[0][1:] == [t.strip() for t in first["tweet"] if t.strip()]
    # Counts and flags parsed from strings with trailing spaces.
    col = g.numeric_names.index("followers_count")
    expected_followers = torch.tensor([float(u["profile"]["followers_count"]) for u in raw])
    assert torch.equal(g.numeric[:, col], expected_followers)
    j = g.categorical_names.index("verified")
    verified = [g.categorical_vocabs[j][c - 1] for c in g.categorical[:, j].tolist()]
    assert verified == [u["profile"]["verified"].strip() for u in raw]
    assert "domain_Politics" in g.categorical_names
    # Account age relative to the documented reference date.
    created = datetime.strptime(first["profile"]["created_at"].strip(), "%a %b %d %H:%M:%S %z %Y")
    age = g.numeric[0, g.numeric_names.index("account_age_days")]
    expected_age = (TWIBOT20_REFERENCE_DATE - created).total_seconds() / 86400
    assert math.isclose(float(age), expected_age, rel_tol=1e-6)


def user20(uid: str, label: str | None = None, following: list[str] | None = None) -> dict:
    user = {
        "ID": uid,
        "profile": {
            "description": f"about {uid} ",
            "followers_count": "10 ",
            "friends_count": "None ",
            "created_at": "Tue Nov 18 10:27:25 +0000 2008 ",
            "verified": "True ",
            "protected": "None ",
        },
        "tweet": ["one\n", "two\n", "  "],
        "neighbor": None if following is None else {"following": following, "follower": []},
        "domain": ["Sports"],
    }
    if label is not None:
        user["label"] = label
    return user


def test_twibot20_labels_and_options(tmp_path: Path) -> None:
    users = [user20("1", "1", ["2", "99"]), user20("2", "0"), user20("3")]
    path = tmp_path / "users.json"
    path.write_text(json.dumps(users))
    g = load_twibot(path, reference_date="2009-11-18", max_tweets=1)
    assert g.class_names == ["human", "bot"] and g.positive_class == 1
    assert g.y.tolist() == [1, 0, -1]
    assert g.text[0] == ["about 1", "one"]
    assert g.edge_index.tolist() == [[0], [1]]
    assert g.edge_type.tolist() == [1]  # following
    age = g.numeric[0, g.numeric_names.index("account_age_days")]
    assert math.isclose(float(age), 365 - 10.46 / 24 + 0.0, abs_tol=0.01)
    friends = g.numeric_names.index("friends_count")
    assert math.isnan(float(g.numeric[0, friends]))
    protected = g.categorical_names.index("protected")
    assert g.categorical[:, protected].tolist() == [0, 0, 0]  # 'None' -> missing
    no_tweets = load_twibot(path, include_tweets=False)
    assert no_tweets.text[0] == ["about 1"]


def test_twibot20_release_folder_gives_splits(tmp_path: Path) -> None:
    files = {
        "train.json": [user20("1", "1", ["2"])],
        "dev.json": [user20("2", "0")],
        "test.json": [user20("3", "1")],
        "support.json": [user20("4")],
    }
    for name, users in files.items():
        (tmp_path / name).write_text(json.dumps(users))
    g = load_twibot(tmp_path)
    assert g.train_mask.tolist() == [True, False, False, False]
    assert g.val_mask.tolist() == [False, True, False, False]
    assert g.test_mask.tolist() == [False, False, True, False]
    assert g.y.tolist() == [1, 0, 1, -1]


def test_twibot20_errors(tmp_path: Path) -> None:
    def write(obj: object) -> Path:
        path = tmp_path / "x.json"
        path.write_text(json.dumps(obj))
        return path

    with pytest.raises(ValueError, match="JSON list of users"):
        load_twibot(write({"ID": "1"}))
    with pytest.raises(ValueError, match="User 0 of .* has no 'ID' field"):
        load_twibot(write([{"profile": {}}]))
    with pytest.raises(ValueError, match="User id '1' appears twice"):
        load_twibot(write([user20("1"), user20("1")]))
    with pytest.raises(ValueError, match="Unknown label 'maybe' of user '1'"):
        load_twibot(write([user20("1", "maybe")]))
    with pytest.raises(ValueError, match="'reference_date' in ISO format"):
        load_twibot(write([user20("1")]), reference_date="Sept 2020")
    with pytest.raises(ValueError, match="'max_tweets' >= 0"):
        load_twibot(write([user20("1")]), max_tweets=-1)
    with pytest.raises(ValueError, match="holds no users"):
        load_twibot(write([]))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="neither TwiBot-22's 'user.json'"):
        load_twibot(empty)
    with pytest.raises(FileNotFoundError, match="TwiBot data .* not found"):
        load_twibot(tmp_path / "missing.json")


def test_parse_date_formats() -> None:
    utc = timezone.utc
    assert parse_date("Tue Nov 18 10:27:25 +0000 2008 ") == datetime(
        2008, 11, 18, 10, 27, 25, tzinfo=utc
    )
    assert parse_date("2008-11-18T10:27:25.000Z") == datetime(2008, 11, 18, 10, 27, 25, tzinfo=utc)
    assert parse_date("2008-11-18 10:27:25+00:00") == datetime(2008, 11, 18, 10, 27, 25, tzinfo=utc)
    assert parse_date("None") is None and parse_date("yesterday") is None


# ===================================================================== TwiBot-22
def write_twibot22(folder: Path, labels: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    users = [
        {
            "id": "u1",
            "username": "alice",
            "description": "I like graphs",
            "created_at": "2010-03-01 00:00:00+00:00",
            "public_metrics": {
                "followers_count": 100,
                "following_count": 9,
                "tweet_count": 500,
                "listed_count": 3,
            },
            "verified": True,
            "protected": False,
            "profile_image_url": "https://pbs.twimg.com/profile_images/1/a_normal.jpg",
        },
        {
            "id": "u2",
            "description": "",
            "created_at": "2021-03-01T00:00:00.000Z",
            "public_metrics": {
                "followers_count": 1,
                "following_count": 0,
                "tweet_count": 20,
                "listed_count": 0,
            },
            "verified": False,
            "protected": False,
            "profile_image_url": "https://abs.twimg.com/sticky/default_profile_images/"
            "default_profile_normal.png",
        },
        {"id": "u3", "description": None, "public_metrics": None, "verified": None},
    ]
    (folder / "user.json").write_text(json.dumps(users))
    (folder / "edge.csv").write_text(
        "source_id,relation,target_id\n"
        "u1,following,u2\n"
        "u2,followers,u1\n"
        "u1,post,t100\n"
        "u3,following,u404\n"
        "u1,following,u2\n"
    )
    (folder / "tweet_0.json").write_text(
        json.dumps([{"author_id": 2, "text": "beep"}, {"author_id": 404, "text": "x"}])
    )
    if labels:
        (folder / "label.csv").write_text("id,label\nu1,human\nu2,bot\nu9,bot\n")
        (folder / "split.csv").write_text("id,split\nu1,train\nu2,valid\nu3,support\n")


def test_twibot22_folder(tmp_path: Path) -> None:
    write_twibot22(tmp_path / "tb22")
    g = load_twibot(tmp_path / "tb22")
    assert g.name == "tb22"
    assert g.node_id == ["u1", "u2", "u3"]
    assert g.text == [["I like graphs"], ["beep"], None]
    assert g.y.tolist() == [0, 1, -1] and g.positive_class == 1
    assert g.train_mask.tolist() == [True, False, False]
    assert g.val_mask.tolist() == [False, True, False]
    assert not bool(g.test_mask.any())
    # followers -> 'follower', duplicates merged, edges to tweets/outsiders dropped.
    edges = {
        (g.node_id[s], g.relation_names[r], g.node_id[d])
        for (s, d), r in zip(g.edge_index.t().tolist(), g.edge_type.tolist())
    }
    assert edges == {("u1", "following", "u2"), ("u2", "follower", "u1")}
    assert g.edge_index.size(1) == 2
    names = g.numeric_names
    assert g.numeric[0, names.index("friends_count")] == 9
    assert g.numeric[0, names.index("statuses_count")] == 500
    assert math.isnan(float(g.numeric[2, names.index("account_age_days")]))
    assert not bool(g.numeric_present[2])
    dpi = g.categorical_names.index("default_profile_image")
    assert g.categorical[:, dpi].tolist() == [1, 2, 0]  # False, True, unknown


def test_twibot22_without_labels(tmp_path: Path) -> None:
    write_twibot22(tmp_path, labels=False)
    g = load_twibot(tmp_path, include_tweets=False)
    assert getattr(g, "y", None) is None
    assert getattr(g, "train_mask", None) is None
    assert g.text[1] is None


def test_twibot22_errors(tmp_path: Path) -> None:
    write_twibot22(tmp_path)
    (tmp_path / "label.csv").write_text("id,label\nu1,cyborg\n")
    with pytest.raises(ValueError, match="Unknown label 'cyborg' .* 'human' or 'bot'"):
        load_twibot(tmp_path)
    (tmp_path / "label.csv").write_text("user,label\nu1,bot\n")
    with pytest.raises(ValueError, match="Column 'id' not found .*label.csv"):
        load_twibot(tmp_path)
    (tmp_path / "label.csv").unlink()
    (tmp_path / "split.csv").write_text("id,split\nu1,holdout\n")
    with pytest.raises(ValueError, match="Unknown split 'holdout'"):
        load_twibot(tmp_path)
    (tmp_path / "split.csv").unlink()
    (tmp_path / "edge.csv").write_text("source,relation,target_id\n")
    with pytest.raises(ValueError, match="Column 'source_id' not found"):
        load_twibot(tmp_path)
    (tmp_path / "user.json").write_text(json.dumps([{"id": "u1"}, {"id": "u1"}]))
    with pytest.raises(ValueError, match="User id 'u1' appears twice"):
        load_twibot(tmp_path)
    (tmp_path / "user.json").write_text(json.dumps([{"name": "x"}]))
    with pytest.raises(ValueError, match="User 0 .* has no 'id' field"):
        load_twibot(tmp_path)
    (tmp_path / "user.json").write_text(json.dumps({"id": "u1"}))
    with pytest.raises(ValueError, match="JSON list of users"):
        load_twibot(tmp_path)


# ======================================================================== SubGNN
def read_subgnn(folder: Path) -> list[list[str]]:
    return [
        line.rstrip("\n").split("\t") for line in open(folder / "subgraphs.pth") if line.strip()
    ]


@pytest.mark.parametrize(
    ("name", "nodes", "classes"), [("density", 4998, 3), ("component", 17260, 2)]
)
def test_subgnn_sets(shared_data: Path, name: str, nodes: int, classes: int) -> None:
    folder = shared_data / "subgnn-synthetic" / name
    ds = load_subgnn(folder)
    assert isinstance(ds, SubgraphDataset)
    assert ds.name == name
    assert len(ds) == 250
    assert ds.graph.num_nodes == nodes
    assert ds.num_classes == classes
    rows = read_subgnn(folder)
    assert [ds.class_names[c] for c in ds.y.tolist()] == [r[1] for r in rows]
    splits = Counter(r[2] for r in rows)
    assert int(ds.train_mask.sum()) == splits["train"]
    assert int(ds.val_mask.sum()) == splits["val"]
    assert int(ds.test_mask.sum()) == splits["test"]
    assert ds.subgraphs[0].tolist() == [int(v) for v in rows[0][0].split("-")]
    pairs = {tuple(sorted(map(int, line.split()))) for line in open(folder / "edge_list.txt")}
    assert is_undirected(ds.graph.edge_index)
    assert ds.graph.edge_index.size(1) == 2 * len(pairs)
    assert not ds.whole_graphs and ds.folds is None


def test_subgnn_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="SubGNN data set folder not found"):
        load_subgnn(tmp_path / "none")
    (tmp_path / "edge_list.txt").write_text("0 1\n1 2\n")
    with pytest.raises(FileNotFoundError, match="SubGNN file 'subgraphs.pth' not found"):
        load_subgnn(tmp_path)
    cases = [
        ("0-1\tA\n", "got 2 tab-separated fields"),
        ("0-x\tA\ttrain\n", "non-negative integer node id on line 1"),
        ("0-1\tA\tholdout\n", "Unknown split 'holdout' in line 1"),
        ("0-7\tA\ttrain\n", "names node 7, which is not in the base graph"),
        ("", "lists no subgraphs"),
    ]
    for text, message in cases:
        (tmp_path / "subgraphs.pth").write_text(text)
        with pytest.raises(ValueError, match=message):
            load_subgnn(tmp_path)
    (tmp_path / "subgraphs.pth").write_text("0-1\tA\ttrain\n")
    (tmp_path / "edge_list.txt").write_text("0\n")
    with pytest.raises(ValueError, match="Expected 'u v' .* on line 1"):
        load_subgnn(tmp_path)
    (tmp_path / "edge_list.txt").write_text("0 b\n")
    with pytest.raises(ValueError, match="integer node id on line 1"):
        load_subgnn(tmp_path)


# ============================================================================ TU
def parse_tu(path: Path) -> tuple[list[int], list[str]]:
    lines = [line.split() for line in path.read_text().split("\n") if line.strip()]
    sizes, labels, i = [], [], 1
    for _ in range(int(lines[0][0])):
        n, label = int(lines[i][0]), lines[i][1]
        sizes.append(n)
        labels.append(label)
        i += n + 1
    return sizes, labels


@pytest.mark.parametrize(("name", "graphs"), [("MUTAG", 188), ("PTC", 344)])
def test_tu_sets(shared_data: Path, name: str, graphs: int) -> None:
    ds = load_tu(shared_data / "tu", name)
    assert len(ds) == graphs
    assert ds.whole_graphs
    assert ds.num_classes == 2
    sizes, labels = parse_tu(shared_data / "tu" / name / f"{name}.txt")
    assert ds.sizes().tolist() == sizes
    assert ds.graph.num_nodes == sum(sizes)
    assert Counter(ds.class_names[c] for c in ds.y.tolist()) == Counter(labels)
    # Subgraphs tile the base graph and no edge crosses two graphs.
    nodes, batch = ds.subgraph_index()
    assert torch.equal(nodes, torch.arange(ds.graph.num_nodes))
    src, dst = ds.graph.edge_index
    assert torch.equal(batch[src], batch[dst])
    assert is_undirected(ds.graph.edge_index)
    assert ds.graph.categorical_names == ["tag"]
    assert bool(ds.graph.categorical_present.all())
    # Ten 0-based folds whose parts are disjoint and cover every graph.
    assert ds.folds is not None and len(ds.folds) == 10
    for train_idx, test_idx in ds.folds:
        assert train_idx.numel() + test_idx.numel() == graphs
        assert int(torch.cat([train_idx, test_idx]).min()) == 0
    fold1 = (shared_data / "tu" / name / "10fold_idx" / "test_idx-1.txt").read_text().split()
    assert ds.folds[0][1].tolist() == [int(v) for v in fold1]


def test_tu_root_variants(shared_data: Path) -> None:
    a = load_tu(shared_data / "tu" / "MUTAG")
    b = load_tu(shared_data / "tu" / "MUTAG" / "MUTAG.txt")
    assert a.name == b.name == "MUTAG"
    assert len(a) == len(b) == 188


TINY_TU = """2
2 1
3 1 1 0.5
4 1 0 1.5
3 -1
3 2 1 2 2.0
3 1 0 1.0
5 1 0 0.0
"""


def test_tu_features_and_one_based_folds(tmp_path: Path) -> None:
    folder = tmp_path / "TINY"
    (folder / "10fold_idx").mkdir(parents=True)
    (folder / "TINY.txt").write_text(TINY_TU)
    (folder / "10fold_idx" / "train_idx-1.txt").write_text("1\n")
    (folder / "10fold_idx" / "test_idx-1.txt").write_text("2\n")
    ds = load_tu(folder)
    assert ds.class_names == ["-1", "1"]
    assert ds.y.tolist() == [1, 0]
    assert ds.graph.numeric.view(-1).tolist() == [0.5, 1.5, 2.0, 1.0, 0.0]
    assert ds.graph.categorical_vocabs == [["3", "4", "5"]]
    assert ds.graph.categorical.view(-1).tolist() == [1, 2, 1, 1, 3]
    assert ds.folds is not None
    assert ds.folds[0][0].tolist() == [0] and ds.folds[0][1].tolist() == [1]
    assert ds.graph.node_id[2] == "1:0"
    assert ds.graph.edge_index.tolist() == [[0, 1, 2, 2, 3, 4], [1, 0, 3, 4, 2, 2]]


def test_tu_errors(tmp_path: Path) -> None:
    folder = tmp_path / "BAD"
    folder.mkdir()
    with pytest.raises(FileNotFoundError, match="No 'BAD.txt' found"):
        load_tu(folder)
    cases = [
        ("2\n1 0\n0 0\n", "ends early"),
        ("1\n2 0\n0 1 5\n0 0\n", "names neighbour 5 but the graph has 2 nodes"),
        ("1\n1 0\n0 2 0\n", "has degree 2 but lists 1 values"),
        ("1\n1 0\n0\n", "Expected 'tag degree neighbours...'"),
        ("1\nx 0\n", "Expected integers for the node count"),
        ("1\n2 0\n0 0 1.0\n0 0\n", "Node feature counts differ"),
    ]
    for text, message in cases:
        (folder / "BAD.txt").write_text(text)
        with pytest.raises(ValueError, match=message):
            load_tu(folder)
    (folder / "BAD.txt").write_text("2\n1 0\n0 0\n1 1\n0 0\n")
    (folder / "10fold_idx").mkdir()
    (folder / "10fold_idx" / "train_idx-1.txt").write_text("0\n")
    with pytest.raises(FileNotFoundError, match="Fold 1 has no 'test_idx-1.txt'"):
        load_tu(folder)
    (folder / "10fold_idx" / "test_idx-1.txt").write_text("5\n")
    with pytest.raises(ValueError, match="Fold indices .* run 0..5 but there are 2 graphs"):
        load_tu(folder)
    (folder / "10fold_idx" / "test_idx-1.txt").write_text("0\n")
    with pytest.raises(ValueError, match="Fold 0 has 1 subgraphs in both its train and test"):
        load_tu(folder)
    (folder / "10fold_idx" / "test_idx-1.txt").write_text("one\n")
    with pytest.raises(ValueError, match="Expected one graph index a line"):
        load_tu(folder)
