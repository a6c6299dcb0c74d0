"""Trainers: typed functions that own optimisers and loops; the CLI is a thin shell over them."""
