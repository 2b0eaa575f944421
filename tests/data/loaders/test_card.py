from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image
from torch_geometric.utils import is_undirected

from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.loaders.card import CARD_KEYS, load_card, minority_class, save_card
from mmgraph.errors import InputError

NAN = math.nan

NODES_CSV = """\
uid,bio,tweets,avatar,followers,active,lang,verified,kind,part
a,hello,"[""t1"", ""t2""]",img/a.png,10,true,en,yes,bot,train
b,,"[""only tweet""]",,,false,,no,human,val
c,bye,,img/c.png,2.5,,fr,,human,test
d,,,,7,True,en,yes,,
"""

EDGES_CSV = """\
src,dst,rel,w
a,b,follows,1.0
b,c,likes,2.0
c,a,follows,0.5
"""


def write_card(
    folder: Path,
    card: dict[str, Any] | None = None,
    nodes: str = NODES_CSV,
    edges: str | None = EDGES_CSV,
    images: bool = True,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nodes.csv").write_text(nodes)
    if edges is not None:
        (folder / "edges.csv").write_text(edges)
    if images:
        (folder / "img").mkdir(exist_ok=True)
        for name in ("a", "c"):
            Image.new("RGB", (4, 4), (255, 0, 0)).save(folder / "img" / f"{name}.png")
    if card is None:
        card = full_card()
    path = folder / "dataset.yaml"
    path.write_text(yaml.safe_dump(card, sort_keys=False))
    return path


def full_card(**changes: Any) -> dict[str, Any]:
    card: dict[str, Any] = {
        "name": "toy",
        "nodes": "nodes.csv",
        "id": "uid",
        "edges": "edges.csv",
        "relation": "rel",
        "weight": "w",
        "directed": True,
        "modalities": {
            "text": ["bio", "tweets"],
            "image": ["avatar"],
            "numeric": ["followers", "active"],
            "categorical": ["lang", "verified"],
        },
        "label": "kind",
        "positive": "bot",
        "split": "part",
    }
    for key, value in changes.items():
        if value is None:
            card.pop(key, None)
        else:
            card[key] = value
    return card


# ------------------------------------------------------------------ real data
def test_country_flags_card(shared_data: Path) -> None:
    g = load_card(shared_data / "country-flags" / "dataset.yaml")
    assert g.num_nodes == 250
    assert g.edge_index.size(1) == 650
    assert is_undirected(g.edge_index)
    assert g.relation_names == ["shares_land_border"]
    assert g.class_names == sorted(["Africa", "Americas", "Europe", "Asia", "Oceania", "Antarctic"])
    counts = dict(zip(g.class_names, torch.bincount(g.y).tolist()))
    assert counts == {
        "Africa": 59,
        "Americas": 56,
        "Europe": 53,
        "Asia": 50,
        "Oceania": 27,
        "Antarctic": 5,
    }
    assert g.positive_class is None  # multiclass
    assert g.node_id[0] == "ABW" and len(set(g.node_id)) == 250
    assert isinstance(g.image, list) and g.image[0] == "images/ABW.png"
    assert Path(g.image_root, g.image[0]).is_file()
    assert g.numeric.shape == (250, 7)
    assert g.numeric_names[:2] == ["area_km2", "landlocked"]
    # Six text columns -> a list of texts per node.
    aruba = g.text[0]
    assert isinstance(aruba, list) and aruba[0] == "Aruba" and "Oranjestad" in aruba
    # 85 islands without land borders.
    degree = torch.bincount(g.edge_index[0], minlength=250)
    assert int((degree == 0).sum()) == 85
    # The folder works as well as the card file.
    assert load_card(shared_data / "country-flags").num_nodes == 250


# ------------------------------------------------------------- hand-made cards
def test_every_key_csv(tmp_path: Path) -> None:
    g = load_card(write_card(tmp_path))
    assert g.name == "toy"
    assert g.node_id == ["a", "b", "c", "d"]
    assert g.text == [["hello", "t1", "t2"], ["only tweet"], ["bye"], None]
    assert g.image == ["img/a.png", None, "img/c.png", None]
    assert g.image_root == str(tmp_path.resolve())
    assert g.image_present.tolist() == [True, False, True, False]
    torch.testing.assert_close(
        g.numeric,
        torch.tensor([[10.0, 1.0], [NAN, 0.0], [2.5, NAN], [7.0, 1.0]]),
        equal_nan=True,
    )
    assert g.categorical_names == ["lang", "verified"]
    assert g.categorical_vocabs == [["en", "fr"], ["no", "yes"]]
    assert g.categorical.tolist() == [[1, 2], [0, 1], [2, 0], [1, 2]]
    assert g.class_names == ["bot", "human"]
    assert g.y.tolist() == [0, 1, 1, -1]
    assert g.positive_class == 0
    assert g.train_mask.tolist() == [True, False, False, False]
    assert g.val_mask.tolist() == [False, True, False, False]
    assert g.test_mask.tolist() == [False, False, True, False]
    assert g.edge_index.tolist() == [[0, 1, 2], [1, 2, 0]]
    assert g.relation_names == ["follows", "likes"]
    assert g.edge_type.tolist() == [0, 1, 0]
    assert g.edge_weight.tolist() == [1.0, 2.0, 0.5]


def test_every_key_parquet(tmp_path: Path) -> None:
    csv_graph = load_card(write_card(tmp_path / "csv"))
    folder = tmp_path / "pq"
    write_card(folder)
    nodes = pd.read_csv(folder / "nodes.csv", dtype=str, keep_default_na=False)
    nodes["followers"] = pd.to_numeric(nodes["followers"].replace("", None))
    nodes.to_parquet(folder / "nodes.parquet", index=False)
    edges = pd.read_csv(folder / "edges.csv")
    edges.to_parquet(folder / "edges.parquet", index=False)
    write_card(folder, full_card(nodes="nodes.parquet", edges="edges.parquet"))
    g = load_card(folder)
    assert g.text == csv_graph.text
    assert g.image == csv_graph.image
    torch.testing.assert_close(g.numeric, csv_graph.numeric, equal_nan=True)
    assert torch.equal(g.categorical, csv_graph.categorical)
    assert torch.equal(g.y, csv_graph.y)
    assert torch.equal(g.edge_index, csv_graph.edge_index)
    assert torch.equal(g.edge_weight, csv_graph.edge_weight)


def test_parquet_list_cells_are_several_texts(tmp_path: Path) -> None:
    pd.DataFrame({"id": ["x", "y"], "tweets": [["a", "b"], []]}).to_parquet(
        tmp_path / "n.parquet", index=False
    )
    (tmp_path / "dataset.yaml").write_text("nodes: n.parquet\nid: id\nmodalities: {text: tweets}\n")
    g = load_card(tmp_path)
    assert g.text == [["a", "b"], None]


def test_defaults(tmp_path: Path) -> None:
    """No id (row order), undirected edges, no name (folder name), minority positive."""
    nodes = "label\nbot\nhuman\nhuman\n"
    edges = "src,dst\n0,1\n1,2\n2,1\n"
    card = {"nodes": "nodes.csv", "edges": "edges.csv", "label": "label"}
    g = load_card(write_card(tmp_path / "plain", card, nodes, edges, images=False))
    assert g.name == "plain"
    assert g.node_id == ["0", "1", "2"]
    assert g.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert g.class_names == ["bot", "human"]
    assert g.positive_class == 0  # 'bot' is the minority
    assert g.modalities == []


def test_single_text_column_and_json_cells(tmp_path: Path) -> None:
    nodes = 'id,t\na,plain text\nb,"[""x"", """", ""y""]"\nc,[not json\nd,"[1, 2]"\ne,\n'
    card = {"nodes": "nodes.csv", "id": "id", "modalities": {"text": "t"}}
    g = load_card(write_card(tmp_path, card, nodes, None, images=False))
    assert g.text == ["plain text", ["x", "y"], "[not json", "[1, 2]", None]
    assert g.edge_index.shape == (2, 0)


def test_classes_key_fixes_order_and_keeps_unseen_classes(tmp_path: Path) -> None:
    nodes = "id,label\n1,b\n2,a\n3,\n"
    card = {"nodes": "nodes.csv", "label": "label", "classes": ["c", "b", "a"]}
    g = load_card(write_card(tmp_path, card, nodes, None, images=False))
    assert g.class_names == ["c", "b", "a"]
    assert g.y.tolist() == [1, 2, -1]
    assert g.positive_class is None


def test_undirected_merges_weights(tmp_path: Path) -> None:
    card = full_card(directed=False)
    g = load_card(write_card(tmp_path, card))
    assert is_undirected(g.edge_index)
    assert g.edge_index.size(1) == 6
    for (s, d), r, w in zip(g.edge_index.t().tolist(), g.edge_type.tolist(), g.edge_weight):
        # Each reverse edge keeps its relation and weight.
        back = [
            (ww, rr)
            for (ss, dd), rr, ww in zip(
                g.edge_index.t().tolist(), g.edge_type.tolist(), g.edge_weight
            )
            if ss == d and dd == s
        ]
        assert (w, r) in back


def test_repeated_directed_edges_warn_and_stay(tmp_path: Path) -> None:
    nodes = "id\n1\n2\n3\n"
    typed = "src,dst,kind\n1,2,a\n1,2,a\n1,2,b\n2,3,a\n1,2,a\n"
    card = {"nodes": "nodes.csv", "id": "id", "edges": "edges.csv", "directed": True}
    card["relation"] = "kind"
    with pytest.warns(UserWarning, match=r"^2 rows of the edge table 'edges.csv' repeat an ea"):
        graph = load_card(write_card(tmp_path / "a", card, nodes, typed, images=False))
    assert graph.edge_index.size(1) == 5  # kept: a multigraph may be meant
    with warnings.catch_warnings():  # both directions of one edge are not a repeat
        warnings.simplefilter("error")
        untyped = {k: v for k, v in card.items() if k != "relation"}
        edges = "src,dst\n1,2\n2,1\n2,3\n"
        assert load_card(write_card(tmp_path / "b", untyped, nodes, edges, False)).num_edges == 3
        both_ways = {**untyped, "directed": False}
        graph = load_card(write_card(tmp_path / "b2", both_ways, nodes, edges, images=False))
    assert graph.edge_index.size(1) == 4
    undirected = {**card, "directed": False}
    with pytest.warns(UserWarning, match=r"^2 rows .* an undirected card keeps each edge once\."):
        graph = load_card(write_card(tmp_path / "c", undirected, nodes, typed, images=False))
    assert graph.edge_index.size(1) == 6  # (1,2,a) (1,2,b) (2,3,a), each way


def test_minority_class_ties_go_to_larger_id() -> None:
    assert minority_class(torch.tensor([0, 1, 1, -1]), 2) == 0
    assert minority_class(torch.tensor([0, 1]), 2) == 1
    assert minority_class(torch.tensor([0, 0, 1]), 2) == 1


# ------------------------------------------------------------------ round trip
def assert_round_trip(a: MultimodalGraph, b: MultimodalGraph) -> None:
    assert a.num_nodes == b.num_nodes
    assert a.name == b.name
    assert list(a.node_id) == list(b.node_id)
    if getattr(a, "text", None) is not None:
        assert [t or None for t in a.text] == b.text
    for m in a.modalities:
        assert torch.equal(a.presence_mask(m), b.presence_mask(m)), m
    if getattr(a, "numeric", None) is not None:
        expected = a.numeric.clone()
        expected[~a.presence_mask("numeric")] = NAN
        torch.testing.assert_close(expected, b.numeric, equal_nan=True, rtol=0, atol=0)
        assert list(a.numeric_names) == list(b.numeric_names)
    if getattr(a, "categorical", None) is not None:

        def decode(g: MultimodalGraph) -> list[list[str | None]]:
            return [
                [None if c == 0 else g.categorical_vocabs[j][c - 1] for j, c in enumerate(row)]
                for row in g.categorical.tolist()
            ]

        assert decode(a) == decode(b)
        assert list(a.categorical_names) == list(b.categorical_names)
    assert a.class_names == b.class_names
    assert torch.equal(a.y, b.y)
    assert a.positive_class == b.positive_class
    for split in ("train", "val", "test"):
        assert torch.equal(getattr(a, f"{split}_mask"), getattr(b, f"{split}_mask"))
    assert torch.equal(a.edge_index, b.edge_index)

    def relations(g: MultimodalGraph) -> list[str]:
        return [g.relation_names[r] for r in g.edge_type.tolist()]

    assert relations(a) == relations(b)
    assert torch.equal(a.edge_weight, b.edge_weight)


def toy_graph(image: Any) -> MultimodalGraph:
    return MultimodalGraph(
        torch.tensor([[0, 0, 1, 2, 3], [1, 2, 0, 0, 0]]),
        text=["hello, world", ["tweet one", "tweet\ntwo"], None, 'say "hi"'],
        image=image,
        numeric=torch.tensor([[1.5, NAN], [NAN, NAN], [3.0, 4.0], [0.1, 1e-8]]),
        categorical=torch.tensor([[1, 0], [0, 0], [2, 1], [1, 2]]),
        numeric_names=["followers", "age"],
        categorical_names=["verified", "lang"],
        categorical_vocabs=[["yes", "no"], ["en", "NA"]],
        edge_type=torch.tensor([1, 0, 1, 0, 1]),
        relation_names=["follower", "following"],
        edge_weight=torch.tensor([1.0, 2.0, 0.5, 0.25, 3.0]),
        y=torch.tensor([0, 1, 1, -1]),
        class_names=["human", "bot"],
        positive_class=1,
        train_mask=torch.tensor([True, False, False, False]),
        val_mask=torch.tensor([False, True, False, False]),
        test_mask=torch.tensor([False, False, True, False]),
        node_id=["u0", "u1", "u 2", "NA"],
        name="toy",
    )


@pytest.mark.parametrize("nodes_format", ["csv", "parquet"])
def test_round_trip_tensor_images(tmp_path: Path, nodes_format: str) -> None:
    gen = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (4, 3, 5, 6), generator=gen, dtype=torch.uint8)
    g = toy_graph(pixels)
    path = save_card(g, tmp_path / "out", nodes_format=nodes_format)
    assert path.name == "dataset.yaml"
    assert (tmp_path / "out" / f"nodes.{nodes_format}").is_file()
    h = load_card(path)
    assert_round_trip(g, h)
    for i in range(4):
        with Image.open(Path(h.image_root) / h.image[i]) as im:
            back = torch.from_numpy(np.array(im.convert("RGB")))
        assert torch.equal(back.permute(2, 0, 1), pixels[i])


