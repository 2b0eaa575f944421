from __future__ import annotations

import math

import pytest
import torch

from mmgraph.data import MultimodalGraph
from mmgraph.data.schema import GraphSchema, conform


def trained_on() -> MultimodalGraph:
    return MultimodalGraph(
        torch.tensor([[0, 1], [1, 0]]),
        numeric=torch.tensor([[1.0, 2.0], [3.0, 4.0]]),
        numeric_names=["followers", "friends"],
        categorical=torch.tensor([[1], [2]]),
        categorical_names=["lang"],
        categorical_vocabs=[["de", "en"]],
        edge_type=torch.tensor([0, 1]),
        relation_names=["follower", "following"],
        y=torch.tensor([0, 1]),
        class_names=["bot", "human"],
    )


def new_graph(**kw) -> MultimodalGraph:
    args = dict(
        edge_index=torch.tensor([[0, 1, 2], [1, 2, 0]]),
        numeric=torch.tensor([[10.0, 20.0, 0.0], [30.0, math.nan, 0.0], [1.0, 1.0, 1.0]]),
        numeric_names=["friends", "extra", "followers"],
        categorical=torch.tensor([[1], [2], [3]]),
        categorical_names=["lang"],
        categorical_vocabs=[["en", "fr", "zz"]],
        edge_type=torch.tensor([0, 0, 0]),
        relation_names=["following"],
        y=torch.tensor([0, -1, 0]),
        class_names=["human"],
    )
    args.update(kw)
    return MultimodalGraph(**args)


def test_conform_maps_columns_codes_relations_and_labels() -> None:
    schema = GraphSchema.of(trained_on())
    # values the training data never had are said (the model reads them as unknown)
    with pytest.warns(
        UserWarning,
        match=r"2 nodes of the categorical column 'lang' hold "
        r"values the training data never had \('fr', 'zz'\)",
    ):
        g = conform(new_graph(), schema)
    assert g.numeric_names == ["followers", "friends"]
    torch.testing.assert_close(
        g.numeric, torch.tensor([[0.0, 10.0], [0.0, 30.0], [1.0, 1.0]]), equal_nan=True
    )
    # "en" keeps its trained code 2; unseen values go past the trained vocabulary.
    assert g.categorical_vocabs == [["de", "en", "fr", "zz"]]
    assert g.categorical[:, 0].tolist() == [2, 3, 4]
    assert g.edge_type.tolist() == [1, 1, 1] and g.relation_names == ["follower", "following"]
    assert g.y.tolist() == [1, -1, 1] and g.class_names == ["bot", "human"]


def test_schema_yaml_round_trip(tmp_path) -> None:
    schema = GraphSchema.of(trained_on())
    assert GraphSchema.from_yaml(schema.to_yaml(tmp_path / "s.yaml")) == schema


def test_conform_errors() -> None:
    schema = GraphSchema.of(trained_on())
    with pytest.raises(ValueError, match=r"lacks the numeric columns \['followers'\]"):
        conform(new_graph(numeric_names=["friends", "extra", "other"]), schema)
    with pytest.raises(ValueError, match=r"relations \['retweet'\] the model was not trained"):
        conform(new_graph(relation_names=["retweet"]), schema)
    with pytest.raises(ValueError, match=r"classes \['alien'\] the model was not trained on"):
        conform(new_graph(class_names=["alien"]), schema)


def test_missing_attribute_modality_becomes_all_missing() -> None:
    schema = GraphSchema.of(trained_on())
    g = new_graph()
    del g.categorical, g.categorical_present
    out = conform(g, schema)
    assert out.categorical.tolist() == [[0], [0], [0]]
    assert not out.presence_mask("categorical").any()


def test_a_long_list_of_missing_columns_is_cut_short() -> None:
    """A bag of 1,433 words against a model of 6 columns names a few and counts them."""
    schema = GraphSchema.of(trained_on())
    words = [f"word_{i}" for i in range(1433)]
    graph = new_graph(numeric=torch.zeros(3, 1433), numeric_names=words)
    with pytest.raises(ValueError, match="lacks the numeric columns") as info:
        conform(graph, schema)
    message = str(info.value)
    assert "'word_0', 'word_1'" in message and "...] (1433 in all)" in message
    assert "word_1432" not in message and len(message) < 400
