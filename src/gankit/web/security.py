"""What keeps the dashboard to its own page and its own machine.

The server holds no secrets but runs models on the user's machine, so:

- a request whose ``Host`` is not one of the server's own names gets 400 (DNS rebinding), one
  whose ``Origin`` is not the server's own origin gets 403 (cross-site requests, CSRF);
- request bodies are limited (413): small JSON bodies everywhere, one image on the upload route;
- generation runs at most ``GENERATION_SLOTS`` requests at once (429 for more);
- every response carries a strict Content-Security-Policy and ``nosniff``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from fastapi import HTTPException

MAX_BODY = 16 * 1024  # bytes of a request body
MAX_UPLOAD = 4 * 1024 * 1024  # bytes of an uploaded image
UPLOAD_PATH = re.compile(r"^/api/runs/[^/]+/(translate|inpaint)$")  # the routes that take an image
GENERATION_SLOTS = 2  # generation requests running at once; more get 429
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def host_names(host: str, port: int, extra: Iterable[str] = ()) -> set[str]:
    """The Host header values the server answers to: loopback names and the bind address."""
    names = set(LOOPBACK_NAMES)
    for h in (host, *extra):
        h = h.strip().lower()
        if h and h not in ("0.0.0.0", "::", "[::]"):
            names.add(f"[{h}]" if ":" in h and not h.startswith("[") else h)
    out = {f"{n}:{port}" for n in names}
    if port == 80:
        out |= names
    return out


def size_text(n: int) -> str:
    return (
        f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 and n % (1024 * 1024) == 0 else f"{n} bytes"
    )


class Guard:
    """ASGI middleware: refuse foreign Host/Origin and big bodies; add security headers."""

    def __init__(
        self, app, hosts: set[str], max_body: int = MAX_BODY, max_upload: int = MAX_UPLOAD
    ) -> None:
        self.app, self.hosts, self.max_body, self.max_upload = app, hosts, max_body, max_upload
        self.origins = {f"http://{h}" for h in hosts}

    def body_limit(self, path: str) -> tuple[int, str]:
        """The most bytes a request to ``path`` may send, and the refusal that names it."""
        if UPLOAD_PATH.match(path):
            return self.max_upload, f"image over {size_text(self.max_upload)}: upload a smaller one"
        return self.max_body, f"request body over {self.max_body} bytes"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers: dict[str, list[str]] = {}
        for k, v in scope["headers"]:
            headers.setdefault(k.decode("latin-1").lower(), []).append(v.decode("latin-1"))
        host = headers.get("host", [])
        if len(host) != 1 or host[0].lower() not in self.hosts:
            return await self.refuse(send, 400, "Host header not accepted: use the server's URL")
        origin = headers.get("origin", [])
        if origin and (len(origin) != 1 or origin[0].lower() not in self.origins):
            return await self.refuse(send, 403, "cross-origin request refused")
        site, mode = headers.get("sec-fetch-site", [""])[0], headers.get("sec-fetch-mode", [""])[0]
        if site == "cross-site" and mode != "navigate":
            return await self.refuse(send, 403, "cross-site request refused")
        limit, too_big = self.body_limit(scope["path"])
        length = headers.get("content-length", [])
        if length:
            if len(length) != 1 or not length[0].isdigit():
                return await self.refuse(send, 400, "bad Content-Length")
            if int(length[0]) > limit:
                return await self.refuse(send, 413, too_big)

        receive_app = receive
        if length or "transfer-encoding" in headers:
            # Read the whole (bounded) body first: a chunked body has no length to check upfront.
            chunks, size, more = [], 0, True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                more = message.get("more_body", False)
                if size > limit:
                    return await self.refuse(send, 413, too_big)
            body = b"".join(chunks)
            replayed = False

            async def receive_app():
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

        async def secured_send(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive_app, secured_send)

    @staticmethod
    async def refuse(send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *SECURITY_HEADERS,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@contextmanager
def generation_slot(slots: threading.BoundedSemaphore) -> Iterator[None]:
    """Hold one generation slot while the model runs (429 when all are taken)."""
    if not slots.acquire(blocking=False):
        raise HTTPException(
            429, "too many generation requests at once; retry shortly", {"Retry-After": "1"}
        )
    try:
        yield
    finally:
        slots.release()
