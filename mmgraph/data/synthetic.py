r"""A seeded synthetic social graph with planted bots: the built-in data set ``synthetic``.

:func:`make_social_graph` draws a follow graph whose nodes are accounts with text (a profile
description and a few tweets), an avatar image, numeric counts and categorical flags, labelled
``human`` or ``bot``. Every modality carries part of the label signal, none carries all of it,
and in one subgroup of nodes the label lies only in the *product* of two modalities (text style
times avatar type), so that fusion heads that multiply modality features have something to win.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from mmgraph.data._checks import check_int, check_seed
from mmgraph.data.graph import MISSING_CODE, MultimodalGraph
from mmgraph.data.split import stratified_split
from mmgraph.seed import make_generator

logger = logging.getLogger(__name__)

HUMAN, BOT, NEUTRAL = 0, 1, 2
"""Behaviour profiles: a human, a bot, and the label-free profile of the interaction subgroup."""

CLASS_NAMES: tuple[str, ...] = ("human", "bot")
RELATION_NAMES: tuple[str, ...] = ("following", "follower")
NUMERIC_NAMES: tuple[str, ...] = (
    "followers_count",
    "friends_count",
    "statuses_count",
    "favourites_count",
    "listed_count",
    "account_age_days",
)
CATEGORICAL_NAMES: tuple[str, ...] = ("verified", "default_profile", "geo_enabled", "lang")
CATEGORICAL_VOCABS: tuple[tuple[str, ...], ...] = (
    ("false", "true"),
    ("false", "true"),
    ("false", "true"),
    ("en", "es", "fr", "de", "pt", "it"),
)
ACTIVITY_VIEWS: tuple[str, ...] = ("posts", "replies", "likes")
"""The views (channels) of the optional activity sequence, one count per day each."""
_MISSABLE: tuple[str, ...] = ("text", "image", "numeric", "categorical")
"""The modalities a node may miss (activity never is)."""

VOCABULARY: dict[str, tuple[str, ...]] = {
    "human_topics": (
        "family", "coffee", "weekend", "friends", "music", "hiking", "books", "cooking", "dog",
        "garden", "football", "movies", "travel", "kids", "school", "beach", "pizza", "concert",
        "running", "art",
    ),
    "bot_topics": (
        "crypto", "giveaway", "followback", "deal", "discount", "bitcoin", "free", "promo",
        "click", "link", "win", "airdrop", "nft", "bonus", "offer", "profit", "signals",
        "trading", "earn", "subscribe",
    ),
    "shared": (
        "today", "news", "new", "great", "check", "day", "people", "time", "world", "life",
        "best", "good", "really", "happy", "week", "morning", "night", "just", "now", "still",
    ),
    "plain_style": (
        "indeed", "honestly", "perhaps", "anyway", "thanks", "quite", "rather", "apparently",
    ),
    "loud_style": ("omg", "wow", "lol", "amazing", "awesome", "yay", "insane", "epic"),
}  # fmt: skip
"""Word lists of the text templates: topic words (both classes use both lists, at different
rates), shared filler words, and the markers of the two writing styles (``t = 0`` plain,
``t = 1`` loud)."""

_DESCRIPTION_TEMPLATES = (
    "{c0} and {c1} {n0} {s0}",
    "{c0} | {c1} | {c2} {s0}",
    "{s0} i love {c0} {n0} and {c1}",
    "{n0} {c0} {c1} fan {s0}",
)
_TWEET_TEMPLATES = (
    "{s0} {n0} {c0} {c1} {s1}",
    "{c0} {n0} {n1} {s0}",
    "{n0} {c0} with {c1} {s0} {s1}",
    "{s0} {c0} {c1} {c2} {n0}",
)
_PUNCTUATION = (".", "!!!")

# Joint law of (text style t, default avatar d) outside the interaction subgroup, over the
# cells (t, d) = (0, 0), (0, 1), (1, 0), (1, 1). Each of t and d alone leans bot, and their
# exclusive or leans bot even more: bots usually show exactly one of the two tells.
_STYLE_AVATAR_LAW = torch.tensor(
    [
        [0.55, 0.15, 0.15, 0.15],  # human: P(t=1) = P(d=1) = 0.30, P(t xor d) = 0.30
        [0.10, 0.35, 0.35, 0.20],  # bot:   P(t=1) = P(d=1) = 0.55, P(t xor d) = 0.70
    ]
)
# Reciprocation: probability that the followed account follows back, by [followed, follower].
_FOLLOW_BACK = torch.tensor([[0.35, 0.10], [0.30, 0.60]])
# Where an account's follows go: [own community, popular anywhere, uniform anywhere, own ring],
# per profile (the neutral one is in no ring).
_EDGE_KINDS = torch.tensor(
    [[0.70, 0.20, 0.10, 0.00], [0.25, 0.35, 0.25, 0.15], [0.50, 0.30, 0.20, 0.00]]
)
_LANG_LAW = (  # en, es, fr, de, pt, it: human, bot
    (0.50, 0.15, 0.10, 0.10, 0.10, 0.05),
    (0.75, 0.10, 0.05, 0.03, 0.05, 0.02),
)
_STYLE_FIDELITY = 0.8  # probability that a style marker comes from the node's own style t
_RING_SIZE = 8
_MAX_SHAPES = 4
_SHAPE_COUNT_LAW = (  # number of shapes (1 to 4) on a varied avatar: human, bot
    (0.0, 1 / 3, 1 / 3, 1 / 3),
    (0.6, 0.4, 0.0, 0.0),
)
_NOISE_BANK = 1024
_PLATFORM_SCALE = 20.0  # the graph is a sample: counts are about this many times its degrees


def _by_profile(human: float, bot: float) -> Tensor:
    """A parameter per profile ``[3]``: human, bot, and their midpoint for the neutral one."""
    return torch.tensor([human, bot, (human + bot) / 2])


def _laws_by_profile(human: Sequence[float], bot: Sequence[float]) -> Tensor:
    """A categorical law per profile ``[3, K]``: human, bot, and their mixture (neutral)."""
    laws = torch.tensor([list(human), list(bot)])
    return torch.cat([laws, laws.mean(0, keepdim=True)])


def _uniform(lo: Tensor, hi: Tensor, gen: torch.Generator) -> Tensor:
    return lo + (hi - lo) * torch.rand(lo.shape, generator=gen)


def _lognormal(log_mean: Tensor, sigma: float, gen: torch.Generator) -> Tensor:
    return torch.exp(log_mean + sigma * torch.randn(log_mean.shape, generator=gen))


def make_social_graph(
    num_nodes: int = 2000,
    bot_fraction: float = 0.3,
    missing_rate: float = 0.1,
    image_size: int = 32,
    interaction_strength: float = 0.3,
    with_activity: bool = False,
    split: Sequence[float] = (0.6, 0.2, 0.2),
    seed: int | None = 0,
    *,
    num_tweets: int = 3,
    activity_days: int = 28,
    mean_following: float = 10.0,
    num_communities: int | None = None,
) -> MultimodalGraph:
    r"""Draw a multimodal social graph of humans and planted bots (the data set ``synthetic``).

    **Generative story.** Node labels are drawn first: exactly
    ``round(bot_fraction * num_nodes)`` bots, at random positions. Independently of the label,
    a share ``interaction_strength`` of the nodes forms the *interaction subgroup*
    (``interaction_mask``). Every node then gets a *behaviour profile*: its label outside the
    subgroup, and a third, label-free *neutral* profile inside it, whose parameters lie midway
    between the human and the bot ones. Counts, flags, topic words, avatar colours, activity
    and graph position are all drawn from the profile, so inside the subgroup they say nothing
    about the label. Two binary latents carry the rest:

    * the writing style :math:`t \in \{0, 1\}` (``text_style``): plain or loud, visible
      through style marker words (``VOCABULARY["plain_style"]`` / ``["loud_style"]``, 80% of
      the markers from the node's own style) and end punctuation;
    * the avatar type :math:`d \in \{0, 1\}` (``default_avatar``): a varied picture or the
      default silhouette.

    Inside the subgroup :math:`t` is a fair coin and :math:`d = t \oplus y`, so the label is
    the exclusive or :math:`y = t \oplus d`: neither :math:`t` nor :math:`d` nor any weighted
    sum of them predicts it, their product does
    (:math:`t \oplus d = t + d - 2td`). Outside it, :math:`(t, d)` follow a class-dependent
    law in which each leans bot on its own (:math:`P(t{=}1) = P(d{=}1) = 0.55` for bots,
    :math:`0.30` for humans) and their exclusive or leans bot too (0.70 against 0.30: bots
    usually show exactly one of the two tells), so one rule, "bot when :math:`t \oplus d`",
    holds everywhere and a fusion head needs no subgroup switch to use it.

    Where the signal lies (profiles: human / bot; neutral is the midpoint):

    * **graph** (``following`` edges, ``u -> v`` when ``u`` follows ``v``; ``follower`` edges
      are exactly their reverses, ``v -> u`` read "``v`` has follower ``u``"): humans follow
      about ``mean_following`` accounts (log-normal), 70% inside their community
      (homophily), 20% popular accounts anywhere, 10% anyone; bots follow 1.8 times as many,
      15% inside their *bot ring* (groups of 8 bots), 25% in their community, 35% popular
      accounts, 25% anyone (camouflage); the neutral profile, in no ring, 50% in its
      community, 30% popular accounts, 20% anyone. Targets are picked in proportion to a
      log-normal popularity, :math:`e^{-1.5}` times lower for bots. The followed account
      follows back with probability 0.35 (a human followed by a human), 0.10 (a human followed
      by a bot), 0.30 (a bot followed by a human) or 0.60 (a bot followed by a bot). Bots thus
      follow many and are followed by few. ``community`` holds each node's community.
    * **numeric** (raw, right-skewed, worth a ``log1p``): ``followers_count`` and
      ``friends_count`` scale the graph's in- and out-degree by about 20 (log-normal noise);
      ``account_age_days`` is log-normal around 900 days (humans) or 400 (bots);
      ``statuses_count`` is age times a posting rate around 2 (humans) or 5 (bots) per day;
      ``favourites_count`` is age times a like rate around 3 (humans) or 1.5 (bots) per day;
      ``listed_count`` is Poisson with 1% (humans) or 0.4% (bots) of the followers.
    * **categorical**: ``verified`` (6% / 0.5%), ``default_profile`` (20% / 65%),
      ``geo_enabled`` (45% / 15%), ``lang`` (en, es, fr, de, pt, it; bots lean en).
    * **text** (one list per node: the profile description, then ``num_tweets`` tweets, all
      from templates): topic words from ``VOCABULARY["bot_topics"]`` with probability 0.15
      (humans) or 0.5 (bots), otherwise from ``["human_topics"]``; shared filler words; style
      markers and punctuation from :math:`t`.
    * **image** (``[N, 3, image_size, image_size]`` in ``[0, 1]``): :math:`d = 1` draws the
      default avatar (a grey head-and-shoulders silhouette with small grey-level, tint and
      position jitter and pixel noise); :math:`d = 0` a varied one (a coloured background and
      1 to 4 circles or rectangles, solid, striped or checkered), whose colours are muted
      (saturation 0.25-0.6) with 2 to 4 shapes for humans and vivid (0.6-0.95) with 1 or 2
      shapes for bots.
    * **activity** (only with ``with_activity``): the ``sequence`` modality, float
      ``[N, T, V]`` with ``T = activity_days`` days (``sequence_length`` ``T`` for every node)
      and ``V = 3`` views (``ACTIVITY_VIEWS``: posts, replies, likes per day, the graph's
      ``sequence_names``), Poisson counts around the
      node's posting rate (the one behind ``statuses_count``), reply rate (60% / 5% of the
      posts) and like rate, times a daily modulation of mean 1 that mixes a regular schedule
      (a cosine of period 2, 3 or 7 days) with a bursty one (a log-normal AR(1) process,
      persistent from day to day). The regular share is drawn from ``[0, 0.25]`` for humans
      (bursty), ``[0.75, 1]`` for bots (periodic) and ``[0.375, 0.625]`` for the neutral
      profile. Activity is never missing. It is drawn after everything else, so the other
      fields are those of the graph drawn without it.

    **Missing modalities.** Each of text, image, numeric and categorical is missing for a node
    with probability ``missing_rate``, independently per node and modality: the text is
    :obj:`None`, the image is zeros with ``image_present`` false, the numeric row is all
    ``NaN``, the categorical row all code 0. Inside present rows, each numeric value and each
    categorical flag is missing with probability ``missing_rate / 2`` (at least one stays).

    The ground truth of the story travels with the graph: ``interaction_mask`` (bool ``[N]``),
    ``text_style`` (long ``[N]``, :math:`t`), ``default_avatar`` (bool ``[N]``, :math:`d`) and
    ``community`` (long ``[N]``). Models must not read them; evaluations may (for instance,
    accuracy on the interaction subgroup).

    Args:
        num_nodes (int, optional): Number of accounts. (default: :obj:`2000`)
        bot_fraction (float, optional): Share of bots, in ``(0, 1)``. (default: :obj:`0.3`)
        missing_rate (float, optional): Probability that a modality is missing for a node, in
            ``[0, 1]``. (default: :obj:`0.1`)
        image_size (int, optional): Side of the square avatars, at least 8.
            (default: :obj:`32`)
        interaction_strength (float, optional): Share of nodes in the interaction subgroup,
            whose label is decided by text style times avatar type, in ``[0, 1]``.
            (default: :obj:`0.3`)
        with_activity (bool, optional): If set, adds the activity sequences (the
            ``sequence`` modality).
            (default: :obj:`False`)
        split (Sequence[float], optional): Train, validation and test fractions of the
            stratified split. (default: :obj:`(0.6, 0.2, 0.2)`)
        seed (int, optional): Seed of every draw; :obj:`None` draws a fresh one.
            (default: :obj:`0`)
        num_tweets (int, optional): Tweets per node, after the description. (default: :obj:`3`)
        activity_days (int, optional): Length ``T`` of the activity sequences.
            (default: :obj:`28`)
        mean_following (float, optional): Typical number of accounts a human follows in the
            graph. (default: :obj:`10.0`)
        num_communities (int, optional): Number of communities; by default one per 150 nodes
            (at least 2). (default: :obj:`None`)

    Returns:
        MultimodalGraph: named ``"synthetic"``, node ids ``"u0000"``, ``"u0001"``, ...,
        ``class_names=["human", "bot"]``, ``positive_class=1``, with ``train_mask``,
        ``val_mask`` and ``test_mask`` set.

    Shapes:
        N nodes, E following edges (``edge_index`` is ``[2, 2E]``: the ``following`` edges,
        then the ``follower`` ones), 6 numeric columns, 4 categorical columns.
    """
    _check_arguments(
        num_nodes,
        bot_fraction,
        missing_rate,
        image_size,
        interaction_strength,
        split,
        num_tweets,
        activity_days,
        mean_following,
        num_communities,
        seed,
    )
    n = num_nodes
    gen = make_generator(seed)

    y, hard, style, default = _draw_latents(n, bot_fraction, interaction_strength, gen)
    profile = torch.where(hard, torch.full_like(y, NEUTRAL), y)
    k = num_communities if num_communities is not None else max(2, round(n / 150))
    community = torch.randint(0, k, (n,), generator=gen)
    following = _follow_graph(profile, community, k, mean_following, gen)

    out_degree = torch.bincount(following[0], minlength=n).float()
    in_degree = torch.bincount(following[1], minlength=n).float()
    numeric, post_rate, like_rate = _numeric(profile, in_degree, out_degree, gen)
    categorical = _categorical(profile, gen)
    text = _texts(profile, style, num_tweets, gen)
    image = _avatars(profile, default, image_size, gen)
    present = {m: torch.rand(n, generator=gen) >= missing_rate for m in _MISSABLE}
    texts = [t if p else None for t, p in zip(text, present["text"].tolist())]
    image[~present["image"]] = 0.0
    numeric[_missing_cells(present["numeric"], numeric.size(1), missing_rate, gen)] = math.nan
    cat_missing = _missing_cells(present["categorical"], categorical.size(1), missing_rate, gen)
    categorical[cat_missing] = MISSING_CODE

    num_following = following.size(1)
    edge_index = torch.cat([following, following.flip(0)], dim=1)
    edge_type = torch.cat(
        [torch.zeros(num_following, dtype=torch.long), torch.ones(num_following, dtype=torch.long)]
    )
    split_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
    # Drawn last, so that the other fields are those of the graph without activity.
    activity = (
        _activity(profile, post_rate, like_rate, activity_days, gen) if with_activity else None
    )
    train, val, test = (float(f) for f in split)
    train_mask, val_mask, test_mask = stratified_split(y, train, val, test, seed=split_seed)
    width = max(4, len(str(n - 1)))
    graph = MultimodalGraph(
        edge_index,
        num_nodes=n,
        text=texts,
        image=image,
        numeric=numeric,
        categorical=categorical,
        sequence=activity,
        sequence_names=None if activity is None else list(ACTIVITY_VIEWS),
        presence=present,
        edge_type=edge_type,
        y=y,
        class_names=list(CLASS_NAMES),
        positive_class=1,
        train_mask=train_mask,
        val_mask=val_mask,
        test_mask=test_mask,
        node_id=[f"u{i:0{width}d}" for i in range(n)],
        numeric_names=list(NUMERIC_NAMES),
        categorical_names=list(CATEGORICAL_NAMES),
        categorical_vocabs=[list(v) for v in CATEGORICAL_VOCABS],
        relation_names=list(RELATION_NAMES),
        name="synthetic",
        interaction_mask=hard,
        text_style=style,
        default_avatar=default.bool(),
        community=community,
    )
    logger.debug("Drew %r", graph)
    return graph


def _check_arguments(
    num_nodes: int,
    bot_fraction: float,
    missing_rate: float,
    image_size: int,
    interaction_strength: float,
    split: Sequence[float],
    num_tweets: int,
    activity_days: int,
    mean_following: float,
    num_communities: int | None,
    seed: int | None,
) -> None:
    check_seed(seed)
    check_int(num_nodes, "num_nodes", 10)
    check_int(image_size, "image_size", 8)
    check_int(num_tweets, "num_tweets", 0)
    check_int(activity_days, "activity_days", 1)
    if num_communities is not None:
        check_int(num_communities, "num_communities", 1)
    if not 0.0 < bot_fraction < 1.0:
        raise ValueError(
            f"Expected 'bot_fraction' in (0, 1) (got {bot_fraction}); both classes must occur"
        )
    for name, value in (
        ("missing_rate", missing_rate),
        ("interaction_strength", interaction_strength),
    ):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"Expected '{name}' in [0, 1] (got {value})")
    if not mean_following > 0:
        raise ValueError(f"Expected 'mean_following' to be positive (got {mean_following})")
    if isinstance(split, (str, bytes)) or len(split) != 3:
        raise ValueError(
            f"Expected 'split' to hold three fractions (train, val, test) (got {split!r})"
        )


def _draw_latents(
    n: int, bot_fraction: float, interaction_strength: float, gen: torch.Generator
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Labels, interaction subgroup, text style ``t`` and default avatar ``d``, each ``[N]``."""
    num_bots = min(max(round(bot_fraction * n), 1), n - 1)
    y = torch.zeros(n, dtype=torch.long)
    y[torch.randperm(n, generator=gen)[:num_bots]] = 1
    hard = torch.zeros(n, dtype=torch.bool)
    hard[torch.randperm(n, generator=gen)[: round(interaction_strength * n)]] = True
    cell = torch.multinomial(_STYLE_AVATAR_LAW[y], 1, generator=gen).view(-1)
    coin = torch.randint(0, 2, (n,), generator=gen)
    style = torch.where(hard, coin, cell // 2)
    default = torch.where(hard, coin ^ y, cell % 2)
    return y, hard, style, default


def _follow_graph(
    profile: Tensor, community: Tensor, k: int, mean_following: float, gen: torch.Generator
) -> Tensor:
    """The ``following`` edges ``[2, E]`` (``u -> v``: ``u`` follows ``v``), coalesced."""
    n = profile.numel()
    popularity = _lognormal(_by_profile(0.0, -1.5)[profile], 1.0, gen)
    log_out = _by_profile(math.log(mean_following), math.log(1.8 * mean_following))[profile]
    out_degree = _lognormal(log_out, 0.7, gen).round().clamp(1, n - 1).long()
    src = torch.repeat_interleave(torch.arange(n), out_degree)
    kind = torch.multinomial(_EDGE_KINDS[profile[src]], 1, generator=gen).view(-1)

    # Bot rings: the bots outside the interaction subgroup, shuffled and cut into groups.
    bots = (profile == BOT).nonzero().view(-1)
    bots = bots[torch.randperm(bots.numel(), generator=gen)]
    ring_start = torch.zeros(n, dtype=torch.long)
    ring_len = torch.ones(n, dtype=torch.long)
    pos = torch.arange(bots.numel())
    ring_start[bots] = (pos // _RING_SIZE) * _RING_SIZE
    ring_len[bots] = (bots.numel() - ring_start[bots]).clamp(max=_RING_SIZE)
    kind[(kind == 3) & (ring_len[src] < 2)] = 1

    dst = torch.empty_like(src)
    is_global = kind == 1
    if bool(is_global.any()):
        dst[is_global] = torch.multinomial(
            popularity, int(is_global.sum()), replacement=True, generator=gen
        )
    is_uniform = kind == 2
    dst[is_uniform] = torch.randint(0, n, (int(is_uniform.sum()),), generator=gen)
    is_ring = kind == 3
    ring_src = src[is_ring]
    offset = (torch.rand(ring_src.numel(), generator=gen) * ring_len[ring_src]).long()
    dst[is_ring] = bots[ring_start[ring_src] + offset]
    for c in range(k):
        edges = ((kind == 0) & (community[src] == c)).nonzero().view(-1)
        members = (community == c).nonzero().view(-1)
        if edges.numel() == 0:
            continue
        pick = torch.multinomial(
            popularity[members], edges.numel(), replacement=True, generator=gen
        )
        dst[edges] = members[pick]

    # Follow-backs, by the profiles of the followed and the following account.
    back = torch.zeros(3, 3)
    back[:2, :2] = _FOLLOW_BACK
    back[2, :2] = _FOLLOW_BACK.mean(0)
    back[:, 2] = back[:, :2].mean(1)
    follows_back = torch.rand(src.numel(), generator=gen) < back[profile[dst], profile[src]]
    edges = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])[:, follows_back]], dim=1)
    edges = edges[:, edges[0] != edges[1]]
    key = torch.unique(edges[0] * n + edges[1])
    return torch.stack([key // n, key % n])


def _numeric(
    profile: Tensor, in_degree: Tensor, out_degree: Tensor, gen: torch.Generator
) -> tuple[Tensor, Tensor, Tensor]:
    """The numeric columns ``[N, 6]`` (see :data:`NUMERIC_NAMES`), posting and like rates."""
    age = _lognormal(_by_profile(math.log(900), math.log(400))[profile], 0.8, gen)
    age = age.clamp(1, 5000).round()
    post_rate = _lognormal(_by_profile(math.log(2.0), math.log(5.0))[profile], 1.0, gen)
    like_rate = _lognormal(_by_profile(math.log(3.0), math.log(1.5))[profile], 1.0, gen)
    unit = torch.zeros_like(age)  # log-mean of a log-normal noise factor around 1
    statuses = (post_rate * age * _lognormal(unit, 0.3, gen)).floor()
    favourites = (like_rate * age * _lognormal(unit, 0.3, gen)).floor()
    followers = ((in_degree + 0.5) * _PLATFORM_SCALE * _lognormal(unit, 0.7, gen)).floor()
    friends = ((out_degree + 0.5) * _PLATFORM_SCALE * _lognormal(unit, 0.7, gen)).floor()
    listed = torch.poisson(followers * _by_profile(0.01, 0.004)[profile], generator=gen)
    numeric = torch.stack([followers, friends, statuses, favourites, listed, age], dim=1)
    return numeric, post_rate, like_rate


def _categorical(profile: Tensor, gen: torch.Generator) -> Tensor:
    """The categorical codes ``[N, 4]`` (see :data:`CATEGORICAL_NAMES`), before missingness."""
    n = profile.numel()
    flags = [_by_profile(0.06, 0.005), _by_profile(0.2, 0.65), _by_profile(0.45, 0.15)]
    columns = [(torch.rand(n, generator=gen) < p[profile]).long() + 1 for p in flags]
    lang_law = _laws_by_profile(*_LANG_LAW)[profile]
    columns.append(torch.multinomial(lang_law, 1, generator=gen).view(-1) + 1)
    return torch.stack(columns, dim=1)


def _missing_cells(
    present: Tensor, width: int, missing_rate: float, gen: torch.Generator
) -> Tensor:
    """Bool ``[N, width]``: whole rows of absent nodes, scattered cells (not all) of the rest."""
    n = present.numel()
    cells = torch.rand(n, width, generator=gen) < missing_rate / 2
    keep = torch.randint(0, width, (n,), generator=gen)
    cells[torch.arange(n), keep] = False
    cells[~present] = True
    return cells


def _words(vocabulary: Sequence[str], u: Tensor) -> np.ndarray:
    """Words drawn uniformly from ``vocabulary`` by the uniforms ``u``, as a string array."""
    index = (u * len(vocabulary)).long().clamp(max=len(vocabulary) - 1)
    return np.asarray(vocabulary, dtype=object)[index.numpy()]


def _texts(
    profile: Tensor, style: Tensor, num_tweets: int, gen: torch.Generator
) -> list[list[str]]:
    """Per node, the profile description then ``num_tweets`` tweets, from templates."""
    n, m = profile.numel(), num_tweets + 1
    bot_topic = torch.rand(n, m, 3, generator=gen) < _by_profile(0.15, 0.5)[profile].view(n, 1, 1)
    topic_u = torch.rand(n, m, 3, generator=gen)
    topics = np.where(
        bot_topic.numpy(),
        _words(VOCABULARY["bot_topics"], topic_u),
        _words(VOCABULARY["human_topics"], topic_u),
    )
    shared = _words(VOCABULARY["shared"], torch.rand(n, m, 2, generator=gen))
    own_style = torch.rand(n, m, 3, generator=gen) < _STYLE_FIDELITY
    marker_style = torch.where(own_style, style.view(n, 1, 1), 1 - style.view(n, 1, 1))
    marker_u = torch.rand(n, m, 2, generator=gen)
    markers = np.where(
        marker_style[..., :2].bool().numpy(),
        _words(VOCABULARY["loud_style"], marker_u),
        _words(VOCABULARY["plain_style"], marker_u),
    )
    punctuation = np.asarray(_PUNCTUATION, dtype=object)[marker_style[..., 2].numpy()]
    template_u = torch.rand(n, m, generator=gen)
    templates = np.concatenate(
        [
            _words(_DESCRIPTION_TEMPLATES, template_u[:, :1]),
            _words(_TWEET_TEMPLATES, template_u[:, 1:]),
        ],
        axis=1,
    )
    return [
        [
            templates[i, j].format(
                c0=topics[i, j, 0],
                c1=topics[i, j, 1],
                c2=topics[i, j, 2],
                n0=shared[i, j, 0],
                n1=shared[i, j, 1],
                s0=markers[i, j, 0],
                s1=markers[i, j, 1],
            )
            + punctuation[i, j]
            for j in range(m)
        ]
        for i in range(n)
    ]


def _hsv_to_rgb(h: Tensor, s: Tensor, v: Tensor) -> Tensor:
    """Colours ``[..., 3]`` from hue, saturation and value in ``[0, 1]``."""

    def channel(shift: float) -> Tensor:
        k = (shift + h * 6) % 6
        return v - v * s * torch.minimum(k, 4 - k).clamp(0, 1)

    return torch.stack([channel(5), channel(3), channel(1)], dim=-1)


def _avatars(profile: Tensor, default: Tensor, size: int, gen: torch.Generator) -> Tensor:
    """Avatars ``[N, 3, size, size]`` in ``[0, 1]``: default silhouettes where ``default``.

    Each avatar is a palette of up to five colours and a map of which colour each pixel takes.
    """
    n = profile.numel()
    grid = (torch.arange(size, dtype=torch.float) + 0.5) / size
    yy, xx = grid.view(1, size, 1), grid.view(1, 1, size)
    palette = torch.zeros(n, _MAX_SHAPES + 1, 3)
    layer = torch.zeros(n, size, size, dtype=torch.uint8)  # 0: background, s: shape s

    idx = default.bool().nonzero().view(-1)
    m = idx.numel()
    jitter = (torch.rand(m, 2, 1, 1, generator=gen) - 0.5) * 0.06
    cx, cy = 0.5 + jitter[:, 0], 0.38 + jitter[:, 1]
    head = (xx - cx) ** 2 + (yy - cy) ** 2 < 0.17**2
    shoulders = ((xx - cx) / 0.34) ** 2 + ((yy - 1.0) / 0.33) ** 2 < 1.0
    levels = torch.tensor([0.80, 0.55]) + (torch.rand(m, 2, generator=gen) - 0.5) * 0.1
    tint = (torch.rand(m, 1, 3, generator=gen) - 0.5) * 0.06
    palette[idx, :2] = levels.unsqueeze(2) + tint  # background grey, silhouette grey
    layer[idx] = (head | shoulders).to(torch.uint8)

    idx = (~default.bool()).nonzero().view(-1)
    m = idx.numel()
    p = profile[idx]
    saturation = _uniform(_by_profile(0.25, 0.6)[p], _by_profile(0.6, 0.95)[p], gen)
    hue = torch.rand(m, _MAX_SHAPES + 1, generator=gen)
    value = 0.45 + 0.55 * torch.rand(m, _MAX_SHAPES + 1, generator=gen)
    palette[idx] = _hsv_to_rgb(hue, saturation.view(m, 1).expand_as(hue), value)
    shape_law = _laws_by_profile(*_SHAPE_COUNT_LAW)[p]
    num_shapes = torch.multinomial(shape_law, 1, generator=gen).view(-1) + 1
    for slot in range(1, _MAX_SHAPES + 1):
        on = idx[num_shapes >= slot]
        k = on.numel()
        centre = (0.15 + 0.7 * torch.rand(k, 2, 1, 1, generator=gen)).unbind(1)
        half = (0.1 + 0.25 * torch.rand(k, 2, 1, 1, generator=gen)).unbind(1)
        dx, dy = (xx - centre[0]).abs(), (yy - centre[1]).abs()
        is_circle = torch.rand(k, 1, 1, generator=gen) < 0.5
        circle = dx**2 + dy**2 < half[0] ** 2
        region = torch.where(is_circle, circle, (dx < half[0]) & (dy < half[1]))
        period = 0.08 + 0.12 * torch.rand(k, 1, 1, generator=gen)
        row_odd = torch.floor(yy / period).long() % 2 == 1  # [k, size, 1]
        col_odd = torch.floor(xx / period).long() % 2 == 1  # [k, 1, size]
        pattern = torch.randint(0, 3, (k, 1, 1), generator=gen)  # solid, stripes, checks
        odd = torch.where(pattern == 1, row_odd, row_odd ^ col_odd)
        layer[on] = torch.where(region & ((pattern == 0) | ~odd), slot, layer[on])

    flat = layer.view(n, -1, 1).long().expand(n, size * size, 3)
    image = palette.gather(1, flat).transpose(1, 2).reshape(n, 3, size, size)
    # Pixel noise from a bank of patterns: drawing N * 3 * size^2 normals costs more than the rest.
    bank = torch.randn(min(n, _NOISE_BANK), 3, size, size, generator=gen)
    image += 0.02 * bank[torch.randint(0, bank.size(0), (n,), generator=gen)]
    return image.clamp_(0.0, 1.0)


def _activity(
    profile: Tensor, post_rate: Tensor, like_rate: Tensor, days: int, gen: torch.Generator
) -> Tensor:
    """Daily counts ``[N, days, 3]`` of posts, replies and likes (see :data:`ACTIVITY_VIEWS`)."""
    n = profile.numel()
    regularity = _uniform(_by_profile(0.0, 0.75)[profile], _by_profile(0.25, 1.0)[profile], gen)
    # Regular: a cosine schedule of period 2, 3 or 7 days with a random phase, mean 1.
    period = torch.tensor([2.0, 3.0, 7.0])[torch.randint(0, 3, (n,), generator=gen)].view(n, 1)
    phase = torch.rand(n, 1, generator=gen) * period
    amplitude = 0.3 + 0.7 * torch.rand(n, 1, generator=gen)
    day = torch.arange(days, dtype=torch.float).view(1, days)
    schedule = 1 + amplitude * torch.cos(2 * math.pi * (day + phase) / period)

    # Bursty: a persistent AR(1) log-rate (stationary variance 1.2^2), log-normal with mean 1.
    sigma, rho = 1.2, 0.7
    noise = torch.randn(n, days, generator=gen)
    log_rate = torch.empty(n, days)
    log_rate[:, 0] = sigma * noise[:, 0]
    for d in range(1, days):
        log_rate[:, d] = rho * log_rate[:, d - 1] + sigma * math.sqrt(1 - rho**2) * noise[:, d]
    bursts = torch.exp(log_rate - sigma**2 / 2)

    r = regularity.view(n, 1)
    modulation = r * schedule + (1 - r) * bursts
    reply_rate = post_rate * _by_profile(0.6, 0.05)[profile]
    rates = torch.stack([post_rate, reply_rate, like_rate], dim=1)
    return torch.poisson(modulation.unsqueeze(2) * rates.unsqueeze(1), generator=gen)
