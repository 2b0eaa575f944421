"""GLASS: the labelled layer in closed form, exact per-subgraph labelling, training."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import Tensor, nn

from mmgraph.data import SubgraphDataset
from mmgraph.subgraph import GLASS, GLASSConv, SubgraphBatch, SubgraphLoader, make_subgraph_batch
from mmgraph.subgraph import glass as glass_module
from mmgraph.subgraph._sparse import Adjacency
from mmgraph.subgraph.inputs import ConstantInput, DegreeInput, NodeIdInput
from mmgraph.subgraph.neighborhood import NeighborhoodCache
from mmgraph.train import TrainConfig, Trainer


def dense_adjacency(edge_index: Tensor, n: int, aggr: str) -> Tensor:
    a = torch.zeros(n, n)
    a.index_put_((edge_index[1], edge_index[0]), torch.ones(edge_index.size(1)), accumulate=True)
    deg = a.sum(1)
    if aggr == "mean":
        return a / deg.clamp(min=1).unsqueeze(1)
    if aggr == "gcn":
        inv = deg.clamp(min=1e-12).rsqrt()
        return inv.unsqueeze(1) * a * inv.unsqueeze(0)
    return a


def mix(z: Tensor, a: Tensor, b: Tensor, r: float) -> Tensor:
    return torch.where(z.unsqueeze(1), r * a + (1 - r) * b, r * b + (1 - r) * a)


def conv_reference(conv: GLASSConv, x: Tensor, a: Tensor, z: Tensor) -> Tensor:
    r = conv.z_ratio
    t = mix(z, conv.act(conv.trans[1](x)), conv.act(conv.trans[0](x)), r)
    m = a @ t
    if conv.split:  # messages of inside and outside sources apart
        inside = z.float().unsqueeze(1)
        m = torch.cat([a @ (t * inside), a @ (t * (1 - inside))], dim=1)
    m = conv.norm(m) if conv.norm is not None else m
    h = torch.cat([m, x], dim=1)
    return mix(z, conv.comb[1](h), conv.comb[0](h), r)


def random_running_statistics(model: GLASS) -> None:
    """Non-trivial running statistics in every norm of ``model`` (layers' and convs')."""
    with torch.no_grad():
        for norm in [*model.norms, *(c.norm for c in model.convs)]:
            norm.running_mean.uniform_(-0.5, 0.5)
            norm.running_var.uniform_(0.5, 2)


def one_layer_fields(model: GLASS, dataset: SubgraphDataset, batch: SubgraphBatch) -> Tensor:
    """``model``'s outputs on every subgraph of ``dataset`` through the receptive fields."""
    hood = NeighborhoodCache(dataset, 1).get(torch.arange(len(dataset)))
    assert model.head is not None
    return model.head(model._embed(model.node_input(batch), hood, len(dataset), batch))


def assert_same_gradients(
    out: Tensor, model: GLASS, reference: Tensor, reference_model: GLASS, tol: float
) -> None:
    """The gradients of ``out``'s and ``reference``'s squared sums agree, parameter by
    parameter, relative to the largest (biases before a batch norm have a zero gradient,
    computed as about 1e-7 either way)."""
    out.square().sum().backward()
    reference.square().sum().backward()
    pairs = list(zip(model.parameters(), reference_model.parameters(), strict=True))
    assert all((a.grad is None) == (b.grad is None) for a, b in pairs)
    scale = max(float(b.grad.abs().max()) for _, b in pairs if b.grad is not None)
    assert all(
        torch.allclose(a.grad, b.grad, rtol=tol, atol=tol * scale)
        for a, b in pairs
        if a.grad is not None
    )


def glass_reference(model: GLASS, batch, nodes: list[int]) -> Tensor:  # type: ignore[no-untyped-def]
    """One subgraph labelled on its own, every layer over the whole base graph (eval mode)."""
    n = int(batch.num_nodes)
    a = dense_adjacency(batch.edge_index, n, model.aggregator)
    z = torch.zeros(n, dtype=torch.bool)
    z[nodes] = True
    h = model.node_input(batch)
    pooled = []
    for i, conv in enumerate(model.convs):
        h = conv_reference(conv, h, a, z)
        if model.norm:
            h = model.norms[i](h)
        if model.jk or i == model.num_layers - 1:
            index = torch.zeros(len(nodes), dtype=torch.long)
            pooled.append(model.pool(h[nodes], index, 1)[0])
        if i < model.num_layers - 1:
            h = model.act(h)
    return torch.cat(pooled)


