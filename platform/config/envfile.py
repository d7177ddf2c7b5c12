"""The local env file: settings for a developer's machine, under the real environment.

`scripts/run` writes `.env` at the project's root on its first run (DJANGO_DEBUG=true and a generated
DJANGO_SECRET_KEY), so that every `manage.py` command in a new shell has the same settings as the server.
A variable set in the environment always wins over the file. DJANGO_ENV_FILE names another file; set to
the empty string, no file is read (the test suite does that, so that it does not depend on a local `.env`).

The format is the common subset of dotenv files: `NAME=value` lines, `export NAME=value`, `#` comments,
blank lines, values optionally in single or double quotes (taken literally: no expansion).
"""

import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

LINE = re.compile(r"^(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*?)\s*$")


def parse(text: str, source: str = ".env") -> dict[str, str]:
    values = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        if not match:
            raise ImproperlyConfigured(f"{source}, line {number}: expected NAME=value, not {raw!r}")
        value = match["value"]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[match["name"]] = value
    return values


def env_file_path(project_dir: Path) -> Path | None:
    configured = os.environ.get("DJANGO_ENV_FILE")
    if configured is None:
        return project_dir / ".env"
    if configured == "":
        return None
    return Path(configured)


def load(project_dir: Path) -> dict[str, str]:
    """Put the env file's values into os.environ where the environment does not set them; return what was read."""
    path = env_file_path(project_dir)
    if path is None:
        return {}
    if not path.is_file():
        if os.environ.get("DJANGO_ENV_FILE"):
            raise ImproperlyConfigured(f"DJANGO_ENV_FILE names {path}, which is not a file")
        return {}
    values = parse(path.read_text(encoding="utf-8"), source=str(path))
    for name, value in values.items():
        os.environ.setdefault(name, value)
    return values
