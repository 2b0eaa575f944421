"""TwiBot-20 and TwiBot-22 loaders (mmgraph.data.loaders.twibot)."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

import pytest
import torch

from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.loaders import load_twibot
from mmgraph.data.loaders.twibot import TWIBOT20_REFERENCE_DATE, parse_date


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


def test_every_file_has_twibot20s_four_domain_columns(tmp_path: Path) -> None:
    """A file of new users none of whom has a domain the training data had must still have
    its column: `predict` refused such a file for the columns it lacked."""
    users = [user20("1"), {**user20("2"), "domain": ["Politics", "Gardening"]}]
    path = tmp_path / "users.json"
    path.write_text(json.dumps(users))
    g = load_twibot(path)
    names = [n for n in g.categorical_names if n.startswith("domain_")]
    assert names == [
        "domain_Bussiness",
        "domain_Entertainment",
        "domain_Gardening",
        "domain_Politics",
        "domain_Sports",
    ]
    j = g.categorical_names.index("domain_Politics")
    flags = [g.categorical_vocabs[j][c - 1] for c in g.categorical[:, j].tolist()]
    k = g.categorical_names.index("domain_Bussiness")
    absent = [g.categorical_vocabs[k][c - 1] for c in g.categorical[:, k].tolist()]
    assert flags == ["False", "True"] and absent == ["False", "False"]


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
