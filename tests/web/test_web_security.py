"""Attacks on the dashboard: each refused with the right status, and the server serves on after."""

from __future__ import annotations

import http.client
import socket
import threading

import httpx
import pytest

from gankit.web.schemas import MAX_SEED
from gankit.web.security import MAX_BODY

from .conftest import DIGITS, RING

GEN = f"/api/runs/{DIGITS}/generate"


@pytest.fixture(autouse=True)
def still_serving(live):
    """After every attack, a normal request still works."""
    yield
    with live.client() as c:
        r = c.get("/api/runs")
        assert r.status_code == 200 and len(r.json()) == 4


def raw_request(port: int, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (no client-side URL clean-up) and read the status and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def get_raw_path(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", f"127.0.0.1:{port}")
    conn.endheaders()
    r = conn.getresponse()
    out = (r.status, r.read())
    conn.close()
    return out


# -- Host: DNS rebinding --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "localhost.evil.example:{port}",
        "127.0.0.1:1",  # another port
        "127.0.0.2:{port}",
        "192.168.1.10:{port}",
        "",
    ],
)
def test_foreign_host_refused(live, host):
    r = httpx.get(f"{live.url}/api/runs", headers={"Host": host.format(port=live.port)})
    assert r.status_code == 400 and "Host" in r.json()["detail"]


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
def test_own_names_accepted(live, host):
    r = httpx.get(f"{live.url}/api/runs", headers={"Host": host.format(port=live.port)})
    assert r.status_code == 200


def test_missing_or_repeated_host_refused(live):
    status, _ = raw_request(live.port, b"GET /api/runs HTTP/1.0\r\n\r\n")
    assert status == 400
    twice = f"Host: 127.0.0.1:{live.port}\r\nHost: evil.example\r\n".encode()
    status, _ = raw_request(live.port, b"GET /api/runs HTTP/1.1\r\n" + twice + b"\r\n")
    assert status == 400


# -- Origin: cross-site requests ------------------------------------------------------------------
@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "null",
        "http://127.0.0.1:1",
        "https://127.0.0.1:{port}",
        "http://localhost.evil.example:{port}",
    ],
)
def test_foreign_origin_refused(client, live, origin):
    origin = origin.format(port=live.port)
    r = client.post(GEN, json={"n": 1}, headers={"Origin": origin})
    assert r.status_code == 403 and "cross-origin" in r.json()["detail"]
    assert client.get("/api/runs", headers={"Origin": origin}).status_code == 403


def test_own_origin_accepted(client, live):
    for origin in (f"http://127.0.0.1:{live.port}", f"http://localhost:{live.port}"):
        assert client.post(GEN, json={"n": 1}, headers={"Origin": origin}).status_code == 200


def test_cross_site_fetch_refused(client):
    headers = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}
    assert client.get(f"/api/runs/{DIGITS}/samples/10.png", headers=headers).status_code == 403
    navigate = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    assert client.get("/", headers=navigate).status_code == 200  # following a link is fine


