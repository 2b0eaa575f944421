"""OpenMP's spin-waiting, capped before torch loads (imported first by :mod:`mmgraph`).

PyTorch's CPU wheels run their parallel kernels with GNU OpenMP, whose threads spin for
about 300,000 iterations at every barrier before they sleep. With any other process on
one of the cores, a spinning thread takes the core the other work needs, and the small
kernels of a GNN wait: epochs of ``mmgraph train`` on 2 cores became 9-18 times slower
beside one busy process (``benchmarks/results/threads.md``). A spin count of 1,000, the
one libgomp itself uses once it sees more threads than cores, keeps the threads' speed
alone and loses little beside other work.

It is read once, when torch loads libgomp, so it applies when :mod:`mmgraph` is imported
before torch (the ``mmgraph`` command, or ``import mmgraph`` first). A user's own
``GOMP_SPINCOUNT`` or ``OMP_WAIT_POLICY`` is kept.
"""

from __future__ import annotations

import os

SPIN_COUNT = "1000"
"""The ``GOMP_SPINCOUNT`` mmgraph sets when the environment sets no waiting policy."""

if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
    os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT
