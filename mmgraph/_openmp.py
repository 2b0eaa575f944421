"""OpenMP's spin-waiting, shortened before torch loads (imported first by :mod:`mmgraph`).

PyTorch's CPU wheels run their parallel kernels with GNU OpenMP, whose threads spin for
about 300,000 iterations at every barrier before they sleep. With any other process on
one of the cores (a second run, a notebook, a test suite) a spinning thread takes the
core the other work needs, and the small kernels of a GNN wait: on 2 cores a training run
of the default model on 2,000 nodes took 2.0 s alone, 15.0 s beside a busy loop and 16.6 s
beside a second run (``benchmarks/results/threads.md``). Threads that never spin
(``OMP_WAIT_POLICY=PASSIVE``) kept those to 2.8, 3.8 and 2.9 s, but a wake-up at every
barrier tripled the default graph classification of MUTAG alone (20 epochs a fold: 65 s
against 22 s), whose many small kernels each wake a thread. A spin of 10,000 iterations
keeps MUTAG at 23 s and the 2,000 nodes at 2.3 s alone, 6.6 and 5.3 s beside other work.

It is read once, when torch loads libgomp, so it applies when :mod:`mmgraph` is imported
before torch (the ``mmgraph`` command, or ``import mmgraph`` first). A user's own
``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` is kept.
"""

from __future__ import annotations

import os

SPIN_COUNT = "10000"
"""The ``GOMP_SPINCOUNT`` mmgraph sets when the environment sets no waiting policy."""

if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT
