"""The head refit: a convex fit of the last linear layer on the training subgraphs."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from mmgraph.data import SubgraphDataset
from mmgraph.errors import InputError
from mmgraph.subgraph.refit import REFIT_CS, head_inputs, refit_head
from mmgraph.tasks.subgraph import (
    SubgraphConfig,
    check_method_options,
    train_subgraph_model,
)
from mmgraph.train import TrainConfig


class Toy(nn.Module):
    """A 'classifier' whose embeddings are its inputs, with an MLP or linear head."""

    def __init__(self, dim: int, classes: int, hidden: int | None = None) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if hidden is not None:
            layers += [nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(0.5)]
            dim = hidden
        self.head = nn.Sequential(*layers, nn.Linear(dim, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)


def thresholds(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A count far apart from the noise dimensions, three classes by two thresholds."""
    gen = torch.Generator().manual_seed(seed)
    count = torch.randint(400, 1100, (n,), generator=gen).double()
    noise = torch.randn(n, 3, generator=gen, dtype=torch.float64) * 50
    y = (count >= 675).long() + (count >= 787).long()
    return torch.cat([count.unsqueeze(1), noise], dim=1).float(), y


def test_refit_fits_the_training_thresholds_and_folds_into_the_layer() -> None:
    torch.manual_seed(0)
    x, y = thresholds(200)
    model = Toy(4, 3).eval()
    record = refit_head(model, x, y, seed=0)
    assert record["refit"] and record["C"] in REFIT_CS and record["folds"] == 5
    assert record["train_accuracy_before"] < 0.9
    assert record["train_accuracy_after"] >= 0.98
    # The layer predicts what the fitted, standardised logistic regression predicts.
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    xs = x.double().numpy()
    reference = make_pipeline(
        StandardScaler(), LogisticRegression(C=record["C"], max_iter=5000)
    ).fit(xs, y.numpy())
    with torch.no_grad():
        probs = model(x.double().float()).softmax(-1).double().numpy()
    np.testing.assert_allclose(probs, reference.predict_proba(xs), atol=2e-3)
    assert record["train_accuracy_after"] == pytest.approx(
        float((model(x).argmax(-1) == y).float().mean())
    )


def test_refit_of_two_classes_matches_the_binary_regression() -> None:
    x, y = thresholds(120, seed=1)
    y = (y > 0).long()
    model = Toy(4, 2).eval()
    record = refit_head(model, x, y, seed=3)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    reference = make_pipeline(
        StandardScaler(), LogisticRegression(C=record["C"], max_iter=5000)
    ).fit(x.double().numpy(), y.numpy())
    with torch.no_grad():
        probs = model(x).softmax(-1).double().numpy()
    np.testing.assert_allclose(probs, reference.predict_proba(x.double().numpy()), atol=2e-3)


def test_refit_of_an_mlp_head_keeps_the_hidden_layers() -> None:
    x, y = thresholds(150, seed=2)
    model = Toy(4, 3, hidden=8).eval()
    first = model.head[0].weight.detach().clone()
    hidden = head_inputs(model, x)
    assert hidden.shape == (150, 8) and bool((hidden >= 0).all())  # after the ReLU
    record = refit_head(model, x, y)
    assert record["refit"]
    assert torch.equal(model.head[0].weight, first)
    assert record["train_accuracy_after"] >= record["train_accuracy_before"]


def test_refit_keeps_the_trained_head_when_a_class_is_too_small() -> None:
    x, y = thresholds(60, seed=4)
    y[:] = 0
    y[0] = 1  # one member of class 1, none of class 2
    model = Toy(4, 3).eval()
    before = model.head[-1].weight.detach().clone()
    record = refit_head(model, x, y)
    assert not record["refit"] and "fewer than two" in record["reason"]
    assert "[59, 1, 0]" in record["reason"]
    assert torch.equal(model.head[-1].weight, before)


def test_refit_refuses_bad_input() -> None:
    x, y = thresholds(30)
    with pytest.raises(ValueError, match="one class per embedding"):
        refit_head(Toy(4, 3), x, y[:-1])
    with pytest.raises(ValueError, match=r"classes in 0\.\.2"):
        refit_head(Toy(4, 3), x, y + 1)
    with pytest.raises(ValueError, match="nn.Sequential ending in an nn.Linear"):
        refit_head(nn.Linear(4, 3), x, y)
    no_bias = Toy(4, 3)
    no_bias.head[-1] = nn.Linear(4, 3, bias=False)
    with pytest.raises(ValueError, match="with a bias"):
        refit_head(no_bias, x, y)
    nan = x.clone()
    nan[0, 0] = float("nan")
    record = refit_head(Toy(4, 3), nan, y)
    assert not record["refit"] and "non-finite" in record["reason"]


