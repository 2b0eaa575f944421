"""Twitter bot detection graphs in the TwiBot-20 and TwiBot-22 formats.

Both give the same kind of graph: one node per user; ``text`` = the profile description
followed by the user's tweets; ``numeric`` = follower, friend (following), listed and
status counts (plus favourites in TwiBot-20), the account age in days and two ratios;
``categorical`` = boolean profile flags (``"False"``/``"True"``, missing where unknown);
two relations, ``follower`` and ``following``; labels ``human``/``bot`` with ``bot`` the
positive class when the data has labels.

Edge direction (the convention of BotRGCN's preprocessing): for a user ``u``, an edge
``u -> v`` of relation ``following`` means u follows v, and ``u -> v`` of relation
``follower`` means v follows u. Neighbours that are not users of the data are dropped
(their count is logged).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from mmgraph.data.edges import coalesce_typed
from mmgraph.data.graph import MISSING_CODE, UNLABELLED, MultimodalGraph
from mmgraph.data.loaders._common import as_path, read_table
from mmgraph.data.subgraphs import SPLIT_NAMES, parse_split
from mmgraph.errors import InputError, read_text

log = logging.getLogger(__name__)

TWIBOT20_REFERENCE_DATE = datetime(2020, 9, 1, tzinfo=timezone.utc)
"""Account ages of TwiBot-20 users are counted up to this date (end of its collection)."""

TWIBOT22_REFERENCE_DATE = datetime(2022, 3, 1, tzinfo=timezone.utc)
"""Account ages of TwiBot-22 users are counted up to this date (end of its collection)."""

TWIBOT_CLASSES: tuple[str, ...] = ("human", "bot")
"""Class names in label order; ``bot`` (1) is the positive class."""

TWIBOT_RELATIONS: tuple[str, ...] = ("follower", "following")
"""Relation names in ``edge_type`` order."""

TWIBOT20_FLAGS: tuple[str, ...] = (
    "verified",
    "protected",
    "geo_enabled",
    "default_profile",
    "default_profile_image",
    "has_extended_profile",
    "profile_use_background_image",
)
"""Boolean profile fields of TwiBot-20 kept as categorical columns."""

TWIBOT22_FLAGS: tuple[str, ...] = ("verified", "protected", "default_profile_image")
"""Boolean profile fields of TwiBot-22 (Twitter API v2) kept as categorical columns."""

TWIBOT20_SPLIT_FILES: dict[str, str | None] = {
    "train.json": "train",
    "dev.json": "val",
    "test.json": "test",
    "support.json": None,
}
"""Files of the full TwiBot-20 release and the split of their users."""

_LABELS = {"0": 0, "1": 1, "human": 0, "bot": 1}
_FLAG_VOCAB = ["False", "True"]
_TWITTER_DATE = "%a %b %d %H:%M:%S %z %Y"


@dataclass
class _User:
    uid: str
    texts: list[str] = field(default_factory=list)
    numbers: dict[str, float] = field(default_factory=dict)
    flags: dict[str, bool | None] = field(default_factory=dict)
    label: int = UNLABELLED
    split: str | None = None


def load_twibot(
    path: str | Path,
    reference_date: datetime | str | None = None,
    include_tweets: bool = True,
    max_tweets: int | None = None,
) -> MultimodalGraph:
    """Load a TwiBot-20 or TwiBot-22 data set (see the module docstring for the graph).

    Accepted layouts:

    * a TwiBot-20 JSON file: a list of users with ``ID``, ``profile`` (Twitter API v1
      fields as strings, often with a trailing space, ``'None'`` for missing,
      ``'True'``/``'False'`` for flags), ``tweet`` (a list of strings), ``neighbor``
      (``{"following": [...], "follower": [...]}`` or null), ``domain`` (a list) and, in
      the full set, ``label`` (``'1'`` = bot). Domains become one flag column
      ``domain_<name>`` each: TwiBot-20's four (:data:`TWIBOT20_DOMAINS`) always, and any
      other a file names.
    * a folder with the full TwiBot-20 release, ``train.json``, ``dev.json``, ``test.json``
      (and ``support.json``, unlabelled and in no split): the file gives the split.
    * a TwiBot-22 folder: ``user.json`` (a list of users with ``id``, ``description``,
      ``public_metrics``, ``created_at``, ``verified``, ``protected``,
      ``profile_image_url``, ...), ``edge.csv`` (``source_id, relation, target_id``; only
      ``followers``/``following`` edges between users are kept), optional ``label.csv``
      (``id, label`` with ``human``/``bot``), optional ``split.csv`` (``id, split`` with
      ``train``/``valid``/``test``), and, when ``include_tweets``, optional
      ``tweet_*.json`` files (lists of tweets with ``author_id`` and ``text``).

    Without labels the graph has no ``y`` (prediction still works).

    Args:
        path (str or Path): A TwiBot-20 JSON file or one of the folders above.
        reference_date (datetime or str, optional): The date account ages are counted up
            to (ISO format for strings). Default: :data:`TWIBOT20_REFERENCE_DATE`
            (2020-09-01) or :data:`TWIBOT22_REFERENCE_DATE` (2022-03-01).
        include_tweets (bool, optional): Add tweets after the description.
            (default: :obj:`True`)
        max_tweets (int, optional): Keep at most this many tweets per user.
            (default: :obj:`None`, all)
    """
    p = as_path(path, "TwiBot data (a TwiBot-20 JSON file or a data set folder)")
    ref = _reference(reference_date)
    if max_tweets is not None and max_tweets < 0:
        raise InputError(f"Expected 'max_tweets' >= 0 or None (got {max_tweets})")
    if p.is_file():
        return _load_twibot20(
            [(p, None)], ref or TWIBOT20_REFERENCE_DATE, include_tweets, max_tweets, name=p.stem
        )
    if (p / "user.json").is_file():
        return _load_twibot22(p, ref or TWIBOT22_REFERENCE_DATE, include_tweets, max_tweets)
    files = [(p / f, split) for f, split in TWIBOT20_SPLIT_FILES.items() if (p / f).is_file()]
    if files:
        return _load_twibot20(
            files,
            ref or TWIBOT20_REFERENCE_DATE,
            include_tweets,
            max_tweets,
            name=p.name,
            use_split=True,
        )
    raise FileNotFoundError(
        f"'{p}' holds neither TwiBot-22's 'user.json' nor TwiBot-20's "
        f"{', '.join(TWIBOT20_SPLIT_FILES)}: pass a TwiBot-20 JSON file or a data set folder"
    )


def _reference(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InputError(
                f"Expected 'reference_date' in ISO format such as '2020-09-01' (got {value!r})"
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def _clean(value: Any) -> Any:
    """Strip strings; ``'None'``, ``'null'`` and empty strings become :obj:`None`."""
    if isinstance(value, str):
        text = value.strip()
        return None if text in ("", "None", "null") else text
    return value


def _number(value: Any) -> float:
    value = _clean(value)
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _flag(value: Any) -> bool | None:
    value = _clean(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.lower()
        if low == "true":
            return True
        if low == "false":
            return False
    return None


def parse_date(value: Any) -> datetime | None:
    """Parse a Twitter date: API v1 (``Tue Nov 18 10:27:25 +0000 2008``) or ISO 8601."""
    value = _clean(value)
    if not isinstance(value, str):
        return None
    for parse in (
        lambda s: datetime.strptime(s, _TWITTER_DATE),
        lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")),
    ):
        try:
            out = parse(value)
        except ValueError:
            continue
        return out if out.tzinfo else out.replace(tzinfo=timezone.utc)
    return None


def _counts(user: _User, created: Any, ref: datetime) -> None:
    date = parse_date(created)
    age = math.nan if date is None else (ref - date).total_seconds() / 86400.0
    nums = user.numbers
    nums["account_age_days"] = age
    statuses = nums.get("statuses_count", math.nan)
    nums["statuses_per_day"] = statuses / max(age, 1.0) if not math.isnan(age) else math.nan
    friends = nums.get("friends_count", math.nan)
    nums["followers_per_friend"] = nums.get("followers_count", math.nan) / max(friends, 1.0)


def _texts(description: Any, tweets: Iterable[Any] | None, max_tweets: int | None) -> list[str]:
    out = []
    desc = _clean(description)
    if isinstance(desc, str):
        out.append(desc)
    if tweets is not None:
        kept = [t.strip() for t in tweets if isinstance(t, str) and t.strip()]
        out.extend(kept if max_tweets is None else kept[:max_tweets])
    return out


def read_json(path: Path, what: str) -> Any:
    """Parse a UTF-8 JSON file; syntax errors raise an :class:`InputError` with the line."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"The {what} '{path}' is not valid JSON (line {error.lineno} column {error.colno}: "
            f"{error.msg}); fix or download the file again"
        ) from None
    except RecursionError:
        raise InputError(f"The {what} '{path}' nests JSON too deeply to read") from None


