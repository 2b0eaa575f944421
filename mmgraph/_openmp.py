"""OpenMP's spin-waiting, turned off before torch loads (imported first by :mod:`mmgraph`).

PyTorch's CPU wheels run their parallel kernels with GNU OpenMP, whose threads spin for
about 300,000 iterations at every barrier before they sleep. With any other process on
one of the cores (a second run, a notebook, a test suite) a spinning thread takes the
core the other work needs, and the small kernels of a GNN wait: on 2 cores a training run
of the default model on 2,000 nodes took 1.4 s alone, 4.9 s beside a busy loop and 21.9 s
beside a second run; with ``OMP_WAIT_POLICY=PASSIVE`` (threads sleep at once) 2.1, 3.1
and 3.0 s (``benchmarks/results/threads.md``). A short spin (``GOMP_SPINCOUNT=1000``) did
as well; the wait policy is the standard OpenMP variable, which other runtimes read too.

It is read once, when torch loads libgomp, so it applies when :mod:`mmgraph` is imported
before torch (the ``mmgraph`` command, or ``import mmgraph`` first). A user's own
``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` is kept.
"""

from __future__ import annotations

import os

WAIT_POLICY = "PASSIVE"
"""The ``OMP_WAIT_POLICY`` mmgraph sets when the environment sets no waiting policy."""

if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = WAIT_POLICY
