"""The access log's direct path writes exactly the line the logging machinery would."""

from __future__ import annotations

import io
import json
import logging

from service.access_log import JsonLineHandler, _direct_handler, emit_fields


def test_direct_line_equals_the_formatted_record() -> None:
    handler = JsonLineHandler()
    stream = io.StringIO()
    handler.setStream(stream)
    fields = {"request_id": "abc", "status": 200, "duration_ms": 0.25, "bucket": None}
    handler.write_fields("service.access", "request", fields)
    logger = logging.getLogger("test.access.direct")
    handler.handle(
        logger.makeRecord("service.access", logging.INFO, "", 0, "request", (), None, extra=fields)
    )
    direct, formatted = (json.loads(line) for line in stream.getvalue().splitlines())
    assert direct.pop("ts").endswith("Z") and formatted.pop("ts").endswith("Z")
    assert (
        direct
        == formatted
        == {"level": "info", "logger": "service.access", "msg": "request", **fields}
    )


def test_direct_path_only_when_the_json_handler_is_the_only_destination() -> None:
    root = logging.getLogger()
    saved = root.handlers[:]
    logger = logging.getLogger("test.access.routing")
    try:
        handler = JsonLineHandler()
        handler.setStream(io.StringIO())
        root.handlers[:] = [handler]
        assert _direct_handler(logger) is handler
        extra = logging.StreamHandler(io.StringIO())
        logger.addHandler(extra)  # a handler of its own: records must go through logging
        assert _direct_handler(logger) is None
        logger.removeHandler(extra)
        root.handlers[:] = [handler, extra]
        assert _direct_handler(logger) is None
        root.handlers[:] = [handler]
        logger.setLevel(logging.WARNING)
        emit_fields(logger, "request", {"x": 1})  # below the level: nothing written
        assert handler.stream.getvalue() == ""
    finally:
        root.handlers[:] = saved
        logger.setLevel(logging.NOTSET)