@pytest.mark.parametrize("aggr", ["sum", "mean", "gcn"])
def test_conv_matches_closed_form(aggr: str) -> None:
    torch.manual_seed(0)
    edge_index = torch.tensor([[0, 0, 0, 1, 2, 3, 3, 4], [1, 2, 3, 0, 0, 0, 4, 3]])
    x = torch.randn(5, 3)
    z = torch.tensor([True, False, True, False, False])
    conv = GLASSConv(3, 4, aggregator=aggr, z_ratio=0.75).eval()
    with torch.no_grad():  # non-trivial running statistics
        conv.norm.running_mean.uniform_(-1, 1)
        conv.norm.running_var.uniform_(0.5, 2)
    out = conv(x, Adjacency(edge_index, (5, 5), aggr), z)
    assert torch.allclose(
        out, conv_reference(conv, x, dense_adjacency(edge_index, 5, aggr), z), atol=1e-5
    )
    # Two trans and two comb linear maps with biases, and the norm's weight and bias.
    assert sum(p.numel() for p in conv.parameters()) == 2 * (3 * 4 + 4) + 2 * (7 * 4 + 4) + 2 * 4
    assert repr(conv) == "GLASSConv(3, 4, aggregator='" + aggr + "', z_ratio=0.75)"
    # Split messages: twice the message channels, the same closed form.
    split = GLASSConv(3, 4, aggregator=aggr, z_ratio=0.75, split=True).eval()
    with torch.no_grad():
        split.norm.running_mean.uniform_(-1, 1)
        split.norm.running_var.uniform_(0.5, 2)
    reference = conv_reference(split, x, dense_adjacency(edge_index, 5, aggr), z)
    assert torch.allclose(split(x, Adjacency(edge_index, (5, 5), aggr), z), reference, atol=1e-5)
    n_id = torch.tensor([0, 1, 2, 3, 4, 0])  # the n_id path too (node 0 twice, once outside)
    edges = torch.tensor([[5, 1], [1, 5]])
    z6 = torch.tensor([True, False, True, False, False, False])
    adj = Adjacency(edges, (6, 6), aggr)
    assert torch.allclose(split(x, adj, z6, n_id=n_id), split(x[n_id], adj, z6), atol=1e-6)
    assert sum(p.numel() for p in split.parameters()) == (
        2 * (3 * 4 + 4) + 2 * (11 * 4 + 4) + 2 * 8
    )
    assert repr(split).endswith("z_ratio=0.75, split=True)")
    # z_ratio 0.5: the label is ignored.
    flat = GLASSConv(3, 4, z_ratio=0.5).eval()
    adj = Adjacency(edge_index, (5, 5))
    assert torch.allclose(flat(x, adj, z), flat(x, adj, ~z), atol=1e-6)


def test_conv_reads_base_nodes_through_n_id() -> None:
    # Rows 0-3 copy base nodes 2, 0, 2, 1 (node 2 twice, once inside, once outside);
    # the two targets are rows 0 and 1.
    torch.manual_seed(0)
    base = torch.randn(3, 3)
    n_id = torch.tensor([2, 0, 2, 1])
    z = torch.tensor([True, False, False, True])
    edge_index = torch.tensor([[1, 2, 3, 0, 3], [0, 0, 0, 1, 1]])
    conv = GLASSConv(3, 4, aggregator="mean", z_ratio=0.9).eval()
    adj = Adjacency(edge_index, (2, 4), "mean")
    expected = conv(base[n_id], adj, z)
    assert torch.allclose(conv(base, adj, z, n_id=n_id), expected, atol=1e-6)


