from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.preprocessing import StandardScaler

from mmgraph.data import MultimodalGraph
from mmgraph.data.synthetic import (
    ACTIVITY_VIEWS,
    CATEGORICAL_NAMES,
    NUMERIC_NAMES,
    VOCABULARY,
    make_social_graph,
)


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    # Many small tensor ops: on a busy machine, thread hand-offs cost more than the work.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def graph() -> MultimodalGraph:
    return make_social_graph(2000, image_size=16, seed=0, with_activity=True)


# ----------------------------------------------------------------- simple per-modality features
def text_features(g: MultimodalGraph) -> np.ndarray:
    docs = [" ".join(t) if t is not None else "" for t in g.text]
    counts = CountVectorizer(token_pattern=r"[a-z]+").fit_transform(docs).toarray()
    return np.log1p(counts.astype(float))


def style_feature(g: MultimodalGraph) -> np.ndarray:
    """1 where the text shows more loud than plain style markers (and punctuation)."""
    loud, plain = set(VOCABULARY["loud_style"]), set(VOCABULARY["plain_style"])
    out = np.zeros(g.num_nodes)
    for i, texts in enumerate(g.text):
        if texts is None:
            continue
        tokens = re.findall(r"[a-z]+|!!!|\.", " ".join(texts))
        score = sum(t in loud or t == "!!!" for t in tokens)
        score -= sum(t in plain or t == "." for t in tokens)
        out[i] = float(score > 0)
    return out


def default_avatar_feature(g: MultimodalGraph) -> np.ndarray:
    """1 where the avatar is grey: the default silhouette (varied avatars are coloured)."""
    spread = (g.image.amax(1) - g.image.amin(1)).mean((1, 2))
    return ((spread < 0.08) & g.image_present).float().numpy()


def image_features(g: MultimodalGraph) -> np.ndarray:
    image = g.image
    spread = (image.amax(1) - image.amin(1)).mean((1, 2), keepdim=True).flatten(1)
    return torch.cat(
        [
            image.mean((2, 3)),
            image.std((2, 3)),
            spread,
            torch.from_numpy(default_avatar_feature(g)).float().view(-1, 1),
            g.image_present.float().view(-1, 1),
        ],
        dim=1,
    ).numpy()


def numeric_features(g: MultimodalGraph) -> np.ndarray:
    x = torch.log1p(g.numeric)
    return torch.cat([torch.nan_to_num(x, 0.0), torch.isnan(x).float()], dim=1).numpy()


def categorical_features(g: MultimodalGraph) -> np.ndarray:
    columns = [
        torch.nn.functional.one_hot(g.categorical[:, c], len(vocab) + 1).float()
        for c, vocab in enumerate(g.categorical_vocabs)
    ]
    return torch.cat(columns, dim=1).numpy()


def graph_features(g: MultimodalGraph) -> np.ndarray:
    following = g.edge_index[:, g.edge_type == 0]
    n = g.num_nodes
    out_deg = torch.bincount(following[0], minlength=n).float()
    in_deg = torch.bincount(following[1], minlength=n).float()
    key = following[0] * n + following[1]
    reciprocated = torch.isin(following[1] * n + following[0], key).float()
    recip = torch.zeros(n).index_add_(0, following[0], reciprocated) / out_deg.clamp(min=1)
    return torch.stack([torch.log1p(out_deg), torch.log1p(in_deg), recip], dim=1).numpy()


MODALITY_FEATURES = {
    "text": text_features,
    "image": image_features,
    "numeric": numeric_features,
    "categorical": categorical_features,
    "graph": graph_features,
}


def decision_scores(g: MultimodalGraph, x: np.ndarray) -> np.ndarray:
    """Decision scores of all nodes from a logistic regression fit on the training nodes."""
    train, y = g.train_mask.numpy(), g.y.numpy()
    scaler = StandardScaler().fit(x[train])
    model = LogisticRegression(max_iter=3000, class_weight="balanced")
    model.fit(scaler.transform(x[train]), y[train])
    return model.decision_function(scaler.transform(x))


def held_out_scores(g: MultimodalGraph, x: np.ndarray, on: np.ndarray) -> tuple[float, float]:
    """Balanced accuracy and ROC AUC, on the nodes ``on``, of a model fit on training nodes."""
    y, scores = g.y.numpy()[on], decision_scores(g, x)[on]
    return float(balanced_accuracy_score(y, scores > 0)), float(roc_auc_score(y, scores))


