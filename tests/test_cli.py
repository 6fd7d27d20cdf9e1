"""The `trebuchet` command: users create/list/update and what `serve` prints on start."""

from __future__ import annotations

import json

import pytest

from .support import ServerProcess, trebuchet_cli


def test_users_create_json_list_and_update(tmp_path):
    env = {"TREBUCHET_DATA_DIR": str(tmp_path), "TREBUCHET_DATABASE_URL": ""}
    done = trebuchet_cli("users", "create", "--json", env=env)
    assert done.returncode == 0, done.stderr
    creds = json.loads(done.stdout)
    assert set(creds) == {"userId", "token", "secret"}
    assert creds["userId"].startswith("u-") and len(creds["secret"]) >= 40
    listed = trebuchet_cli("users", "list", env=env)
    assert creds["userId"] in listed.stdout and creds["token"] in listed.stdout
    assert creds["secret"] not in listed.stdout
    assert (tmp_path / "trebuchet.db").exists()
    updated = trebuchet_cli("users", "update", creds["userId"], "--call-rate", "2", env=env)
    assert updated.returncode == 0
    [row] = json.loads(trebuchet_cli("users", "list", "--json", env=env).stdout)
    assert row["userId"] == creds["userId"] and row["callRateLimit"] == 2.0 and row["signing"] is False
    missing = trebuchet_cli("users", "update", "u-nobody", "--api-rate", "1", env=env)
    assert missing.returncode == 1


def test_secret_is_stored_only_as_a_salted_hash(tmp_path):
    env = {"TREBUCHET_DATA_DIR": str(tmp_path), "TREBUCHET_DATABASE_URL": ""}
    creds = json.loads(trebuchet_cli("users", "create", "--json", env=env).stdout)
    raw = (tmp_path / "trebuchet.db").read_bytes()
    wal = tmp_path / "trebuchet.db-wal"
    if wal.exists():
        raw += wal.read_bytes()
    assert creds["token"].encode() in raw
    assert creds["secret"].encode() not in raw


def test_serve_prints_working_credentials_and_keeps_them_across_restarts(tmp_path):
    server = ServerProcess(data_dir=tmp_path / "data", database_url="").start()
    try:
        creds = server.first_user()
        banner = "".join(server.output)
        assert creds.user_id in banner and creds.token in banner and creds.secret in banner
        with server.client(creds) as api:
            assert api.get(f"/v1/users/{creds.user_id}/calls").status_code == 200
        server.stop()
        server.output.clear()
        server.start()
        assert creds.secret in "".join(server.output)
        assert (tmp_path / "data" / "trebuchet.db").exists()
        assert oct((tmp_path / "data" / "credentials.json").stat().st_mode & 0o777) == "0o600"
    finally:
        server.stop()


@pytest.mark.parametrize("command", [[], ["serve"], ["users", "create"], ["phone"], ["call"], ["demo"]])
def test_help_works_for_every_command(command):
    """typer and click must agree (click 8.2 broke typer 0.15's --help); every command explains itself."""
    done = trebuchet_cli(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout
