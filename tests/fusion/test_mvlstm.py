"""Multi-view LSTM: topologies, masks, comparison with torch.nn.LSTM."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn

from mmgraph.fusion import MVLSTM_TOPOLOGIES, MultiViewLSTM, build_fusion

from .conftest import IN_CHANNELS, make_inputs

STEPS = 4
H = 6


def view_gradient(model: MultiViewLSTM, target: str, source: str) -> torch.Tensor:
    """d (sum of view `target`'s final state) / d (inputs of view `source`)."""
    xs, _ = make_inputs(steps=STEPS)
    leaves = {m: x.clone().requires_grad_() for m, x in xs.items()}
    model.states(leaves)[target].sum().backward()
    grad = leaves[source].grad
    assert grad is not None
    return grad


def test_parameter_count_by_hand() -> None:
    m, h = 3, H
    inputs = sum(4 * h * d + 4 * h for d in IN_CHANNELS.values())
    for alpha, beta in [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.5, 0.5)]:
        model = MultiViewLSTM(IN_CHANNELS, hidden_size=h, alpha=alpha, beta=beta)
        p, q = math.floor(alpha * h), math.floor(beta * h)
        recurrent = m * (4 * h * p + 4 * h * (m - 1) * q)
        expected = inputs + recurrent + m * h  # + the missing-view states
        assert sum(x.numel() for x in model.parameters()) == expected
    learned = MultiViewLSTM(IN_CHANNELS, hidden_size=h, learn_gates=True, out_channels=5)
    expected = inputs + m * (4 * h * h + 4 * h * (m - 1) * h) + 2 * m * h + m * h + (m * h * 5 + 5)
    assert sum(x.numel() for x in learned.parameters()) == expected


def test_view_specific_is_one_torch_lstm_per_view() -> None:
    model = MultiViewLSTM.from_topology("view_specific", IN_CHANNELS, hidden_size=H)
    xs, _ = make_inputs(steps=STEPS)
    states = model.states(xs)
    for name, d in IN_CHANNELS.items():
        lstm = nn.LSTM(d, H, batch_first=True)
        with torch.no_grad():
            lstm.weight_ih_l0.copy_(model.input_maps[name].weight)
            lstm.bias_ih_l0.copy_(model.input_maps[name].bias)
            lstm.weight_hh_l0.copy_(model.recurrent_self[name])
            lstm.bias_hh_l0.zero_()
        _, (h_n, _) = lstm(xs[name])
        torch.testing.assert_close(states[name], h_n[0])


def test_view_specific_views_do_not_interact() -> None:
    model = MultiViewLSTM.from_topology("view_specific", IN_CHANNELS, hidden_size=H)
    assert model.topology == "view_specific"
    assert torch.equal(view_gradient(model, "text", "image"), torch.zeros(6, STEPS, 3))
    assert (view_gradient(model, "text", "text") != 0).any()


@pytest.mark.parametrize("topology", ["coupled", "fully_connected", "hybrid"])
def test_cross_view_topologies_interact(topology: str) -> None:
    model = MultiViewLSTM.from_topology(topology, IN_CHANNELS, hidden_size=H)
    assert model.topology == topology
    assert (model.alpha, model.beta) == MVLSTM_TOPOLOGIES[topology]
    assert (view_gradient(model, "text", "image") != 0).any()


def test_coupled_view_ignores_its_own_past_state() -> None:
    # alpha = 0: with a single view there is no recurrence, so each step forgets the past
    # hidden state (only the memory cell carries it).
    model = MultiViewLSTM({"text": 4}, hidden_size=H, alpha=0.0, beta=1.0)
    assert model.recurrent_self["text"].shape == (4 * H, 0)
    assert model.recurrent_cross["text"].shape == (4 * H, 0)


def test_hybrid_feeds_only_the_first_units() -> None:
    model = MultiViewLSTM({"a": 2, "b": 2}, hidden_size=4, alpha=0.5, beta=0.25)
    assert (model.self_units, model.cross_units) == (2, 1)
    assert model.recurrent_self["a"].shape == (16, 2)
    assert model.recurrent_cross["a"].shape == (16, 1)


