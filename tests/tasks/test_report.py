"""The text tables the commands print."""

import math

import pytest

from mmgraph.tasks.report import format_table, format_value


@pytest.mark.parametrize(
    "value, text",
    [(0.8125, "0.812"), (-0.0001, "0.000"), (-0.0, "0.000"), (-0.25, "-0.250"), (3, "3")],
)
def test_format_value_never_prints_negative_zero(value, text):
    assert format_value(value) == text


def test_format_value_marks_missing_scores():
    assert format_value(None) == "-"
    assert format_value(math.nan) == "-"


def test_format_table_aligns_columns():
    table = format_table([{"method": "kmeans", "nmi": -1e-5}], ["method", "nmi"])
    assert table.splitlines() == ["method  nmi", "------  -----", "kmeans  0.000"]  # no end blanks
