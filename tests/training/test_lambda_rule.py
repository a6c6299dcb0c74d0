"""MIRec's λ_p selection rules on a hand-built validation sweep."""

from __future__ import annotations

import pytest

from training.trainers.lambda_rule import choose_lambda_p

SWEEP = [
    {"lambda_p": 0.0, "all_NDCG@50": 0.080, "tail_HR@50": 0.30},
    {"lambda_p": 0.5, "all_NDCG@50": 0.0995, "tail_HR@50": 0.20},
    {"lambda_p": 0.8, "all_NDCG@50": 0.0991, "tail_HR@50": 0.15},
    {"lambda_p": 1.0, "all_NDCG@50": 0.100, "tail_HR@50": 0.10},
]


def test_overall_takes_the_best_ndcg() -> None:
    assert choose_lambda_p(SWEEP, "overall") == 1.0


def test_tail_at_budget_takes_the_best_tail_within_epsilon() -> None:
    # ε = 1%: floor 0.099 admits 0.5, 0.8 and 1.0; 0.5 has the best tail HR.
    assert choose_lambda_p(SWEEP, "tail_at_budget", 0.01) == 0.5
    # ε = 0.2%: floor 0.0998 admits only 1.0.
    assert choose_lambda_p(SWEEP, "tail_at_budget", 0.002) == 1.0
    # ε = 25%: floor 0.075 admits everything; 0.0 has the best tail HR.
    assert choose_lambda_p(SWEEP, "tail_at_budget", 0.25) == 0.0


def test_ties_on_tail_go_to_the_better_overall() -> None:
    rows = [
        {"lambda_p": 0.3, "all_NDCG@50": 0.099, "tail_HR@50": 0.2},
        {"lambda_p": 0.6, "all_NDCG@50": 0.100, "tail_HR@50": 0.2},
    ]
    assert choose_lambda_p(rows, "tail_at_budget", 0.05) == 0.6


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        choose_lambda_p([], "overall")
    with pytest.raises(ValueError, match="epsilon"):
        choose_lambda_p(SWEEP, "tail_at_budget", 1.5)
