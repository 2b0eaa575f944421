"""One ``aggregator`` and one ``norm`` option for GLASS and the pooling GNN; ``aggr`` still read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mmgraph.cli import main
from mmgraph.data import SubgraphDataset
from mmgraph.errors import InputError
from mmgraph.subgraph import GLASS, PoolGNN
from mmgraph.tasks.subgraph import SubgraphConfig, build_subgraph_model, norm_train_config
from mmgraph.train import TrainConfig
from mmgraph.tune.options import options_from_run_config, subgraph_run


def test_auto_is_each_methods_default(density_small: SubgraphDataset) -> None:
    glass = build_subgraph_model(density_small, SubgraphConfig(pool="mean"))
    assert isinstance(glass, GLASS) and glass.convs[0].aggregator == "sum"
    pool = build_subgraph_model(density_small, SubgraphConfig(method="pool", pool="mean"))
    assert isinstance(pool, PoolGNN) and type(pool.gnn.convs[0]).__name__ == "MeanConv"
    chosen = SubgraphConfig(method="pool", aggregator="gcn", pool="mean")
    assert type(build_subgraph_model(density_small, chosen).gnn.convs[0]).__name__ == "GCNConv"


def test_each_method_refuses_the_others_aggregators() -> None:
    with pytest.raises(InputError, match=r"'ggnn' for the 'glass' method.*'sum', 'mean', 'gcn'"):
        SubgraphConfig(aggregator="ggnn")
    with pytest.raises(InputError, match=r"'sum' for the 'pool' method.*'gin'"):
        SubgraphConfig(method="pool", aggregator="sum")
    SubgraphConfig(method="sub2vec", aggregator="sum")  # sub2vec has no aggregator


def test_a_config_saved_with_aggr_loads_as_it_ran() -> None:
    old_glass = {"method": "glass", "aggr": "gcn", "aggregator": "mean"}
    assert SubgraphConfig.from_dict(old_glass).aggregator == "gcn"  # GLASS read `aggr`
    old_pool = {"method": "pool", "aggr": "sum", "aggregator": "gin"}
    assert SubgraphConfig.from_dict(old_pool).aggregator == "gin"  # pool never read `aggr`
    assert SubgraphConfig.from_dict({"aggr": "mean"}).aggregator == "mean"  # glass: default
    run = {"subgraph": old_glass, "train": {"epochs": 3}, "data": {"data": "density"}}
    assert options_from_run_config(run)["aggregator"] == "gcn"
    assert subgraph_run({"aggr": "mean"}).config.aggregator == "mean"
    assert subgraph_run({"method": "pool", "aggr": "mean"}).config.aggregator == "auto"


def test_the_cli_reads_aggr_as_aggregator(tmp_path: Path) -> None:
    folder = tmp_path / "density"
    assert (
        main(
            ["subgraph", "generate", "--task", "density", "--nodes", "120"]
            + ["--subgraphs", "24", "--seed", "0", "--out", str(folder)]
        )
        == 0
    )
    configs = {}
    for flag in ("--aggr", "--aggregator"):
        out = tmp_path / flag.strip("-")
        code = main(
            ["subgraph", "train", "--data", str(folder), flag, "mean", "--hidden", "4"]
            + ["--epochs", "1", "--pool", "mean", "--quiet", "--out", str(out)]
        )
        assert code == 0
        configs[flag] = yaml.safe_load((out / "config.yaml").read_text())["subgraph"]
    assert configs["--aggr"] == configs["--aggregator"]
    assert configs["--aggr"]["aggregator"] == "mean" and "aggr" not in configs["--aggr"]


def test_norm_option_reaches_both_models(
    density_small: SubgraphDataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``norm``: the config builds GLASS and the pooling GNN with or without batch norms,
    the CLI records it in config.yaml, and ``--config`` reads it back."""
    from torch import nn

    from mmgraph.subgraph import SUBGRAPH_NORMS
    from mmgraph.tune.options import CHOICES

    assert CHOICES["subgraph"]["norm"] == SUBGRAPH_NORMS
    for method in ("glass", "pool"):
        for norm, count in (("batch", 1), ("frozen", 1), ("none", 0)):
            model = build_subgraph_model(
                density_small, SubgraphConfig(method=method, pool="mean", norm=norm)
            )
            found = sum(isinstance(m, nn.BatchNorm1d) for m in model.modules())
            assert (found > 0) == bool(count), (method, norm)
    with pytest.raises(InputError, match="Unknown norm 'layer'.*'batch', 'frozen', 'none'"):
        SubgraphConfig(norm="layer")
    # frozen: the statistics freeze after the first quarter of the epochs, unless set
    train = TrainConfig(epochs=100)
    assert norm_train_config(SubgraphConfig(norm="frozen"), train).freeze_norm_epoch == 26
    assert norm_train_config(SubgraphConfig(norm="batch"), train) is train
    assert norm_train_config(SubgraphConfig(norm="none"), train) is train
    given = TrainConfig(epochs=100, freeze_norm_epoch=5)
    assert norm_train_config(SubgraphConfig(norm="frozen"), given) is given
    with pytest.raises(InputError, match="split_messages.*'pool' method"):
        SubgraphConfig(method="pool", split_messages=True)
    folder = tmp_path / "density"
    generate = ["subgraph", "generate", "--task", "density", "--nodes", "120"]
    assert main([*generate, "--subgraphs", "24", "--seed", "0", "--out", str(folder)]) == 0
    base = ["subgraph", "train", "--data", str(folder), "--hidden", "4", "--epochs", "1"]
    out = tmp_path / "none"
    assert main([*base, "--pool", "mean", "--norm", "none", "--quiet", "--out", str(out)]) == 0
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["subgraph"]["norm"] == "none"
    assert options_from_run_config(saved)["norm"] == "none"
    again = tmp_path / "again"
    assert main([*base, "--config", str(out / "config.yaml"), "--quiet", "--out", str(again)]) == 0
    assert yaml.safe_load((again / "config.yaml").read_text())["subgraph"]["norm"] == "none"
    bad = tmp_path / "bad.yaml"
    bad.write_text("norm: layer\n")
    assert main([*base, "--config", str(bad), "--quiet", "--out", str(tmp_path / "bad")]) != 0
    assert "'norm'" in capsys.readouterr().err and not (tmp_path / "bad").exists()
