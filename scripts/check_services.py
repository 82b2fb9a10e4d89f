"""Fail loudly, with the command that fixes it, when PostgreSQL or Redis is not reachable.

`make test` runs this first: the suite never skips what it cannot reach.
"""

import os
import socket
import sys
from urllib.parse import urlsplit

START = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""',
}


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def main() -> int:
    checks = [
        ("PostgreSQL", os.environ.get("DATABASE_URL", ""), 5432),
        ("Redis", os.environ.get("CELERY_BROKER_URL", ""), 6379),
    ]
    failed = False
    for name, url, port in checks:
        if not reachable(url, port):
            failed = True
            print(f"{name} is not reachable at {url}. Start it with:\n    {START[name]}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