def test_modalities_are_partly_informative_and_better_together(graph: MultimodalGraph) -> None:
    # Scored on the validation and test nodes together (never trained on): steadier numbers.
    held_out = (graph.val_mask | graph.test_mask).numpy()
    features = {name: f(graph) for name, f in MODALITY_FEATURES.items()}
    single = {name: held_out_scores(graph, x, held_out) for name, x in features.items()}
    together = np.concatenate(list(features.values()), axis=1)
    all_accuracy, all_auc = held_out_scores(graph, together, held_out)
    for name, (accuracy, auc) in single.items():
        # Each modality alone is above chance (0.5) but clearly below all of them together.
        assert 0.58 < accuracy < all_accuracy - 0.03, (name, single, all_accuracy)
        assert 0.62 < auc < all_auc - 0.04, (name, single, all_auc)

    # The interaction subgroup is out of reach of the concatenated modalities; the product of
    # the text style and avatar features opens it.
    t, d = style_feature(graph), default_avatar_feature(graph)
    with_product = np.concatenate([together, np.stack([t, d, t * d], axis=1)], axis=1)
    hard = graph.interaction_mask.numpy()
    _, concat_hard = held_out_scores(graph, together, held_out & hard)
    _, product_hard = held_out_scores(graph, with_product, held_out & hard)
    _, concat_rest = held_out_scores(graph, together, held_out & ~hard)
    assert abs(concat_hard - 0.5) < 0.1
    assert product_hard > concat_hard + 0.15
    assert concat_rest > 0.9


def test_interaction_needs_the_product_of_text_and_image() -> None:
    g = make_social_graph(1500, interaction_strength=0.5, image_size=16, seed=3)
    t, d = style_feature(g), default_avatar_feature(g)
    both = (g.text_present & g.image_present).numpy()
    # The observed features recover the latent style and avatar type.
    assert (t == g.text_style.numpy())[both].mean() > 0.93
    assert (d == g.default_avatar.numpy())[both].mean() > 0.99
    # On the subgroup, a linear model of the two features ranks bots no better than chance
    # (AUC, cross-validated); with their product it separates them.
    hard = g.interaction_mask.numpy() & both
    y = g.y.numpy()[hard]
    folds = StratifiedKFold(5, shuffle=True, random_state=0)

    def auc(x: np.ndarray) -> float:
        scores = cross_val_predict(
            LogisticRegression(), x[hard], y, cv=folds, method="decision_function"
        )
        return float(roc_auc_score(y, scores))

    linear, product = auc(np.stack([t, d], axis=1)), auc(np.stack([t, d, t * d], axis=1))
    assert abs(linear - 0.5) < 0.1
    assert product > 0.9


def test_interaction_subgroup_is_exactly_the_xor_and_label_free() -> None:
    g = make_social_graph(4000, interaction_strength=0.5, image_size=8, seed=5)
    hard = g.interaction_mask
    assert int(hard.sum()) == 2000
    assert int(g.y.sum()) == 1200
    t, d, y = g.text_style, g.default_avatar.long(), g.y
    assert torch.equal(y[hard], t[hard] ^ d[hard])
    # Inside the subgroup, style and avatar alone say nothing about the label ...
    for latent in (t, d):
        rate_bot = latent[hard & (y == 1)].float().mean()
        rate_human = latent[hard & (y == 0)].float().mean()
        assert abs(float(rate_bot - rate_human)) < 0.07
    # ... outside it each leans bot, and so does their exclusive or.
    for latent in (t, d, t ^ d):
        rate_bot = latent[~hard & (y == 1)].float().mean()
        rate_human = latent[~hard & (y == 0)].float().mean()
        assert float(rate_bot - rate_human) > 0.15
    # Inside the subgroup the counts do not depend on the label.
    age = torch.log1p(g.numeric[:, NUMERIC_NAMES.index("account_age_days")])
    observed = ~torch.isnan(age)
    gap = age[hard & observed & (y == 1)].mean() - age[hard & observed & (y == 0)].mean()
    outside = age[~hard & observed & (y == 1)].mean() - age[~hard & observed & (y == 0)].mean()
    assert abs(float(gap)) < 0.1 < abs(float(outside))


