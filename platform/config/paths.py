"""Puts platform/ on sys.path for entry points that do not start from manage.py."""

import sys
from pathlib import Path

PLATFORM_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = PLATFORM_DIR.parent

for folder in (PLATFORM_DIR, PROJECT_DIR):
    if str(folder) not in sys.path:
        sys.path.insert(1, str(folder))
