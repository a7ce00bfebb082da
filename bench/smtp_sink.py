"""A counting SMTP sink in its own process (as a real mail server is): accepts every
message; on SIGTERM writes how many it took to the file named on the command line.

    smtp_sink.py PORT COUNT_FILE [ID_LOG]

With ``ID_LOG`` it also appends each message's Message-ID to that file as it arrives, one a
line, so a caller can watch deliveries and spot a mail sent twice (bench/drills.py)."""

from __future__ import annotations

import signal
import sys
import threading
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self, id_log: Path | None = None) -> None:
        self.count = 0
        self.id_log = id_log

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        if self.id_log is not None:
            ident = BytesParser().parsebytes(envelope.content, headersonly=True)["Message-ID"]
            with self.id_log.open("a", encoding="utf-8") as log:
                log.write(f"{ident}\n")
        return "250 OK"


def main() -> None:
    port, out = int(sys.argv[1]), Path(sys.argv[2])
    handler = Counter(Path(sys.argv[3]) if len(sys.argv) > 3 else None)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    controller.stop()
    out.write_text(str(handler.count))


if __name__ == "__main__":
    main()
