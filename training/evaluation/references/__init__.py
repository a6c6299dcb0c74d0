"""Closed-form and neighbourhood references scored by the same evaluator as the trained models."""
