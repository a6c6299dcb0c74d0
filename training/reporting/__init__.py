"""Reporting: results files, tables, figures and claims pages, from JSON the runs wrote."""
