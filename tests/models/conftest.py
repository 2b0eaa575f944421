"""A private feature cache for the model tests (featurize's default image encoder caches)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never write features or encoder weights to the user's cache."""
    cache = tmp_path / "default-cache"
    monkeypatch.setenv("MMGRAPH_CACHE", str(cache))
    return cache