def test_learned_gates_start_at_alpha_beta_and_connect_everything() -> None:
    model = MultiViewLSTM(IN_CHANNELS, hidden_size=H, alpha=1.0, beta=0.0, learn_gates=True)
    torch.testing.assert_close(torch.sigmoid(model.self_gate_logits), torch.full((3, H), 0.99))
    torch.testing.assert_close(torch.sigmoid(model.cross_gate_logits), torch.full((3, H), 0.01))
    assert (view_gradient(model, "text", "image") != 0).any()
    assert "learn_gates=True" in repr(model)


def test_step_masks_equal_shorter_sequences() -> None:
    model = MultiViewLSTM(IN_CHANNELS, hidden_size=H, alpha=1.0, beta=1.0)
    xs, _ = make_inputs(steps=STEPS)
    # Every view of node 0 stops after 2 steps (padding): same as feeding the first 2 steps.
    step_mask = torch.ones(6, STEPS, dtype=torch.bool)
    step_mask[0, 2:] = False
    masks = {m: step_mask for m in IN_CHANNELS}
    padded = model.states(xs, masks)
    short = model.states({m: x[:1, :2] for m, x in xs.items()})
    for m in IN_CHANNELS:
        torch.testing.assert_close(padded[m][0], short[m][0])


def test_absent_view_is_invisible_and_replaced_by_missing_state() -> None:
    model = MultiViewLSTM(IN_CHANNELS, hidden_size=H, alpha=1.0, beta=1.0)
    xs, masks = make_inputs(steps=STEPS)
    states = model.states(xs, masks)
    # Node 1 has text only: its text state equals a run with text alone (zero other states).
    alone = MultiViewLSTM({"text": 4}, hidden_size=H)
    with torch.no_grad():
        alone.input_maps["text"].load_state_dict(model.input_maps["text"].state_dict())
        alone.recurrent_self["text"].copy_(model.recurrent_self["text"])
    torch.testing.assert_close(
        states["text"][1], alone.states({"text": xs["text"][1:2]})["text"][0]
    )
    torch.testing.assert_close(states["image"][1], model.missing_states[1])
    out = model(xs, masks)
    torch.testing.assert_close(out[4], model.missing_states.flatten())  # no view at all


def test_repr_and_from_topology_errors() -> None:
    model = MultiViewLSTM({"text": 4, "image": 3}, hidden_size=8, out_channels=5)
    assert repr(model) == (
        "MultiViewLSTM({'text': 4, 'image': 3}, out_channels=5, hidden_size=8, alpha=1.0, "
        "beta=0.5, topology='hybrid', learn_gates=False)"
    )
    assert isinstance(build_fusion("mvlstm", IN_CHANNELS, out_channels=3), MultiViewLSTM)
    with pytest.raises(ValueError, match="Unknown MV-LSTM topology 'full'; valid topologies"):
        MultiViewLSTM.from_topology("full", IN_CHANNELS)
    with pytest.raises(TypeError, match="either a topology or 'alpha'/'beta'"):
        MultiViewLSTM.from_topology("coupled", IN_CHANNELS, alpha=0.5)
    with pytest.raises(ValueError, match=r"Expected 'alpha' to be in \[0, 1\] \(got 1.5\)"):
        MultiViewLSTM(IN_CHANNELS, alpha=1.5)
    with pytest.raises(TypeError, match="Expected 'beta' to be a number"):
        MultiViewLSTM(IN_CHANNELS, beta="half")  # type: ignore[arg-type]


def test_sequence_input_errors() -> None:
    model = MultiViewLSTM(IN_CHANNELS, hidden_size=H)
    xs, masks = make_inputs(steps=STEPS)
    with pytest.raises(ValueError, match=r"xs\['text'\] to have shape \[N, T, d\] with d = 4"):
        model({**xs, "text": xs["text"][:, 0]}, masks)
    with pytest.raises(ValueError, match="same number of nodes and steps"):
        model({**xs, "image": xs["image"][:, :2]}, masks)
    with pytest.raises(ValueError, match=r"masks\['text'\] to have shape \[N\] or \[N, T\]"):
        model(xs, {**masks, "text": torch.ones(6, 2, dtype=torch.bool)})


