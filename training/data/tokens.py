"""Title text -> word tokens, and the release year a MovieLens title ends with."""

from __future__ import annotations

import re

# "Toy Story (1995)" -> year 1995; also tolerates trailing spaces.
_TRAILING_YEAR = re.compile(r"\s*\((\d{4})\)\s*$")
# Letters and digits of any script ("Café" stays one token), apostrophes dropped inside words.
_WORD = re.compile(r"[^\W_]+")
# Very common words carry no signal about an item but would be shared by most titles.
STOPWORDS = frozenset(
    "a an and at by for from in of on or the to with la le les el de des du der die das il".split()
)


def split_title_year(title: str) -> tuple[str, int | None]:
    """``"Heat (1995)"`` -> ``("Heat", 1995)``; no trailing year -> ``(title, None)``."""
    m = _TRAILING_YEAR.search(title)
    if m is None:
        return title.strip(), None
    return title[: m.start()].strip(), int(m.group(1))


def title_tokens(title: str) -> list[str]:
    """Lower-case word tokens, stopwords and 1-character tokens dropped, each token kept once
    (first-occurrence order): a multi-valued field is a set of values, not a bag of counts."""
    seen: dict[str, None] = {}
    for tok in _WORD.findall(title.lower().replace("'", "")):
        if len(tok) > 1 and tok not in STOPWORDS:
            seen.setdefault(tok, None)
    return list(seen)
