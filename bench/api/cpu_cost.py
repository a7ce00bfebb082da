"""CPU milliseconds one GraphQL request costs, in-process and one at a time (issue [R2 9/9]).

    .venv/bin/python bench/api/cpu_cost.py --database-url postgresql+asyncpg://.../db record myLoans

The real app (production settings, as ``run.py`` serves it) is called over ASGI by an
in-process httpx client, one request at a time, so nothing else of this process runs in
between: ``time.process_time()`` over ``--requests`` requests, best of ``--repeats``, is
the CPU one request costs (plus the client's share, a fraction of a millisecond). Another
process's load moves it much less than it moves a rate. Needs the seeded benchmark
database (``run.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(HERE), str(ROOT / "bench")]

import httpx  # noqa: E402
import run  # noqa: E402
import workload as wl  # noqa: E402
from seed import HOLDS_CARD, LOANS_CARD, PASSWORD  # noqa: E402

from server.trusted import MANIFEST  # noqa: E402


async def measure(work: wl.Workload, ops: list[str], requests: int, repeats: int) -> None:
    from server.app import create_app

    app = create_app()
    ids = work.ids
    json_type = {"content-type": "application/json"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        for op in ops:
            headers = dict(json_type)
            if op in ("myLoans", "myHolds"):
                card = LOANS_CARD if op == "myLoans" else HOLDS_CARD
                body = {"cardNumber": card, "password": PASSWORD}
                login = await c.post(
                    "/graphql",
                    content=json.dumps({"documentId": ids["LoginBearer"], "variables": body}),
                    headers=json_type,
                )
                token = login.json()["data"]["login"]["accessToken"]
                headers["authorization"] = f"Bearer {token}"
            request = work.request(op, "graphql")

            async def one(n: int) -> None:
                path, body_bytes, extra = request(n)  # noqa: B023
                r = await c.post(path, content=body_bytes, headers={**headers, **extra})  # noqa: B023
                if r.status_code != 200 or wl.check_data(r.content):
                    raise SystemExit(f"{op}: {r.status_code} {r.text[:300]}")  # noqa: B023

            for n in range(20):  # warm-up: caches, the pool, the document cache
                await one(n)
            costs = []
            for _ in range(repeats):
                start = time.process_time()
                for n in range(requests):
                    await one(n)
                costs.append((time.process_time() - start) / requests * 1000)
            print(f"{op}: {min(costs):.2f} ms CPU per request (best of {repeats} x {requests})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--database-url", default=run.DEFAULT_URL)
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("ops", nargs="*", choices=wl.OPS, default=list(wl.OPS))
    args = ap.parse_args()
    os.environ.update(
        HONDANA_ENV="production",
        HONDANA_SECRET_KEY=secrets.token_hex(16),
        HONDANA_DATABASE_URL=args.database_url,
        HONDANA_BROKER_URL="memory://",
        HONDANA_LOG_LEVEL="WARNING",
        HONDANA_POLICY__MAINTENANCE_START="00:00",  # no maintenance window (SVC-1)
        HONDANA_POLICY__MAINTENANCE_END="00:00",
    )
    ids = wl.trusted_ids(json.loads(MANIFEST.read_text(encoding="utf-8")))
    work = wl.Workload(ids=ids, record_ids=run.record_ids(args.database_url))
    asyncio.run(measure(work, args.ops, args.requests, args.repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
