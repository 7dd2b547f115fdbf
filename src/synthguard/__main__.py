"""``python -m synthguard``; guarded, so worker processes that import the main module do not rerun the CLI."""

from synthguard.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