def test_round_trip_float_and_grey_images(tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(1)
    pixels = torch.rand(4, 1, 3, 3, generator=gen)
    g = toy_graph(pixels)
    h = load_card(save_card(g, tmp_path))
    with Image.open(Path(h.image_root) / h.image[2]) as im:
        assert im.mode == "L"
        back = torch.from_numpy(np.array(im)).float() / 255
    torch.testing.assert_close(back, pixels[2, 0], atol=0.5 / 255 + 1e-6, rtol=0)


def test_round_trip_image_paths(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "pics").mkdir(parents=True)
    Image.new("RGB", (2, 2)).save(src / "pics" / "a.png")
    g = toy_graph(["pics/a.png", None, None, "pics/a.png"])
    g.image_root = str(src)
    h = load_card(save_card(g, tmp_path / "elsewhere" / "card", nodes_format="parquet"))
    assert h.image[1] is None and h.image[2] is None
    for i in (0, 3):
        assert (Path(h.image_root) / h.image[i]).resolve() == (src / "pics" / "a.png").resolve()


def test_round_trip_of_loaded_card(tmp_path: Path) -> None:
    g = load_card(write_card(tmp_path / "a"))
    h = load_card(save_card(g, tmp_path / "b"))
    assert_round_trip(g, h)
    # A graph without relations, weights, splits or node ids.
    plain = MultimodalGraph(torch.tensor([[0, 1], [1, 0]]), numeric=torch.ones(2, 1))
    back = load_card(save_card(plain, tmp_path / "c"))
    assert back.node_id == ["0", "1"]
    assert torch.equal(back.edge_index, plain.edge_index)
    assert back.numeric_names == ["numeric_0"]


def test_written_card_is_readable_yaml(tmp_path: Path) -> None:
    path = save_card(toy_graph(torch.zeros(4, 3, 2, 2)), tmp_path)
    card = yaml.safe_load(path.read_text())
    assert set(card) <= set(CARD_KEYS)
    assert card["directed"] is True
    assert card["classes"] == ["human", "bot"] and card["positive"] == "bot"
    nodes = pd.read_csv(tmp_path / "nodes.csv", dtype=str, keep_default_na=False)
    assert json.loads(nodes["text"][1]) == ["tweet one", "tweet\ntwo"]


# ---------------------------------------------------------------------- errors
def test_card_file_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Data set card not found"):
        load_card(tmp_path / "nope.yaml")
    with pytest.raises(FileNotFoundError, match="No 'dataset.yaml' in the folder"):
        load_card(tmp_path)
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ValueError, match="YAML mapping of keys"):
        load_card(tmp_path / "list.yaml")


