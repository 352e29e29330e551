"""Where the RFC 4475 torture messages are: ``../shared/sip-torture`` beside the checkout, as the
project keeps them, or ``$CALLFLOOR_SIP_TORTURE``, or the workplace's ``/work/shared``.

A clone elsewhere (``git clone . /tmp/x``) still finds them. When none exists the torture tests
are skipped locally but fail in CI (``CI`` set), where they must run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["TORTURE_DIR", "require_torture"]

_REPO = Path(__file__).resolve().parents[1]
_CANDIDATES = [
    *([Path(os.environ["CALLFLOOR_SIP_TORTURE"])] if os.environ.get("CALLFLOOR_SIP_TORTURE") else []),
    _REPO.parent / "shared" / "sip-torture",
    Path("/work/shared/sip-torture"),
]
TORTURE_DIR = next((p for p in _CANDIDATES if p.is_dir()), _CANDIDATES[0])


def require_torture() -> Path:
    """The torture directory; a skip (locally) or a failure (in CI) when it is missing."""
    if not TORTURE_DIR.is_dir():
        looked = ", ".join(str(p) for p in _CANDIDATES)
        if os.environ.get("CI"):
            pytest.fail(f"RFC 4475 torture messages not found (looked in {looked})")
        pytest.skip(f"RFC 4475 torture messages not found (looked in {looked})")
    return TORTURE_DIR
