"""The pandas-free one-loan path gives the very bits of ``scorecard.explain`` (result and JSON)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools import scorecard
from tools.credit import _plain
from tools.registry import ModelRegistry
from tools.scorecard_fast import bin_woe, explain_row

pytestmark = pytest.mark.slow  # the session fixture trains the models once


@pytest.fixture(scope="module")
def card_and_loans(models_home):  # noqa: ANN001, ANN201
    from app.runtime import Runtime
    from app.settings import Settings

    registry = ModelRegistry(models_home)
    card = registry.artefact(registry.approved("pd"))["scorecard"]
    rt = Runtime(Settings(home=models_home))
    with rt.warehouse.reader() as con:
        frame = con.execute("SELECT * FROM loans ORDER BY loan_id").df()
    rows = [{f: _plain(frame.iloc[i][f]) for f in scorecard.FIELDS} for i in range(len(frame))]
    return card, rows


def _same(card: dict[str, Any], row: dict[str, Any]) -> None:
    slow = scorecard.explain(card, row)
    fast = explain_row(card, row)
    assert fast == slow
    assert json.dumps(fast) == json.dumps(slow)
    assert math.copysign(1.0, fast[0]) == math.copysign(1.0, slow[0])


def test_every_demo_loan_is_bit_identical(card_and_loans) -> None:  # noqa: ANN001
    card, rows = card_and_loans
    assert len(rows) == 1000
    for row in rows:
        _same(card, row)


def test_unknown_and_missing_levels_take_the_pooled_bin(card_and_loans) -> None:  # noqa: ANN001
    card, rows = card_and_loans
    spec = card["bins"]["purpose"]
    assert bin_woe(spec, "yacht") == spec["woe"][-1] == bin_woe(spec, None)
    assert bin_woe(spec, spec["levels"][0]) == spec["woe"][0] != spec["woe"][-1]
    edges = card["bins"]["age"]["edges"]
    assert bin_woe(card["bins"]["age"], edges[0]) == card["bins"]["age"]["woe"][1]  # side="right"
    _same(card, rows[0] | {"purpose": "yacht", "age": edges[-1], "credit_amount": math.nan})


def _applicant(card: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for name in scorecard.NUMERIC:
        spec = card["bins"][name]
        lo, hi = spec["range"]
        near_edges = st.sampled_from(spec["edges"] + spec["range"])
        fields[name] = st.one_of(
            st.integers(int(lo) - 5, int(hi) + 5),
            near_edges,
            near_edges.map(lambda e: math.nextafter(e, math.inf)),
            st.floats(lo - 10, hi * 2 + 10, allow_nan=False),
        )
    for name in scorecard.CATEGORICAL:
        spec = card["bins"][name]
        fields[name] = st.one_of(
            st.sampled_from(spec["seen"] + spec["levels"]), st.text(max_size=6)
        )
    return st.fixed_dictionaries(fields)


def test_random_applicants_are_bit_identical(card_and_loans) -> None:  # noqa: ANN001
    card, _ = card_and_loans

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_applicant(card))
    def check(row: dict[str, Any]) -> None:
        _same(card, row)

    check()
