"""Imports point down (DESIGN.md "Layout"): the pure cores import no socket, database or broker
library, read no clock, and nothing below ``callfloor`` imports the application shell."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

IO_MODULES = {"socket", "asyncio", "selectors", "ssl", "sqlite3", "aiosqlite", "aiomqtt", "amqtt",
              "paho", "starlette", "uvicorn", "uvloop", "subprocess", "threading", "pyVoIP"}
CLOCK_CALLS = {("time", "time"), ("time", "monotonic"), ("time", "sleep"), ("time", "perf_counter")}

# package -> packages it may import from this project
ALLOWED = {
    "telephony.sip": {"telephony.sip"},
    "telephony.rtp": {"telephony.rtp"},
    "telephony.calls": {"telephony.sip", "telephony.rtp", "telephony.calls"},
    "telephony.net": {"telephony", "recordings"},
    "recordings": {"recordings"},
    "floor": {"floor"},
    "ivr": {"ivr", "telephony.rtp"},
    "dialer": {"dialer", "ivr"},  # calling windows share the IVR's hours parser
    "qa": {"qa", "dialer"},  # complaints normalise numbers as the dialer does
}
PURE = ("telephony.sip", "telephony.rtp", "telephony.calls", "recordings.timeline", "floor", "ivr",
        "dialer", "qa", "recordings.analytics", "recordings.analytics_config",
        "recordings.analytics_frames", "recordings.analytics_level", "recordings.analytics_runs")
# Build-time scripts that run external programs are not part of the cores they sit in.
TOOLS = {"ivr.prompts_build"}
PROJECT = ("telephony", "recordings", "callfloor", "ivr", "dialer", "floor", "qa")


def _modules(package: str) -> list[Path]:
    path = ROOT / package.replace(".", "/")
    return sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


@pytest.mark.parametrize("package", PURE)
def test_pure_cores_do_no_io(package: str) -> None:
    for path in _modules(package):
        if _module_name(path) in TOOLS:
            continue
        for name in _imports(path):
            assert name.split(".")[0] not in IO_MODULES, f"{_module_name(path)} imports {name}"
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                target = node.func.value
                if isinstance(target, ast.Name) and (target.id, node.func.attr) in CLOCK_CALLS:
                    raise AssertionError(f"{_module_name(path)} reads the clock: {target.id}.{node.func.attr}()")


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_down(package: str) -> None:
    allowed = ALLOWED[package]
    for path in _modules(package):
        for name in _imports(path):
            if name.split(".")[0] not in PROJECT:
                continue
            assert any(name == a or name.startswith(a + ".") for a in allowed), (
                f"{_module_name(path)} imports {name}; {package} may import only {sorted(allowed)}"
            )
