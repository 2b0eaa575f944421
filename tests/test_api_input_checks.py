"""Bad input to the Python API is named where it is given, not deep inside torch.

NaN or infinite values in what a layer, fusion head, coordination loss or pooling reads;
sizes, flags and counts of the wrong kind (found by a new user's check of the API).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mmgraph.coordination import (
    CosineAlignmentLoss,
    InfoNCELoss,
    MultimodalAutoencoder,
    sample_negatives,
)
from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.errors import InputError
from mmgraph.fusion import MultiViewLSTM, build_fusion
from mmgraph.nn import GCNConv, GGNNConv, GINConv, MeanConv
from mmgraph.subgraph import SubgraphPool, make_subgraph_batch

EDGES = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])


@pytest.mark.parametrize(
    "layer",
    [MeanConv(4, 8), GCNConv(4, 8), GGNNConv(4, 8, num_steps=2), GINConv(4, 8)],
    ids=lambda layer: type(layer).__name__,
)
def test_graph_layers_refuse_nan_features(layer: torch.nn.Module) -> None:
    x = torch.randn(5, 4)
    x[2, 1] = math.nan
    name = type(layer).__name__
    with pytest.raises(InputError, match=rf"Expected x of {name} to be finite .* 1 of its 5 rows"):
        layer(x, EDGES)
    x[2, 1] = math.inf
    with pytest.raises(InputError, match="to be finite"):
        layer(x, EDGES)


def test_fusion_heads_refuse_nan_in_present_rows_only() -> None:
    head = build_fusion("concat", {"text": 3, "image": 2}, out_channels=4)
    xs = {"text": torch.randn(4, 3), "image": torch.randn(4, 2)}
    xs["image"][1] = math.nan
    with pytest.raises(InputError, match=r"xs\['image'\] of .* 1 of its 4 rows\): fill"):
        head(xs)
    absent = {"image": torch.tensor([True, False, True, True])}
    assert torch.isfinite(head(xs, absent)).all()  # the NaN row is marked absent


def test_coordination_losses_refuse_nan_in_the_pairs_they_score() -> None:
    a, b = torch.randn(6, 4), torch.randn(6, 4)
    a[0, 0] = math.nan
    for loss in (CosineAlignmentLoss(), InfoNCELoss()):
        with pytest.raises(
            InputError, match=r"'a' to be finite \(got NaN or infinite values in 1 of its"
        ):
            loss(a, b)
        assert torch.isfinite(loss(a, b, torch.arange(6) > 0))  # that pair left out


def test_subgraph_pooling_checks_its_inputs() -> None:
    h, index = torch.randn(7, 3), torch.tensor([0, 0, 1, 1, 2, 2, 2])
    with pytest.raises(InputError, match=r"embeddings of 5 channels.*channels=3\)"):
        SubgraphPool("attention", channels=5)(h, index, 3)
    with pytest.raises(InputError, match="'num_subgraphs' to be >= 0"):
        SubgraphPool("mean")(h[:0], index[:0], -1)
    with pytest.raises(TypeError, match="'num_subgraphs' to be an int"):
        SubgraphPool("size")(h, index, 3.0)
    h[3, 0] = math.nan
    with pytest.raises(InputError, match="Expected h of SubgraphPool to be finite"):
        SubgraphPool("mean")(h, index, 3)


def test_a_subgraph_batch_refuses_float_positions() -> None:
    graph = MultimodalGraph(x=torch.randn(5, 2), edge_index=EDGES, num_nodes=5)
    nodes = [torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([4])]
    dataset = SubgraphDataset(graph, nodes, torch.tensor([0, 1, 0]))
    with pytest.raises(TypeError, match="subgraph positions, integers .*truncated"):
        make_subgraph_batch(dataset, [1.7, 2.2])
    assert make_subgraph_batch(dataset, [2, 0]).subgraph_id.tolist() == [2, 0]


def test_sizes_flags_and_counts_of_the_wrong_kind_are_named() -> None:
    with pytest.raises(ValueError, match="'temperature' to be positive and finite"):
        InfoNCELoss(temperature=math.inf)
    with pytest.raises(InputError, match="'num_negatives' to be a positive int"):
        sample_negatives(5, -1)
    with pytest.raises(ValueError, match="'noise_std' to be non-negative and finite"):
        MultimodalAutoencoder({"text": 3, "image": 2}, 4, noise_std=math.inf)
    with pytest.raises(TypeError, match=r"topology name first .*from_topology\(\"coupled\""):
        MultiViewLSTM.from_topology({"posts": 2, "likes": 3}, "coupled")
    with pytest.raises(TypeError, match="'bias' of GCNConv to be True or False"):
        GCNConv(4, 8, bias="no")
    with pytest.raises(TypeError, match="'root_weight' of MeanConv to be True or False"):
        MeanConv(4, 8, root_weight=np.bool_(True))


def test_gin_on_one_node_in_training_says_why() -> None:
    layer = GINConv(4, 8)
    one = torch.randn(1, 4)
    with pytest.raises(InputError, match=r"more than one node in training mode.*\.eval\(\)"):
        layer(one, torch.empty(2, 0, dtype=torch.long))
    assert layer.eval()(one, torch.empty(2, 0, dtype=torch.long)).shape == (1, 8)