@pytest.mark.parametrize(
    ("aggr", "layers", "jk"), [("sum", 1, False), ("mean", 2, True), ("gcn", 2, False)]
)
def test_each_subgraph_is_labelled_on_its_own(
    overlapping: SubgraphDataset, aggr: str, layers: int, jk: bool
) -> None:
    torch.manual_seed(1)
    model = GLASS(
        DegreeInput(5), 6, 2, num_layers=layers, aggregator=aggr, pool="size", jk=jk, chunk_size=4
    )
    random_running_statistics(model)
    model.eval()
    batch = make_subgraph_batch(overlapping)
    out = model.encode(batch)
    assert out.shape == (6, 6 * (layers if jk else 1))
    for i, nodes in enumerate(overlapping.subgraphs):
        ref = glass_reference(model, batch, nodes.tolist())
        assert torch.allclose(out[i], ref, atol=1e-4), i
    # The same with cached neighbourhoods, and whatever shares the batch.
    cached = make_subgraph_batch(overlapping, neighborhoods=NeighborhoodCache(overlapping, layers))
    assert torch.allclose(model.encode(cached), out, atol=1e-5)
    alone = make_subgraph_batch(overlapping, [4, 1])
    assert torch.allclose(model.encode(alone), out[[4, 1]], atol=1e-5)


def test_glass_module_contract(overlapping: SubgraphDataset) -> None:
    torch.manual_seed(2)
    model = GLASS(ConstantInput(4), 8, 3, num_layers=2, head_layers=2, pool="attention")
    convs = (2 * (4 * 8 + 8) + 2 * (12 * 8 + 8) + 16) + (2 * (8 * 8 + 8) + 2 * (16 * 8 + 8) + 16)
    expected = 4 + convs + 2 * 16 + (8 * 8 + 8 + 8) + (8 * 8 + 8 + 8 * 3 + 3)
    assert sum(p.numel() for p in model.parameters()) == expected
    assert repr(model) == (
        "GLASS(ConstantInput(4), hidden_channels=8, num_layers=2, aggregator='sum', "
        "pool='attention', z_ratio=0.8, jk=False, num_classes=3)"
    )
    batch = make_subgraph_batch(overlapping)
    model.eval()
    logits = model(batch)
    assert logits.shape == (6, 3)
    copy = GLASS(ConstantInput(4), 8, 3, num_layers=2, head_layers=2, pool="attention")
    copy.load_state_dict(model.state_dict())
    assert torch.allclose(copy.eval()(batch), logits)
    moved = model.to(torch.float64)
    assert all(
        t.dtype == torch.float64 for t in moved.state_dict().values() if t.is_floating_point()
    )
    encoder = GLASS(ConstantInput(4), 8, 0)
    assert encoder.encode(batch).shape == (6, 8)
    with pytest.raises(RuntimeError, match="no head"):
        encoder(batch)


def test_trains_on_density(density_small: SubgraphDataset) -> None:
    torch.manual_seed(0)
    model = GLASS(ConstantInput(16), 16, 3, num_layers=1, pool="size")
    cache = NeighborhoodCache(density_small, 1)
    full = make_subgraph_batch(density_small, neighborhoods=cache)
    loader = SubgraphLoader(density_small, batch_size=24, seed=0, neighborhoods=cache)
    config = TrainConfig(
        epochs=25, lr=0.02, patience=None, eval_every=25, progress=False, deterministic=False
    )
    trainer = Trainer(model, config).fit(full, loader=loader)
    assert trainer.history[-1]["train_loss"] < 0.6 * trainer.history[0]["train_loss"]
    assert trainer.evaluate(full, "train_mask")["accuracy"] > 0.7  # 3 balanced classes