def read_json_list(path: Path, what: str, items: str, hint: str = "") -> list[Any]:
    """:func:`read_json` of a file that must hold a JSON list (of ``items``)."""
    records = read_json(path, what)
    if not isinstance(records, list):
        raise InputError(
            f"Expected '{path}' to hold a JSON list of {items} (got {type(records).__name__}){hint}"
        )
    return records


def _typed(value: Any, kind: type, field: str, uid: str, path: Path) -> Any:
    """``value`` if it is None or a ``kind``, else an InputError naming the user and file."""
    if value is None or isinstance(value, kind):
        return value
    name = "an object" if kind is dict else "a list" if kind is list else kind.__name__
    raise InputError(
        f"The field {field!r} of user {uid!r} in '{path}' is a {type(value).__name__} "
        f"({str(value)[:40]!r}), not {name}: is it a TwiBot file?"
    )


# =================================================================== TwiBot-20
TWIBOT20_DOMAINS: tuple[str, ...] = ("Bussiness", "Entertainment", "Politics", "Sports")
"""TwiBot-20's four domains, spelt as its files spell them. Each has its flag column
(``domain_<name>``) in every file loaded, whether or not a user of the file has it, so that a
model trained on the data set predicts on a file of a few new users."""


def _load_twibot20(
    files: list[tuple[Path, str | None]],
    ref: datetime,
    include_tweets: bool,
    max_tweets: int | None,
    name: str,
    use_split: bool = False,
) -> MultimodalGraph:
    users: list[_User] = []
    neighbours: list[dict[str, list[str]]] = []
    domains: list[list[str] | None] = []
    seen: dict[str, str] = {}
    for path, split in files:
        records = read_json_list(path, "TwiBot-20 file", "users", ": is it a TwiBot-20 file?")
        for i, record in enumerate(records):
            for key in ("ID", "profile"):
                if not isinstance(record, dict) or key not in record:
                    raise InputError(
                        f"User {i} of '{path}' has no {key!r} field: TwiBot-20 users need "
                        "'ID' and 'profile'"
                    )
            if not isinstance(record["ID"], (str, int)) or isinstance(record["ID"], bool):
                raise InputError(
                    f"User {i} of '{path}' has the ID {str(record['ID'])[:50]!r} "
                    f"({type(record['ID']).__name__}): IDs are strings or integers"
                )
            uid = str(record["ID"]).strip()
            if uid in seen:
                raise InputError(
                    f"User id {uid!r} appears twice (in '{seen[uid]}' and '{path.name}'): user "
                    "ids must be unique"
                )
            seen[uid] = path.name
            profile = _typed(record["profile"], dict, "profile", uid, path) or {}
            user = _User(uid, split=split if use_split else None)
            tweets = _typed(record.get("tweet"), list, "tweet", uid, path)
            tweets = tweets if include_tweets else None
            user.texts = _texts(profile.get("description"), tweets, max_tweets)
            for key in (
                "followers_count",
                "friends_count",
                "listed_count",
                "favourites_count",
                "statuses_count",
            ):
                user.numbers[key] = _number(profile.get(key))
            _counts(user, profile.get("created_at"), ref)
            user.flags = {flag: _flag(profile.get(flag)) for flag in TWIBOT20_FLAGS}
            label = _clean(record.get("label"))
            if label is not None:
                key = str(label).strip().lower()
                if key not in _LABELS:
                    raise InputError(
                        f"Unknown label {label!r} of user {uid!r} in '{path}': expected '0' "
                        "(human) or '1' (bot)"
                    )
                user.label = _LABELS[key]
            users.append(user)
            nb = _typed(record.get("neighbor"), dict, "neighbor", uid, path) or {}
            neighbours.append(
                {
                    rel: [
                        str(v).strip()
                        for v in (_typed(nb.get(rel), list, f"neighbor.{rel}", uid, path) or [])
                    ]
                    for rel in TWIBOT_RELATIONS
                }
            )
            dom = _typed(record.get("domain"), list, "domain", uid, path)
            domains.append(None if dom is None else [str(d).strip() for d in dom])
    index = {u.uid: i for i, u in enumerate(users)}
    edges = [
        (u.uid, rel, v)
        for u, nb in zip(users, neighbours)
        for rel in TWIBOT_RELATIONS
        for v in nb[rel]
    ]
    extra: dict[str, list[bool | None]] = {}
    all_domains = sorted(set(TWIBOT20_DOMAINS) | {d for dom in domains if dom for d in dom})
    for d in all_domains:
        extra[f"domain_{d}"] = [None if dom is None else d in dom for dom in domains]
    sources = ", ".join(f"'{path}'" for path, _ in files)
    return _build(users, edges, index, TWIBOT20_FLAGS, extra, name, sources)