@pytest.mark.parametrize("learn_gates", [False, True])
def test_masked_steps_have_no_influence(learn_gates: bool) -> None:
    model = MultiViewLSTM(IN_CHANNELS, hidden_size=H, alpha=1.0, beta=1.0, learn_gates=learn_gates)
    xs, node_masks = make_inputs(steps=STEPS)
    masks = {m: k[:, None].repeat(1, STEPS) for m, k in node_masks.items()}
    masks["text"][0, 1] = False  # one missing step inside a present view
    expected = model(xs, masks)
    gen = torch.Generator().manual_seed(5)
    changed = {}
    for m, x in xs.items():
        noise = 50 * torch.randn(x.shape, generator=gen)
        noise[..., 0] = math.nan
        changed[m] = torch.where(masks[m][..., None], x, noise).requires_grad_()
    out = model(changed, masks)
    assert torch.equal(out, expected)
    out.pow(2).sum().backward()
    for m, x in changed.items():
        assert x.grad is not None and torch.isfinite(x.grad).all()
        assert torch.equal(x.grad[~masks[m]], torch.zeros_like(x.grad[~masks[m]]))
        assert (x.grad[masks[m]] != 0).any()


def test_dict_order_state_dict_and_float64() -> None:
    torch.manual_seed(3)
    model = MultiViewLSTM(IN_CHANNELS, hidden_size=H, out_channels=5, learn_gates=True)
    xs, masks = make_inputs(steps=STEPS)
    expected = model(xs, masks)
    other = MultiViewLSTM(
        dict(reversed(list(IN_CHANNELS.items()))), hidden_size=H, out_channels=5, learn_gates=True
    )
    assert not torch.allclose(other(xs, masks), expected)
    other.load_state_dict(model.state_dict())
    torch.testing.assert_close(other(dict(reversed(list(xs.items()))), masks), expected)
    model.to(torch.float64)
    assert all(p.dtype == torch.float64 for p in model.parameters())
    out = model({m: x.double() for m, x in xs.items()}, masks)
    torch.testing.assert_close(out, expected.double(), rtol=1e-5, atol=1e-6)
    before = [p.detach().clone() for p in model.parameters()]
    model.reset_parameters()
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))


def test_a_fraction_that_keeps_no_units_warns() -> None:
    views = {"posts": 1, "likes": 1, "replies": 2}
    with pytest.warns(UserWarning, match=r"beta=0.5 of hidden_size=1 keeps floor\(0.5 \* 1\) = 0"):
        head = MultiViewLSTM(views, hidden_size=1)  # hybrid: alpha 1, beta 0.5
    assert (head.self_units, head.cross_units) == (1, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MultiViewLSTM(views, hidden_size=2)  # one unit of each other view
        MultiViewLSTM({"posts": 1}, hidden_size=1)  # one view: nothing to couple
        MultiViewLSTM(views, hidden_size=1, learn_gates=True)  # every unit, gated


def test_the_backward_pass_does_not_grow_with_the_steps() -> None:
    """Each step's input is unbound once: its gradient is a slice, not a full-size tensor."""
    torch.manual_seed(0)
    head = MultiViewLSTM({"a": 2, "b": 3}, hidden_size=4)
    xs = {"a": torch.randn(5, 30, 2, requires_grad=True), "b": torch.randn(5, 30, 3)}
    out = head(xs)
    out.sum().backward()
    seen: set[int] = set()
    counts: dict[str, int] = {}
    stack = [out.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        counts[fn.name()] = counts.get(fn.name(), 0) + 1
        stack.extend(f for f, _ in fn.next_functions)
    assert counts.get("UnbindBackward0") == 1  # the inputs of all steps, at once
    assert counts.get("SelectBackward0", 0) < 30  # the final states' views, not every step
    assert xs["a"].grad is not None and torch.isfinite(xs["a"].grad).all()


@pytest.mark.parametrize("topology", MVLSTM_TOPOLOGIES)
def test_zero_nodes_give_zero_rows_as_every_other_head(topology: str) -> None:
    model = MultiViewLSTM.from_topology(topology, IN_CHANNELS, hidden_size=H)
    xs = {m: torch.randn(0, STEPS, d) for m, d in IN_CHANNELS.items()}
    assert model(xs).shape == (0, H * len(IN_CHANNELS))
