"""Exposure accounting: what each A/B bucket showed, and what was clicked."""
