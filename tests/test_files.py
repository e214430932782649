"""Atomic writes leave the old file or the new one, never a part; one hasher for every digest."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from gankit import files


def test_atomic_writes_replace_whole_files_and_leave_no_temp(tmp_path):
    path = tmp_path / "a.json"
    files.atomic_write_json(path, {"step": 1})
    files.atomic_write_json(path, {"step": 2, "name": "ö"})
    assert json.loads(path.read_text(encoding="utf-8")) == {"step": 2, "name": "ö"}
    assert path.read_text(encoding="utf-8").endswith("}\n")
    files.atomic_write_text(tmp_path / "b.txt", "line\n")
    files.atomic_write_bytes(tmp_path / "c.bin", b"\x00\x01")
    assert (tmp_path / "b.txt").read_text() == "line\n"
    assert (tmp_path / "c.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.txt", "c.bin"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp(tmp_path, monkeypatch):
    path = tmp_path / "status.json"
    files.atomic_write_bytes(path, b"old")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)  # the data never reaches the disk
    with pytest.raises(OSError, match="disk full"):
        files.atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_file_digest_reads_in_chunks_and_matches_hashlib(tmp_path, algorithm):
    data = os.urandom(files.CHUNK * 2 + 17)  # more than two chunks, the last one partial
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert files.file_digest(path, algorithm) == hashlib.new(algorithm, data).hexdigest()


def test_file_digest_names_an_unknown_algorithm(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(ValueError, match="nosuchhash"):
        files.file_digest(tmp_path / "f", "nosuchhash")
