"""A scripted stand-in for the QuantConnect API, served on 127.0.0.1 for end-to-end tests.

It verifies the request signature like the cloud does and picks a behaviour from the
``projectId`` of /projects/read, so one server can exercise every failure mode.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAKE_USER_ID = "424242"
# Recognisable so leak tests can search every output for it.
FAKE_TOKEN = "tok-SECRET-5f1e9c0a7b3d-do-not-leak"

# projectId values of /projects/read that trigger a failure.
API_ERROR, HTTP_500, NOT_JSON, SLOW, ECHO_TOKEN, HTTP_401 = 2, 3, 4, 5, 6, 7


def project(project_id: int = 1) -> dict[str, Any]:
    return {
        "projectId": project_id,
        "organizationId": "org-1",
        "name": f"Project {project_id}",
        "modified": "2024-01-02 03:04:05",
        "created": "2024-01-01 00:00:00",
        "ownerId": 7,
        "language": "Py",
    }


def signature_ok(headers: Any, user_id: str, token: str) -> bool:
    auth, stamp = headers.get("Authorization", ""), headers.get("Timestamp", "")
    if not auth.startswith("Basic ") or not stamp.isdigit():
        return False
    expected = hashlib.sha256(f"{token}:{stamp}".encode()).hexdigest()
    return base64.b64decode(auth[6:]).decode() == f"{user_id}:{expected}"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (the timeout test) is expected; anything else is loud."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeQuantConnect:
    """Serve the scripted API on a free port until :meth:`close`."""

    def __init__(self, user_id: str = FAKE_USER_ID, token: str = FAKE_TOKEN, slow_seconds: float = 3.0) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    payload = json.loads(raw or b"{}")
                except ValueError:
                    payload = {}
                path = self.path.split("/api/v2", 1)[-1]
                fake.requests.append((path, payload))
                if not signature_ok(self.headers, user_id, token):
                    self._send(401, b'{"success": false, "errors": ["Hash doesn\'t match."]}')
                    return
                status, body = fake.answer(path, payload)
                if isinstance(body, bytes):
                    self._send(status, body, "text/html")
                else:
                    self._send(status, json.dumps(body).encode())

        self.slow_seconds = slow_seconds
        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v2"

    def answer(self, path: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any] | bytes]:
        if path == "/account/read":
            return 200, {"organizationId": "org-1", "creditBalance": 123.5, "success": True}
        if path == "/projects/read":
            project_id = payload.get("projectId", 1)
            if project_id == API_ERROR:
                return 200, {"success": False, "errors": ["Project not found: 2"]}
            if project_id == HTTP_500:
                return 500, {"success": False}
            if project_id == NOT_JSON:
                return 200, b"<html>maintenance</html>"
            if project_id == SLOW:
                time.sleep(self.slow_seconds)
            if project_id == HTTP_401:
                return 401, {"success": False}
            if project_id == ECHO_TOKEN:
                # A hostile or buggy upstream echoing the token must still not leak it.
                return 200, {"success": False, "errors": [f"bad token {FAKE_TOKEN}"]}
            return 200, {"projects": [project(project_id)], "versions": [], "success": True}
        return 200, {"success": False, "errors": [f"The fake API does not script {path}"]}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
