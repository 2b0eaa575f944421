"""Multi-label subgraph sets (SubGNN's HPO-NEURO): training, metrics, selection, refusals."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import f1_score

from mmgraph.data import SubgraphDataset
from mmgraph.data.split import stratified_split
from mmgraph.errors import InputError
from mmgraph.objectives import SupervisedObjective, balanced_class_weights
from mmgraph.tasks.subgraph import SubgraphConfig, train_subgraph_model
from mmgraph.train import TrainConfig, Trainer

FAST = TrainConfig(epochs=3, lr=0.01, patience=None, progress=False, deterministic=False)


def block_labels(seed: int = 0, **kwargs: object) -> SubgraphDataset:
    """The position task relabelled: each class holding a quarter of a subgraph's nodes."""
    from mmgraph.data.synthetic_subgraphs import make_position

    data = make_position(seed=seed, **kwargs)  # type: ignore[arg-type]
    classes = data.graph.block_class
    labels = []
    for nodes in data.subgraphs:
        counts = torch.bincount(classes[nodes], minlength=3)
        labels.append([str(k) for k in range(3) if counts[k] >= 0.25 * nodes.numel()])
    split = [
        "train" if bool(data.train_mask[i]) else "val" if bool(data.val_mask[i]) else "test"
        for i in range(len(data))
    ]
    return SubgraphDataset.from_lists(data.graph, data.subgraphs, labels, split=split)


@pytest.fixture(scope="module")
def regions() -> SubgraphDataset:
    return block_labels(num_blocks=9, block_size=40, p_in=0.2, p_out=0.01, num_subgraphs=150)


def test_the_fixture_has_subgraphs_with_several_labels(regions: SubgraphDataset) -> None:
    assert regions.multi_label and regions.y.shape == (150, 3)
    per_row = regions.y.sum(dim=1)
    assert bool((per_row >= 2).any()) and bool((per_row == 1).any())


def test_several_labels_train_on_binary_cross_entropy_and_select_on_micro_f1(
    regions: SubgraphDataset,
) -> None:
    train = TrainConfig(epochs=15, lr=0.02, patience=None, progress=False)
    result = train_subgraph_model(regions, SubgraphConfig(hidden=8, batch_size=16), train)
    # node ids win where the labels follow the regions; the head stays as trained
    assert "head_refit" not in result.metrics
    selection = result.metrics["selection"]
    assert all("val_micro_f1" in s and "val_accuracy" not in s for s in selection)
    chosen = next(s for s in selection if s["chosen"])
    assert chosen["node_input"] == "node2vec"
    assert chosen["val_micro_f1"] == max(s["val_micro_f1"] for s in selection)
    test = result.metrics["test"]
    assert test["micro_f1"] >= 0.8
    # micro-F1 recomputed from the model's logits; accuracy is the exact-match share
    model = result.models[0]
    model.eval()
    from mmgraph.subgraph import make_subgraph_batch

    index = regions.test_mask.nonzero().view(-1)
    with torch.no_grad():
        logits = model(make_subgraph_batch(regions, index))
    truth, predicted = regions.y[index].numpy(), (logits > 0).long().numpy()
    assert test["micro_f1"] == pytest.approx(f1_score(truth, predicted, average="micro"))
    assert test["accuracy"] == pytest.approx(float((truth == predicted).all(1).mean()))
    assert test["loss"] == pytest.approx(
        float(F.binary_cross_entropy_with_logits(logits, regions.y[index].float())), rel=1e-5
    )


@pytest.mark.parametrize("method", ["pool", "sub2vec"])
def test_other_methods_report_micro_f1(regions: SubgraphDataset, method: str) -> None:
    config = SubgraphConfig(method=method, hidden=8, num_layers=1, node_input="degree")
    result = train_subgraph_model(regions, config, FAST)
    for split in ("train", "val", "test"):
        metrics = result.metrics[split]
        assert 0.0 <= metrics["micro_f1"] <= 1.0
        assert metrics["accuracy"] <= metrics["micro_f1"] + 1e-9  # exact match is stricter


def test_refit_is_refused_on_several_labels(regions: SubgraphDataset) -> None:
    with pytest.raises(InputError, match="multi-label .* head_fit='trained' or 'auto'"):
        train_subgraph_model(regions, SubgraphConfig(hidden=8, head_fit="refit"), FAST)