def test_interaction_strength_extremes() -> None:
    g = make_social_graph(300, interaction_strength=0.0, image_size=8, seed=1)
    assert not bool(g.interaction_mask.any())
    g = make_social_graph(300, interaction_strength=1.0, image_size=8, seed=1)
    assert bool(g.interaction_mask.all())
    assert torch.equal(g.y, g.text_style ^ g.default_avatar.long())


# ----------------------------------------------------------------------------- structure
def test_shapes_dtypes_and_validate(graph: MultimodalGraph) -> None:
    n = 2000
    assert graph.validate()
    assert graph.name == "synthetic"
    assert graph.num_nodes == n
    assert graph.node_id[:2] == ["u0000", "u0001"] and graph.node_id[-1] == "u1999"
    assert graph.class_names == ["human", "bot"] and graph.positive_class == 1
    assert graph.relation_names == ["following", "follower"]
    assert graph.modalities == ["text", "image", "numeric", "categorical", "sequence"]
    assert graph.image.shape == (n, 3, 16, 16) and graph.image.dtype == torch.float32
    assert float(graph.image.min()) >= 0.0 and float(graph.image.max()) <= 1.0
    assert graph.numeric.shape == (n, len(NUMERIC_NAMES)) and graph.numeric.is_floating_point()
    assert graph.numeric_names == list(NUMERIC_NAMES)
    assert graph.categorical.shape == (n, len(CATEGORICAL_NAMES))
    assert graph.categorical.dtype == torch.long
    assert graph.categorical_names == list(CATEGORICAL_NAMES)
    assert graph.edge_index.dtype == torch.long and graph.edge_type.dtype == torch.long
    assert graph.y.dtype == torch.long and set(graph.y.tolist()) == {0, 1}
    for key in ("interaction_mask", "default_avatar", "train_mask", "val_mask", "test_mask"):
        assert getattr(graph, key).dtype == torch.bool and getattr(graph, key).shape == (n,)
    assert graph.text_style.shape == (n,) and graph.community.shape == (n,)
    observed = graph.numeric[~torch.isnan(graph.numeric)]
    assert float(observed.min()) >= 0.0
    assert torch.equal(observed, observed.round())  # counts and whole days
    for texts, present in zip(graph.text, graph.text_present.tolist()):
        if present:
            assert isinstance(texts, list) and len(texts) == 4
            assert all(isinstance(t, str) and t for t in texts)
        else:
            assert texts is None
    assert graph.sequence.shape == (n, 28, len(ACTIVITY_VIEWS))
    assert graph.sequence.is_floating_point() and float(graph.sequence.min()) >= 0.0
    assert graph.sequence_names == list(ACTIVITY_VIEWS)
    assert graph.sequence_views == {"posts": 1, "replies": 1, "likes": 1}
    assert torch.equal(graph.sequence_length, torch.full((n,), 28))
    assert bool(graph.sequence_present.all())


def test_options_change_sizes() -> None:
    g = make_social_graph(
        50, image_size=16, num_tweets=1, activity_days=7, with_activity=True, seed=2
    )
    assert g.image.shape == (50, 3, 16, 16)
    assert all(len(t) == 2 for t in g.text if t is not None)
    assert g.sequence.shape == (50, 7, 3)
    assert "sequence" not in make_social_graph(50, image_size=8, seed=2)
    assert make_social_graph(50, seed=2).image.shape == (50, 3, 32, 32)  # the default size


def test_activity_is_drawn_last_so_the_other_fields_do_not_change() -> None:
    plain = make_social_graph(60, image_size=8, seed=3)
    active = make_social_graph(60, image_size=8, seed=3, with_activity=True)
    assert plain.text == active.text
    for key in ("image", "categorical", "edge_index", "y", "train_mask", "text_present"):
        assert torch.equal(getattr(plain, key), getattr(active, key)), key
    assert active.modalities == [*plain.modalities, "sequence"]


def test_stratified_split(graph: MultimodalGraph) -> None:
    masks = torch.stack([graph.train_mask, graph.val_mask, graph.test_mask])
    assert torch.equal(masks.sum(0), torch.ones(graph.num_nodes, dtype=torch.long))
    for mask, share in zip(masks, (0.6, 0.2, 0.2)):
        assert abs(int(mask.sum()) - share * graph.num_nodes) <= 2
        assert abs(float(graph.y[mask].float().mean()) - 0.3) < 0.01
    g = make_social_graph(200, split=(0.5, 0.1, 0.2), image_size=8, seed=0)
    assert int(g.train_mask.sum()) == 100 and int(g.test_mask.sum()) == 40


