"""``python -m mmgraph`` (and ``torchrun -m mmgraph``) runs the command line."""

from __future__ import annotations

import sys

from mmgraph.cli import main

sys.exit(main())