def test_balanced_pos_weight_and_the_loss() -> None:
    y = torch.tensor([[1, 0, 1], [0, 0, 1], [1, 0, 1], [0, 0, 1], [-1, -1, -1]])
    # label 0: 2 of 4 positive; label 1 never positive; label 2 always positive
    assert balanced_class_weights(y, 3).tolist() == [1.0, 1.0, 1.0]
    y[1, 0] = 1  # label 0 now 3 positive, 1 negative
    weights = balanced_class_weights(y, 3)
    assert weights.tolist() == pytest.approx([1 / 3, 1.0, 1.0])

    class Rows(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.logits = torch.nn.Parameter(torch.randn(5, 3))

        def forward(self, batch: object) -> torch.Tensor:
            return self.logits * 1.0

    from torch_geometric.data import Data

    batch = Data(y=y, train_mask=torch.tensor([True, True, True, False, True]), num_nodes=5)
    model = Rows()
    loss = SupervisedObjective(class_weights=weights)(model, batch)
    rows = torch.tensor([0, 1, 2])  # the labelled training rows
    expected = F.binary_cross_entropy_with_logits(
        model.logits[rows], y[rows].float(), pos_weight=weights
    )
    assert float(loss.detach()) == pytest.approx(float(expected.detach()))
    batch.val_mask = torch.tensor([False, False, False, True, True])
    metrics = Trainer(model, FAST).evaluate(batch, "val_mask")  # the unlabelled row is dropped
    assert metrics["loss"] == pytest.approx(
        float(F.binary_cross_entropy_with_logits(model.logits[3:4], y[3:4].float()))
    )
    assert set(metrics) >= {"micro_f1", "accuracy", "macro_f1", "roc_auc"}


def test_split_is_stratified_on_each_subgraphs_label_set() -> None:
    rows = [[1, 0], [0, 1], [1, 1]] * 20 + [[-1, -1]] * 5
    y = torch.tensor(rows)
    train, val, test = stratified_split(y, 0.5, 0.25, 0.25, seed=3)
    for label_set in ([1, 0], [0, 1], [1, 1]):
        members = (y == torch.tensor(label_set)).all(1)
        assert int((members & train).sum()) == 10
        assert int((members & val).sum()) == 5
    assert not bool((train | val | test)[-5:].any())


def test_label_lists_are_checked() -> None:
    from mmgraph.data.graph import MultimodalGraph

    graph = MultimodalGraph(torch.tensor([[0, 1], [1, 0]]), num_nodes=3)
    with pytest.raises(ValueError, match="others have label lists"):
        SubgraphDataset.from_lists(graph, [[0], [1]], [["a"], "b"])
    with pytest.raises(ValueError, match="not one of the classes"):
        SubgraphDataset.from_lists(graph, [[0], [1]], [["a"], ["c"]], class_names=["a", "b"])
    empty = SubgraphDataset.from_lists(graph, [[0], [1], [2]], [["a"], [], None])
    assert empty.y.tolist() == [[1], [0], [-1]]
    assert empty.labelled.tolist() == [True, True, False]
    with pytest.raises(ValueError, match="Row 0 of the multi-label 'y' is \\[2, 0\\]"):
        SubgraphDataset(graph, [torch.tensor([0])], torch.tensor([[2, 0]]))
    with pytest.raises(ValueError, match="one class name per column"):
        SubgraphDataset(graph, [torch.tensor([0])], torch.tensor([[1, 0]]), class_names=["a"])


def test_cli_trains_a_multi_label_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from mmgraph.cli import main

    data = block_labels(num_blocks=6, block_size=30, p_in=0.2, p_out=0.01, num_subgraphs=60)
    folder = tmp_path / "data"
    folder.mkdir()
    pairs = data.graph.edge_index.t().tolist()
    (folder / "edge_list.txt").write_text("".join(f"{u} {v}\n" for u, v in pairs if u < v))
    names = data.class_names or []
    lines = []
    for i, nodes in enumerate(data.subgraphs):
        label = "-".join(names[k] for k in data.y[i].nonzero().view(-1).tolist())
        split = next(s for s in ("train", "val", "test") if bool(getattr(data, f"{s}_mask")[i]))
        lines.append("-".join(map(str, nodes.tolist())) + f"\t{label}\t{split}\n")
    (folder / "subgraphs.pth").write_text("".join(lines))
    out = tmp_path / "run"
    code = main(
        ["subgraph", "train", "--data", str(folder), "--epochs", "2", "--quiet", "--out", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "3 labels, several a subgraph" in printed
    assert "chosen on validation micro-F1" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert np.isfinite(metrics["test"]["micro_f1"])


def test_the_weights_can_be_turned_off(regions: SubgraphDataset) -> None:
    """``--no-class-weights``: plain binary cross-entropy, as SubGNN and GLASS train."""
    from mmgraph.tune.options import subgraph_run

    assert subgraph_run({"data": "-"}, dataset=regions).train.class_weights
    run = subgraph_run({"data": "-", "no_class_weights": True, "epochs": 2}, dataset=regions)
    assert run.train.class_weights is False
    weighted = dataclasses.replace(run.train, class_weights=True)
    with_weights = train_subgraph_model(regions, run.config, weighted)
    plain = train_subgraph_model(regions, run.config, run.train)
    assert with_weights.metrics["train"]["loss"] != plain.metrics["train"]["loss"]