# =================================================================== TwiBot-22
def _load_twibot22(
    folder: Path, ref: datetime, include_tweets: bool, max_tweets: int | None
) -> MultimodalGraph:
    records = read_json_list(folder / "user.json", "TwiBot-22 user file", "users")
    users: list[_User] = []
    descriptions: list[Any] = []
    for i, record in enumerate(records):
        if not isinstance(record, dict) or "id" not in record:
            raise InputError(
                f"User {i} of '{folder / 'user.json'}' has no 'id' field: TwiBot-22 users need "
                "an 'id' such as 'u12345'"
            )
        user = _User(str(record["id"]).strip())
        where = folder / "user.json"
        metrics = _typed(record.get("public_metrics"), dict, "public_metrics", user.uid, where)
        metrics = metrics or {}
        user.numbers = {
            "followers_count": _number(metrics.get("followers_count")),
            "friends_count": _number(metrics.get("following_count")),
            "listed_count": _number(metrics.get("listed_count")),
            "statuses_count": _number(metrics.get("tweet_count")),
        }
        _counts(user, record.get("created_at"), ref)
        image_url = _clean(record.get("profile_image_url"))
        user.flags = {
            "verified": _flag(record.get("verified")),
            "protected": _flag(record.get("protected")),
            "default_profile_image": None
            if "profile_image_url" not in record
            else (image_url is None or "default_profile_images" in str(image_url)),
        }
        descriptions.append(record.get("description"))
        users.append(user)
    index: dict[str, int] = {}
    for i, user in enumerate(users):
        if user.uid in index:
            raise InputError(
                f"User id {user.uid!r} appears twice in '{folder / 'user.json'}': user ids "
                "must be unique"
            )
        index[user.uid] = i
    tweets: dict[str, list[str]] = {}
    if include_tweets:
        for path in sorted(folder.glob("tweet_*.json")):
            tweet_list = read_json_list(path, "TwiBot-22 tweet file", "tweets")
            for i, tweet in enumerate(tweet_list):
                if not isinstance(tweet, dict):
                    raise InputError(
                        f"Tweet {i} of '{path}' is a {type(tweet).__name__}, not an object "
                        "with 'author_id' and 'text'"
                    )
                author = f"u{tweet.get('author_id')}"
                if author in index and isinstance(tweet.get("text"), str):
                    tweets.setdefault(author, []).append(tweet["text"])
    for user, desc in zip(users, descriptions):
        user.texts = _texts(desc, tweets.get(user.uid), max_tweets)
    _twibot22_labels(folder, users, index)
    edges = _twibot22_edges(folder, index)
    return _build(users, edges, index, TWIBOT22_FLAGS, {}, folder.name, f"'{folder}'")