def test_determinism() -> None:
    a = make_social_graph(150, image_size=8, with_activity=True, seed=7)
    b = make_social_graph(150, image_size=8, with_activity=True, seed=7)
    c = make_social_graph(150, image_size=8, with_activity=True, seed=8)
    assert a.text == b.text
    assert torch.equal(a.image, b.image)
    torch.testing.assert_close(a.numeric, b.numeric, equal_nan=True, rtol=0, atol=0)
    for key in ("categorical", "edge_index", "edge_type", "y", "train_mask", "test_mask"):
        assert torch.equal(getattr(a, key), getattr(b, key)), key
    assert torch.equal(a.sequence, b.sequence)
    assert a.text != c.text
    assert not torch.equal(a.image, c.image)
    assert not torch.equal(a.y, c.y)
    assert a.edge_index.shape != c.edge_index.shape or not torch.equal(a.edge_index, c.edge_index)
    # seed=None draws fresh graphs, without touching the global random state.
    state = torch.get_rng_state()
    fresh = [make_social_graph(60, image_size=8, seed=None).text for _ in range(2)]
    assert fresh[0] != fresh[1]
    assert torch.equal(torch.get_rng_state(), state)


def test_subgraph_keeps_the_story_fields_aligned() -> None:
    g = make_social_graph(100, image_size=8, with_activity=True, seed=6)
    keep = g.y == 1
    sub = g.subgraph(keep)
    assert sub.validate() and sub.num_nodes == int(keep.sum())
    for key in ("interaction_mask", "text_style", "default_avatar", "community", "sequence"):
        assert torch.equal(getattr(sub, key), getattr(g, key)[keep]), key
    assert sub.text == [t for t, k in zip(g.text, keep.tolist()) if k]
    assert sub.sequence_names == list(ACTIVITY_VIEWS)


def test_follower_edges_reverse_following_edges(graph: MultimodalGraph) -> None:
    following = graph.edge_index[:, graph.edge_type == 0]
    follower = graph.edge_index[:, graph.edge_type == 1]
    assert following.size(1) == follower.size(1) == graph.edge_index.size(1) // 2
    assert torch.equal(follower, following.flip(0))
    n = graph.num_nodes
    key = following[0] * n + following[1]
    assert torch.unique(key).numel() == key.numel()  # no duplicate follows
    assert not bool((following[0] == following[1]).any())  # no self-follows


def test_bots_and_humans_connect_differently(graph: MultimodalGraph) -> None:
    following = graph.edge_index[:, graph.edge_type == 0]
    n = graph.num_nodes
    out_deg = torch.bincount(following[0], minlength=n).float()
    in_deg = torch.bincount(following[1], minlength=n).float()
    ordinary = ~graph.interaction_mask
    human, bot = ordinary & (graph.y == 0), ordinary & (graph.y == 1)
    # Bots follow many and are followed by few.
    assert out_deg[bot].mean() > 1.3 * out_deg[human].mean()
    assert in_deg[bot].mean() < 0.85 * in_deg[human].mean()
    # Humans follow inside their community far more than chance (1 / communities).
    src, dst = following
    from_human = human[src]
    same = (graph.community[src] == graph.community[dst])[from_human].float().mean()
    assert float(same) > 0.6 > 3 / int(graph.community.max() + 1)
    # Bots follow bots (their rings) much more often than humans do.
    to_bot = (graph.y[dst] == 1) & ordinary[dst]
    assert to_bot[bot[src]].float().mean() > 2 * to_bot[from_human].float().mean()