def test_unknown_key_lists_valid_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Unknown key 'labels'.*valid keys are \['name'"):
        load_card(write_card(tmp_path, full_card(labels="kind")))


def test_missing_nodes_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Missing key 'nodes'"):
        load_card(write_card(tmp_path, full_card(nodes=None)))


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nodes file 'people.csv'"):
        load_card(write_card(tmp_path / "a", full_card(nodes="people.csv")))
    with pytest.raises(FileNotFoundError, match="edges file 'links.csv'"):
        load_card(write_card(tmp_path / "b", full_card(edges="links.csv")))
    with pytest.raises(ValueError, match="Expected 'nodes' .* to be a file path"):
        load_card(write_card(tmp_path / "c", full_card(nodes=3)))


def test_unknown_table_format(tmp_path: Path) -> None:
    write_card(tmp_path)
    (tmp_path / "nodes.xlsx").write_text("x")
    with pytest.raises(ValueError, match=r"Unknown table format '.xlsx'"):
        load_card(write_card(tmp_path, full_card(nodes="nodes.xlsx")))


def test_empty_node_table(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nodes\.csv. is empty: .*has no nodes"):
        load_card(write_card(tmp_path, {"nodes": "nodes.csv"}, "a,b\n", None))


def test_id_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Column 'key' not found .*named by 'id'"):
        load_card(write_card(tmp_path / "a", full_card(id="key")))
    dup = NODES_CSV.replace("\nc,", "\na,")
    with pytest.raises(ValueError, match=r"Duplicate node id 'a' .*data rows 1 and 3"):
        load_card(write_card(tmp_path / "b", nodes=dup))
    empty = NODES_CSV.replace("\nc,", "\n,")
    with pytest.raises(ValueError, match="Empty node id in column 'uid' .* data row 3"):
        load_card(write_card(tmp_path / "c", nodes=empty))
    with pytest.raises(ValueError, match="Expected 'id' .* to be a column name"):
        load_card(write_card(tmp_path / "d", full_card(id=["uid"])))


def test_modality_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Unknown modality 'audio'.*valid modalities are"):
        load_card(write_card(tmp_path / "a", full_card(modalities={"audio": ["bio"]})))
    with pytest.raises(ValueError, match="Expected 'modalities' .* to map modality names"):
        load_card(write_card(tmp_path / "b", full_card(modalities=["bio"])))
    with pytest.raises(ValueError, match="Expected 'modalities.text' .* column name or a list"):
        load_card(write_card(tmp_path / "c", full_card(modalities={"text": 3})))
    with pytest.raises(ValueError, match=r"Column 'bios' not found .*modalities.text"):
        load_card(write_card(tmp_path / "d", full_card(modalities={"text": ["bios"]})))
    with pytest.raises(ValueError, match="Expected one image column"):
        load_card(write_card(tmp_path / "e", full_card(modalities={"image": ["avatar", "bio"]})))


def test_missing_image_file_is_named_when_images_are_encoded(tmp_path: Path) -> None:
    from mmgraph.data.summary import summarize
    from mmgraph.models import FeatureConfig, featurize

    write_card(tmp_path)
    (tmp_path / "img" / "c.png").unlink()
    graph = load_card(tmp_path)  # the path is kept: loading reads no image
    assert graph.image[2] == "img/c.png"
    assert summarize(graph)["modalities"]["image"]["files_not_found"] == 1
    config = FeatureConfig(text_encoder=None, image_encoder="cnn-e2e", image_size=4)
    with pytest.raises(FileNotFoundError, match=r"1 image file not found .*img/c.png.*--on-image"):
        featurize(graph, config, progress=False)
    with pytest.warns(UserWarning, match=r"Could not read 1 image file.*c.png"):
        marked = FeatureConfig(**{**config.to_dict(), "on_image_error": "missing"})
        out = featurize(graph, marked, progress=False)
    assert out.image_present.tolist() == [True, False, False, False]
    assert out.image.shape == (4, 3, 4, 4)
    bare = featurize(graph, FeatureConfig(text_encoder=None, image_encoder=None), progress=False)
    assert getattr(bare, "image", None) is None


def test_numeric_errors_name_column_and_row(tmp_path: Path) -> None:
    bad = NODES_CSV.replace("\nc,bye,,img/c.png,2.5", "\nc,bye,,img/c.png,many")
    with pytest.raises(
        ValueError, match=r"column 'followers' holds the non-numeric value 'many' in data row 3"
    ):
        load_card(write_card(tmp_path / "a", nodes=bad))
    inf = NODES_CSV.replace("\nc,bye,,img/c.png,2.5", "\nc,bye,,img/c.png,inf")
    with pytest.raises(ValueError, match="'followers' holds an infinite value in data row 3"):
        load_card(write_card(tmp_path / "b", nodes=inf))


def test_an_image_address_is_refused(tmp_path: Path) -> None:
    """Nothing is downloaded: an address would be looked for as a file under the card."""
    nodes = NODES_CSV.replace("img/c.png", "https://example.com/c.png")
    with pytest.raises(InputError, match=r"data row 3 .* holds the address 'https://example.c"):
        load_card(write_card(tmp_path / "a", nodes=nodes))


def test_columns_that_teach_nothing_warn(tmp_path: Path) -> None:
    """An empty numeric column; a categorical one of numbers mostly seen once."""
    empty = "uid,kind,x,size\n" + "".join(f"n{i},{'ab'[i % 2]},,{i * 1.5}\n" for i in range(30))
    numeric = {"numeric": ["x"], "categorical": ["size"]}
    card = {"nodes": "nodes.csv", "id": "uid", "label": "kind", "modalities": numeric}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_card(write_card(tmp_path / "a", card, nodes=empty, edges=None, images=False))
    messages = [str(w.message) for w in caught]
    assert any("numeric column 'x'" in m and "empty in every row" in m for m in messages)
    assert any(
        "categorical column 'size'" in m
        and "30 distinct values in 30 filled rows" in m
        and "list it under 'modalities.numeric'" in m
        for m in messages
    )
    # a text, image or categorical column empty in every row too; a filled one says nothing
    rows = "".join(f"n{i},{'ab'[i % 2]},,, ,hi\n" for i in range(4))
    blank = "uid,kind,bio,pic,lang,note\n" + rows
    listed = {"text": ["bio", "note"], "image": ["pic"], "categorical": ["lang"]}
    blank_card = {"nodes": "nodes.csv", "id": "uid", "label": "kind", "modalities": listed}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_card(write_card(tmp_path / "c", blank_card, nodes=blank, edges=None, images=False))
    empty_ones = sorted(
        m.split("'")[1] for m in map(str, (w.message for w in caught)) if "every row" in m
    )
    assert empty_ones == ["bio", "lang", "pic"]
    assert any("text column 'bio'" in str(w.message) and "'modalities.text'" in str(w.message)
               for w in caught)  # fmt: skip
    few = "uid,kind,x,size\n" + "".join(f"n{i},{'ab'[i % 2]},{i},{i % 3}\n" for i in range(30))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_card(write_card(tmp_path / "b", card, nodes=few, edges=None, images=False))
    assert not [w for w in caught if "column" in str(w.message)]


def test_label_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Column 'class' not found .*named by 'label'"):
        load_card(write_card(tmp_path / "a", full_card(label="class")))
    with pytest.raises(ValueError, match=r"positive class 'robot' .* valid classes are"):
        load_card(write_card(tmp_path / "b", full_card(positive="robot")))
    with pytest.raises(ValueError, match="'positive' is set .* but 'label' is not"):
        load_card(write_card(tmp_path / "c", full_card(label=None)))
    with pytest.raises(ValueError, match="'classes' is set .* but 'label' is not"):
        load_card(write_card(tmp_path / "d", full_card(label=None, positive=None, classes=["x"])))
    with pytest.raises(ValueError, match=r"Label value \['human'\] .* not among 'classes'"):
        load_card(write_card(tmp_path / "e", full_card(classes=["bot"])))
    with pytest.raises(ValueError, match="Expected distinct class names"):
        load_card(write_card(tmp_path / "f", full_card(classes=["bot", "bot", "human"])))
    nodes = "id,kind\n1,\n2,\n"
    with pytest.raises(ValueError, match="label column 'kind' .* is empty"):
        load_card(write_card(tmp_path / "g", {"nodes": "nodes.csv", "label": "kind"}, nodes, None))


def test_missing_value_marker_as_label_warns(tmp_path: Path) -> None:
    """R writes NA for a missing label: it becomes a class, and a warning says so."""
    nodes = "id,kind\n1,bot\n2,NA\n3,human\n4,NA\n"
    card = {"nodes": "nodes.csv", "label": "kind"}
    with pytest.warns(UserWarning, match=r"label 'NA' in column 'kind' .* \(2 nodes\) is read as"):
        graph = load_card(write_card(tmp_path / "a", card, nodes, None))
    assert graph.class_names == ["NA", "bot", "human"]
    listed = {**card, "classes": ["bot", "human", "NA"]}  # named on purpose: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graph = load_card(write_card(tmp_path / "b", listed, nodes, None))
    assert graph.y.tolist() == [0, 2, 1, 2]


def test_split_errors(tmp_path: Path) -> None:
    bad = NODES_CSV.replace("bot,train", "bot,training")
    with pytest.raises(
        ValueError, match=r"Unknown split 'training' in column 'part'.*row 1.*'train', 'val'"
    ):
        load_card(write_card(tmp_path / "a", nodes=bad))
    with pytest.raises(ValueError, match=r"Column 'fold' not found .*named by 'split'"):
        load_card(write_card(tmp_path / "b", full_card(split="fold")))
    valid = NODES_CSV.replace("human,val", "human,valid")
    assert load_card(write_card(tmp_path / "c", nodes=valid)).val_mask.tolist()[1]


def test_edge_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"Columns? 'src'.* not found in the edge table") as e:
        load_card(write_card(tmp_path / "a", edges="from,to\na,b\n"))
    assert "rename its columns of edge ends to 'src' and 'dst'" in str(e.value)
    with pytest.raises(ValueError, match="Edge row 2 .* names node 'zz' in column 'dst'"):
        load_card(write_card(tmp_path / "b", edges="src,dst,rel,w\na,b,x,1\nb,zz,x,1\n"))
    with pytest.raises(ValueError, match="'relation' is set .* but 'edges' is not"):
        load_card(write_card(tmp_path / "c", full_card(edges=None)))
    with pytest.raises(ValueError, match="Empty relation in column 'rel' .* edge row 1"):
        load_card(write_card(tmp_path / "d", edges="src,dst,rel,w\na,b,,1\n"))
    with pytest.raises(ValueError, match=r"Column 'kind' not found .*named by 'relation'"):
        load_card(write_card(tmp_path / "e", full_card(relation="kind")))
    with pytest.raises(ValueError, match="Missing \\(NaN\\) edge weight in column 'w'"):
        load_card(write_card(tmp_path / "f", edges="src,dst,rel,w\na,b,x,\n"))
    # an edge weight is not a node's numeric column: the message names the edge table
    heavy = "Edge weight 'heavy' in column 'w' of the edge table 'edges.csv', edge row 1, is not"
    with pytest.raises(ValueError, match=heavy) as error:
        load_card(write_card(tmp_path / "g", edges="src,dst,rel,w\na,b,x,heavy\n"))
    assert "categorical" not in str(error.value) and "node" not in str(error.value)
    with pytest.raises(ValueError, match="Expected 'directed' .* to be true or false") as error:
        load_card(write_card(tmp_path / "h", full_card(directed=[1])))
    assert "quoted" not in str(error.value)
    # a quoted "false" is a string: say so, and how to write it
    with pytest.raises(
        ValueError, match=r"a quoted string\): write it without quotes, `directed: no`"
    ):
        load_card(write_card(tmp_path / "q", full_card(directed="No")))
    with pytest.raises(ValueError, match=r"'allow_outside' .* quoted .* `allow_outside: false`"):
        load_card(write_card(tmp_path / "o", full_card(allow_outside="false")))
    negative = "src,dst,rel,w\na,b,x,1\nb,c,x,-2.0\n"  # a walk's odds, a share of an average
    with pytest.raises(ValueError, match=r"Edge weight '-2.0' in column 'w' .* edge row 2: a"):
        load_card(write_card(tmp_path / "w", edges=negative))
    zero = load_card(write_card(tmp_path / "z", edges="src,dst,rel,w\na,b,x,0\n"))
    assert zero.edge_weight.tolist() == [0.0]  # no pull, but an edge


def test_the_label_or_split_as_an_input_is_refused(tmp_path: Path) -> None:
    """A node's label among its inputs is its answer, the test nodes' too."""
    leak = {"text": ["bio"], "categorical": ["lang", "kind"]}
    with pytest.raises(InputError, match=r"'kind' is the label .* 'modalities.categorical'"):
        load_card(write_card(tmp_path / "a", full_card(modalities=leak)))
    with pytest.raises(InputError, match=r"'part' is the split .* Remove 'part' from 'modal"):
        load_card(write_card(tmp_path / "b", full_card(modalities={"text": ["bio", "part"]})))
    kept = load_card(write_card(tmp_path / "c", full_card(modalities={"text": ["bio"]})))
    assert kept.text is not None and kept.y is not None


def test_save_errors(tmp_path: Path) -> None:
    g = toy_graph(torch.zeros(4, 3, 2, 2))
    with pytest.raises(ValueError, match=r"Unknown nodes_format 'xlsx'.*\['csv', 'parquet'\]"):
        save_card(g, tmp_path, nodes_format="xlsx")
    g.numeric_names = ["label", "age"]
    with pytest.raises(ValueError, match="Two node columns would be named 'label'"):
        save_card(g, tmp_path / "a")
    g = toy_graph(torch.zeros(4, 3, 2, 2))
    g.val_mask = torch.tensor([True, True, False, False])
    with pytest.raises(ValueError, match="Node 0 is in both the 'train' and 'val' splits"):
        save_card(g, tmp_path / "b")
    g = toy_graph(torch.zeros(4, 2, 2, 2))
    with pytest.raises(ValueError, match=r"1, 3 or 4 channels .*\(got 2 channels\)"):
        save_card(g, tmp_path / "c")


def test_save_refuses_edge_fields_of_other_edges(tmp_path: Path) -> None:
    g = toy_graph(torch.zeros(4, 3, 2, 2))
    g.edge_weight = torch.ones(g.edge_index.size(1))
    g.edge_index = g.edge_index[:, :1]  # the types and weights not filtered with it
    with pytest.raises(ValueError, match=r"'edge_type' has 5 entries for 1 edges.*edge_sub"):
        save_card(g, tmp_path / "a")
    assert not (tmp_path / "a" / "edges.csv").exists()
    g.edge_type = g.edge_type[:1]
    with pytest.raises(ValueError, match=r"'edge_weight' has 5 entries for 1 edges"):
        save_card(g, tmp_path / "a")
    g.edge_weight = g.edge_weight[:1]
    assert save_card(g, tmp_path / "b").is_file()


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolons"), ("\t", "tabs")])
def test_a_table_of_another_separator_is_named(tmp_path: Path, sep: str, name: str) -> None:
    nodes = "uid,bio,followers,kind\na,hi,1,bot\nb,yo,2,human\n".replace(",", sep)
    card = {"nodes": "nodes.csv", "id": "uid", "label": "kind"}
    card["modalities"] = {"text": ["bio"], "numeric": ["followers"]}
    path = write_card(tmp_path, card, nodes=nodes, edges=None, images=False)
    with pytest.raises(ValueError, match=rf"separated by {name}, not commas: save it as comma"):
        load_card(path)


def test_edge_ids_saved_as_floats_are_named(tmp_path: Path) -> None:
    nodes = "uid,kind\n1,bot\n2,human\n3,human\n"
    card = {"nodes": "nodes.csv", "id": "uid", "edges": "edges.csv", "label": "kind"}
    path = write_card(tmp_path, card, nodes=nodes, edges="src,dst\n1.0,2.0\n", images=False)
    with pytest.raises(ValueError, match=r"names node '1.0'.* the node table has the id '1'"):
        load_card(path)
    write_card(tmp_path, card, nodes=nodes, edges="src,dst\n7.0,2\n", images=False)
    with pytest.raises(ValueError, match=r"names node '7.0'.*: fix the id or add the node"):
        load_card(path)
