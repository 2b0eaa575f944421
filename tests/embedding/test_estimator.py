"""The estimator contract every unsupervised embedding estimator keeps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch_geometric.data import Data

from mmgraph.data import MultimodalGraph, SubgraphDataset, make_undirected
from mmgraph.embedding import Estimator, Node2Vec, NotFittedError
from mmgraph.subgraph.sub2vec import Sub2Vec


def ring(n: int = 12) -> Data:
    edge_index, _, _ = make_undirected(torch.stack([torch.arange(n), (torch.arange(n) + 1) % n]), n)
    return Data(edge_index=edge_index, num_nodes=n)


def ring_subgraphs() -> SubgraphDataset:
    graph = ring()
    sets = [[0, 1, 2], [3, 4, 5, 6], [7, 8], [9, 10, 11]]
    return SubgraphDataset.from_lists(
        MultimodalGraph(graph.edge_index, num_nodes=12), sets, ["a", "b", "a", "b"]
    )


# (estimator factory, data, rows of the embedding)
CASES: dict[str, tuple[Callable[..., Estimator], Callable[[], Any], int]] = {
    "node2vec": (
        lambda **kw: Node2Vec(embedding_dim=4, walk_length=4, context_size=3, **kw),
        ring,
        12,
    ),
    "sub2vec": (
        lambda **kw: Sub2Vec(**{"embedding_dim": 4, "walk_length": 3, "epochs": 2, **kw}),
        ring_subgraphs,
        4,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fit_returns_self_and_get_embedding_a_copy(name: str) -> None:
    make, data, rows = CASES[name]
    estimator = make(seed=0)
    assert isinstance(estimator, Estimator)
    with pytest.raises(NotFittedError, match=r"Call `fit\(.*\)` before `get_embedding\(\)`"):
        estimator.get_embedding()
    assert estimator.model_ is None and estimator.history_ == []
    assert estimator.fit(data()) is estimator
    emb = estimator.get_embedding()
    assert emb.shape == (rows, 4) and not emb.requires_grad and torch.isfinite(emb).all()
    emb.zero_()
    assert estimator.get_embedding().abs().sum() > 0
    assert len(estimator.history_) == estimator.epochs


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_seed_decides_the_embedding(name: str) -> None:
    make, data, _ = CASES[name]
    a = make(seed=3).fit(data()).get_embedding()
    b = make(seed=3).fit(data()).get_embedding()
    c = make(seed=4).fit(data()).get_embedding()
    assert torch.equal(a, b) and not torch.equal(a, c)
    # Refitting starts over.
    again = make(seed=3)
    again.fit(data())
    assert torch.equal(again.fit(data()).get_embedding(), a)


@pytest.mark.parametrize("name", sorted(CASES))
def test_get_params_round_trips(name: str) -> None:
    make, _, _ = CASES[name]
    estimator = make(seed=5, lr=0.2)
    params = estimator.get_params()
    assert params["seed"] == 5 and params["lr"] == 0.2 and params["embedding_dim"] == 4
    assert params["trainer_options"] is None
    twin = type(estimator)(**params)
    assert twin.get_params() == params and repr(twin) == repr(estimator)


@pytest.mark.parametrize("name", sorted(CASES))
def test_scikit_learn_clone_and_set_params(name: str) -> None:
    from sklearn.base import clone

    make, data, _ = CASES[name]
    estimator = make(seed=5, lr=0.2)
    twin = clone(estimator)
    assert twin is not estimator and twin.get_params(deep=False) == estimator.get_params()
    fitted = make(seed=5).fit(data())
    assert fitted.set_params(seed=6, lr=0.3) is fitted
    assert fitted.seed == 6 and fitted.lr == 0.3 and fitted.model_ is not None
    with pytest.raises(ValueError, match=r"Unknown hyperparameter \['sed'\] .*valid ones"):
        fitted.set_params(sed=1)
    with pytest.raises(ValueError, match="'epochs' to be an int >= 1"):
        fitted.set_params(epochs=0)
    assert fitted.epochs == make().epochs  # a refused value is not kept


@pytest.mark.parametrize("name", sorted(CASES))
def test_trainer_options(name: str) -> None:
    make, _, _ = CASES[name]
    config = make(trainer_options={"lr_step_size": 2, "patience": 3}).train_config()
    assert config.optimizer == "sparse_adam" and config.lr_step_size == 2
    assert config.patience == 3 and config.weight_decay == 0.0
    default = make().train_config()
    assert default.patience is None and default.class_weights is False
    with pytest.raises(ValueError, match=r"Found \['epochs', 'optimizer'\] in 'trainer_options'"):
        make(trainer_options={"epochs": 3, "optimizer": "adam"})
    with pytest.raises(ValueError, match=r"Found \['speed'\] in 'trainer_options', which would"):
        make(trainer_options={"speed": 1})
    # settings that did nothing (the walks make the batches; SparseAdam has no decay) or
    # failed inside torch (clipping sparse gradients)
    for key, value, why in [
        ("batch_size", 4, "pass batch_size to the estimator itself"),
        ("fanouts", [5], "walks make the batches"),
        ("weight_decay", 0.5, "SparseAdam, which trains the sparse tables, has no weight decay"),
        ("grad_clip", 1.0, "sparse gradients are not clipped"),
        ("class_weights", True, r"the settings it reads are \['patience'"),
    ]:
        with pytest.raises(ValueError, match=why):
            make(trainer_options={key: value})
    with pytest.raises(ValueError, match="'epochs' to be an int >= 1"):
        make(epochs=0)
    with pytest.raises(TypeError, match="'seed' to be an int"):
        make(seed="0")


def test_numpy_numbers_from_a_parameter_grid_fit_as_python_ones() -> None:
    """scikit-learn's ParameterGrid hands out NumPy scalars; they were refused as not ints."""
    import numpy as np
    from sklearn.base import clone
    from sklearn.model_selection import ParameterGrid

    grid = ParameterGrid({"walk_length": np.array([5]), "p": np.array([0.5]), "seed": [3]})
    params = next(iter(grid))
    params["seed"] = np.int64(params["seed"])
    model = clone(Node2Vec(embedding_dim=4, context_size=3)).set_params(**params)
    got = model.fit(ring()).get_embedding()
    plain = Node2Vec(embedding_dim=4, context_size=3, walk_length=5, p=0.5, seed=3)
    assert torch.equal(got, plain.fit(ring()).get_embedding())
