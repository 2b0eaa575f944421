"""Node inputs of subgraph models: shapes, parameters, the auto rule and errors."""

from __future__ import annotations

import warnings

import pytest
import torch

from mmgraph.data import MultimodalGraph, SubgraphDataset
from mmgraph.subgraph import PoolGNN, build_node_input, make_subgraph_batch
from mmgraph.subgraph.inputs import (
    ConstantInput,
    DegreeInput,
    EncoderInput,
    NodeIdInput,
    PrecomputedInput,
    node2vec_table,
    node_rows,
    resolve_input_name,
    structure_only,
)


def test_structural_inputs(overlapping: SubgraphDataset) -> None:
    batch = make_subgraph_batch(overlapping)
    constant = ConstantInput(8)
    x = constant(batch)
    assert x.shape == (40, 8) and bool((x == x[0]).all())
    assert sum(p.numel() for p in constant.parameters()) == 8
    degree = DegreeInput(8, max_degree=3)
    x = degree(batch)
    deg = torch.bincount(overlapping.graph.edge_index[1], minlength=40).clamp(max=3)
    assert torch.equal(x, degree.embedding.weight[deg])
    assert sum(p.numel() for p in degree.parameters()) == 4 * 8
    ids = NodeIdInput(40, 5)
    assert ids(batch).shape == (40, 5) and sum(p.numel() for p in ids.parameters()) == 200
    assert repr(degree) == "DegreeInput(8, max_degree=3)" and repr(ids) == "NodeIdInput(40, 5)"


def test_structure_only(molecules: SubgraphDataset, overlapping: SubgraphDataset) -> None:
    """Nodes with nothing but edges: no features, or one tag value on every node."""
    assert structure_only(overlapping.graph)  # edges alone
    assert not structure_only(molecules.graph)  # tags that differ
    one_tag = MultimodalGraph(
        overlapping.graph.edge_index,
        num_nodes=40,
        categorical=torch.ones(40, 1, dtype=torch.long),
        categorical_names=["tag"],
        categorical_vocabs=[["0"]],
    )
    assert structure_only(one_tag)  # IMDB-MULTI's single tag
    one_tag.categorical[0, 0] = 0  # one node without it: the tag now tells nodes apart
    assert not structure_only(one_tag)
    for name, value in (("x", torch.ones(40, 3)), ("numeric", torch.zeros(40, 1))):
        featured = MultimodalGraph(overlapping.graph.edge_index, num_nodes=40)
        setattr(featured, name, value)
        assert not structure_only(featured), name
    texts = MultimodalGraph(overlapping.graph.edge_index, num_nodes=40)
    texts.x_text = torch.ones(40, 2)
    assert not structure_only(texts)


def test_precomputed_and_encoder_inputs(overlapping: SubgraphDataset) -> None:
    batch = make_subgraph_batch(overlapping)
    table = torch.randn(40, 6, generator=torch.Generator().manual_seed(0))
    frozen = PrecomputedInput(table)
    assert torch.equal(frozen(batch), table) and not list(frozen.parameters())
    assert "weight" in frozen.state_dict()
    tuned = PrecomputedInput(table, trainable=True)
    assert sum(p.numel() for p in tuned.parameters()) == 240
    encoder = EncoderInput(NodeIdInput(40, 3), 3, method="forward")
    assert encoder(batch).shape == (40, 3)
    assert repr(frozen) == "PrecomputedInput(40, 6, trainable=False)"


def test_auto_rule_and_attributes(molecules: SubgraphDataset, overlapping: SubgraphDataset) -> None:
    assert resolve_input_name("auto", overlapping.graph) == "constant"
    assert resolve_input_name("auto", molecules.graph) == "attributes"
    featured = MultimodalGraph(overlapping.graph.edge_index, num_nodes=40)
    featured.x = torch.ones(40, 3)
    assert resolve_input_name("auto", featured) == "x"
    featured.x_text = torch.ones(40, 2)
    assert resolve_input_name("auto", featured) == "multimodal"
    attributes = build_node_input("auto", molecules.graph, 8)
    batch = make_subgraph_batch(molecules)
    x = attributes(batch)
    assert x.shape == (int(molecules.graph.num_nodes), 8)
    tag = molecules.graph.categorical[:, 0]
    assert torch.allclose(x[tag == 1][0], x[tag == 1][-1])  # same tag, same input
    x_input = build_node_input("x", featured, 4)
    assert x_input(featured).shape == (40, 4)


