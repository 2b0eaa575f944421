from __future__ import annotations

import pytest
import torch

from mmgraph.data import MultimodalGraph
from mmgraph.sampling import CSRGraph

EDGE_INDEX = torch.tensor([[0, 0, 0, 1, 2, 3, 2, 0], [3, 1, 2, 0, 0, 0, 1, 1]])


def dense(edge_index: torch.Tensor, n: int) -> torch.Tensor:
    adj = torch.zeros(n, n, dtype=torch.long)
    adj.index_put_(
        (edge_index[0], edge_index[1]),
        torch.ones(edge_index.size(1), dtype=torch.long),
        accumulate=True,
    )
    return adj


def csr_dense(csr: CSRGraph) -> torch.Tensor:
    n = csr.num_nodes
    adj = torch.zeros(n, n, dtype=torch.long)
    for i in range(n):
        for j in csr.col[csr.rowptr[i] : csr.rowptr[i + 1]].tolist():
            adj[i, j] += 1
    return adj


@pytest.mark.parametrize("by", ["source", "target"])
def test_from_edge_index_matches_dense_adjacency(by: str):
    weight = torch.arange(8, dtype=torch.float) / 10
    edge_type = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1])
    csr = CSRGraph.from_edge_index(EDGE_INDEX, 5, edge_weight=weight, edge_type=edge_type, by=by)
    adj = dense(EDGE_INDEX, 5)
    assert torch.equal(csr_dense(csr), adj if by == "source" else adj.t())
    assert csr.num_nodes == 5 and csr.num_edges == 8 and csr.num_relations == 2
    assert torch.equal(csr.degree, torch.diff(csr.rowptr))
    # Columns are sorted within each row; e_id maps every entry back to its edge.
    for i in range(5):
        row = csr.col[csr.rowptr[i] : csr.rowptr[i + 1]]
        assert torch.equal(row, row.sort().values)
    assert torch.equal(csr.edge_index(), EDGE_INDEX[:, csr.e_id])
    assert torch.equal(csr.edge_weight, weight[csr.e_id])
    assert torch.equal(csr.edge_type, edge_type[csr.e_id])
    assert sorted(csr.e_id.tolist()) == list(range(8))


def test_parallel_edges_keep_input_order_and_isolated_nodes():
    edge_index = torch.tensor([[1, 1, 1], [2, 2, 0]])
    csr = CSRGraph.from_edge_index(edge_index, 4)
    assert csr.rowptr.tolist() == [0, 0, 3, 3, 3]
    assert csr.col.tolist() == [0, 2, 2]
    assert csr.e_id.tolist() == [2, 0, 1]
    assert CSRGraph.from_edge_index(edge_index).num_nodes == 3
    empty = CSRGraph.from_edge_index(torch.empty(2, 0, dtype=torch.long), 3)
    assert empty.rowptr.tolist() == [0, 0, 0, 0] and empty.num_edges == 0


def test_from_graph_keeps_weights_relations_and_names():
    graph = MultimodalGraph(
        EDGE_INDEX,
        num_nodes=5,
        edge_type=torch.tensor([0, 1, 0, 1, 0, 1, 0, 1]),
        relation_names=["follows", "likes"],
        edge_weight=torch.ones(8),
    )
    csr = CSRGraph.from_graph(graph, by="target")
    assert csr.by == "target" and csr.relation_names == ["follows", "likes"]
    assert csr.relation_id("likes") == 1 and csr.relation_id(0) == 0
    assert torch.equal(csr.edge_index(), EDGE_INDEX[:, csr.e_id])
    assert repr(csr) == (
        "CSRGraph(num_nodes=5, num_edges=8, by='target', weighted=True, num_relations=2)"
    )
    with pytest.raises(KeyError, match=r"valid relations: \['follows', 'likes'\]"):
        csr.relation_id("friend")
    with pytest.raises(KeyError, match="valid ids are 0..1"):
        csr.relation_id(2)


def test_validation_errors():
    with pytest.raises(TypeError, match="integer type"):
        CSRGraph.from_edge_index(EDGE_INDEX.float(), 5)
    with pytest.raises(ValueError, match=r"shape \[2, E\]"):
        CSRGraph.from_edge_index(EDGE_INDEX.t(), 5)
    with pytest.raises(ValueError, match="negative node id -1"):
        CSRGraph.from_edge_index(torch.tensor([[0, -1], [1, 0]]), 5)
    with pytest.raises(ValueError, match=r"node id 3 .* 'num_nodes' is 3"):
        CSRGraph.from_edge_index(EDGE_INDEX, 3)
    with pytest.raises(ValueError, match=r"'edge_weight' to have shape \[8\]"):
        CSRGraph.from_edge_index(EDGE_INDEX, 5, edge_weight=torch.ones(3))
    with pytest.raises(ValueError, match="NaN or infinite"):
        CSRGraph.from_edge_index(EDGE_INDEX, 5, edge_weight=torch.full((8,), float("nan")))
    with pytest.raises(TypeError, match="'edge_type' to be of integer type"):
        CSRGraph.from_edge_index(EDGE_INDEX, 5, edge_type=torch.zeros(8))
    with pytest.raises(ValueError, match="negative relation id"):
        CSRGraph.from_edge_index(EDGE_INDEX, 5, edge_type=-torch.ones(8, dtype=torch.long))
    with pytest.raises(ValueError, match="only 1 'relation_names'"):
        CSRGraph.from_edge_index(
            EDGE_INDEX, 5, edge_type=torch.ones(8, dtype=torch.long), relation_names=["a"]
        )
    with pytest.raises(ValueError, match=r"'by' to be one of \('source', 'target'\)"):
        CSRGraph.from_edge_index(EDGE_INDEX, 5, by="row")
    with pytest.raises(TypeError, match="'num_nodes' to be an int"):
        CSRGraph.from_edge_index(EDGE_INDEX, 5.0)  # type: ignore[arg-type]
