from __future__ import annotations

import math
import warnings

import networkx as nx
import pytest
import torch
from torch_geometric.transforms import ToUndirected
from torch_geometric.utils import is_undirected

from mmgraph.data import (
    MultimodalGraph,
    from_data,
    from_networkx,
    make_undirected,
    stratified_split,
    to_data,
    to_networkx,
)
from mmgraph.data.graph import NodeList

NAN = math.nan


def make_graph() -> MultimodalGraph:
    return MultimodalGraph(
        torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]]),
        text=["hello world", ["tweet one", "tweet two"], None, ""],
        image=torch.rand(4, 3, 8, 8),
        numeric=torch.tensor([[1.0, NAN], [NAN, NAN], [3.0, 4.0], [0.0, 1.0]]),
        categorical=torch.tensor([[1, 0], [0, 0], [2, 1], [1, 2]]),
        numeric_names=["followers", "age"],
        categorical_names=["verified", "lang"],
        categorical_vocabs=[["no", "yes"], ["en", "fr"]],
        edge_type=torch.tensor([0, 0, 1, 1, 0, 1]),
        relation_names=["follower", "following"],
        edge_weight=torch.tensor([1.0, 2.0, 0.5, 1.0, 2.0, 0.5]),
        y=torch.tensor([0, 1, 1, -1]),
        class_names=["human", "bot"],
        positive_class=1,
        node_id=["u0", "u1", "u2", "u3"],
        name="toy",
    )


def assert_same_graph(a: MultimodalGraph, b: MultimodalGraph) -> None:
    assert a.num_nodes == b.num_nodes
    assert a.text == b.text
    assert a.node_id == b.node_id
    assert torch.equal(a.image, b.image)
    torch.testing.assert_close(a.numeric, b.numeric, equal_nan=True)
    assert torch.equal(a.categorical, b.categorical)
    assert torch.equal(a.y, b.y)
    assert a.class_names == b.class_names
    assert a.categorical_vocabs == b.categorical_vocabs
    for m in a.modalities:
        assert torch.equal(a.presence_mask(m), b.presence_mask(m)), m

    def edges(g: MultimodalGraph) -> set[tuple[int, int, int, float]]:
        return {
            (int(s), int(d), int(t), float(w))
            for (s, d), t, w in zip(g.edge_index.t(), g.edge_type, g.edge_weight)
        }

    assert edges(a) == edges(b)


def test_presence_masks_are_derived() -> None:
    g = make_graph()
    assert g.modalities == ["text", "image", "numeric", "categorical"]
    assert g.presence_mask("text").tolist() == [True, True, False, False]
    assert g.presence_mask("image").tolist() == [True] * 4
    assert g.presence_mask("numeric").tolist() == [True, False, True, True]
    assert g.presence_mask("categorical").tolist() == [True, False, True, True]
    assert g.num_relations == 2 and g.num_classes == 2


def test_numpy_arrays_are_taken_as_tensors() -> None:
    import numpy as np

    numeric = np.array([[1.0, np.nan], [3.0, 4.0], [5.0, 6.0]])
    graph = MultimodalGraph(
        np.array([[0, 1], [1, 2]]),
        numeric=numeric,
        y=np.array([0, 1, 0]),
        train_mask=np.array([True, False, True]),
        image=np.array(["a.png", "", "c.png"]),
    )
    assert graph.edge_index.dtype == torch.long and graph.y.tolist() == [0, 1, 0]
    assert graph.numeric.dtype == torch.float64 and bool(graph.numeric_present.all())
    assert graph.train_mask.dtype == torch.bool and graph.image == ["a.png", None, "c.png"]
    with pytest.raises(TypeError, match="class ids"):
        MultimodalGraph(text=["a", "b"], y=np.array(["bot", "human"]))  # names: map them first


def test_image_paths_presence() -> None:
    g = MultimodalGraph(image=["a.png", None, ""])
    assert g.presence_mask("image").tolist() == [True, False, False]