FAST = TrainConfig(epochs=5, lr=0.01, patience=None, monitor="loss", weight_decay=0.0)


def test_glass_refits_its_head_by_default(density_small: SubgraphDataset) -> None:
    config = SubgraphConfig(pool="mean", head_fit="refit")
    assert config.resolved_head_fit() == "refit"
    result = train_subgraph_model(density_small, config, FAST)
    record = result.metrics["head_refit"]
    assert record["refit"] and record["kept"] and record["C"] in REFIT_CS
    assert "val_accuracy_trained" not in record  # "refit" refits without asking validation
    assert result.metrics["train"]["accuracy"] == pytest.approx(record["train_accuracy_after"])
    trained = train_subgraph_model(
        density_small, dataclasses.replace(config, head_fit="trained"), FAST
    )
    assert "head_refit" not in trained.metrics
    assert trained.metrics["train"]["accuracy"] == pytest.approx(record["train_accuracy_before"])


@pytest.mark.parametrize("epochs", [1, 5])
def test_auto_keeps_the_refit_unless_validation_prefers_the_trained_head(
    density_small: SubgraphDataset, epochs: int
) -> None:
    config = SubgraphConfig(pool="mean")
    assert config.head_fit == "auto" and config.resolved_head_fit() == "auto"
    train = dataclasses.replace(FAST, epochs=epochs)
    result = train_subgraph_model(density_small, config, train)
    record = result.metrics["head_refit"]
    before, after = record["val_accuracy_trained"], record["val_accuracy_refit"]
    assert record["kept"] == (after >= before)
    assert result.metrics["val"]["accuracy"] == pytest.approx(max(before, after))
    trained = train_subgraph_model(
        density_small, dataclasses.replace(config, head_fit="trained"), train
    )
    assert trained.metrics["val"]["accuracy"] == pytest.approx(before)
    if not record["kept"]:  # the trained head put back: the same predictions
        assert result.metrics["test"] == trained.metrics["test"]


def test_auto_puts_the_trained_head_back(
    density_small: SubgraphDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refit that loses on validation (here: one that zeroes the head) is undone."""
    import mmgraph.tasks.subgraph as task

    def ruin(model: nn.Module, *args: object, **kwargs: object) -> dict[str, object]:
        with torch.no_grad():
            model.head[-1].weight.zero_()
            model.head[-1].bias.copy_(torch.tensor([0.0, 0.0, 1.0]))
        return {"refit": True, "C": 1.0}

    monkeypatch.setattr(task, "refit_head", ruin)
    config = SubgraphConfig(pool="mean")
    result = train_subgraph_model(density_small, config, FAST)
    trained = train_subgraph_model(
        density_small, dataclasses.replace(config, head_fit="trained"), FAST
    )
    record = result.metrics["head_refit"]
    assert record["val_accuracy_refit"] < record["val_accuracy_trained"] and not record["kept"]
    assert result.metrics["test"] == trained.metrics["test"]


def test_the_refit_reads_no_validation_or_test_labels(density_small: SubgraphDataset) -> None:
    # One input and depth: validation labels choose them under "auto".
    config = SubgraphConfig(pool="mean", head_fit="refit", num_layers=1, node_input="constant")
    shuffled = copy.deepcopy(density_small)
    held = ~density_small.train_mask
    y = shuffled.y.clone()
    y[held] = (y[held] + 1) % density_small.num_classes
    shuffled.y = y
    a = train_subgraph_model(density_small, config, dataclasses.replace(FAST, epochs=1))
    b = train_subgraph_model(shuffled, config, dataclasses.replace(FAST, epochs=1))
    # One epoch, no checkpoint choice: the same network, the same refit.
    assert a.metrics["head_refit"] == b.metrics["head_refit"]
    for ma, mb in zip(a.models, b.models, strict=True):
        assert torch.equal(ma.head[-1].weight, mb.head[-1].weight)


def test_pool_keeps_its_trained_head_unless_asked(molecules: SubgraphDataset) -> None:
    config = SubgraphConfig(method="pool", aggregator="gin", pool="mean", batch_size=4)
    assert config.resolved_head_fit() == "trained"
    plain = train_subgraph_model(molecules, config, FAST)
    assert "head_refit" not in plain.metrics
    refit = train_subgraph_model(molecules, dataclasses.replace(config, head_fit="refit"), FAST)
    records = refit.metrics["head_refit"]
    assert len(records) == len(molecules.folds)  # one per fold, on its training graphs


def test_head_fit_options_are_checked() -> None:
    with pytest.raises(InputError, match="Unknown head fit 'convex'"):
        SubgraphConfig(head_fit="convex")
    with pytest.raises(InputError, match="--head-fit"):
        check_method_options("sub2vec", ["head_fit"])
