"""The package is typed: mypy (strict, settings in pyproject.toml) finds no issue."""

from __future__ import annotations

from mypy import api

from medledger.toolchain import project_root


def test_package_is_mypy_clean(monkeypatch):
    monkeypatch.chdir(project_root())
    stdout, stderr, status = api.run([])
    assert status == 0, stdout + stderr
