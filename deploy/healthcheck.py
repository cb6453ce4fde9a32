"""The container's health check: `python -m deploy.healthcheck` exits 0 when the service in
this container answers GET /healthz on HTTP_PORT with 200, 1 otherwise (and says why)."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def healthy(port: int, *, timeout: float = 3.0) -> tuple[bool, str]:
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return response.status == 200, f"{url} answered {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url} answered {exc.code}"
    except OSError as exc:
        return False, f"{url} did not answer: {type(exc).__name__}"


def main() -> int:
    port = os.environ.get("HTTP_PORT", "")
    if not port.isdigit():
        print(f"HTTP_PORT must name the service's port, not {port!r}", file=sys.stderr)
        return 1
    ok, why = healthy(int(port))
    print(why, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
