"""Bucketing of numeric and code-like raw values into categorical feature values.

The same bucket labels are used by every source, so e.g. the age field means the same thing on
ML-1M (which ships pre-bucketed codes), ML-100K and Book-Crossing (which ship raw ages).
"""

from __future__ import annotations

# ML-1M's age codes (README "USERS FILE DESCRIPTION") and the labels every source uses.
ML1M_AGE_LABELS: dict[str, str] = {
    "1": "<18",
    "18": "18-24",
    "25": "25-34",
    "35": "35-44",
    "45": "45-49",
    "50": "50-55",
    "56": "56+",
}

# ML-1M's occupation codes (README), so the field's vocabulary is readable.
ML1M_OCCUPATIONS: dict[str, str] = {
    "0": "other",
    "1": "academic/educator",
    "2": "artist",
    "3": "clerical/admin",
    "4": "college/grad student",
    "5": "customer service",
    "6": "doctor/health care",
    "7": "executive/managerial",
    "8": "farmer",
    "9": "homemaker",
    "10": "K-12 student",
    "11": "lawyer",
    "12": "programmer",
    "13": "retired",
    "14": "sales/marketing",
    "15": "scientist",
    "16": "self-employed",
    "17": "technician/engineer",
    "18": "tradesman/craftsman",
    "19": "unemployed",
    "20": "writer",
}

# Ages outside this range are data-entry noise (Book-Crossing has 0 and 244) -> unknown.
MIN_AGE, MAX_AGE = 5, 100
# Release years outside this range are unknown (Book-Crossing has 0 and years after its 2004
# crawl, e.g. 2030 or 2050).
MIN_YEAR, MAX_YEAR = 1800, 2010
YEAR_BUCKET_WIDTH = 5
# Zip codes are reduced to their first two characters (US: a group of states, ~100 values on
# ML-1M): fine enough to carry regional signal, coarse enough to be shared by many users.
ZIP_PREFIX_LEN = 2


def age_bucket(age: int | None) -> str | None:
    """A raw age in years -> the ML-1M age bucket label (``None`` when unknown or implausible)."""
    if age is None or not MIN_AGE <= age <= MAX_AGE:
        return None
    if age < 18:
        return "<18"
    if age < 25:
        return "18-24"
    if age < 35:
        return "25-34"
    if age < 45:
        return "35-44"
    if age < 50:
        return "45-49"
    if age < 56:
        return "50-55"
    return "56+"


def year_bucket(year: int | None) -> str | None:
    """A year -> its 5-year bucket label, e.g. 1995 -> ``"1995-1999"`` (``None`` if implausible)."""
    if year is None or not MIN_YEAR <= year <= MAX_YEAR:
        return None
    lo = year - year % YEAR_BUCKET_WIDTH
    return f"{lo}-{lo + YEAR_BUCKET_WIDTH - 1}"


def zip_prefix(zip_code: str) -> str | None:
    """The first ``ZIP_PREFIX_LEN`` characters, upper-cased (``None`` when too short / empty)."""
    z = zip_code.strip().upper()
    return z[:ZIP_PREFIX_LEN] if len(z) >= ZIP_PREFIX_LEN else None


def parse_int(text: str) -> int | None:
    """``int(text)`` for a plain integer (surrounding spaces allowed), else ``None``."""
    t = text.strip()
    if t[:1] in "+-":
        digits = t[1:]
    else:
        digits = t
    return int(t) if digits.isdigit() and digits.isascii() else None
