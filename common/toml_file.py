"""One TOML reader for every config file: the run config, the experiment spec, the service
settings and the dashboard script's settings.

It lives here, outside ``training`` and ``service``, because both read TOML and neither may import
the other (and ``models`` does no I/O beyond the bundle). Each caller passes its own error class,
so a missing or malformed file surfaces as that caller's config error (``ConfigError``,
``SettingsError``), with a message that starts with the file's path.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def read_toml(
    path: str | Path, error_cls: type[Exception], what: str = "config file"
) -> dict[str, Any]:
    """The parsed file; a missing, unreadable or malformed file raises ``error_cls`` naming it.

    ``what`` names the file's role in the "not found" message (``"experiment file"``, ...).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error_cls(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise error_cls(f"{path}: {what} is a directory, not a TOML file") from None
    except UnicodeDecodeError as e:
        raise error_cls(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise error_cls(f"{path}: {what} unreadable ({e.strerror})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise error_cls(f"{path}: {e}") from None