def test_multimodal_input_runs_the_model_encoders(overlapping: SubgraphDataset) -> None:
    graph = MultimodalGraph(
        overlapping.graph.edge_index,
        num_nodes=40,
        numeric=torch.randn(40, 2, generator=torch.Generator().manual_seed(0)),
    )
    graph.x_text = torch.randn(40, 5, generator=torch.Generator().manual_seed(1))
    graph.text_present = torch.ones(40, dtype=torch.bool)
    encoder = build_node_input("multimodal", graph, 6)
    assert isinstance(encoder, EncoderInput)
    dataset = SubgraphDataset.from_lists(graph, [[0, 1]], ["a"])
    out = encoder(make_subgraph_batch(dataset))
    assert out.shape == (40, 6)
    assert list(encoder.encoder.encoders.encoders) == ["text", "attributes"]
    # Building a model resets its input's parameters but keeps the fitted statistics.
    encoder.reset_parameters()
    model = PoolGNN(encoder, 4, 2, num_layers=1)
    assert model(make_subgraph_batch(dataset)).shape == (1, 2)


def test_errors(overlapping: SubgraphDataset) -> None:
    batch = make_subgraph_batch(overlapping)
    with pytest.raises(ValueError, match="Unknown node input 'pixels'"):
        build_node_input("pixels", overlapping.graph, 4)
    with pytest.raises(ValueError, match="no numeric or categorical attributes"):
        build_node_input("attributes", overlapping.graph, 4)
    with pytest.raises(ValueError, match="no feature matrix 'x'"):
        build_node_input("x", overlapping.graph, 4)
    with pytest.raises(
        ValueError, match="no text, images or attributes .* choose another node input"
    ):
        build_node_input("multimodal", overlapping.graph, 4)
    with pytest.raises(ValueError, match="built for 10 nodes but the batch has 40"):
        NodeIdInput(10, 2)(batch)
    with pytest.raises(ValueError, match="cover 10 nodes but the batch has 40"):
        PrecomputedInput(torch.zeros(10, 2))(batch)
    with pytest.raises(ValueError, match="'embeddings' to be a tensor \\[N, C\\]"):
        PrecomputedInput(torch.zeros(3))
    with pytest.raises(TypeError, match="has no method 'embed'"):
        EncoderInput(ConstantInput(2), 2, method="embed")
    with pytest.raises(ValueError, match="'out_channels' to be an int >= 1"):
        ConstantInput(0)


def test_node_rows_equal_the_selected_rows_of_every_input(
    molecules: SubgraphDataset, overlapping: SubgraphDataset
) -> None:
    batch = make_subgraph_batch(overlapping)
    nodes = torch.tensor([3, 0, 39, 3, 17])
    featured = MultimodalGraph(overlapping.graph.edge_index, num_nodes=40)
    featured.x = torch.randn(40, 3, generator=torch.Generator().manual_seed(2))
    inputs = [
        (ConstantInput(4), batch),
        (DegreeInput(4, max_degree=3), batch),
        (NodeIdInput(40, 4), batch),
        (PrecomputedInput(torch.randn(40, 4)), batch),
        (EncoderInput(NodeIdInput(40, 3), 3, method="forward"), batch),  # no rows: selects
        (build_node_input("x", featured, 4), featured),
    ]
    for node_input, data in inputs:
        assert torch.allclose(node_rows(node_input, data, nodes), node_input(data)[nodes])
    attributes = build_node_input("auto", molecules.graph, 8)
    mol_batch = make_subgraph_batch(molecules)
    mol_nodes = torch.arange(0, int(molecules.graph.num_nodes), 3)
    assert torch.allclose(
        node_rows(attributes, mol_batch, mol_nodes), attributes(mol_batch)[mol_nodes], atol=1e-6
    )
    with pytest.raises(ValueError, match=r"node ids in \[0, 40\)"):
        node_rows(ConstantInput(4), batch, torch.tensor([40]))
    with pytest.raises(ValueError, match=r"node ids in \[0, 40\)"):
        node_rows(ConstantInput(4), batch, torch.tensor([[1]]))


