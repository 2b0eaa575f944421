"""A node search on data without a split of its own: the five splits `train --seeds` draws."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml

from mmgraph.cli import main
from mmgraph.data import save_card
from mmgraph.data.synthetic import make_social_graph
from mmgraph.tasks import DataSpec, load_graph
from mmgraph.tune import searches, tune
from mmgraph.tune.study import confirm_best, default_seeds

OPTIONS = {"text_encoder": "hashing", "image_encoder": "none", "image_size": 8, "epochs": 3,
           "hidden": 8, "modality_dim": 8}  # fmt: skip

SPACE = """
text_encoder: hashing
image_encoder: none
image_size: 8
epochs: 3
modality_dim: 8
hidden: {low: 4, high: 16, log: true}
"""


@pytest.fixture(scope="module")
def unsplit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A labelled card without a split: `mmgraph train --seeds` draws one per seed."""
    graph = make_social_graph(60, seed=5, image_size=8)
    for key in ("train_mask", "val_mask", "test_mask"):
        del graph[key]
    return save_card(graph, tmp_path_factory.mktemp("d") / "unsplit")


def test_the_search_splits_are_those_of_seeds_0_to_4(unsplit: Path) -> None:
    search = searches.NodeSearch(str(unsplit))
    assert search.folds == searches.SEARCH_SPLITS == 5 and len(search.split_data) == 5
    assert default_seeds(search) == 5  # the final seeds test the five splits
    full = load_graph(DataSpec(str(unsplit)), need_labels=True)
    for k, data in enumerate(search.split_data):
        drawn = load_graph(DataSpec(str(unsplit), split_seed=k), need_labels=True)
        assert torch.equal(data.train_mask, drawn.train_mask)
        assert torch.equal(data.val_mask, drawn.val_mask)
        # the split's test nodes are unlabelled; no test mask is left
        assert bool((data.y[drawn.test_mask] == -1).all()) and not bool(data.test_mask.any())
        assert torch.equal(data.y[~drawn.test_mask], full.y[~drawn.test_mask])
    masks = {tuple(d.val_mask.tolist()) for d in search.split_data}
    assert len(masks) == 5  # five different splits
    assert "mean over the 5 drawn splits of seeds 0-4" in search.criterion({})
    search.scored_folds = 2
    assert "the first 2 of the 5 drawn splits (seeds 0-1; as many" in search.criterion({})


def test_a_data_set_with_its_own_split_keeps_one(tmp_path: Path) -> None:
    card = save_card(make_social_graph(60, seed=5, image_size=8), tmp_path / "split")
    search = searches.NodeSearch(str(card))
    assert search.folds == 1 and "drawn" not in search.criterion({})


def test_a_trial_trains_every_split_and_reports_their_running_mean(unsplit: Path) -> None:
    search = searches.NodeSearch(str(unsplit))
    reports: list[tuple[int, float]] = []
    scores = search.trial_scores(OPTIONS, lambda step, value: reports.append((step, value)))
    assert len(scores) == 5 and all(0.0 <= s <= 1.0 for s in scores)
    assert [step for step, _ in reports] == [0, 1, 2, 3, 4]  # one report per split
    assert [value for _, value in reports] == pytest.approx(
        [float(np.mean(scores[: k + 1])) for k in range(5)]
    )
    assert search.trial(OPTIONS, lambda s, v: None) == pytest.approx(float(np.mean(scores)))
    correct = search.val_outcomes(OPTIONS, lambda s, v: None)
    assert [c.shape[0] for c in correct] == [int(d.val_mask.sum()) for d in search.split_data]
    assert [float(c.mean()) for c in correct] == pytest.approx(scores)
    # a budget that fits fewer splits: every trial trains the first ones only
    search.scored_folds = 2
    assert search.trial_scores(OPTIONS, lambda s, v: None) == pytest.approx(scores[:2])


