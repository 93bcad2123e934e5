"""The FinanceBench held-out split is the one its rule says (issuers by hash), and disjoint."""

from __future__ import annotations

from evals.retrieval_eval import HELD_OUT, SPLITS, held_out_issuers, split_metrics

DEV_ISSUERS = [
    "3M", "AMD", "Best Buy", "Coca-Cola", "JPMorgan", "Johnson & Johnson", "Microsoft",
    "PepsiCo", "Pfizer", "Walmart",
]  # fmt: skip


def test_held_out_issuers_follow_the_hash_rule() -> None:
    assert held_out_issuers(DEV_ISSUERS) == HELD_OUT
    assert len(HELD_OUT) == 4  # 40% of the ten dev issuers
    assert held_out_issuers(list(reversed(DEV_ISSUERS))) == HELD_OUT  # order does not matter


def test_splits_partition_the_questions_by_issuer() -> None:
    questions = [{"company": c} for c in DEV_ISSUERS]
    tuning = [q["company"] for q in questions if SPLITS["tuning"](q)]
    held = [q["company"] for q in questions if SPLITS["held-out"](q)]
    assert set(tuning).isdisjoint(held) and sorted(tuning + held) == sorted(DEV_ISSUERS)
    ranks = {"ours": {"shared": [1 if q["company"] in HELD_OUT else None for q in questions]}}
    by_split = split_metrics(questions, ranks)
    assert by_split["held-out"]["ours"]["shared"]["R@1"] == 1.0
    assert by_split["tuning"]["ours"]["shared"]["R@10"] == 0.0
    assert by_split["all"]["ours"]["shared"]["R@1"] == 0.4
