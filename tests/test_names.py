"""The names the command line shows (mmgraph.names, no torch) are those of the library."""

from __future__ import annotations

import dataclasses

from mmgraph import names
from mmgraph.cli import common
from mmgraph.coordination import COORDINATION_LOSSES
from mmgraph.fusion import FUSION_HEADS, MVLSTM_TOPOLOGIES
from mmgraph.models import MultimodalGNN
from mmgraph.nn import AGGREGATORS
from mmgraph.sampling import GNN_WALKS, SHALLOW_WALKS, WalkOptions
from mmgraph.subgraph import GLASS_AGGREGATORS, SUBGRAPH_NORMS
from mmgraph.tune import defaults, options


def test_the_names_are_the_registries_keys_in_their_order() -> None:
    assert names.AGGREGATORS == tuple(AGGREGATORS)
    assert names.FUSION_HEADS == tuple(FUSION_HEADS)  # coordination's heads registered
    assert names.COORDINATION_LOSSES == tuple(COORDINATION_LOSSES)
    assert names.MVLSTM_TOPOLOGIES == tuple(MVLSTM_TOPOLOGIES)
    assert names.GLASS_AGGREGATORS == GLASS_AGGREGATORS
    assert names.SUBGRAPH_NORMS == SUBGRAPH_NORMS


def test_the_fusion_choices_are_the_heads_the_model_can_feed() -> None:
    fed = tuple(
        name
        for name, head in FUSION_HEADS.items()
        if MultimodalGNN.feeds_sequences or not getattr(head, "takes_sequences", False)
    )
    assert common.FUSION_NAMES == fed


def test_the_walk_counts_are_the_walk_options() -> None:
    counts = set(names.SHALLOW_WALK_COUNTS)
    assert counts <= {f.name for f in dataclasses.fields(WalkOptions)}
    assert {k: v for k, v in SHALLOW_WALKS.to_dict().items() if k in counts} == (
        names.SHALLOW_WALK_COUNTS
    )
    assert {k: v for k, v in GNN_WALKS.to_dict().items() if k in counts} == names.GNN_WALK_COUNTS
    assert SHALLOW_WALKS == WalkOptions()


def test_the_options_module_reexports_the_light_defaults() -> None:
    assert options.OPTIONS is defaults.OPTIONS
    assert options.COMMANDS is defaults.COMMANDS
    assert options.NODE_OPTIMIZERS == defaults.NODE_OPTIMIZERS == ("adam", "adamw")
    assert options.OPTIONS["node"]["optimizer"] == options.NODE_OPTIMIZERS[0]
