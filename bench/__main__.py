"""``python -m bench NAME [ARGS...]`` runs ``bench/NAME.py``'s ``main(argv)``.

Without a name, or with an unknown one, lists the available benchmarks. Kept light to import:
worker processes started with ``spawn`` import this module again.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def available() -> list[str]:
    """Names of the benchmark modules beside this file."""
    here = Path(__file__).parent
    return sorted(p.stem for p in here.glob("*.py") if not p.stem.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    """Dispatch to one benchmark; returns its exit status."""
    args = sys.argv[1:] if argv is None else argv
    names = available()
    if not args or args[0] not in names:
        if args:
            print(f"unknown benchmark {args[0]!r}", file=sys.stderr)
        print("usage: python -m bench NAME [ARGS...]")
        print("available: " + ", ".join(names))
        return 2
    module = importlib.import_module(f"bench.{args[0]}")
    status = module.main(args[1:])
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