def test_missing_rate_and_presence() -> None:
    g = make_social_graph(3000, missing_rate=0.2, image_size=8, seed=4)
    for modality in ("text", "image", "numeric", "categorical"):
        missing = 1.0 - float(g.presence_mask(modality).float().mean())
        assert abs(missing - 0.2) < 0.03, modality
    present = {m: g.presence_mask(m) for m in ("text", "image", "numeric", "categorical")}
    # Modalities go missing independently of each other.
    both = float((~present["text"] & ~present["image"]).float().mean())
    assert abs(both - 0.04) < 0.015
    assert [t is None for t in g.text] == (~present["text"]).tolist()
    assert float(g.image[~present["image"]].abs().max()) == 0.0
    assert bool((g.image[present["image"]].flatten(1).amax(1) > 0).all())
    nan = torch.isnan(g.numeric)
    assert torch.equal(nan.all(1), ~present["numeric"])
    partial = nan[present["numeric"]].float().mean()  # scattered values, about rate / 2
    assert 0.05 < float(partial) < 0.15
    codes = g.categorical
    assert torch.equal((codes == 0).all(1), ~present["categorical"])
    assert bool((codes[present["categorical"]] == 0).any())

    full = make_social_graph(300, missing_rate=0.0, image_size=8, seed=4)
    for modality in ("text", "image", "numeric", "categorical"):
        assert bool(full.presence_mask(modality).all())
    assert not bool(torch.isnan(full.numeric).any()) and bool((full.categorical > 0).all())


def test_text_and_images_follow_the_story(graph: MultimodalGraph) -> None:
    ordinary = ~graph.interaction_mask & graph.text_present
    words = [" ".join(t).split() if t is not None else [] for t in graph.text]
    bot_topics = set(VOCABULARY["bot_topics"])
    topic_share = torch.tensor([sum(w in bot_topics for w in ws) / max(len(ws), 1) for ws in words])
    human, bot = ordinary & (graph.y == 0), ordinary & (graph.y == 1)
    assert topic_share[bot].mean() > 2 * topic_share[human].mean() > 0  # shared, other rates
    # Default avatars are one silhouette: close to each other, unlike the varied ones.
    default = graph.default_avatar & graph.image_present
    varied = ~graph.default_avatar & graph.image_present
    mean_default = graph.image[default].mean(0)
    dist_default = (graph.image[default] - mean_default).abs().mean((1, 2, 3))
    dist_varied = (graph.image[varied] - mean_default).abs().mean((1, 2, 3))
    assert float(dist_default.max()) < 0.1 < float(dist_varied.quantile(0.05))


def test_activity_bots_regular_humans_bursty(graph: MultimodalGraph) -> None:
    posts = graph.sequence[:, :, ACTIVITY_VIEWS.index("posts")]
    variation = posts.std(1) / posts.mean(1).clamp(min=1e-3)
    ordinary = ~graph.interaction_mask
    bots = variation[ordinary & (graph.y == 1)].median()
    humans = variation[ordinary & (graph.y == 0)].median()
    assert float(bots) < 0.75 * float(humans)


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_nodes": 5}, ValueError, "'num_nodes' to be at least 10"),
        ({"num_nodes": 100.0}, TypeError, "'num_nodes' to be an int"),
        ({"bot_fraction": 0.0}, ValueError, r"'bot_fraction' in \(0, 1\)"),
        ({"bot_fraction": 1.0}, ValueError, r"'bot_fraction' in \(0, 1\)"),
        ({"missing_rate": 1.5}, ValueError, r"'missing_rate' in \[0, 1\]"),
        ({"interaction_strength": -0.1}, ValueError, r"'interaction_strength' in \[0, 1\]"),
        ({"image_size": 4}, ValueError, "'image_size' to be at least 8"),
        ({"num_tweets": -1}, ValueError, "'num_tweets' to be at least 0"),
        ({"activity_days": 0}, ValueError, "'activity_days' to be at least 1"),
        ({"mean_following": 0.0}, ValueError, "'mean_following' to be positive"),
        ({"num_communities": 0}, ValueError, "'num_communities' to be at least 1"),
        ({"split": (0.8, 0.2)}, ValueError, "'split' to hold three fractions"),
        ({"split": (0.8, 0.2, 0.2)}, ValueError, "sum to at most 1"),
        ({"seed": 1.5}, TypeError, "'seed' to be an int or None"),
    ],
)
def test_invalid_arguments(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make_social_graph(**{"num_nodes": 50, "image_size": 8, **kwargs})


def test_tiny_graph() -> None:
    g = make_social_graph(10, image_size=8, seed=0)
    assert g.validate() and int(g.y.sum()) == 3
    assert bool(torch.isfinite(g.image).all())
    assert int(g.train_mask.sum()) == 6