def _twibot22_labels(folder: Path, users: list[_User], index: dict[str, int]) -> None:
    for file, column in (("label.csv", "label"), ("split.csv", "split")):
        path = folder / file
        if not path.is_file():
            continue
        table = read_table(path, f"TwiBot-22 {column} table", allow_empty=True)
        for col in ("id", column):
            if col not in table.columns:
                raise InputError(
                    f"Column {col!r} not found in '{path}' (its columns: "
                    f"{list(table.columns)}): expected 'id,{column}'"
                )
        for row, (uid, value) in enumerate(zip(table["id"].tolist(), table[column].tolist())):
            uid = uid.strip()
            if uid not in index:
                continue  # labels of users outside user.json
            user = users[index[uid]]
            if column == "label":
                key = value.strip().lower()
                if key not in _LABELS:
                    raise InputError(
                        f"Unknown label {value!r} in '{path}', data row {row + 1}: expected "
                        "'human' or 'bot'"
                    )
                user.label = _LABELS[key]
            elif value.strip().lower() != "support":
                user.split = parse_split(value, f"'{path}', data row {row + 1}")


def _twibot22_edges(folder: Path, index: dict[str, int]) -> list[tuple[str, str, str]]:
    path = folder / "edge.csv"
    if not path.is_file():
        log.info("No '%s': the graph has no edges", path)
        return []
    relations = {"followers": "follower", "following": "following"}
    out: list[tuple[str, str, str]] = []
    try:
        for chunk in pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=1_000_000):
            out.extend(_edge_chunk(chunk, path, relations))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputError(
            f"The TwiBot-22 edge table '{path}' is not a readable UTF-8 CSV "
            f"({' '.join(str(error).split())[:200]}): fix the file"
        ) from None
    return out


