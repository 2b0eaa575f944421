"""Test-wide settings: offline Hugging Face, the shared data folder, seeds."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MMGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only folder of reference data sets beside the project (``../shared/data``)."""
    if not SHARED_DATA.is_dir():
        raise FileNotFoundError(
            f"Shared data folder not found at {SHARED_DATA}; set MMGRAPH_SHARED_DATA to its path"
        )
    return SHARED_DATA


def load_benchmark_script(name: str) -> ModuleType:
    """``benchmarks/NAME.py`` imported by path, as ``_bench_NAME`` (a fresh module each call).

    Registered in ``sys.modules`` first, so that its dataclasses resolve their annotations.
    """
    spec = importlib.util.spec_from_file_location(
        f"_bench_{name}", ROOT / "benchmarks" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_benchmark() -> Callable[[str], ModuleType]:
    """:func:`load_benchmark_script`: a benchmark script imported by path."""
    return load_benchmark_script


# Tests use tiny models, for which one thread is fastest; it also keeps parallel runs on a
# small machine from oversubscribing its cores.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(12345)


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Features and fitted encoders go to a cache of this test session, never the user's."""
    cache = tmp_path_factory.mktemp("mmgraph-cache")
    previous = os.environ.get("MMGRAPH_CACHE")
    os.environ["MMGRAPH_CACHE"] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop("MMGRAPH_CACHE", None)
    else:
        os.environ["MMGRAPH_CACHE"] = previous


@pytest.fixture
def heartbeat_lines(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], list[str]]:
    """A heartbeat line at every beat, its clock started; call it for the lines so far.

    Each line without its time (``"texts encoded 3 of 5"``).
    """
    import logging

    from mmgraph import heartbeat

    monkeypatch.setattr(heartbeat, "INTERVAL", 0.0)
    monkeypatch.setattr(heartbeat, "_clock", {})
    monkeypatch.setattr(heartbeat, "_loops", {})
    caplog.set_level(logging.INFO, logger=heartbeat.__name__)
    heartbeat.start()
    name = heartbeat.__name__
    return lambda: [r.getMessage().split(": ", 1)[1] for r in caplog.records if r.name == name]


@pytest.fixture
def later_trials_score_higher(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each trial of a node search scores 0.1 more than the one before: the last is best.

    So that a short search's best trial is not the defaults' and the confirmation runs.
    """
    from mmgraph.tune import searches

    trial = searches.NodeSearch.trial
    calls = [0]

    def rising(self, options, report):  # noqa: ANN001, ANN202
        calls[0] += 1
        return trial(self, options, report) * 0.01 + 0.1 * calls[0]

    monkeypatch.setattr(searches.NodeSearch, "trial", rising)
