"""``gankit serve``: the real command in a subprocess."""

from __future__ import annotations

import socket
import subprocess

import httpx
import pytest

from gankit.cli.serve import is_loopback, url_host

from .conftest import child_env, gankit_cmd, spawn_serve


def test_serve_prints_its_url_and_serves(runs_dir):
    srv = spawn_serve(runs_dir)
    try:
        assert srv.url.startswith("http://127.0.0.1:") and not srv.url.endswith(":0")
        runs = httpx.get(f"{srv.url}/api/runs", timeout=30).json()
        assert len(runs) == 4
        assert "warning" not in "".join(srv.output).lower()  # loopback: no warning
    finally:
        assert srv.stop() in (0, 130)  # Ctrl-C stops it cleanly
    assert "Traceback" not in "".join(srv.output)


def test_serve_elsewhere_warns_and_still_checks_host(runs_dir):
    # Listening on all interfaces is allowed with an explicit --host; only loopback is used here.
    srv = spawn_serve(runs_dir, "--host", "0.0.0.0", "--allow-host", "gpu-box.lan")
    try:
        text = "".join(srv.output)
        assert "warning" in text and "reachable from other machines" in text
        port = srv.url.rsplit(":", 1)[1]
        assert httpx.get(f"{srv.url}/api/runs", timeout=30).status_code == 200
        named = {"Host": f"gpu-box.lan:{port}"}
        assert httpx.get(f"{srv.url}/api/runs", headers=named).status_code == 200
        other = {"Host": f"evil.example:{port}"}
        assert httpx.get(f"{srv.url}/api/runs", headers=other).status_code == 400
    finally:
        srv.stop()


def test_serve_port_in_use_is_one_clear_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = subprocess.run(
            gankit_cmd("serve", str(tmp_path), "--port", str(port)),
            capture_output=True,
            text=True,
            env=child_env(),
            timeout=120,
        )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr and "--port" in r.stderr


@pytest.mark.parametrize(
    ("host", "loopback", "shown"),
    [
        ("127.0.0.1", True, "127.0.0.1"),
        ("localhost", True, "localhost"),
        ("::1", True, "[::1]"),
        ("127.0.0.5", True, "127.0.0.5"),
        ("0.0.0.0", False, "127.0.0.1"),
        ("::", False, "127.0.0.1"),
        ("192.168.1.4", False, "192.168.1.4"),
        ("myhost", False, "myhost"),
    ],
)
def test_host_helpers(host, loopback, shown):
    assert is_loopback(host) is loopback
    assert url_host(host) == shown
