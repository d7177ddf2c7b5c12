#!/usr/bin/env python
"""Django's command-line utility for the Crowd Data Platform."""

import os
import sys
from pathlib import Path

# platform/ is a plain folder, not a package (see docs/adr/0001): put it on sys.path so that
# config, accounts, api and web import as top-level modules while `import platform` stays the
# standard library's.
sys.path.insert(1, str(Path(__file__).resolve().parent / "platform"))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
