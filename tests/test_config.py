"""ConfigBase.from_dict: unknown keys and text where a number belongs name the key."""

from __future__ import annotations

import numpy as np
import pytest

from mmgraph.models.config import ModelConfig
from mmgraph.tasks.node_classification import DataSpec
from mmgraph.train.config import TrainConfig


@pytest.mark.parametrize(
    ("cls", "key", "value"),
    [
        (ModelConfig, "dropout", "lots"),
        (ModelConfig, "hidden", [64]),
        (TrainConfig, "patience", "ten"),
        (TrainConfig, "lr", {"value": 0.01}),
        (DataSpec, "split_seed", "7"),
    ],
)
def test_text_where_a_number_belongs_names_the_key(cls: type, key: str, value: object) -> None:
    values = {"source": "cora"} if cls is DataSpec else {}
    with pytest.raises(ValueError, match=rf"{cls.__name__} key '{key}' is .*not a number"):
        cls.from_dict({**values, key: value})


def test_numbers_of_any_kind_and_none_pass() -> None:
    config = TrainConfig.from_dict(
        {"lr": np.float64(0.01), "epochs": np.int64(3), "patience": None}
    )
    assert (config.lr, config.epochs, config.patience) == (0.01, 3, None)
    assert ModelConfig.from_dict({"dropout": 0, "hidden": 16}).dropout == 0
    assert TrainConfig.from_dict({"monitor": "val_loss"}).monitor == "val_loss"  # text fields


def test_unknown_keys_list_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"Unknown TrainConfig keys \['epoch'\].*'epochs'"):
        TrainConfig.from_dict({"epoch": 3})
