"""pylock.toml (PEP 751) is uv.lock in the standard format, for tools that read no uv.lock:
the same packages, versions and hashes. `make lock` and `make upgrade` write both; this
fails when one changed without the other (or when uv.lock no longer matches
pyproject.toml: ``--locked``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).parent / "uv"
# The Makefile's PYLOCK (the same arguments), to standard output.
EXPORT = ["export", "--locked", "--format", "pylock.toml", "--extra", "dev"]
EXPORT += ["--no-emit-project", "--no-header", "--quiet", "--offline"]


def test_pylock_is_uv_lock_exported() -> None:
    done = subprocess.run(  # noqa: S603 - the environment's own uv
        [str(UV), *EXPORT], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    written = (ROOT / "pylock.toml").read_text(encoding="utf-8")
    assert written == done.stdout, "pylock.toml differs from uv.lock: run `make lock`"
