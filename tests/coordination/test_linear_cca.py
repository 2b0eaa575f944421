"""LinearCCA against the closed form, an independent whitening, and scikit-learn's CCA."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmgraph.coordination import LinearCCA, canonical_correlations
from mmgraph.errors import InputError


def views(n: int = 40, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two views sharing two latent signals, with noise: ``a`` 3-d, ``b`` 4-d."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 2, generator=gen)
    a = z @ torch.randn(2, 3, generator=gen) + 0.5 * torch.randn(n, 3, generator=gen)
    b = z @ torch.randn(2, 4, generator=gen) + 0.8 * torch.randn(n, 4, generator=gen)
    return a + 3.0, b - 1.0


def covariance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x, y = x - x.mean(0), y - y.mean(0)
    return x.T @ y / (x.size(0) - 1)


def test_mapped_views_are_white_and_correlate_axis_by_axis() -> None:
    a, b = views()
    cca = LinearCCA(reg=0.0).fit(a, b)
    fa, fb = cca.transform(a, b)
    assert fa.shape == fb.shape == (40, 3) and fa.dtype == torch.float64
    eye = torch.eye(3, dtype=torch.float64)
    assert torch.allclose(covariance(fa, fa), eye, atol=1e-5)  # unit variance, uncorrelated
    assert torch.allclose(covariance(fb, fb), eye, atol=1e-5)
    rho = cca.correlations_
    assert rho is not None
    assert torch.allclose(covariance(fa, fb), torch.diag(rho), atol=1e-5)
    assert bool((rho[:-1] >= rho[1:]).all())
    expected = canonical_correlations(a.double(), b.double(), reg=0.0)
    assert torch.allclose(rho, expected, atol=1e-8)


def test_equals_symmetric_whitening_up_to_axis_signs() -> None:
    """Our Cholesky whitening against Sigma^{-1/2} from an eigendecomposition (NumPy)."""
    a, b = (v.double() for v in views(seed=1))  # float64 throughout: agree to 1e-8
    reg = 1e-2
    fa, fb = LinearCCA(reg=reg).fit_transform(a, b)
    x, y = a.numpy(), b.numpy()
    x, y = x - x.mean(0), y - y.mean(0)
    n = x.shape[0]

    def inv_sqrt(s: np.ndarray) -> np.ndarray:
        values, vectors = np.linalg.eigh(s)
        return vectors @ np.diag(values**-0.5) @ vectors.T

    wa = inv_sqrt(x.T @ x / (n - 1) + reg * np.eye(3))
    wb = inv_sqrt(y.T @ y / (n - 1) + reg * np.eye(4))
    u, _, vh = np.linalg.svd(wa @ (x.T @ y / (n - 1)) @ wb)
    ga, gb = x @ wa @ u[:, :3], y @ wb @ vh[:3].T
    signs = np.sign((ga * fa.numpy()).sum(0))
    assert np.allclose(fa.numpy(), ga * signs, atol=1e-8)
    assert np.allclose(fb.numpy(), gb * signs, atol=1e-8)  # the same sign on both sides


def test_correlations_match_scikit_learn() -> None:
    from sklearn.cross_decomposition import CCA

    a, b = views(n=200, seed=2)
    rho = LinearCCA(out_channels=2, reg=0.0).fit(a, b).correlations_
    sk = CCA(n_components=2, max_iter=5000, tol=1e-12).fit(a.numpy(), b.numpy())
    xs, ys = sk.transform(a.numpy(), b.numpy())
    theirs = [np.corrcoef(xs[:, j], ys[:, j])[0, 1] for j in range(2)]
    assert rho is not None
    assert np.allclose(rho.numpy(), theirs, atol=1e-4)


def test_a_linear_copy_maps_onto_the_same_points() -> None:
    """``b = a M`` with ``M`` invertible: every correlation is 1 and f_a(a) = f_b(b)."""
    gen = torch.Generator().manual_seed(3)
    a = torch.randn(30, 3, generator=gen, dtype=torch.float64)
    m = torch.tensor([[2.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, -1.0, 3.0]], dtype=torch.float64)
    cca = LinearCCA(reg=0.0).fit(a, a @ m)
    fa, fb = cca.transform(a, a @ m)
    assert cca.correlations_ is not None
    assert torch.allclose(cca.correlations_, torch.ones(3, dtype=torch.float64))
    assert torch.allclose(fa, fb, atol=1e-8)


def test_mask_fits_on_the_selected_rows_and_maps_every_row() -> None:
    a, b = views(seed=4)
    mask = torch.arange(40) % 3 != 0
    full = LinearCCA(out_channels=2).fit(a, b, mask)
    subset = LinearCCA(out_channels=2).fit(a[mask], b[mask])
    assert full.weight_a_ is not None and subset.weight_a_ is not None
    assert torch.equal(full.weight_a_, subset.weight_a_)
    assert full.transform_a(a).shape == (40, 2)
    assert full.transform_b(b[:5]).shape == (5, 2)


def test_errors_name_the_problem() -> None:
    a, b = views()
    with pytest.raises(InputError, match="not fitted"):
        LinearCCA().transform_a(a)
    with pytest.raises(InputError, match="at least 2 nodes"):
        LinearCCA().fit(a, b, torch.arange(40) == 0)
    with pytest.raises(InputError, match=r"'out_channels' <= min\(D_a, D_b\) = 3"):
        LinearCCA(out_channels=4).fit(a, b)
    with pytest.raises(InputError, match="Expected 3 columns for view 'a'"):
        LinearCCA().fit(a, b).transform_a(b)
    with pytest.raises(ValueError, match="out_channels"):
        LinearCCA(out_channels=0)
    holes = a.clone()
    holes[5, 1] = float("nan")
    with pytest.raises(
        InputError, match=r"'a' to be finite \(got NaN or infinite values in 1 of its"
    ):
        LinearCCA().fit(holes, b)
    LinearCCA().fit(holes, b, torch.arange(40) != 5)  # that node left out: fitted
    assert repr(LinearCCA(2, reg=0.1)) == "LinearCCA(out_channels=2, reg=0.1)"
