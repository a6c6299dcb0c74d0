"""``python -m service``: serve with settings from the environment (``LONGTAIL_CONFIG``,
``REDIS_URL``, ``ADMIN_TOKEN``, ``READ_TOKEN``, ``METRICS_TOKEN``, ``HOST``, ``PORT``,
``LOG_LEVEL``). One uvicorn worker: the
in-memory exposure store is per process, and one worker on one core is what the benchmarks
measure. Exit status 2 on a bad config, 3 when startup fails (e.g. a bad bundle)."""

from __future__ import annotations

import sys

from service.settings import SettingsError, load_settings


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    # Imported only now: a bad config is reported without first loading torch and FAISS.
    import uvicorn

    from service.access_log import configure_logging
    from service.app import create_app

    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        workers=1,
        http=settings.http,
        loop=settings.loop,
        access_log=False,  # service.middleware writes the structured access log
        log_config=None,  # keep the JSON handler configured above
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
