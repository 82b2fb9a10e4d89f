#!/usr/bin/env python
"""Public API benchmark: requests/s and p50/p99 latency of POST /v24.0/{phone_number_id}/messages with
the Graph API sandbox behind it, measured with wrk on loopback, and the overhead over calling the
sandbox directly.

    .venv/bin/python bench/api_bench.py                    # 10 s per scenario, 16 connections
    .venv/bin/python bench/api_bench.py --duration 20 --connections 32

Scenarios (each prints requests/s, p50, p99, non-2xx):
  sandbox-direct   wrk → sandbox POST /messages (the baseline: "Meta" alone)
  api-eager        wrk → wabadesk → send path → Celery task run inline → sandbox (one Meta call per request)
  api-eager-idem   the same with a unique Idempotency-Key per request (adds the claim INSERT + UPDATE)
  api-queued       wrk → wabadesk → send path → task enqueued on Redis (production shape: no worker runs,
                   so this is the API's own cost up to "accepted")
  api-layer-only   wrk → wabadesk with a body missing `to`: key lookup, rate limit, parsing, the 100/400
                   answer — the public API layer's own cost, without the send path (all non-2xx by design)

The server is Django's threaded development server (one process, keep-alive) with DEBUG off and
TCP_NODELAY set on its sockets (without it, its separate header/body writes meet the client's delayed
ACK and every sequential request waits ~40 ms). The figures compare the scenarios with each other on
this machine; they are not a capacity plan. Needs PostgreSQL and Redis on
127.0.0.1 and wrk (installed with apt-get when missing). Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_env, create_database, free_port, seed_sender  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--db", default="wabadesk_api_bench")
    p.add_argument("--broker-db", type=int, default=7)
    p.add_argument("--cache-db", type=int, default=8)
    return p.parse_args()


def wait_port(port: int, proc: subprocess.Popen, what: str) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not start")


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install -y wrk …", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk")


def serve(port: int) -> None:
    """`api_bench.py --serve PORT`: Django's threaded server with TCP_NODELAY (the web process)."""
    import django

    django.setup()
    from django.core.servers import basehttp
    from django.core.wsgi import get_wsgi_application

    class NoDelayHandler(basehttp.WSGIRequestHandler):
        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args):
            pass

    basehttp.WSGIRequestHandler = NoDelayHandler
    basehttp.run("127.0.0.1", port, get_wsgi_application(), threading=True)


if len(sys.argv) == 3 and sys.argv[1] == "--serve":
    serve(int(sys.argv[2]))
    raise SystemExit(0)

ARGS = parse_args()
WRK = ensure_wrk()
SANDBOX_PORT, WEB_PORT = free_port(), free_port()
ENV = bench_env(db=ARGS.db, broker_db=ARGS.broker_db, cache_db=ARGS.cache_db, sandbox_port=SANDBOX_PORT)
os.environ.update(ENV)
PY = sys.executable


create_database(ARGS.db, ENV)

import django  # noqa: E402

django.setup()

import redis  # noqa: E402

from consent.models import Contact  # noqa: E402
from messaging.api.models import ApiKey, IdempotencyRecord  # noqa: E402
from messaging.api.services import api_key_create  # noqa: E402
from messaging.models import Message  # noqa: E402
from sandbox import demo  # noqa: E402
from sandbox.control import SandboxControl  # noqa: E402
from sandbox.server import start_in_thread  # noqa: E402

TO = "+15550009999"
BODY = ('{"messaging_product": "whatsapp", "to": "%s", "type": "template", "template": {"name": "order_update", '
        '"language": {"code": "en_US"}}}' % TO)


def seed_world() -> str:
    # The per-number bucket (messaging) would cap the run at 80/s; the bench measures the API, not it.
    seed_sender(rate_limit_per_second=1_000_000)
    Contact.objects.update_or_create(phone=TO, defaults={"consent_state": "opted_in"})
    ApiKey.objects.all().delete()
    return api_key_create(name="bench", scopes=["send", "read"], rate_limit_per_minute=100_000_000)[1]


def reset_run(control: SandboxControl):
    Message.objects.all().delete()
    IdempotencyRecord.objects.all().delete()
    redis.Redis.from_url(ENV["CELERY_BROKER_URL"]).flushdb()
    control.clear_calls()