# -- bodies and generation bounds -----------------------------------------------------------------
def test_oversized_body_refused(client):
    big = b'{"n": 1, "pad": "' + b"x" * (MAX_BODY + 10) + b'"}'
    r = client.post(GEN, content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_oversized_chunked_body_refused(client):
    def chunks():
        yield b'{"n": 1, "pad": "'
        for _ in range(40):
            yield b"x" * 1024
        yield b'"}'

    r = client.post(GEN, content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_lying_content_length_refused(live):
    head = f"POST {GEN} HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\n"
    status, _ = raw_request(live.port, (head + "Content-Length: abc\r\n\r\n").encode())
    assert status == 400


@pytest.mark.parametrize(
    "body",
    [
        {"n": 0},
        {"n": 257},
        {"n": 10**9},
        {"n": "many"},
        {"seed": -1},
        {"seed": MAX_SEED + 1},
        {"seed": 1.5},
        {"label": -1},
        {"nrow": 0},
        {"unknown": 1},
        {"codes": {f"c{i}": [0.0] for i in range(17)}},
        {"codes": {"c": [0.0] * 513}},
        {"codes": {"c": "zero"}},
        [],
    ],
)
def test_out_of_range_generation_refused(client, body):
    assert client.post(GEN, json=body).status_code == 422


@pytest.mark.parametrize(
    "body",
    [{"steps": 1}, {"steps": 17}, {"rows": 0}, {"rows": 9}, {"seed_a": -1}, {"seed_b": 2**40}],
)
def test_out_of_range_interpolation_refused(client, body):
    assert client.post(f"/api/runs/{DIGITS}/interpolate", json=body).status_code == 422


def test_not_json_refused(client):
    r = client.post(GEN, content=b"n=5", headers={"Content-Type": "application/json"})
    assert r.status_code == 422


def test_generation_concurrency_limited(client, live):
    slots = live.app.state.generation_slots
    assert slots.acquire(blocking=False) and slots.acquire(blocking=False)  # both slots busy
    try:
        r = client.post(GEN, json={"n": 1})
        assert r.status_code == 429 and r.headers["retry-after"] == "1"
        r = client.post(f"/api/runs/{DIGITS}/interpolate", json={})
        assert r.status_code == 429
    finally:
        slots.release()
        slots.release()
    assert client.post(GEN, json={"n": 1}).status_code == 200


def test_generation_burst_is_limited_and_frees_its_slots(live):
    slots = live.app.state.generation_slots

    def burst() -> list[int]:
        statuses: list[int] = []

        def hit():
            with live.client() as c:
                statuses.append(c.post(GEN, json={"n": 256, "seed": 7}).status_code)

        threads = [threading.Thread(target=hit) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return statuses

    assert slots.acquire(blocking=False) and slots.acquire(blocking=False)
    try:
        assert burst() == [429] * 8  # every slot busy: all eight are turned away
    finally:
        slots.release()
        slots.release()
    statuses = burst()
    assert len(statuses) == 8 and set(statuses) <= {200, 429} and 200 in statuses
    # Every slot a request took came back: two free, no more.
    taken = [slots.acquire(blocking=False) for _ in range(3)]
    for ok in taken:
        if ok:
            slots.release()
    assert taken == [True, True, False]


# -- traversal: files only by run id and integer step ---------------------------------------------
# (path sent verbatim, status): 404 where no route or run matches, 422 where a run id or step
# fails its pattern or type. Percent-decoding happens before routing, so an encoded '/' splits.
TRAVERSALS = [
    ("/api/runs/..%2f..%2f..%2fetc%2fpasswd", 404),
    ("/api/runs/..%2F..%2F..%2Fetc%2Fpasswd/stats", 404),
    ("/api/runs/%2e%2e/stats", 422),
    ("/api/runs/%2e%2e%2f%2e%2e%2fetc/stats", 404),
    ("/api/runs/..%252f..%252fetc%252fpasswd/stats", 422),
    ("/api/runs/%2Fetc%2Fpasswd/stats", 404),
    ("/api/runs//etc/passwd", 404),
    ("/api/runs/../../../../etc/passwd", 404),
    (f"/api/runs/{RING}%00/stats", 422),
    (f"/api/runs/{RING}%00.png", 422),
    (f"/api/runs/{RING}%2f..%2f{DIGITS}/stats", 404),
    ("/api/runs/00000-..%2f..%2fetc/stats", 404),
    ("/api/runs/00000-%2e%2e/stats", 422),
    ("/api/runs/C:%5cWindows%5cwin.ini/stats", 422),
    (f"/api/runs/{RING}/samples/..%2f..%2fconfig.png", 404),
    (f"/api/runs/{RING}/samples/-1.png", 422),
    (f"/api/runs/{RING}/samples/1e3.png", 422),
    (f"/api/runs/{RING}/samples/%2fetc%2fpasswd.png", 404),
    (f"/api/runs/{RING}/toy/..%2f..%2fconfig", 404),
    (f"/api/runs/{RING}/toy/20%00", 422),
    (f"/api/runs/{RING}/..%2fconfig.json", 404),
    (f"/api/runs/{RING}/..%5c..%5cconfig.json", 404),
    ("/static/..%2f..%2fserver.py", 404),
    ("/static/../server.py", 404),
    ("/static/%2e%2e/%2e%2e/runs.py", 404),
    ("/static/..%5c..%5cserver.py", 404),
    ("/static//etc/passwd", 404),
    ("/..%2f..%2f..%2fetc%2fpasswd", 404),
]


@pytest.mark.parametrize(("path", "expected"), TRAVERSALS)
def test_traversal_refused(live, path, expected):
    status, body = get_raw_path(live.port, path)
    assert status == expected
    for secret in (b"root:", b"def create_app", b"[fonts]", b'"train"', b"RUN_NAME"):
        assert secret not in body


def test_raw_null_byte_refused(live):
    req = f"GET /api/runs/{RING}\x00/stats HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\n\r\n"
    status, _ = raw_request(live.port, req.encode())
    assert status in (400, 404, 422)


# -- headers --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/api/runs"),
        ("GET", f"/api/runs/{DIGITS}/samples/10.png"),
        ("GET", "/api/runs/99999-nope"),
        ("POST", GEN),
    ],
)
def test_security_headers(client, method, path):
    r = client.request(method, path, json={"n": 1} if method == "POST" else None)
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"


def test_refusals_carry_security_headers(live):
    r = httpx.get(f"{live.url}/api/runs", headers={"Host": "evil.example"})
    assert r.status_code == 400 and r.headers["x-content-type-options"] == "nosniff"


def test_read_only_api(client):
    assert client.delete(f"/api/runs/{RING}").status_code == 405
    assert client.put(f"/api/runs/{RING}/stats").status_code == 405
    assert client.post("/api/runs").status_code == 405
