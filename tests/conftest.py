"""Test-wide settings: offline Hugging Face, the shared data folder, seeds."""

from __future__ import annotations

import os
from pathlib import Path

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


# Tests use tiny models, for which one thread is fastest; it also keeps parallel runs on a
# small machine from oversubscribing its cores.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(12345)
