"""The container health check asks the service in its container for /healthz."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deploy import healthcheck
from deploy.processes import free_port


@pytest.fixture
def service():
    answers = {"/healthz": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(answers.get(self.path, 404))
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], answers
    server.shutdown()
    server.server_close()


def test_a_service_answering_200_is_healthy(service):
    port, _ = service
    assert healthcheck.healthy(port) == (True, f"http://127.0.0.1:{port}/healthz answered 200")


def test_a_service_answering_an_error_is_not(service):
    port, answers = service
    answers["/healthz"] = 503
    assert healthcheck.healthy(port) == (False, f"http://127.0.0.1:{port}/healthz answered 503")


def test_nothing_listening_is_not_healthy():
    ok, why = healthcheck.healthy(free_port())
    assert not ok and "did not answer" in why


def test_a_container_without_its_port_says_so(monkeypatch, capsys):
    monkeypatch.delenv("HTTP_PORT", raising=False)
    assert healthcheck.main() == 1
    assert "HTTP_PORT must name the service's port" in capsys.readouterr().err
