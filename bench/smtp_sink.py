"""A counting SMTP sink in its own process (as a real mail server is): accepts every
message; on SIGTERM writes how many it took to the file named on the command line.

    smtp_sink.py PORT COUNT_FILE [ID_LOG] [--no-pipelining]

With ``ID_LOG`` it also appends each message's Message-ID to that file as it arrives, one a
line, so a caller can watch deliveries and spot a mail sent twice (bench/drills.py).

Its EHLO offers PIPELINING (RFC 2920), as Postfix, Exim and the big mail services do:
aiosmtpd reads each command from its buffered stream in turn, so a pipelined group is
served in order, but it does not say so unless told. ``--no-pipelining`` leaves it out."""

from __future__ import annotations

import signal
import sys
import threading
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self, id_log: Path | None = None, pipelining: bool = True) -> None:
        self.count = 0
        self.id_log = id_log
        self.pipelining = pipelining

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # this form of the hook must set it (aiosmtpd docs)
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")  # before the last line, "250 HELP"
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        if self.id_log is not None:
            ident = BytesParser().parsebytes(envelope.content, headersonly=True)["Message-ID"]
            with self.id_log.open("a", encoding="utf-8") as log:
                log.write(f"{ident}\n")
        return "250 OK"


def main() -> None:
    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    port, out = int(args[0]), Path(args[1])
    id_log = Path(args[2]) if len(args) > 2 else None
    handler = Counter(id_log, pipelining="--no-pipelining" not in flags)
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
