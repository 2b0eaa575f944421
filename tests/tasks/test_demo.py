"""`mmgraph demo` (the README's main command) on a small graph with TF-IDF text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mmgraph.cli import main
from mmgraph.tasks.demo import COLUMNS, DEMO_SETTINGS, run_demo


def test_run_demo_trains_every_setting(tmp_path: Path) -> None:
    echoed: list[str] = []
    seen: list[dict] = []
    result = run_demo(
        num_nodes=120,
        text_encoder="tfidf",
        image_size=8,
        epochs=3,
        out=tmp_path,
        progress=False,
        echo=echoed.append,
        on_row=seen.append,
    )
    assert [row["setting"] for row in result.rows] == [s[0] for s in DEMO_SETTINGS]
    assert seen == result.rows
    for row in result.rows:
        assert set(row) == set(COLUMNS)
        for key in ("accuracy", "macro_f1", "f1", "roc_auc"):
            assert 0.0 <= row[key] <= 1.0
        assert 1 <= row["epochs"] <= 3
    assert "nodes" in echoed[0] and echoed[1].startswith("encoded features: text [120,")
    # Each row is a run folder whose config is the row's setting.
    lowrank = tmp_path / "all_modalities-mean-low-rank_fusion"
    assert (lowrank / "config.yaml").read_text().count("lowrank") >= 1
    # trained as `mmgraph train` trains: Adam with the weight decay as an L2 term
    assert yaml.safe_load((lowrank / "config.yaml").read_text())["train"]["optimizer"] == "adam"
    only_text = json.loads((tmp_path / "text_only-gcn" / "metrics.json").read_text())
    assert set(only_text) >= {"val", "test"}
    assert "| setting |" in result.markdown() and len(result.table().splitlines()) == 9


def test_cli_demo_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        ["demo", "--nodes", "100", "--text-encoder", "tfidf", "--image-size", "8"]
        + ["--epochs", "2", "--quiet", "--out", str(tmp_path)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    for name, *_ in DEMO_SETTINGS:
        assert name in printed


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--image-size", "64"], "reads at most 32x32 pixels, so --image-size 64 would change"),
        (["--overwrite"], "--overwrite replaces the runs and table of an --out folder"),
    ],
)
def test_demo_refuses_flags_that_would_change_nothing(
    flags: list[str], message: str, capsys: pytest.CaptureFixture
) -> None:
    assert main(["demo", "--nodes", "50", *flags]) == 2
    assert message in capsys.readouterr().err