LUA = """
wrk.method = "POST"
wrk.body = [[%(body)s]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
%(request)s
"""
# One Idempotency-Key per request: each wrk thread gets its own id (setup runs in the main state).
UNIQUE_KEY = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local counter = 0
run = tostring(os.time())
request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = run .. "-" .. tostring(tid) .. "-" .. counter
  return wrk.format()
end
"""


def run_wrk(url: str, token: str, unique_key: bool = False, body: str = BODY) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % {"body": body, "token": token, "request": UNIQUE_KEY if unique_key else ""})
        script = f.name
    out = subprocess.run([WRK, f"-t{ARGS.threads}", f"-c{ARGS.connections}", f"-d{ARGS.duration}s", "--latency",
                          "-s", script, url], capture_output=True, text=True, check=True).stdout
    os.unlink(script)

    def ms(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "p50": ms("50"), "p99": ms("99"), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else ""}


def start_web(eager: bool) -> subprocess.Popen:
    env = {**ENV, "CELERY_TASK_ALWAYS_EAGER": "1" if eager else "0"}
    proc = subprocess.Popen([PY, __file__, "--serve", str(WEB_PORT)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(WEB_PORT, proc, "runserver")
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def main():
    server = start_in_thread(port=SANDBOX_PORT)
    server.handle_error = lambda request, address: None  # wrk closing its connections at the end is not news
    control = SandboxControl(server.url)
    control.reset()
    control.merge(**demo.sandbox_state())
    control.set_inbound(TO.lstrip("+"), time.time())
    key = seed_world()
    api_url = f"http://127.0.0.1:{WEB_PORT}/v24.0/{demo.PHONE_MAIN}/messages"
    results = {}

    reset_run(control)
    results["sandbox-direct"] = run_wrk(f"{server.url}/v24.0/{demo.PHONE_MAIN}/messages", demo.SYSTEM_USER_TOKEN)
    direct_sent = len(control.messages())

    checks = {}
    for name, eager, unique in (("api-eager", True, False), ("api-eager-idem", True, True),
                                ("api-queued", False, False)):
        reset_run(control)
        web = start_web(eager)
        try:
            run_wrk(api_url, key) if name == "api-eager" else None  # warm-up (connections, imports)
            reset_run(control)
            results[name] = run_wrk(api_url, key, unique_key=unique)
        finally:
            stop(web)
        checks[name] = (Message.objects.count(), len(control.messages()))
        if name == "api-queued":
            reset_run(control)
            web = start_web(False)
            try:
                results["api-layer-only"] = run_wrk(api_url, key, body='{"messaging_product": "whatsapp"}')
            finally:
                stop(web)
            checks["api-layer-only"] = (Message.objects.count(), len(control.messages()))
    redis.Redis.from_url(ENV["CELERY_BROKER_URL"]).flushdb()  # the queued run's tasks: nobody will run them
    server.shutdown()

    load = os.getloadavg()[0]
    print(f"\nPublic API benchmark — wrk -t{ARGS.threads} -c{ARGS.connections} -d{ARGS.duration}s on loopback, "
          f"{os.cpu_count()} CPUs (load average {load:.1f} at the end), Django threaded dev server (1 process, TCP_NODELAY), "
          "PostgreSQL + Redis local\n")
    print(f"{'scenario':<16} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'non-2xx':>8}  messages stored / Meta calls")
    for name, r in results.items():
        if name == "sandbox-direct":
            extra = f"- / {direct_sent}"
        else:
            extra = "{} / {}".format(*checks[name])
        print(f"{name:<16} {r['rps']:>9.1f} {r['p50']:>9.2f} {r['p99']:>9.2f} {r['non2xx']:>8}  {extra}"
              + (f"  socket errors: {r['socket_errors']}" if r["socket_errors"] else ""))
    base = results["sandbox-direct"]
    print("\nOverhead over calling the sandbox directly:")
    for name in ("api-eager", "api-eager-idem", "api-queued", "api-layer-only"):
        r = results[name]
        print(f"  {name:<15} p50 +{r['p50'] - base['p50']:.2f} ms, p99 +{r['p99'] - base['p99']:.2f} ms, "
              f"throughput {r['rps'] / base['rps'] * 100:.0f} % of direct")


if __name__ == "__main__":
    main()
