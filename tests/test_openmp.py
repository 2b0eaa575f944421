"""``import mmgraph`` makes OpenMP threads sleep unless the user chose a waiting policy."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

VARIABLES = ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")


def _policy_after_import(**env: str) -> tuple[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    code = (
        "import os, mmgraph, torch; "
        "print(os.environ.get('OMP_WAIT_POLICY', '-'), os.environ.get('GOMP_SPINCOUNT', '-'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    policy, spins = out.stdout.split()
    return policy, spins


def test_the_spin_count_is_set_before_torch_loads() -> None:
    from mmgraph._openmp import SPIN_COUNT

    assert _policy_after_import() == ("-", SPIN_COUNT) == ("-", "10000")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GOMP_SPINCOUNT": "300000"}, ("-", "300000")),
        ({"OMP_WAIT_POLICY": "ACTIVE"}, ("ACTIVE", "-")),
    ],
)
def test_a_users_waiting_policy_is_kept(env: dict[str, str], expected: tuple[str, str]) -> None:
    assert _policy_after_import(**env) == expected