def test_without_norms(overlapping: SubgraphDataset) -> None:
    """``norm=False``: no batch norm anywhere, and the closed form still holds.

    Without batch statistics a subgraph's output does not depend on its batch even in
    training mode (no dropout here).
    """
    torch.manual_seed(3)
    model = GLASS(DegreeInput(5), 6, 2, num_layers=2, pool="mean", norm=False, chunk_size=4)
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules())
    assert all(conv.norm is None for conv in model.convs)
    assert repr(model).endswith("z_ratio=0.8, norm=False, jk=False, num_classes=2)")
    batch = make_subgraph_batch(overlapping)
    model.train()
    out = model.encode(batch)
    for i, nodes in enumerate(overlapping.subgraphs):
        ref = glass_reference(model, batch, nodes.tolist())
        assert torch.allclose(out[i], ref, atol=1e-4), i
    alone = make_subgraph_batch(overlapping, [4, 1])
    assert torch.allclose(model.encode(alone), out[[4, 1]], atol=1e-5)
    with_norms = GLASS(DegreeInput(5), 6, 2, num_layers=2, pool="mean")
    assert sum(p.numel() for p in with_norms.parameters()) - sum(
        p.numel() for p in model.parameters()
    ) == 2 * (2 * 6 + 2 * 6)  # two norms per layer, weight and bias of 6 channels each


def test_split_messages_keep_inside_counts_apart(overlapping: SubgraphDataset) -> None:
    """``split_messages``: every layer splits, the closed form holds, and with a constant
    input the first layer's inside channels depend on the inside degree alone."""
    torch.manual_seed(4)
    model = GLASS(ConstantInput(3), 4, 2, num_layers=2, pool="mean", split_messages=True)
    assert all(conv.split for conv in model.convs)
    assert "split_messages=True" in repr(model)
    model.eval()
    batch = make_subgraph_batch(overlapping)
    out = model.encode(batch)
    for i, nodes in enumerate(overlapping.subgraphs):
        assert torch.allclose(out[i], glass_reference(model, batch, nodes.tolist()), atol=1e-4)
    conv = GLASSConv(3, 4, aggregator="sum", z_ratio=1.0, split=True, norm=False)
    x = torch.ones(4, 3)
    z = torch.tensor([True, True, False, False])
    adj = Adjacency(torch.tensor([[1, 2, 3], [0, 0, 0]]), (1, 4))  # node 0: 1 in, 2 out
    h = torch.cat([conv.act(conv.trans[1](x[:1])), conv.act(conv.trans[0](x[:1])) * 2], dim=1)
    expected = conv.comb[1](torch.cat([h, x[:1]], dim=1))
    assert torch.allclose(conv(x, adj, z), expected, atol=1e-6)


def test_errors() -> None:
    with pytest.raises(ValueError, match="Unknown aggregation 'max'"):
        GLASSConv(2, 2, aggregator="max")
    with pytest.raises(ValueError, match="'z_ratio' in \\[0.5, 1\\]"):
        GLASSConv(2, 2, z_ratio=0.2)
    with pytest.raises(ValueError, match="Unknown activation 'swish'"):
        GLASSConv(2, 2, act="swish")
    with pytest.raises(TypeError, match="int 'out_channels'"):
        GLASS(torch.nn.Identity(), 4, 2)
    with pytest.raises(ValueError, match="'num_layers' to be an int >= 1"):
        GLASS(ConstantInput(2), 4, 2, num_layers=0)
    with pytest.raises(ValueError, match="'dropout' in \\[0, 1\\)"):
        GLASS(ConstantInput(2), 4, 2, dropout=1.0)
    with pytest.raises(ValueError, match="Expected 3 source rows"):
        Adjacency(torch.tensor([[0], [1]]), (2, 3)) @ torch.zeros(2, 1)


@pytest.mark.parametrize("aggr", ["sum", "mean", "gcn"])
def test_adjacency_gradient_and_lazy_transpose(aggr: str) -> None:
    # Unsorted edges with a repeat: the product and its gradient equal the dense matrix's;
    # the transposed CSR is built only by a backward pass.
    edge_index = torch.tensor([[3, 0, 1, 4, 2, 0, 0], [1, 2, 0, 0, 4, 3, 2]])
    adj = Adjacency(edge_index, (5, 5), aggr)
    dense = dense_adjacency(edge_index, 5, aggr)
    x = torch.randn(5, 3, dtype=torch.float32)
    with torch.no_grad():
        assert torch.allclose(adj @ x, dense @ x, atol=1e-6)
    assert adj._backward_csr is None
    x.requires_grad_(True)
    (adj @ x).pow(2).sum().backward()
    assert adj._backward_csr is not None
    reference = x.detach().clone().requires_grad_(True)
    (dense @ reference).pow(2).sum().backward()
    assert x.grad is not None and reference.grad is not None
    assert torch.allclose(x.grad, reference.grad, atol=1e-5)


