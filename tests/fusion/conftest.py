from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch
from torch import Tensor

IN_CHANNELS = {"text": 4, "image": 3, "numeric": 2}

# Six nodes: all modalities, text only, image + numeric, text + image, nothing, numeric only.
PRESENCE = {
    "text": [True, True, False, True, False, False],
    "image": [True, False, True, True, False, False],
    "numeric": [True, False, True, False, False, True],
}

Inputs = tuple[dict[str, Tensor], dict[str, Tensor]]


def make_inputs(
    in_channels: dict[str, int] = IN_CHANNELS, seed: int = 0, steps: int | None = None
) -> Inputs:
    gen = torch.Generator().manual_seed(seed)
    n = len(next(iter(PRESENCE.values())))
    shape = (n,) if steps is None else (n, steps)
    xs = {m: torch.randn(*shape, d, generator=gen) for m, d in in_channels.items()}
    masks = {m: torch.tensor(PRESENCE[m]) for m in in_channels}
    return xs, masks


@pytest.fixture
def inputs() -> Callable[..., Inputs]:
    return make_inputs


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    # These heads are tiny: extra intra-op threads only add contention on a shared machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
