"""Each fusion head names and reads its own command-line options (no test of its name)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from mmgraph.errors import InputError
from mmgraph.fusion import FUSION_HEADS, ConcatFusion
from mmgraph.tune.options import OPTIONS, fusion_flag_options, options_from_run_config


class ScaledConcat(ConcatFusion):
    """Concatenation whose flag ``--scale`` sets the option ``factor``."""

    flag_names = ("scale",)

    def __init__(self, in_channels: Mapping[str, int], out_channels=None, factor: float = 1.0):
        super().__init__(in_channels, out_channels)
        self.factor = factor

    @classmethod
    def options_from_flags(cls, flags: Mapping[str, Any]) -> dict:
        return {"factor": float(flags["scale"])} if flags.get("scale") is not None else {}

    @classmethod
    def flags_from_options(cls, options: Mapping[str, Any]) -> dict:
        return {"scale": options["factor"]} if "factor" in options else {}


def test_a_heads_flags_go_to_its_options_and_back() -> None:
    FUSION_HEADS["scaled"] = ScaledConcat
    try:
        options = {**OPTIONS["node"], "fusion": "scaled", "scale": 2}
        assert fusion_flag_options(options) == {"factor": 2.0}
        run = {"model": {"fusion": "scaled", "fusion_options": {"factor": 2.0}}, "train": {}}
        assert options_from_run_config(run)["scale"] == 2.0
    finally:
        del FUSION_HEADS["scaled"]


def test_the_built_in_heads_flags() -> None:
    base = OPTIONS["node"]
    translation = {**base, "fusion": "translation", "source": "text", "cycle": True}
    assert fusion_flag_options(translation) == {
        "source": "text",
        "cycle": True,
        "translation_weight": 1.0,
    }
    mvlstm = {**base, "fusion": "mvlstm", "mvlstm_topology": "coupled", "mvlstm_gates": True}
    assert fusion_flag_options(mvlstm) == {"alpha": 0.0, "beta": 1.0, "learn_gates": True}
    assert fusion_flag_options({**base, "fusion": "mvlstm"})["alpha"] == 1.0  # hybrid
    assert fusion_flag_options({**base, "fusion": "gated"}) == {}
    run = {"model": {"fusion": "mvlstm", "fusion_options": {"alpha": 0.0, "beta": 1.0}}}
    assert options_from_run_config({**run, "train": {}})["mvlstm_topology"] == "coupled"
    with pytest.raises(InputError, match="--fusion translation given with fusion 'gated'"):
        fusion_flag_options({**base, "fusion": "gated", "cycle": True})
