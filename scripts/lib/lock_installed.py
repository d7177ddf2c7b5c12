"""Exit 0 when the running Python has every `name==version` pin of a lock file installed, else 1 (naming one).

scripts/bootstrap asks this when its stamp does not match the lock, so that a virtual environment which
already holds the pins (a shared one, or the dev environment that serve's runtime lock is a subset of) is
not reinstalled. Pins with environment markers are evaluated with `packaging` when it is installed.
"""

import re
import sys
from importlib import metadata

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;(?P<marker>[^\\]*))?")


def missing(lock_text: str) -> str | None:
    for line in lock_text.splitlines():
        match = PIN.match(line)
        if not match:
            continue
        if match["marker"]:
            try:
                from packaging.markers import Marker
            except ImportError:
                return f"{match['name']} (a pin with a marker, and no packaging to read it)"
            if not Marker(match["marker"].strip()).evaluate():
                continue
        try:
            installed = metadata.version(match["name"])
        except metadata.PackageNotFoundError:
            return f"{match['name']}=={match['version']} (not installed)"
        if installed != match["version"]:
            return f"{match['name']}=={match['version']} (installed: {installed})"
    return None


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as lock:
        problem = missing(lock.read())
    if problem:
        print(problem)
        sys.exit(1)