def test_stable_order_matches_a_stable_sort() -> None:
    from mmgraph.subgraph.glass import _stable_order

    key = torch.tensor([2, 0, 1, 0, 2, 1, 0])
    assert torch.equal(_stable_order(key, 3), torch.argsort(key, stable=True))
    assert torch.equal(_stable_order(key, 2), torch.argsort(key, stable=True))  # out of range
    assert _stable_order(torch.zeros(0, dtype=torch.long), 2).numel() == 0


@pytest.mark.parametrize("aggr", ["sum", "mean", "gcn"])
@pytest.mark.parametrize("layers", [2, 3, 4])
@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("constant", [False, True])
def test_unlabelled_layers_plus_changes_equal_the_fields(
    overlapping: SubgraphDataset, aggr: str, layers: int, split: bool, constant: bool
) -> None:
    """From two layers, every layer once on the whole unlabelled graph plus each row's change
    gives the receptive fields' outputs and gradients (no norm statistics, no dropout)."""
    torch.manual_seed(5)
    model = GLASS(
        ConstantInput(5) if constant else DegreeInput(5), 6, 2, num_layers=layers,
        aggregator=aggr, pool="mean", jk=True, split_messages=split,
    )  # fmt: skip
    random_running_statistics(model)
    model.eval()
    batch = make_subgraph_batch(overlapping)
    batch.edge_weight = torch.rand(batch.edge_index.size(1)) + 0.5
    ids = torch.arange(len(overlapping))
    hood = NeighborhoodCache(overlapping, layers).get(ids)
    edges = "seeds" if layers == 2 else "induced"  # two layers read edges at a seed alone
    near = NeighborhoodCache(overlapping, layers // 2, edges).get(ids)
    x = model.node_input(batch)
    fields = model._embed(x, hood, len(overlapping), batch)
    delta = model._embed_delta(near, len(overlapping), model._unlabelled(x, batch))
    assert torch.allclose(delta, fields, atol=1e-5)
    assert model._unlabelled_exact() and model._unlabelled_pays(near, batch)
    # Training without batch statistics or dropout: encode takes the changes, same gradients.
    plain = GLASS(DegreeInput(5), 6, 2, num_layers=layers, aggregator=aggr, norm=False).train()
    assert plain._unlabelled_exact()
    cached = make_subgraph_batch(overlapping, neighborhoods=NeighborhoodCache(overlapping, layers))
    cached.edge_weight = batch.edge_weight
    plain(cached).square().sum().backward()
    assert (layers // 2, edges) in plain._caches  # its own cache beside the batch's
    grads = [p.grad.clone() for p in plain.parameters() if p.grad is not None]
    plain.zero_grad()
    x = plain.node_input(batch)
    head = plain.head
    assert head is not None
    head(plain._embed(x, hood, len(overlapping), batch)).square().sum().backward()
    again = [p.grad for p in plain.parameters() if p.grad is not None]
    assert len(grads) == len(again)
    assert all(torch.allclose(a, b, atol=1e-4) for a, b in zip(grads, again))
    assert not copy.deepcopy(plain)._caches
    # From three layers, batch statistics or dropout in training: the receptive fields.
    # Two layers take the changes anyway (next test).
    deep = layers > 2
    assert GLASS(DegreeInput(5), 6, 2, num_layers=layers).train()._unlabelled_exact() != deep
    dropped = GLASS(DegreeInput(5), 6, 2, num_layers=layers, norm=False, dropout=0.2).train()
    assert dropped._unlabelled_exact() != deep
    assert dropped.eval()._unlabelled_exact()
    assert not GLASS(DegreeInput(5), 6, 2, num_layers=1).eval()._unlabelled_exact()


@pytest.mark.parametrize("aggr", ["sum", "mean", "gcn"])
@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("constant", [False, True])
@pytest.mark.parametrize("z_ratio", [0.8, 1.0])
def test_two_layers_take_the_changes_with_batch_statistics(
    overlapping: SubgraphDataset, aggr: str, split: bool, constant: bool, z_ratio: float
) -> None:
    """Two layers training with batch statistics: the changes normalise the rows the
    receptive fields do, so outputs, gradients and running statistics are the same (on a
    constant input the unlabelled messages are one vector, aggregated by row sums)."""
    torch.manual_seed(7)
    node_input = ConstantInput(5) if constant else DegreeInput(5)
    model = GLASS(
        node_input, 6, 2, num_layers=2, aggregator=aggr, jk=True, split_messages=split,
        z_ratio=z_ratio,
    ).train()  # fmt: skip
    assert model._unlabelled_exact()
    batch = make_subgraph_batch(overlapping)
    batch.edge_weight = torch.rand(batch.edge_index.size(1)) + 0.5
    ids = torch.arange(len(overlapping))
    hood = NeighborhoodCache(overlapping, 2).get(ids)
    near = NeighborhoodCache(overlapping, 1, "seeds").get(ids)
    runs = []
    for delta in (False, True):
        copy_ = copy.deepcopy(model)
        x = copy_.node_input(batch)
        if delta:
            out = copy_._embed_delta(near, len(overlapping), copy_._unlabelled(x, batch))
        else:
            out = copy_._embed(x, hood, len(overlapping), batch)
        out.square().sum().backward()
        grads = [p.grad for p in copy_.parameters() if p.grad is not None]
        stats = [b.clone() for name, b in copy_.named_buffers() if "running" in name]
        runs.append((out.detach(), grads, stats))
    (fields, fields_grads, fields_stats), (delta, delta_grads, delta_stats) = runs
    assert torch.allclose(delta, fields, atol=1e-5)
    assert len(fields_grads) == len(delta_grads)
    # rtol: batch norms over rows that a constant input makes nearly alike amplify rounding
    close = [torch.allclose(a, b, rtol=1e-3, atol=1e-4) for a, b in zip(fields_grads, delta_grads)]
    assert all(close)
    assert len(fields_stats) == len(delta_stats) > 0
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(fields_stats, delta_stats))


def test_the_base_adjacency_is_built_once(overlapping: SubgraphDataset) -> None:
    """The unlabelled pass keeps the base graph's adjacency while the edges stay the same;
    a copy of the model keeps nothing."""
    model = GLASS(DegreeInput(5), 6, 2, num_layers=2).eval()
    batch = make_subgraph_batch(overlapping)
    x = model.node_input(batch)
    first = model._unlabelled(x, batch)
    adj = model._caches["adjacency"][2]
    model._unlabelled(x, batch)
    assert model._caches["adjacency"][2] is adj
    assert len(first.layers) == 1  # two layers: the first one's messages alone
    assert "adjacency" not in copy.deepcopy(model)._caches
    batch.edge_weight = torch.rand(batch.edge_index.size(1)) + 0.5  # new weights: rebuilt
    model._unlabelled(x, batch)
    assert model._caches["adjacency"][2] is not adj


@pytest.mark.parametrize("aggr", ["sum", "mean"])
@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("pool", ["mean", "sum", "max", "size"])
@pytest.mark.parametrize("training", [False, True])
def test_one_layer_on_a_constant_input_needs_only_degrees(
    overlapping: SubgraphDataset, aggr: str, split: bool, pool: str, training: bool
) -> None:
    """One layer on a constant input: the degrees and the subgraphs' own edges give the
    receptive fields' outputs and gradients, batch statistics in training included."""
    torch.manual_seed(3)
    model = GLASS(
        ConstantInput(5), 6, 2, num_layers=1, aggregator=aggr, pool=pool, split_messages=split,
        z_ratio=0.7,
    )  # fmt: skip
    random_running_statistics(model)
    model.train(training)
    assert model._constant_exact()
    batch = make_subgraph_batch(overlapping, neighborhoods=NeighborhoodCache(overlapping, 1))
    batch.edge_weight = torch.rand(batch.edge_index.size(1)) + 0.5
    fields_model = copy.deepcopy(model)
    fast = model(batch)  # through encode: the degrees
    assert (0, "induced") in model._caches
    ids = torch.arange(len(overlapping))
    hood = NeighborhoodCache(overlapping, 1).get(ids)
    x = fields_model.node_input(batch)
    head = fields_model.head
    assert head is not None
    fields = head(fields_model._embed(x, hood, len(overlapping), batch))
    # Batch statistics over six subgraphs whose rows nearly agree (a constant input) divide
    # by small deviations: the two sums' rounding grows to about 1e-4 there.
    tol = 1e-4 if training else 1e-6
    assert torch.allclose(fast, fields, atol=10 * tol)
    assert_same_gradients(fast, model, fields, fields_model, 10 * tol)
    if training:  # the batch norms' running statistics moved alike
        for a, b in zip(model.norms, fields_model.norms, strict=True):
            assert torch.allclose(a.running_mean, b.running_mean, atol=1e-6)
    # Without a batch's cache too (an evaluation over the whole data set)
    model.eval()
    fields_model.eval()
    plain = make_subgraph_batch(overlapping)
    plain.edge_weight = batch.edge_weight
    assert torch.allclose(
        model(plain), one_layer_fields(fields_model, overlapping, plain), atol=1e-5
    )


@pytest.mark.parametrize("input_name", ["id", "degree"])
@pytest.mark.parametrize("aggr", ["sum", "mean", "gcn"])
@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("pool", ["mean", "max"])
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("z_ratio", [0.7, 1.0])
def test_one_layer_reads_each_seeds_in_edges(
    overlapping: SubgraphDataset,
    input_name: str,
    aggr: str,
    split: bool,
    pool: str,
    training: bool,
    z_ratio: float,
) -> None:
    """One layer on any input: each seed's in-edges (all of them as outside senders, its own
    subgraph's as the change) give the receptive fields' outputs and gradients."""
    torch.manual_seed(4)
    node_input = NodeIdInput(40, 5) if input_name == "id" else DegreeInput(5)
    model = GLASS(
        node_input, 6, 2, num_layers=1, aggregator=aggr, pool=pool, split_messages=split,
        z_ratio=z_ratio,
    )  # fmt: skip
    random_running_statistics(model)
    model.train(training)
    assert model._seeds_exact() and not model._constant_exact()
    batch = make_subgraph_batch(overlapping, neighborhoods=NeighborhoodCache(overlapping, 1))
    batch.edge_weight = torch.rand(batch.edge_index.size(1)) + 0.5
    fields_model = copy.deepcopy(model)
    fast = model(batch)  # through encode: the seeds' in-edges
    assert (0, "induced") in model._caches
    fields = one_layer_fields(fields_model, overlapping, batch)
    assert torch.allclose(fast, fields, atol=1e-5)
    assert_same_gradients(fast, model, fields, fields_model, 1e-4)
    if training:
        for a, b in zip(model.norms, fields_model.norms, strict=True):
            assert torch.allclose(a.running_mean, b.running_mean, atol=1e-6)
            assert torch.allclose(a.running_var, b.running_var, atol=1e-5)
    model.eval()
    fields_model.eval()
    plain = make_subgraph_batch(overlapping)  # no batch cache: the model's own
    plain.edge_weight = batch.edge_weight
    assert torch.allclose(
        model(plain), one_layer_fields(fields_model, overlapping, plain), atol=1e-5
    )


def test_the_seed_path_needs_one_layer() -> None:
    assert GLASS(DegreeInput(5), 6, 2, num_layers=1, aggregator="gcn")._seeds_exact()
    assert not GLASS(DegreeInput(5), 6, 2, num_layers=2)._seeds_exact()
    assert GLASS(DegreeInput(5), 6, 2, num_layers=1, dropout=0.3).train()._seeds_exact()


def _row_dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Dropout whose mask follows each row's values: a base node's input row is dropped
    the same wherever it is read, and two paths that read the same rows drop the same."""
    if not training or p == 0:
        return x
    keep = (x.detach().sum(-1, keepdim=True) * 1e3).floor().remainder(2) == 0
    return x * keep / (1 - p)


@pytest.mark.parametrize("input_name", ["id", "constant"])
@pytest.mark.parametrize("chunk_size", [64, 1])
def test_the_seed_path_drops_out_as_the_receptive_fields(
    overlapping: SubgraphDataset, input_name: str, chunk_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dropout in training on one layer: the seed path drops each input row it reads with
    one mask a base node, as the receptive fields drop the whole input; with a mask that
    follows the row, the same outputs and gradients. (Each seed row's aggregate is dropped
    by ``GLASSConv.combine`` in both, one row for one row; off here.) A chunk of all six
    subgraphs reads more rows than the graph's 40 nodes, so all are dropped; a chunk of one
    reads fewer, which alone are dropped."""
    torch.manual_seed(5)
    node_input = NodeIdInput(40, 5) if input_name == "id" else ConstantInput(5)
    model = GLASS(
        node_input, 6, 2, num_layers=1, dropout=0.5, pool="mean", chunk_size=chunk_size,
        norm=False,  # batch statistics would differ by chunk
    ).train()  # fmt: skip
    model.convs[0].dropout = 0.0
    assert model._seeds_exact() and not model._constant_exact()
    batch = make_subgraph_batch(overlapping, neighborhoods=NeighborhoodCache(overlapping, 1))
    fields_model = copy.deepcopy(model)
    calls: list[Tensor] = []

    def recorded(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
        if p > 0:  # the combine's dropout is off (p=0)
            calls.append(x.detach())
        return _row_dropout(x, p, training)

    monkeypatch.setattr(glass_module, "dropout", recorded)
    fast = model(batch)
    # the input dropped once a chunk, each base node read a row of it (one mask a node)
    assert len(calls) == -(-len(overlapping) // chunk_size)
    assert (calls[0].size(0) == 40) == (chunk_size == 64)
    if input_name == "id":
        assert all(torch.unique(c, dim=0).size(0) == c.size(0) for c in calls)
    fields = one_layer_fields(fields_model, overlapping, batch)
    assert torch.allclose(fast, fields, atol=1e-5)
    assert_same_gradients(fast, model, fields, fields_model, 1e-4)
    assert not torch.allclose(fast, model.eval()(batch), atol=1e-3)  # something was dropped


def test_the_degree_path_needs_one_layer_a_constant_input_and_no_dropout() -> None:
    assert GLASS(ConstantInput(5), 6, 2, num_layers=1, aggregator="sum")._constant_exact()
    assert not GLASS(ConstantInput(5), 6, 2, num_layers=2)._constant_exact()
    assert not GLASS(DegreeInput(5), 6, 2, num_layers=1)._constant_exact()
    assert not GLASS(ConstantInput(5), 6, 2, num_layers=1, aggregator="gcn")._constant_exact()
    dropped = GLASS(ConstantInput(5), 6, 2, num_layers=1, dropout=0.3).train()
    assert not dropped._constant_exact() and dropped.eval()._constant_exact()


@pytest.mark.parametrize("ratio", [0.5, 0.8, 1.0])
def test_mix_of_runs_each_row_through_its_own_map_at_ratio_one(ratio: float) -> None:
    from mmgraph.subgraph.glass import _mix, _mix_of

    torch.manual_seed(0)
    f, g = nn.Linear(4, 3), nn.Linear(4, 3)
    params = [*f.parameters(), *g.parameters()]
    x = torch.randn(7, 4)
    for inside in (
        torch.tensor([True, False, False, True, False, True, False]),
        torch.ones(7, dtype=torch.bool),
        torch.zeros(7, dtype=torch.bool),
    ):
        got = _mix_of(inside, f, g, x, ratio)
        want = _mix(inside, f(x), g(x), ratio)
        assert torch.allclose(got, want, atol=1e-6)
        for a, b in zip(
            torch.autograd.grad(got.square().sum(), params, allow_unused=True),
            torch.autograd.grad(want.square().sum(), params),
        ):
            assert torch.allclose(torch.zeros_like(b) if a is None else a, b, atol=1e-5)
