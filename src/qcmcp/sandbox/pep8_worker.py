"""Formats Python with autopep8 in a process of its own: ``{name: source}`` JSON in, the same out.

autopep8's time grows much faster than its input for long lines and deep brackets (200 nested
parentheses take seconds, 400 minutes), and a thread cannot be stopped: a process can, so the
sandbox runs this under a deadline (see ``assistant.format_python``).
"""

from __future__ import annotations

import json
import sys

import autopep8


def main() -> None:
    sources = json.load(sys.stdin)
    json.dump({name: autopep8.fix_code(source, options={"aggressive": 1}) for name, source in sources.items()},
              sys.stdout)


if __name__ == "__main__":
    main()