def two_communities() -> MultimodalGraph:
    """Two 12-node cliques joined by one edge (both directions)."""
    edges = [
        (u, v) for base in (0, 12) for u in range(base, base + 12) for v in range(base, base + 12)
    ]
    edges = [(u, v) for u, v in edges if u != v] + [(11, 12), (12, 11)]
    return MultimodalGraph(edge_index=torch.tensor(edges).t().contiguous(), num_nodes=24)


def test_node2vec_input_starts_learned_ids_from_the_graphs_walks() -> None:
    graph = two_communities()
    torch.manual_seed(5)
    expected_draw = torch.rand(3)
    torch.manual_seed(5)
    table = node2vec_table(graph, 6, seed=0)
    assert torch.equal(torch.rand(3), expected_draw)  # the global random state is put back
    walked = build_node_input("node2vec", graph, 6, seed=0)
    assert isinstance(walked, NodeIdInput) and repr(walked) == "NodeIdInput(24, 6, init=table)"
    assert node2vec_table(graph, 6, seed=0) is table  # kept for the run's other candidates
    assert torch.equal(walked(graph), table)
    assert torch.allclose(table.mean(0), torch.zeros(6), atol=1e-5)
    assert torch.allclose(table.std(0), torch.ones(6), atol=1e-5)
    # nodes of one community start closer to each other than to the other community's
    unit = torch.nn.functional.normalize(table, dim=1)
    cosine = unit @ unit.t()
    same = torch.zeros(24, 24, dtype=torch.bool)
    same[:12, :12] = same[12:, 12:] = True
    off_diagonal = ~torch.eye(24, dtype=torch.bool)
    assert float(cosine[same & off_diagonal].mean()) > float(cosine[~same].mean()) + 0.5
    # trained like ids; reset_parameters goes back to the table; the table is not saved
    assert [name for name, _ in walked.named_parameters()] == ["embedding.weight"]
    assert list(walked.state_dict()) == ["embedding.weight"]
    with torch.no_grad():
        walked.embedding.weight.add_(1.0)
    walked.reset_parameters()
    assert torch.equal(walked.embedding.weight, table)
    assert not torch.equal(node2vec_table(graph, 6, seed=1), table)
    other = two_communities()  # another graph object: its own table, same walks
    assert node2vec_table(other, 6, seed=0) is not table
    assert torch.equal(node2vec_table(other, 6, seed=0), table)


def test_node2vec_table_of_graphs_without_edges_or_with_one_node() -> None:
    empty = MultimodalGraph(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=5)
    table = node2vec_table(empty, 4)
    assert table.shape == (5, 4) and bool(torch.isfinite(table).all())
    single = MultimodalGraph(edge_index=torch.tensor([[0], [0]]), num_nodes=1)
    assert torch.equal(node2vec_table(single, 4), torch.zeros(1, 4))


def test_node2vec_table_does_not_warn_of_nodes_without_edges() -> None:
    # node2vec warns an embedding's user of them; a subgraph input starts them from noise
    graph = MultimodalGraph(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = node2vec_table(graph, 4)
    assert table.shape == (4, 4) and bool(torch.isfinite(table).all())


def test_node_id_init_errors() -> None:
    with pytest.raises(ValueError, match="'init' to be a tensor of shape \\[4, 2\\]"):
        NodeIdInput(4, 2, init=torch.zeros(4, 3))
    with pytest.raises(ValueError, match="'init' has NaN or infinite values"):
        NodeIdInput(2, 2, init=torch.tensor([[0.0, float("nan")], [1.0, 1.0]]))


def test_tune_searches_node_inputs_the_library_has() -> None:
    """The search space names node inputs :func:`build_node_input` knows, node2vec among them."""
    from mmgraph.subgraph import NODE_INPUTS
    from mmgraph.tune.space import SUBGRAPH_SPACE

    choices = SUBGRAPH_SPACE["node_input"]["choices"]
    assert set(choices) <= set(NODE_INPUTS) and "node2vec" in choices
