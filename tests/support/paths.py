"""Where the repository's files are, for tests that read the sources, docs or scripts, or run
a command from the repository's root — one place, whatever folder a test sits in."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # this file is ROOT/tests/support/paths.py
SRC = ROOT / "src" / "hongfeng"
