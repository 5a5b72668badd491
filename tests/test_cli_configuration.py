"""Every service command of the real CLI, run in a subprocess, ends bad configuration with one line and exit 2:
a missing secret key where one is needed, a bad DATABASE_URL, an unreachable or unmigrated database, a missing or
invalid shop file. ``verify`` and ``worker`` sign nothing and need no secret key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-c", "from liandong.cli import main; main()"]
UNREACHABLE = "postgres://postgres:secret-pw@127.0.0.1:1/liandong"


def run(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI with a clean environment: nothing from the test process (its settings module, secrets, database)."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LIANDONG_HOME": str(home / "var")}
    return subprocess.run([*CLI, *args], env={**base, **env}, capture_output=True, text=True, timeout=120,
                          cwd=home, check=False)


def one_line_exit_2(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    done = run(tmp_path, "manage", "migrate", "-v0", LIANDONG_SECRET_KEY="only-for-migrating")
    assert done.returncode == 0, done.stderr
    return tmp_path


def test_verify_needs_no_secret_key(migrated: Path) -> None:
    result = run(migrated, "verify")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "verified" in result.stdout


@pytest.mark.parametrize("args", [["serve"], ["manage", "check"]])
def test_commands_that_need_the_secret_key_say_so_in_one_line(tmp_path: Path, args: list[str]) -> None:
    one_line_exit_2(run(tmp_path, *args), f"liandong {args[0]}", "LIANDONG_SECRET_KEY")


@pytest.mark.parametrize("command", ["verify", "worker", "manage", "serve", "run"])
def test_a_bad_database_url_is_one_line(tmp_path: Path, command: str) -> None:
    args = ["migrate"] if command == "manage" else []
    one_line_exit_2(run(tmp_path, command, *args, DATABASE_URL="nosuch://x", LIANDONG_SECRET_KEY="k"),
                    f"liandong {command}", "DATABASE_URL")


@pytest.mark.parametrize("command", ["verify", "worker", "manage", "serve", "run"])
def test_an_unreachable_database_is_one_line_without_its_password(tmp_path: Path, command: str) -> None:
    args = ["migrate"] if command == "manage" else []
    line = one_line_exit_2(run(tmp_path, command, *args, DATABASE_URL=UNREACHABLE, LIANDONG_SECRET_KEY="k"),
                           f"liandong {command}", "cannot reach the postgresql database liandong at 127.0.0.1:1")
    assert "secret-pw" not in line


def test_an_unmigrated_database_is_one_line_naming_migrate(tmp_path: Path) -> None:
    one_line_exit_2(run(tmp_path, "verify"), "liandong verify", "liandong manage migrate")


@pytest.mark.parametrize("command", ["worker", "serve", "run"])
def test_a_missing_or_invalid_shop_file_is_one_line(migrated: Path, command: str) -> None:
    one_line_exit_2(run(migrated, command, LIANDONG_SHOP_FILE=str(migrated / "nope.yaml"), LIANDONG_SECRET_KEY="k"),
                    f"liandong {command}", "nope.yaml", "No such file")
    bad = migrated / "shop.yaml"
    bad.write_text("plans: 3\n", encoding="utf-8")
    one_line_exit_2(run(migrated, command, LIANDONG_SHOP_FILE=str(bad), LIANDONG_SECRET_KEY="k"),
                    f"liandong {command}", "shop.yaml", "plans")


def test_file_commands_end_a_missing_input_with_one_line(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    for args in (["replay", missing], ["simulate", missing], ["audit", missing], ["verify-draw", missing],
                 ["demo", str(tmp_path / "no-folder")]):
        one_line_exit_2(run(tmp_path, *args), "nope" if args[0] != "demo" else "no-folder")
