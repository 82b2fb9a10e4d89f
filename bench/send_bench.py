#!/usr/bin/env python
"""Send benchmark: the real bulk send path (message_send → batch tasks on Celery → bucket → sandbox) with N
worker processes.

    .venv/bin/python bench/send_bench.py                       # 10,000 messages, 4 workers, 80/s and 1000/s
    .venv/bin/python bench/send_bench.py --messages 2000 --rates 80,250 --kill-rate 250
    .venv/bin/python bench/send_bench.py --messages 2000 --profile 2000    # where a delivery's CPU goes

Messages are sent the way a broadcast sends them: stored by `message_send(..., enqueue=False)` (every
check of the send path) before the workers start, then, once every worker answers a ping, handed to
`message_enqueue_many` (one batch task per MESSAGING_BATCH_SIZE messages), so what is timed is delivery.
For each configured limit it reports the achieved rate (measured from the sandbox's `received_at`
times, i.e. what "Meta" saw), the busiest 1-second window and the CPU per message of the workers and
the sandbox; with --kill-rate it SIGKILLs random worker children (and twice a whole worker) mid-run,
lets status webhooks and reconciliation settle the messages, and counts duplicates and lost messages
at the sandbox by biz_opaque_callback_data. A sequential send-and-sleep loop at the same nominal rates
is measured for comparison.

Needs PostgreSQL and Redis on 127.0.0.1 (as `make test`). Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_env, create_database, free_port, seed_sender  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=10_000)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--rates", default="80,1000", help="configured limits to measure, messages/s")
    p.add_argument("--kill-rate", type=int, default=1000, help="limit for the kill run (0: skip it)")
    p.add_argument("--sequential", type=int, default=1000, help="messages per sequential comparison run")
    p.add_argument("--batch-size", type=int, default=0, help="messages per batch task (default: MESSAGING_BATCH_SIZE)")
    p.add_argument("--claim-group", type=int, default=0,
                   help="with --profile: messages claimed per statement (default: MESSAGING_CLAIM_GROUP)")
    p.add_argument("--profile", type=int, default=0,
                   help="instead: deliver this many messages in this process (no Celery) and print where the CPU goes")
    p.add_argument("--db", default="wabadesk_send_bench")
    p.add_argument("--broker-db", type=int, default=5)
    p.add_argument("--cache-db", type=int, default=6)
    return p.parse_args()


ARGS = parse_args()
SANDBOX_PORT = free_port()
# A whole worker killed: its unacknowledged tasks come back after CELERY_VISIBILITY_TIMEOUT seconds.
ENV = bench_env(db=ARGS.db, broker_db=ARGS.broker_db, cache_db=ARGS.cache_db, sandbox_port=SANDBOX_PORT,
                CELERY_VISIBILITY_TIMEOUT="10")
os.environ.update(ENV)
PY = sys.executable


def start_sandbox() -> subprocess.Popen:
    proc = subprocess.Popen([PY, "manage.py", "graph_sandbox", "--port", str(SANDBOX_PORT)], cwd=ROOT, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", SANDBOX_PORT), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the sandbox did not start")


create_database(ARGS.db, ENV)
SANDBOX = start_sandbox()

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.graph import GraphClient  # noqa: E402
from accounts.models import PhoneNumber  # noqa: E402
from consent.models import Contact  # noqa: E402
from messaging.models import Message  # noqa: E402
from messaging.services import (  # noqa: E402
    message_enqueue_many,
    message_reconcile,
    message_send,
    message_status_apply,
)
from sandbox import demo  # noqa: E402
from sandbox.control import SandboxControl  # noqa: E402

control = SandboxControl(ENV["GRAPH_API_BASE_URL"])
PHONES = [f"+1555{i:07d}" for i in range(ARGS.messages)]


def seed_world():
    control.reset()
    control.merge(**demo.sandbox_state())
    phone = seed_sender()
    # Setup only: contacts are written in bulk with an opt-in state (the consent rule reads it).
    existing = set(Contact.objects.filter(phone__in=PHONES).values_list("phone", flat=True))
    Contact.objects.bulk_create([Contact(phone=p, consent_state="opted_in") for p in PHONES if p not in existing],
                                batch_size=2000)
    return phone


def reset_run(phone, rate):
    Message.objects.all().delete()
    with connection.cursor() as cursor:
        # Each run starts from the same table: the previous runs' dead rows vacuumed (autovacuum would
        # otherwise pick a moment inside a run) and a fresh checkpoint (the next is 5 min away).
        cursor.execute("VACUUM ANALYZE messaging_message")
        cursor.execute("CHECKPOINT")
    redis.Redis.from_url(ENV["CELERY_BROKER_URL"]).flushdb()
    cache = redis.Redis.from_url(ENV["REDIS_URL"])
    for key in cache.scan_iter("wabadesk:bucket:*"):
        cache.delete(key)
    control.clear_calls()
    PhoneNumber.objects.filter(pk=phone.pk).update(rate_limit_per_second=rate)


def start_worker(i: int) -> subprocess.Popen:
    return subprocess.Popen(
        [PY, "-m", "celery", "-A", "config", "worker", "-c", "1", "-P", "prefork", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-l", "ERROR", "-n", f"bench{i}-{random.randint(0, 1 << 30)}@%h"],
        cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def wait_ready(workers, timeout: float = 60) -> None:
    from config.celery import app

    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(app.control.ping(timeout=0.5) or []) >= len(workers):
            return
    raise SystemExit("the workers did not start")


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def stop_workers(workers):
    for w in workers:
        if w.poll() is None:
            os.killpg(w.pid, signal.SIGTERM)
    for w in workers:
        try:
            w.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(w.pid, signal.SIGKILL)


def open_count() -> int:
    return Message.objects.filter(status="queued").count()


# Seconds between kills: a 10,000-message run at 1000/s lasts ~10 s, and should see its two whole
# workers killed (every fourth kill) among a dozen or more children.
KILL_EVERY = (0.3, 1.0)


def wait_drained(workers, kill: bool, quiet_for: float = 3.0, timeout: float = 900) -> dict:
    """Wait until nothing is queued for `quiet_for` s; in a kill run, kill workers meanwhile."""
    kills = {"children": 0, "workers": 0}
    deadline, quiet_since, next_kill = time.time() + timeout, None, time.time() + random.uniform(*KILL_EVERY)
    while time.time() < deadline:
        if kill and time.time() >= next_kill and open_count() > 0:
            victim = random.randrange(len(workers))
            if kills["children"] and kills["children"] % 4 == 0 and kills["workers"] < 2:
                os.killpg(workers[victim].pid, signal.SIGKILL)  # the whole worker, main process included
                workers[victim].wait()
                workers[victim] = start_worker(victim)
                kills["workers"] += 1
            else:
                for child in children(workers[victim].pid):
                    os.kill(child, signal.SIGKILL)
            kills["children"] += 1
            next_kill = time.time() + random.uniform(*KILL_EVERY)
        if open_count() == 0:
            quiet_since = quiet_since or time.time()
            if time.time() - quiet_since >= quiet_for:
                return kills
        else:
            quiet_since = None
        time.sleep(0.25)
    raise SystemExit("the queue did not drain in time")


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (its reaped children are not counted)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(workers) -> dict:
    """CPU used so far by the workers' main processes, their pool children, their PostgreSQL backends
    and the sandbox. (A backend's CPU is lost if it closes before the end: CELERY_DB_REUSE_MAX keeps
    them open for longer than a run.)"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        backends = [row[0] for row in cursor.fetchall()]
    return {"main": sum(_proc_cpu(w.pid) for w in workers),
            "children": sum(_proc_cpu(c) for w in workers for c in children(w.pid)),
            "postgres": sum(map(_proc_cpu, backends)), "sandbox": _proc_cpu(SANDBOX.pid)}


def window_stats(times: list[float]) -> dict:
    times = sorted(times)
    n = len(times)
    if n < 2:
        return {"n": n}
    busiest, j = 0, 0
    for i in range(n):
        while times[i] - times[j] >= 1.0:
            j += 1
        busiest = max(busiest, i - j + 1)
    lo, hi = times[n // 20], times[n - 1 - n // 20]  # the middle 90 %, without start-up and tail
    return {"n": n, "overall": (n - 1) / (times[-1] - times[0]), "steady": (n * 0.9) / (hi - lo) if hi > lo else 0,
            "busiest_1s": busiest, "duration": times[-1] - times[0]}


def run(phone, rate: int, kill: bool) -> dict:
    reset_run(phone, rate)
    started = time.time()
    ids = [message_send(phone_number_id=phone.phone_number_id, to=p, template="order_update", language="en_US",
                        idempotency_key=f"bench-{rate}-{kill}-{p}", source="bench", enqueue=False).pk for p in PHONES]
    enqueue_s = time.time() - started
    workers = [start_worker(i) for i in range(ARGS.workers)]
    wait_ready(workers)
    cpu_before = cpu_seconds(workers)  # after start-up, so the figures are the sends' cost
    load_before = os.getloadavg()[0]
    message_enqueue_many(ids)
    try:
        kills = wait_drained(workers, kill, quiet_for=12 if kill else 3)
        cpu = {k: v - cpu_before.get(k, 0) for k, v in cpu_seconds(workers).items()}
        settled = {}
        if kill:
            # What Meta would do: a "sent" status webhook for every accepted message, carrying our key.
            stuck_before = Message.objects.filter(status__in=["sending", "unknown"]).count()
            for m in control.messages():
                message_status_apply({"id": m["id"], "status": "sent", "timestamp": str(int(m["received_at"])),
                                      "biz_opaque_callback_data": m["biz_opaque_callback_data"]})
            settled = {"stuck_after_kills": stuck_before, **message_reconcile(older_than=0)}
            wait_drained(workers, False)
    finally:
        stop_workers(workers)
    received = [m for m in control.messages() if m["phone_number_id"] == phone.phone_number_id]
    keys = Counter(m["biz_opaque_callback_data"] for m in received)
    expected = set(Message.objects.values_list("idempotency_key", flat=True))
    posts = sum(1 for c in control.calls() if c["method"] == "POST" and c["path"].endswith("/messages"))
    return {
        "rate": rate, "kill": kill, "cpu": cpu, "load": (load_before, os.getloadavg()[0]),
        "enqueue_per_s": len(PHONES) / enqueue_s, **window_stats([m["received_at"] for m in received]),
        "duplicates": sum(c - 1 for c in keys.values() if c > 1), "lost": len(expected - set(keys)),
        "posts": posts, "statuses": dict(Counter(Message.objects.values_list("status", flat=True))),
        "kills": kills, **settled,
    }


def sequential(phone, rate: int, n: int) -> dict:
    """The naive loop: send, then sleep 1/rate."""
    control.clear_calls()
    client = GraphClient(demo.SYSTEM_USER_TOKEN, max_retries=0)
    for i in range(n):
        client.send_message(phone.phone_number_id, {"messaging_product": "whatsapp", "to": PHONES[i % len(PHONES)],
                                                    "type": "template", "biz_opaque_callback_data": f"seq-{i}",
                                                    "template": {"name": "order_update", "language": {"code": "en_US"}}})
        time.sleep(1 / rate)
    return {"rate": rate, **window_stats([m["received_at"] for m in control.messages()])}


def profile(phone, n: int) -> None:
    """message_deliver_many in this process (no Celery): first plain, for the CPU of this process, of its
    PostgreSQL backend and of the sandbox per message; then the CPU of its parts measured one by one
    (cProfile's own overhead distorts small calls); then cProfile's top functions."""
    import cProfile
    import pstats

    from accounts import graph
    from messaging import ratelimit
    from messaging.services import message_deliver_many

    def cpu_per_call(fn, calls=n) -> float:
        started = time.process_time()
        for i in range(calls):
            fn(i)
        return 1000 * (time.process_time() - started) / calls

    for profiled in (False, True):
        reset_run(phone, 100_000)  # the bucket must not be what is measured
        ids = [message_send(phone_number_id=phone.phone_number_id, to=p, template="order_update", language="en_US",
                            source="bench", enqueue=False).pk for p in PHONES[:n]]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        before = (time.perf_counter(), time.process_time(), _proc_cpu(backend), _proc_cpu(SANDBOX.pid))
        profiler = cProfile.Profile()
        if profiled:
            profiler.runcall(message_deliver_many, ids)
            break
        message_deliver_many(ids)
        after = (time.perf_counter(), time.process_time(), _proc_cpu(backend), _proc_cpu(SANDBOX.pid))
        wall, cpu, pg, sandbox = (1000 * (a - b) / n for a, b in zip(after, before))
        print(f"{n} messages delivered in-process (load average {os.getloadavg()[0]:.1f}): {wall:.2f} ms wall per "
              f"message; CPU per message: this process {cpu:.2f} ms, its PostgreSQL backend {pg:.2f} ms, "
              f"sandbox {sandbox:.2f} ms", flush=True)

    client = GraphClient(demo.SYSTEM_USER_TOKEN, max_retries=0)
    body = Message.objects.first().payload
    url = client.url(f"/{phone.phone_number_id}/messages")
    post = cpu_per_call(lambda i: client.send_message(phone.phone_number_id, {**body, "biz_opaque_callback_data": i}))
    prepare = cpu_per_call(lambda i: graph._prepared("POST", url, None, body, {}))
    slot = cpu_per_call(lambda i: ratelimit.send_slot(phone.phone_number_id, 100_000))
    print(f"  of which, this process's CPU per call: POST through the Graph client {post:.3f} ms (preparing "
          f"the request alone {prepare:.3f} ms), bucket slot (Redis script) {slot:.3f} ms; the rest "
          f"(the group's queries, ORM, our code) {cpu - post - slot:.3f} ms")
    print("cProfile, wall-clock time, top functions by own time:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


def main():
    from django.conf import settings

    if ARGS.batch_size:
        settings.MESSAGING_BATCH_SIZE = ARGS.batch_size  # batches are cut here, when they are enqueued
    if ARGS.claim_group:
        settings.MESSAGING_CLAIM_GROUP = ARGS.claim_group  # only --profile delivers in this process
    phone = seed_world()
    if ARGS.profile:
        return profile(phone, ARGS.profile)
    print(f"send bench: {ARGS.messages} template messages, {ARGS.workers} worker processes, "
          f"{os.cpu_count()} CPUs, batches of {settings.MESSAGING_BATCH_SIZE}, "
          f"sandbox on 127.0.0.1:{SANDBOX_PORT}")
    print(f"{'limit/s':>8} {'kill':>5} {'enqueue/s':>10} {'achieved/s':>11} {'steady/s':>9} {'vs limit':>9} "
          f"{'busiest 1s':>11} {'dups':>5} {'lost':>5} {'POSTs':>6}")
    results = []
    plan = [(int(r), False) for r in ARGS.rates.split(",") if r] + ([(ARGS.kill_rate, True)] if ARGS.kill_rate else [])
    for rate, kill in plan:
        r = run(phone, rate, kill)
        results.append(r)
        print(f"{rate:>8} {'yes' if kill else 'no':>5} {r['enqueue_per_s']:>10.0f} {r['overall']:>11.1f} "
              f"{r['steady']:>9.1f} {100 * r['steady'] / rate - 100:>+8.1f}% {r['busiest_1s']:>11} "
              f"{r['duplicates']:>5} {r['lost']:>5} {r['posts']:>6}", flush=True)
        n = max(r["n"], 1)
        if not kill:  # a killed process takes its CPU figures with it
            ms = {k: 1000 * v / n for k, v in r["cpu"].items()}
            print(f"         CPU per message: workers {ms['main'] + ms['children']:.2f} ms (main processes "
                  f"{ms['main']:.2f}, pool children {ms['children']:.2f}), their PostgreSQL backends "
                  f"{ms['postgres']:.2f} ms, sandbox {ms['sandbox']:.2f} ms; "
                  f"load average {r['load'][0]:.1f} → {r['load'][1]:.1f}")
        if kill:
            print(f"         kills: {r['kills']}; left in sending/unknown by kills: {r['stuck_after_kills']}; "
                  f"requeued by reconciliation: {r['requeued']}; final statuses: {r['statuses']}")
    if not ARGS.sequential:
        return
    print("\nsequential send-and-sleep loop (one process, same nominal rate):")
    for rate, _ in plan:
        s = sequential(phone, rate, min(ARGS.sequential, ARGS.messages))
        print(f"{rate:>8}/s nominal: achieved {s['overall']:.1f}/s ({100 * s['overall'] / rate - 100:+.1f}%), "
              f"busiest 1 s window {s['busiest_1s']}", flush=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        SANDBOX.terminate()
