"""The JSON response of the hot path (``POST /recommend``), rendered by orjson.

Why: with the standard library's encoder, writing ten ``{item_id, score, tail}`` objects was
about 9% of a small-catalogue request's CPU under load (py-spy, docs/benchmarks/serving.md);
orjson does the same in a fraction of that. The output is the same JSON (compact, UTF-8); a
non-finite float, which the index never returns, would be written as ``null``.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
