"""Bounded property runs of the fuzz harnesses in fuzz/ (the long runs are described in fuzz/README.md)."""

import sys
from pathlib import Path

_FUZZ = str(Path(__file__).resolve().parents[2] / "fuzz")
if _FUZZ not in sys.path:
    sys.path.insert(0, _FUZZ)