class _SplitOutcomes:
    """Per split, 20 validation nodes: the best gets ``gain[k]`` more of split k's right."""

    def __init__(self, gain: list[int]) -> None:
        self.gain = gain
        self.runs: list[tuple[float, int]] = []

    def val_outcomes(
        self, options: dict[str, Any], report: Callable[[int, float], None]
    ) -> list[np.ndarray]:
        self.runs.append((options["x"], options["seed"]))
        out = []
        for extra in self.gain:
            correct = np.zeros(20)
            correct[: 10 + (extra if options["x"] > 0.5 else 0)] = 1.0
            out.append(correct)
        return out


def test_the_confirmation_pairs_the_splits_and_counts_their_nodes_together() -> None:
    from mmgraph.tune.space import Param, Space

    space = Space(params={"x": Param("x", "float", low=0.0, high=1.0)}, fixed={})
    search = _SplitOutcomes([2, 2, 2, 2, 2])
    record = confirm_best(search, space, {"x": 0.7}, {"x": 0.5}, [1])
    assert search.runs == [(0.7, 1), (0.5, 1)]  # one seed: a score per split
    assert record["best"] == [0.6] * 5 and record["defaults"] == [0.5] * 5
    # the nodes' standard error counts the 100 validation nodes of the five splits
    diff = np.tile(np.r_[np.zeros(10), np.ones(2), np.zeros(8)], 5)
    assert record["item_standard_error"] == pytest.approx(diff.std(ddof=1) / 100**0.5)
    assert record["kept"] == "best"
    # a gain on one split alone is within the splits' noise
    lucky = _SplitOutcomes([6, 0, 0, 0, -1])
    assert confirm_best(lucky, space, {"x": 0.7}, {"x": 0.5}, [1])["kept"] == "defaults"


def test_tune_tests_the_splits_it_searched_and_never_their_test_nodes(
    unsplit: Path, tmp_path: Path, evaluations: list
) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    splits = [load_graph(DataSpec(str(unsplit), split_seed=k), need_labels=True) for k in range(5)]
    out = tmp_path / "tuned"
    result = tune(str(unsplit), trials=2, seeds=2, space=space, out=out, progress=False)
    searched = set()
    for e in evaluations:
        if e.phase != "search":
            continue
        [k] = [k for k, g in enumerate(splits) if torch.equal(g.train_mask, e.train_mask)]
        searched.add(k)
        assert not bool((e.labelled & splits[k].test_mask).any())  # no test label of its split
    assert searched == {0, 1, 2, 3, 4}
    # the final seeds 0 and 1 test the splits of seeds 0 and 1, as `train --seeds 0 1` does
    for seed in (0, 1):
        config = yaml.safe_load((out / "runs" / f"seed-{seed}" / "config.yaml").read_text())
        assert config["data"]["split_seed"] == seed
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert "split_seed" not in best and best["seeds"] == [0, 1]
    assert "mean over the 5 drawn splits" in result.criterion
    again = tmp_path / "again"
    assert main(["train", "--config", str(out / "best.yaml"), "--out", str(again), "--quiet"]) == 0
    assert json.loads((again / "metrics.json").read_text()) == result.metrics


def test_a_study_of_another_fold_count_is_not_resumed(unsplit: Path, tmp_path: Path) -> None:
    """Trial values over five splits and over one do not compare: such a study is refused."""
    import optuna

    from mmgraph.errors import InputError

    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = tune(str(unsplit), trials=1, seeds=1, space=space, out=tmp_path / "a",
                 storage=url, progress=False)  # fmt: skip
    study = optuna.load_study(study_name=first.study_name, storage=url)
    assert study.user_attrs["folds"] == 5
    study.set_user_attr("folds", 1)  # as a search on one split left it
    with pytest.raises(InputError, match=r"searched with other \['folds'\]"):
        tune(str(unsplit), trials=2, seeds=1, space=space, out=tmp_path / "b", storage=url,
             progress=False)  # fmt: skip
