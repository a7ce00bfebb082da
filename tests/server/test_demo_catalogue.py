"""The demo catalogue ships with the project and is checked before it is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.demo import DEMO_CATALOGUE, unpack_catalogue


def test_the_shipped_catalogue_unpacks_to_real_marc_records(tmp_path: Path) -> None:
    unpacked = unpack_catalogue(tmp_path)
    records = unpacked.read_bytes().split(b"\x1d")[:-1]
    assert len(records) == 9999
    assert all(int(r[:5]) == len(r) + 1 for r in records[:50])  # leader length, terminator


def test_a_changed_catalogue_is_refused(tmp_path: Path) -> None:
    changed = tmp_path / "changed.mrc.xz"
    data = bytearray(DEMO_CATALOGUE.read_bytes())
    data[-100] ^= 1
    changed.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256"):
        unpack_catalogue(tmp_path, source=changed)
    assert not (tmp_path / "changed.mrc").exists()
