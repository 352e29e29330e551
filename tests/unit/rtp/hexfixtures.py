"""Load the hand-written hex fixtures of tests/fixtures/rtp/ (``#`` starts a comment)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rtp"


def _clean(line: str) -> str:
    return "".join(line.split("#", 1)[0].split())


def load_hex(name: str) -> bytes:
    """The whole file as one byte string."""
    lines = (FIXTURES / name).read_text().splitlines()
    return bytes.fromhex("".join(_clean(line) for line in lines))


def load_hex_lines(name: str) -> list[bytes]:
    """One byte string per non-comment line (one datagram per line)."""
    lines = (_clean(line) for line in (FIXTURES / name).read_text().splitlines())
    return [bytes.fromhex(line) for line in lines if line]