def test_subgraph_selects_every_node_field() -> None:
    g = make_graph()
    sub = g.subgraph(torch.tensor([0, 2]))
    assert isinstance(sub, MultimodalGraph)
    assert sub.text == ["hello world", None]
    assert sub.node_id == ["u0", "u2"]
    assert sub.presence_mask("text").tolist() == [True, False]
    assert sub.edge_index.tolist() == [[0, 1], [1, 0]]
    assert sub.edge_type.tolist() == [0, 0]
    assert sub.edge_weight.tolist() == [2.0, 2.0]
    assert sub.class_names == ["human", "bot"]


def test_networkx_round_trip() -> None:
    g = make_graph()
    nxg = to_networkx(g)
    assert nxg.number_of_nodes() == 4 and nxg.number_of_edges() == 6
    assert nxg.nodes["u2"]["categorical"] == {"verified": "yes", "lang": "en"}
    assert_same_graph(g, from_networkx(nxg))


def test_from_plain_networkx_undirected() -> None:
    g = from_networkx(nx.karate_club_graph(), label="club")
    assert g.num_nodes == 34
    assert g.edge_index.size(1) == 2 * 78
    assert is_undirected(g.edge_index)
    assert g.class_names == ["Mr. Hi", "Officer"]


def test_from_networkx_keeps_the_images_of_some_nodes() -> None:
    """A node without an ``image`` attribute lacks the modality; the others keep theirs."""
    g = nx.path_graph(4)
    for i in (0, 2):
        g.nodes[i]["image"] = torch.full((3, 2, 2), float(i + 1))
    graph = from_networkx(g)
    assert graph.image.shape == (4, 3, 2, 2)
    assert graph.image_present.tolist() == [True, False, True, False]
    assert graph.image[2].unique().tolist() == [3.0] and graph.image[1].abs().sum() == 0
    again = from_networkx(to_networkx(graph))
    assert again.image_present.tolist() == [True, False, True, False]
    g.nodes[1]["image"] = "avatar.png"
    with pytest.raises(ValueError, match="Node 0 has an image tensor and node 1 an image path"):
        from_networkx(g)
    g.nodes[1]["image"] = torch.zeros(3, 4, 4)
    with pytest.raises(ValueError, match=r"Node 1 has an image of shape \[3, 4, 4\]"):
        from_networkx(g)


def test_from_networkx_compares_labels_by_value_and_reads_none_as_missing() -> None:
    g = nx.path_graph(5)
    for i, (label, value) in enumerate([(0, 1.5), ("0", None), (1.0, 3), (1, math.nan), (10, 2)]):
        g.nodes[i].update(label=label, numeric={"age": value})
    graph = from_networkx(g)
    assert graph.class_names == ["0", "1", "10"]  # as a card's: numbers by value and order
    assert graph.y.tolist() == [0, 0, 1, 1, 2]
    assert graph.numeric[:, 0].isnan().tolist() == [False, True, False, True, False]
    g.nodes[4]["numeric"] = {"age": "old"}
    with pytest.raises(ValueError, match="'age' holds the non-numeric value 'old' in data row 5"):
        from_networkx(g)


def test_from_networkx_names_what_it_reads() -> None:
    g = nx.path_graph(3)
    g.nodes[0]["label"], g.nodes[1]["label"], g.nodes[2]["label"] = math.nan, "bot", "human"
    graph = from_networkx(g)  # NaN is pandas' missing value: unlabelled, not a class 'nan'
    assert graph.class_names == ["bot", "human"] and graph.y.tolist() == [-1, 0, 1]
    g.nodes[1]["numeric"] = [1.0, 2.0]  # a PyG-style feature list
    with pytest.raises(TypeError, match=r"Node 1 has a 'numeric' attribute of type 'list'.*age"):
        from_networkx(g)
    with pytest.raises(TypeError, match=r"Expected a networkx graph \(got 'list'\)"):
        from_networkx([(0, 1)])


