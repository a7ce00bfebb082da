"""Benchmark: the outbox dispatcher against bare smtplib, side by side in one run.

Both send N due-date reminders over one connection to the same counting SMTP sink
(aiosmtpd on loopback, in its own process as a real mail server would be). The baseline sends prebuilt messages with ``smtplib`` and nothing else;
Hondana claims outbox rows, renders each Japanese template, sends, and commits each
delivery. Reproduce with ``make bench-mail`` (or ``python bench/mail_dispatch.py``).

The sink offers PIPELINING (RFC 2920) as real mail servers do; ``smtplib`` never uses it,
Hondana does (``workers/pipelining.py``). ``--no-pipelining`` runs both against a sink
that does not offer it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import SMTP as WIRE
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bare_smtplib(port: int, n: int) -> tuple[float, float]:
    """Seconds, and this process's CPU seconds, to send ``n`` prebuilt messages of the same
    size with smtplib alone (building them is in neither)."""
    body = ("山田 花子 様\n\nお借りの資料の返却期限日が近づいています。\n" * 6) + "・本のタイトル\n"
    sender = "no-reply@library.example.jp"
    messages = []
    for i in range(n):
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = f"p{i}@example.jp"
        msg["Subject"] = "【茨木市立図書館】返却期限日のお知らせ"
        msg["Message-ID"] = f"<bare.{i}@library.example.jp>"
        msg.set_content(body, charset="utf-8", cte="base64")
        # Flattened here, before the clock starts: the baseline is the wire alone.
        # (`send_message` would flatten each message inside the timed loop, and the modern
        # header objects cost about as much as the SMTP exchange: a slower, kinder baseline.)
        messages.append((str(msg["To"]), msg.as_bytes(policy=WIRE)))
    started, cpu = time.perf_counter(), time.process_time()
    with smtplib.SMTP("127.0.0.1", port) as conn:
        for recipient, data in messages:
            conn.sendmail(sender, [recipient], data)
    return time.perf_counter() - started, time.process_time() - cpu


async def seed(url: str, n: int, now: datetime) -> None:
    from sqlalchemy import insert

    from models import OutboxMessage, Patron
    from models.db import create_engine, create_session_factory
    from policies.enums import CardKind, OutboxState, PasswordState

    engine = create_engine(url)
    sessions = create_session_factory(engine)
    async with sessions() as db, db.begin():
        await db.execute(
            insert(Patron),
            [
                {
                    "card_number": f"9{i:09d}",
                    "name": "山田 花子",
                    "birth_date": date(1990, 1, 1),
                    "card_kind": CardKind.CITY,
                    "card_expires_on": date(2030, 1, 1),
                    "password_state": PasswordState.NONE,
                    "email1": f"p{i}@example.jp",
                    "created_at": now,
                }
                for i in range(n)
            ],
        )
        await db.execute(
            insert(OutboxMessage),
            [
                {
                    "dedupe_key": f"due:{i + 1}:bench",
                    "kind": "due_reminder",
                    "patron_id": i + 1,
                    "payload": {
                        "loans": [{"title": "本のタイトル", "due_on": "2026-12-02", "loan_id": i}]
                    },
                    "state": OutboxState.PENDING,
                    "attempts": 0,
                    "not_before": now,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for i in range(n)
            ],
        )
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--json", help="write the figures here too")
    parser.add_argument(
        "--no-pipelining",
        action="store_true",
        help="the sink does not offer PIPELINING (Hondana then waits for every reply)",
    )
    args = parser.parse_args()

    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="hondana-bench-"))
    count_file = workdir / "sink-count"
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(port), str(count_file)]
        + (["--no-pipelining"] if args.no_pipelining else []),
        stdout=subprocess.PIPE,
    )
    assert sink.stdout is not None
    assert sink.stdout.readline().strip() == b"ready"
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    os.environ.update(
        HONDANA_DATABASE_URL=url,
        HONDANA_MAIL_SENDER="smtp",
        HONDANA_SMTP_HOST="127.0.0.1",
        HONDANA_SMTP_PORT=str(port),
        HONDANA_BROKER_URL="memory://",
    )
    from models.migrate import upgrade

    upgrade(url)
    now = datetime(2026, 11, 30, 1, tzinfo=UTC)
    asyncio.run(seed(url, args.n, now))

    baseline, baseline_cpu = bare_smtplib(port, args.n)
    from workers.dispatch import dispatch_once

    started, cpu = time.perf_counter(), time.process_time()
    report = dispatch_once(now.isoformat())
    hondana, hondana_cpu = time.perf_counter() - started, time.process_time() - cpu
    sink.terminate()
    sink.wait(timeout=30)
    assert report.sent == args.n, report
    assert int(count_file.read_text()) == 2 * args.n, count_file.read_text()

    figures = {
        "messages": args.n,
        "database": url.split(":")[0],
        "sink_offers_pipelining": not args.no_pipelining,
        "bare_smtplib_per_s": round(args.n / baseline, 1),
        "hondana_dispatch_per_s": round(args.n / hondana, 1),
        "ratio": round(baseline / hondana, 3),
        # This process's CPU (all its threads) per mail: steadier than rates on a busy
        # machine; the sink's own CPU is not in it.
        "bare_smtplib_cpu_ms_per_mail": round(1000 * baseline_cpu / args.n, 3),
        "hondana_cpu_ms_per_mail": round(1000 * hondana_cpu / args.n, 3),
        "machine": f"{os.cpu_count()} cores, {sys.platform}, Python {sys.version.split()[0]}",
    }
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
