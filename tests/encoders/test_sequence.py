"""SequenceEncoder against hand computations; padding never read; over_steps for MV-LSTM."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mmgraph.encoders import SEQUENCE_ENCODERS, ModalityWise, SequenceEncoder, over_steps
from mmgraph.errors import InputError

LENGTH = torch.tensor([3, 1, 0, 2])


def tiny() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randn(4, 3, 2)


def test_mean_is_the_average_of_the_valid_steps() -> None:
    x = torch.tensor([[[1.0], [2.0], [6.0]], [[4.0], [100.0], [100.0]]])
    out, mask = SequenceEncoder(1, kind="mean")(x, torch.tensor([3, 1]))
    assert out.tolist() == [[3.0], [4.0]] and mask.tolist() == [True, True]
    x = tiny()
    out, mask = SequenceEncoder(2, kind="mean")(x, LENGTH)
    manual = torch.stack([x[0, :3].mean(0), x[1, :1].mean(0), torch.zeros(2), x[3, :2].mean(0)])
    torch.testing.assert_close(out, manual)
    assert mask.tolist() == [True, True, False, True]


@pytest.mark.parametrize("kind", SEQUENCE_ENCODERS)
def test_padding_and_absent_nodes_do_not_change_outputs(kind: str) -> None:
    torch.manual_seed(1)
    encoder = SequenceEncoder(2, 5, kind=kind, log1p=True)
    x = tiny().requires_grad_()
    mask = torch.tensor([True, True, True, False])
    out, present = encoder(x, LENGTH, mask)
    assert present.tolist() == [True, True, False, False]
    assert bool((out[2:] == 0).all())
    garbage = x.detach().clone()
    padding = torch.arange(3) >= LENGTH.unsqueeze(1)
    garbage[padding] = float("nan")
    garbage[3] = 1e6  # a node outside the mask
    torch.testing.assert_close(encoder(garbage, LENGTH, mask)[0], out.detach())
    out.sum().backward()
    assert x.grad is not None and bool((x.grad[padding] == 0).all())
    assert bool((x.grad[3] == 0).all())
    # A node's output does not depend on how long the padded tensor is.
    longer = torch.cat([x.detach(), torch.randn(4, 4, 2)], dim=1)
    torch.testing.assert_close(encoder(longer, LENGTH, mask)[0], out.detach())


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_the_recurrent_state_is_that_of_torch_on_the_valid_steps(kind: str) -> None:
    torch.manual_seed(2)
    encoder = SequenceEncoder(2, 4, kind=kind)
    x = tiny()
    out, _ = encoder(x, LENGTH)
    rnn = encoder.rnn
    assert isinstance(rnn, (nn.GRU, nn.LSTM))
    for i, n in enumerate(LENGTH.tolist()):
        if n == 0:
            assert bool((out[i] == 0).all())
            continue
        _, state = rnn(x[i, :n].unsqueeze(0))
        h = state[0] if isinstance(state, tuple) else state
        torch.testing.assert_close(out[i], h[-1, 0])


def test_conv_is_a_zero_padded_convolution_of_the_valid_steps_then_a_mean() -> None:
    torch.manual_seed(3)
    encoder = SequenceEncoder(2, 4, kind="conv", kernel_size=3)
    x = tiny()
    out, _ = encoder(x, LENGTH)
    conv = encoder.conv
    assert conv is not None
    for i, n in enumerate(LENGTH.tolist()):
        if n == 0:
            continue
        steps = x[i, :n].t().unsqueeze(0)  # [1, d, n]
        h = nn.functional.conv1d(steps, conv.weight, conv.bias, padding=1).relu()
        torch.testing.assert_close(out[i], h[0].mean(dim=1))


def test_fit_scales_by_the_valid_steps_of_the_given_nodes() -> None:
    x = torch.tensor([[[1.0], [3.0], [99.0]], [[5.0], [0.0], [0.0]], [[-50.0], [0.0], [0.0]]])
    length = torch.tensor([2, 1, 1])
    encoder = SequenceEncoder(1, kind="mean").fit(x, length, torch.tensor([True, True, False]))
    torch.testing.assert_close(encoder.mean, torch.tensor([3.0]))  # 1, 3, 5
    torch.testing.assert_close(encoder.std, torch.tensor([(8 / 3) ** 0.5]))
    steps, valid = encoder.steps(x, length)
    torch.testing.assert_close(steps[0, :2, 0], (torch.tensor([1.0, 3.0]) - 3) / (8 / 3) ** 0.5)
    assert bool((steps[~valid] == 0).all()) and valid.sum() == 4
    logged = SequenceEncoder(1, kind="mean", log1p=True).fit(x, length)
    assert logged.scale(torch.tensor([[[0.0]]])).shape == (1, 1, 1)


def test_parameters_state_dict_and_repr() -> None:
    gru = SequenceEncoder(3, 4, kind="gru")
    assert sum(p.numel() for p in gru.parameters()) == 3 * (4 * 3 + 4 * 4 + 2 * 4)
    conv = SequenceEncoder(3, 4, kind="conv", kernel_size=5)
    assert sum(p.numel() for p in conv.parameters()) == 4 * 3 * 5 + 4
    assert sum(p.numel() for p in SequenceEncoder(3, kind="mean").parameters()) == 0
    assert sum(p.numel() for p in SequenceEncoder(3, 2, kind="mean").parameters()) == 8
    fitted = SequenceEncoder(3, 4).fit(torch.rand(5, 2, 3) * 9)
    copy = SequenceEncoder(3, 4)
    copy.load_state_dict(fitted.state_dict())
    x = torch.rand(2, 2, 3)
    torch.testing.assert_close(copy(x)[0], fitted(x)[0])
    assert {"mean", "std"} <= set(fitted.state_dict())
    assert repr(gru) == "SequenceEncoder(3, 4, kind='gru', log1p=False)"
    wise = ModalityWise({"sequence": gru})
    xs, masks = wise({"sequence": (torch.rand(2, 3, 3), torch.tensor([1, 3]), None)})
    assert xs["sequence"].shape == (2, 4) and masks["sequence"].all()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda e: e(torch.ones(4, 3)), r"float tensor \[N, T, 2\]"),
        (lambda e: e(torch.ones(4, 3, 5)), "Expected 2 values per step"),
        (lambda e: e(torch.ones(4, 3, 2), torch.tensor([1, 2, 3, 4])), r"in \[0, 3\]"),
        (lambda e: e(torch.ones(4, 3, 2), torch.ones(4)), "integer tensor of shape"),
        (lambda e: e(torch.ones(4, 3, 2), None, torch.ones(4)), "bool tensor of shape"),
        (lambda e: e(torch.ones(4, 3, 2), None, torch.ones(3).bool()), r"shape \[4\]"),
    ],
)
def test_bad_inputs_are_named(call: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        call(SequenceEncoder(2, 3))  # type: ignore[operator]


def test_bad_options_are_named() -> None:
    with pytest.raises(InputError, match="Unknown sequence encoder 'rnn'"):
        SequenceEncoder(2, 3, kind="rnn")
    with pytest.raises(InputError, match="only 'mean' works"):
        SequenceEncoder(2, kind="gru")
    with pytest.raises(InputError, match="odd"):
        SequenceEncoder(2, 3, kind="conv", kernel_size=2)


def test_over_steps_cuts_the_views_and_repeats_the_vectors() -> None:
    steps = torch.arange(24.0).view(2, 4, 3)
    valid = torch.tensor([[True, True, False, False], [False, False, False, False]])
    xs = {"text": torch.tensor([[1.0, 2.0], [3.0, 4.0]])}
    masks = {"text": torch.tensor([True, True])}
    out, out_masks = over_steps(xs, masks, steps, valid, {"posts": 1, "both": 2})
    assert list(out) == ["posts", "both", "text"]
    assert torch.equal(out["posts"], steps[:, :, :1]) and torch.equal(out["both"], steps[:, :, 1:])
    assert out["text"].shape == (2, 4, 2) and torch.equal(out["text"][1, 3], xs["text"][1])
    assert torch.equal(out_masks["posts"], valid)
    # The node without steps still gets its text, at one step.
    assert out_masks["text"].tolist() == [[True, True, False, False], [True, False, False, False]]
    with pytest.raises(InputError, match="names of modalities"):
        over_steps(xs, masks, steps, valid, {"text": 3})
    with pytest.raises(InputError, match="hold the 3 values"):
        over_steps(xs, masks, steps, valid, {"posts": 2})
    empty, empty_masks = over_steps(xs, masks, steps[:, :0], valid[:, :0], {"a": 3})
    assert empty["a"].shape == (2, 1, 3) and empty_masks["text"].all()
