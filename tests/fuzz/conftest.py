"""Fuzz tests: put this folder on ``sys.path`` so that the test files share ``fuzzkit``.

The tests run with ``--import-mode=importlib``, under which a test file cannot import a
module beside it; conftest files load before the test files, so adding the folder here
lets them write ``import fuzzkit``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
