"""The (overall HR@50, tail HR@50) frontier: references, trained variants and their trade-off
curves through one evaluator (``python -m training frontier``)."""