def test_from_data_refuses_an_empty_data() -> None:
    from torch_geometric.data import Data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyG's own: it cannot infer 'num_nodes'
        with pytest.raises(ValueError, match=r"The Data is empty \(0 nodes\)"):
            from_data(Data())


def test_a_misspelt_keyword_is_pointed_out() -> None:
    with pytest.warns(UserWarning, match="got 'numerc', which it does not read.*'numeric'"):
        graph = MultimodalGraph(torch.tensor([[0], [1]]), numerc=torch.randn(2, 3))
    assert graph.modalities == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyG's and mmgraph's own fields are no typos
        MultimodalGraph(torch.tensor([[0], [1]]), x=torch.randn(2, 3), x_text=torch.randn(2, 4))


def test_images_with_nan_pixels_are_refused_unless_absent() -> None:
    image = torch.rand(3, 3, 4, 4)
    image[1, 0, 0, 0] = math.nan
    with pytest.raises(ValueError, match="NaN or infinite pixels in 1 of the images"):
        MultimodalGraph(torch.tensor([[0], [1]]), image=image)
    absent = {"image": torch.tensor([True, False, True])}
    assert MultimodalGraph(torch.tensor([[0], [1]]), image=image, presence=absent).num_nodes == 3


def test_featurize_checks_fields_set_after_construction() -> None:
    from mmgraph.models import FeatureConfig, featurize

    graph = MultimodalGraph(torch.tensor([[0, 1], [1, 2]]), numeric=torch.randn(3, 2))
    graph.edge_index = torch.tensor([[0, 5], [1, 2]])
    with pytest.raises(ValueError, match=r"node id 5 in 'edge_index' but 'num_nodes' is 3"):
        featurize(graph, FeatureConfig(text_encoder=None, image_encoder=None))


def test_data_round_trip() -> None:
    g = make_graph()
    data = to_data(g)
    assert type(data).__name__ == "Data"
    assert_same_graph(g, from_data(data))


def test_from_data_x_becomes_numeric() -> None:
    from torch_geometric.data import Data

    data = Data(x=torch.randn(3, 5), edge_index=torch.tensor([[0, 1], [1, 2]]))
    g = from_data(data)
    assert g.numeric.shape == (3, 5) and g.modalities == ["numeric"]


def test_pyg_transforms_keep_working() -> None:
    g = MultimodalGraph(torch.tensor([[0, 1], [1, 2]]), numeric=torch.randn(3, 2))
    out = ToUndirected()(g)
    assert isinstance(out, MultimodalGraph)
    assert out.edge_index.size(1) == 4


def test_pyg_transforms_select_the_node_lists_too() -> None:
    """Texts, image paths and node ids are lists; PyG's transforms index them by tensors."""
    from torch_geometric.transforms import LargestConnectedComponents, RemoveIsolatedNodes

    g = MultimodalGraph(
        torch.tensor([[0, 1, 3], [1, 0, 4]]),
        text=["a", "b", None, "d", "e"],
        image=["0.png", None, "2.png", "3.png", "4.png"],
        node_id=["n0", "n1", "n2", "n3", "n4"],
        numeric=torch.arange(5.0).view(5, 1),
        y=torch.tensor([0, 1, 0, 1, 0]),
    )
    out = RemoveIsolatedNodes()(g.clone())  # node 2 has no edge
    assert out.num_nodes == 4 and out.node_id == ["n0", "n1", "n3", "n4"]
    assert out.text == ["a", "b", "d", "e"] and out.image == ["0.png", None, "3.png", "4.png"]
    assert out.numeric.view(-1).tolist() == [0.0, 1.0, 3.0, 4.0] and out.y.tolist() == [0, 1, 1, 0]
    assert out.text_present.tolist() == [True, True, True, True]
    largest = LargestConnectedComponents()(g)  # {0, 1} or {3, 4}: the texts follow the ids
    assert [t for t in largest.text] == [
        {"n0": "a", "n1": "b", "n3": "d", "n4": "e"}[i] for i in largest.node_id
    ]
    for copied in (g.clone(), g.to("cpu"), g.subgraph(torch.tensor([4, 0]))):
        assert isinstance(copied.text, NodeList)
    assert g.node_id[torch.tensor([True, False, False, False, True])] == ["n0", "n4"]
    assert g.node_id[torch.tensor(3)] == "n3" and g.node_id[1:3] == ["n1", "n2"]
    with pytest.raises(IndexError, match=r"A bool mask must have shape \[5\]"):
        g.node_id[torch.tensor([True, False])]


