"""The small CNN trained end to end on node images (mmgraph.encoders.cnn)."""

from __future__ import annotations

import pytest
import torch

from mmgraph.encoders.cnn import SmallCNN


def images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, 40, 36, generator=torch.Generator().manual_seed(seed))


def test_small_cnn_shapes_mask_and_gradients() -> None:
    torch.manual_seed(0)
    cnn = SmallCNN(3, 8, channels=(4, 6)).eval()
    imgs = images(4)
    mask = torch.tensor([True, False, True, True])
    x, out_mask = cnn(imgs, mask)
    assert x.shape == (4, 8) and torch.equal(out_mask, mask)
    assert torch.equal(x[1], torch.zeros(8))
    alone, _ = cnn(imgs[[0, 2, 3]])
    torch.testing.assert_close(x[mask], alone)  # missing images do not touch the others
    cnn.train()
    x, _ = cnn(imgs, mask)
    x.sum().backward()
    assert all(p.grad is not None for p in cnn.parameters())
    odd, _ = cnn(torch.rand(2, 3, 5, 7, generator=torch.Generator().manual_seed(1)))
    assert odd.shape == (2, 8)


def test_small_cnn_parameters_state_dict_repr_to() -> None:
    torch.manual_seed(0)
    cnn = SmallCNN(in_channels=1, out_channels=5, channels=(4, 6))
    expected = (1 * 4 * 9 + 2 * 4) + (4 * 6 * 9 + 2 * 6) + (6 * 5 + 5)
    assert sum(p.numel() for p in cnn.parameters()) == expected
    no_bn = SmallCNN(in_channels=1, out_channels=5, channels=(4,), batch_norm=False)
    assert sum(p.numel() for p in no_bn.parameters()) == (1 * 4 * 9 + 4) + (4 * 5 + 5)
    assert repr(cnn) == "SmallCNN(1, 5, channels=(4, 6))"
    imgs = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    other = SmallCNN(in_channels=1, out_channels=5, channels=(4, 6))
    other.load_state_dict(cnn.state_dict())
    torch.testing.assert_close(other.eval()(imgs)[0], cnn.eval()(imgs)[0])
    cnn.reset_parameters()
    assert not torch.allclose(other(imgs)[0], cnn(imgs)[0])
    cnn.to(torch.float64)
    assert all(t.dtype == torch.float64 for t in [*cnn.parameters(), cnn.features[1].running_mean])
    assert cnn.out_channels == 5


def test_small_cnn_errors() -> None:
    cnn = SmallCNN(3, 4, channels=(2,))
    with pytest.raises(ValueError, match=r"Expected images of shape \[N, C, H, W\]"):
        cnn(torch.rand(3, 8, 8))
    with pytest.raises(ValueError, match="Expected images with 3 channels"):
        cnn(torch.rand(1, 1, 8, 8))
    with pytest.raises(TypeError, match="Expected float images"):
        cnn(torch.ones(1, 3, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"Expected 'mask' to be a bool tensor of shape \[1\]"):
        cnn(torch.rand(1, 3, 8, 8), torch.ones(2, dtype=torch.bool))
    with pytest.raises(ValueError, match="Expected 'out_channels' to be a positive int"):
        SmallCNN(out_channels=0)
    with pytest.raises(ValueError, match="Expected 'channels' to be a non-empty sequence"):
        SmallCNN(channels=())
    with pytest.raises(ValueError, match=r"Expected 'dropout' in \[0, 1\)"):
        SmallCNN(dropout=1.0)
