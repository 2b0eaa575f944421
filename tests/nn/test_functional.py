"""mmgraph.nn.functional.dropout against its contract (and torch's dropout)."""

from __future__ import annotations

import pytest
import torch

from mmgraph.nn.functional import dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keeps_the_expected_fraction_and_scales_exactly(p: float) -> None:
    torch.manual_seed(0)
    x = torch.ones(400, 500)
    out = dropout(x, p)
    kept = out != 0
    n = x.numel()
    # Binomial: the kept fraction within 5 standard deviations of 1 - p.
    assert abs(kept.float().mean().item() - (1 - p)) < 5 * ((p * (1 - p) / n) ** 0.5)
    levels = 1 << 16
    scale = levels / (levels - round(p * levels))
    assert torch.allclose(out[kept], torch.full_like(out[kept], scale))
    assert abs(scale * (1 - p) - 1) < 1e-4  # unbiased up to the 2^-16 rounding of p


def test_every_16_bit_slot_is_uniform() -> None:
    # The mask takes four 16-bit pieces of each 64-bit draw: each piece must be fair.
    torch.manual_seed(1)
    kept = dropout(torch.ones(200_000, 4), 0.5) != 0
    for column in kept.float().mean(0).tolist():
        assert abs(column - 0.5) < 5 * (0.25 / 200_000) ** 0.5


def test_gradient_is_the_same_mask_times_the_scale() -> None:
    torch.manual_seed(2)
    x = torch.randn(64, 32, requires_grad=True)
    out = dropout(x, 0.3)
    upstream = torch.randn_like(out)
    out.backward(upstream)
    assert x.grad is not None
    ratio = out.detach() / x.detach()
    kept = out.detach() != 0
    torch.testing.assert_close(x.grad, upstream * kept * ratio[kept][0])
    assert torch.allclose(ratio[kept], ratio[kept][0].expand(int(kept.sum())))

    def same_mask(t: torch.Tensor) -> torch.Tensor:
        torch.manual_seed(3)  # the same mask at every call gradcheck makes
        return dropout(t, 0.5)

    assert torch.autograd.gradcheck(
        same_mask, (torch.randn(5, 4, dtype=torch.double, requires_grad=True),)
    )


def test_identity_cases_and_reproducibility() -> None:
    x = torch.randn(10, 3)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    assert torch.equal(dropout(x, 1.0), torch.zeros_like(x))
    torch.manual_seed(4)
    a = dropout(x, 0.5)
    torch.manual_seed(4)
    assert torch.equal(a, dropout(x, 0.5))
    with pytest.raises(ValueError, match=r"'p' in \[0, 1\] \(got 1.5\)"):
        dropout(x, 1.5)


def test_building_csr_tensors_keeps_pythons_memory_of_shown_warnings() -> None:
    """Only the first CSR built enters catch_warnings: later ones leave "once" intact."""
    import warnings

    from mmgraph.nn.functional import unchecked_csr

    crow, col, values = torch.tensor([0, 1, 2]), torch.tensor([0, 1]), torch.ones(2)
    unchecked_csr(crow, col, values, (2, 2))  # the first: its beta notice silenced
    shown = []
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = lambda message, *rest, **more: shown.append(str(message))
        for _ in range(3):  # one place, one text: Python shows it once
            warnings.warn("a data warning", UserWarning, stacklevel=1)
            unchecked_csr(crow, col, values, (2, 2))
    assert shown == ["a data warning"]