def test_make_undirected_merges_and_averages() -> None:
    ei = torch.tensor([[0, 1, 1], [1, 0, 2]])
    w = torch.tensor([1.0, 3.0, 5.0])
    t = torch.tensor([0, 0, 1])
    out, ot, ow = make_undirected(ei, 3, t, w)
    got = {(int(s), int(d)): (int(r), float(x)) for (s, d), r, x in zip(out.t(), ot, ow)}
    assert got == {(0, 1): (0, 2.0), (1, 0): (0, 2.0), (1, 2): (1, 5.0), (2, 1): (1, 5.0)}


# ----------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"edge_index": torch.tensor([[0, 5], [1, 0]]), "num_nodes": 3},
            ValueError,
            r"node id 5 .* must be in \[0, 3\)",
        ),
        (
            {"edge_index": torch.tensor([[0, -1], [1, 0]]), "num_nodes": 3},
            ValueError,
            "negative node id -1",
        ),
        (
            {"edge_index": torch.tensor([[0.0, 1.0], [1.0, 0.0]]), "num_nodes": 3},
            TypeError,
            "Expected 'edge_index' to be of integer type",
        ),
        ({"edge_index": torch.tensor([[0, 1, 2]]), "num_nodes": 3}, ValueError, r"shape \[2, E\]"),
        (
            {"text": ["a", "b"], "numeric": torch.zeros(3, 1), "num_nodes": 2},
            ValueError,
            "Expected 'numeric' to hold one entry per node",
        ),
        (
            {
                "edge_index": torch.tensor([[0, 1], [1, 0]]),
                "edge_weight": torch.tensor([1.0, NAN]),
                "num_nodes": 2,
            },
            ValueError,
            "NaN or infinite edge weights",
        ),
        (
            {
                "edge_index": torch.tensor([[0, 1], [1, 0]]),
                "edge_type": torch.tensor([0, 2]),
                "relation_names": ["a", "b"],
                "num_nodes": 2,
            },
            ValueError,
            "relation id 2",
        ),
        (
            {"y": torch.tensor([0, 3]), "class_names": ["a", "b"]},
            ValueError,
            r"Found label 3 .* labels must be in \[0, 2\)",
        ),
        ({"y": torch.tensor([0.0, 1.0])}, TypeError, "Expected 'y' to be an integer tensor"),
        ({"node_id": ["a", "b", "a"]}, ValueError, "Duplicate node id 'a'"),
        (
            {"text": ["a", "b"], "y": torch.tensor([0, 1, 0])},
            ValueError,
            r"fields disagree on the number of nodes \('text' 2, 'y' 3\)",
        ),
        ({"num_nodes": 0}, ValueError, "The graph is empty"),
        ({"text": []}, ValueError, "The graph is empty"),
        (
            {"categorical": torch.tensor([[3]]), "categorical_vocabs": [["x"]]},
            ValueError,
            "Found code 3 in categorical column 0",
        ),
        ({"numeric": torch.tensor([[1, 2]])}, TypeError, "Expected 'numeric' to be a float tensor"),
        (
            {"text": ["a", "b"], "train_mask": torch.tensor([1, 0])},
            TypeError,
            "Expected 'train_mask' to be a bool tensor",
        ),
        ({"text": [3]}, TypeError, "Expected a node's text to be a string"),
    ],
)
def test_validation_errors(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        MultimodalGraph(**kwargs)


def test_stratified_split_is_seeded_and_stratified() -> None:
    y = torch.tensor([0] * 50 + [1] * 30 + [2] * 20 + [-1] * 5)
    a = stratified_split(y, 0.6, 0.2, 0.2, seed=3)
    b = stratified_split(y, 0.6, 0.2, 0.2, seed=3)
    c = stratified_split(y, 0.6, 0.2, 0.2, seed=4)
    assert all(torch.equal(x, z) for x, z in zip(a, b))
    assert not torch.equal(a[0], c[0])
    train, val, test = a
    assert not (train & val).any() and not (train & test).any() and not (val & test).any()
    assert not (train | val | test)[-5:].any()
    assert [int((y[train] == k).sum()) for k in range(3)] == [30, 18, 12]
    assert [int((y[val] == k).sum()) for k in range(3)] == [10, 6, 4]
    with pytest.raises(ValueError, match="sum to at most 1"):
        stratified_split(y, 0.8, 0.2, 0.2)


def test_fractions_that_sum_to_one_place_every_labelled_node() -> None:
    # Rounding each count alone had left nodes out: a class of 102 was cut 61 + 20 + 20,
    # thirty classes of 7 lost 30 of their 210 nodes.
    y = torch.cat(
        [torch.arange(30).repeat_interleave(7), torch.full((102,), 30), torch.tensor([-1])]
    )
    train, val, test = stratified_split(y, 0.6, 0.2, 0.2, seed=0)
    assert bool((train | val | test)[:-1].all()) and not bool((train | val | test)[-1])
    assert int((train.int() + val.int() + test.int()).max()) == 1
    seven = y == 0
    assert [int((m & seven).sum()) for m in (train, val, test)] == [4, 1, 2]  # the extra: test
    big = y == 30
    assert [int((m & big).sum()) for m in (train, val, test)] == [61, 20, 21]
    # With no test fraction the extra nodes join validation (the inner splits of folds).
    train, val, test = stratified_split(torch.arange(5).repeat_interleave(5), 0.9, 0.1, 0.0)
    assert [int(m.sum()) for m in (train, val, test)] == [20, 5, 0]
    # Fractions under one still leave the rest out, and rounding adds nothing to them.
    train, val, test = stratified_split(torch.arange(5).repeat_interleave(5), 0.5, 0.2, 0.1)
    assert [int(m.sum()) for m in (train, val, test)] == [10, 5, 0]


def test_set_split_on_graph() -> None:
    g = make_graph().set_split(0.5, 0.25, 0.25, seed=0)
    assert g.train_mask.dtype == torch.bool and g.train_mask.shape == (4,)
    assert not g.train_mask[3] and not g.val_mask[3] and not g.test_mask[3]


def test_set_split_warns_when_it_replaces_a_split() -> None:
    g = make_graph().set_split(0.5, 0.25, 0.25, seed=0)
    first = g.train_mask.clone()
    copy = g.clone()
    with pytest.warns(
        UserWarning, match=r"same object.*graph.clone\(\).set_split\(\.\.\., replace=True\)"
    ):
        again = g.set_split(0.5, 0.25, 0.25, seed=1)
    assert again is g
    assert torch.equal(copy.train_mask, first)  # a clone keeps its own split
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g.set_split(0.5, 0.25, 0.25, seed=2, replace=True)
        make_graph().set_split(0.5, 0.25, 0.25, seed=0)


def test_split_off_validation_keeps_to_its_rows_and_stratifies() -> None:
    from mmgraph.data.split import split_off_validation

    y = torch.tensor([0, 1] * 20 + [-1, 0])
    rows = torch.zeros(42, dtype=torch.bool)
    rows[:30] = True
    rows[40] = True  # an unlabelled row: in neither part
    train, val = split_off_validation(y, rows, 0.1, seed=3)
    assert not bool((train & val).any()) and not bool(((train | val) & ~rows).any())
    assert int(((train | val) & rows).sum()) == 30 and not bool((train | val)[40])
    assert sorted(set(y[val].tolist())) == [0, 1]  # each class has its share
    again = split_off_validation(y, rows.nonzero().view(-1), 0.1, seed=3)  # indices work too
    assert torch.equal(again[1], val)
