"""benchmarks/defaults.py: what its tables say `tune` kept."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

from mmgraph.tune.options import OPTIONS, WHOLE_GRAPH_DEFAULTS


@pytest.fixture(scope="module")
def bench(load_benchmark: Callable[[str], ModuleType]) -> ModuleType:
    return load_benchmark("defaults")


def test_the_table_says_what_tune_kept(bench: ModuleType) -> None:
    node = {k: OPTIONS["node"][k] for k in ("hidden", "lr", "dropout")}
    confirmed = {"kept": "defaults", "gain": -0.01, "standard_error": 0.005}
    assert bench._kept({"data": "cora", "best_params": node, "confirmation": confirmed}) == (
        ", defaults kept"
    )
    best = {"data": "cora", "best_params": node, "confirmation": {**confirmed, "kept": "best"}}
    assert bench._kept(best) == ", best kept"
    # no confirmation: the defaults' own trial won (read from the parameters), or unknown
    assert bench._kept({"data": "texas", "best_params": node}) == ", the defaults' trial best"
    assert bench._kept({"data": "texas", "best_params": {**node, "hidden": 8}}) == ""
    whole = {"layers": WHOLE_GRAPH_DEFAULTS["layers"], "hidden": WHOLE_GRAPH_DEFAULTS["hidden"]}
    assert bench._kept({"data": "mutag", "best_params": whole}) == ", the defaults' trial best"
    subgraph = {"layers": OPTIONS["subgraph"]["layers"]}
    assert bench._kept({"data": "density", "best_params": subgraph}) == ", the defaults' trial best"