def _edge_chunk(
    chunk: pd.DataFrame, path: Path, relations: dict[str, str]
) -> list[tuple[str, str, str]]:
    for col in ("source_id", "relation", "target_id"):
        if col not in chunk.columns:
            raise InputError(
                f"Column {col!r} not found in '{path}' (its columns: "
                f"{list(chunk.columns)}): expected 'source_id,relation,target_id'"
            )
    chunk = chunk[chunk["relation"].isin(list(relations))]
    return [
        (s, relations[r], t)
        for s, r, t in zip(chunk["source_id"], chunk["relation"], chunk["target_id"])
    ]


# ===================================================================== common
def _build(
    users: list[_User],
    edges: list[tuple[str, str, str]],
    index: dict[str, int],
    flags: tuple[str, ...],
    extra_flags: dict[str, list[bool | None]],
    name: str,
    sources: str,
) -> MultimodalGraph:
    if not users:
        raise InputError(
            f"The TwiBot data '{name}' ({sources}) holds no users: each file lists user objects"
        )
    n = len(users)
    rel_index = {r: i for i, r in enumerate(TWIBOT_RELATIONS)}
    kept = [(index[s], rel_index[r], index[t]) for s, r, t in edges if s in index and t in index]
    dropped = len(edges) - len(kept)
    if dropped:
        log.info(
            "%s: dropped %d of %d follower/following edges to users outside the data",
            name,
            dropped,
            len(edges),
        )
    edge_index = torch.tensor([[s for s, _, _ in kept], [t for _, _, t in kept]], dtype=torch.long)
    edge_type = torch.tensor([r for _, r, _ in kept], dtype=torch.long)
    edge_index, edge_type_out, _ = coalesce_typed(edge_index.view(2, -1), n, edge_type)
    numeric_names = list(users[0].numbers)
    numeric = torch.tensor(
        [[u.numbers.get(k, math.nan) for k in numeric_names] for u in users], dtype=torch.float
    )
    columns: dict[str, list[bool | None]] = {f: [u.flags.get(f) for u in users] for f in flags}
    columns.update(extra_flags)
    categorical = torch.tensor(
        [
            [MISSING_CODE if v is None else int(v) + 1 for v in values]
            for values in columns.values()
        ],
        dtype=torch.long,
    ).t()
    kwargs: dict[str, Any] = {}
    if any(u.label != UNLABELLED for u in users):
        kwargs["y"] = torch.tensor([u.label for u in users], dtype=torch.long)
        kwargs["class_names"] = list(TWIBOT_CLASSES)
        kwargs["positive_class"] = 1
    if any(u.split is not None for u in users):
        for split in SPLIT_NAMES:
            kwargs[f"{split}_mask"] = torch.tensor([u.split == split for u in users])
    return MultimodalGraph(
        edge_index,
        text=[u.texts or None for u in users],
        numeric=numeric,
        numeric_names=numeric_names,
        categorical=categorical.view(n, len(columns)),
        categorical_names=list(columns),
        categorical_vocabs=[list(_FLAG_VOCAB) for _ in columns],
        edge_type=edge_type_out,
        relation_names=list(TWIBOT_RELATIONS),
        node_id=[u.uid for u in users],
        name=name,
        **kwargs,
    )
