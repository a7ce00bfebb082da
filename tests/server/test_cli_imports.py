"""The ``hondana`` command imports what a command needs when it runs.

`demo` and `import-marc` spawn decoding processes, and a spawned process imports the main
module again: with the app imported at the top of ``server/cli.py``, each of them loaded
Strawberry, the schema and the ORM it never used (a third of a `hondana demo`'s CPU), and
`hondana worker` did the same before handing over to Celery."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_cli_does_not_import_the_app() -> None:
    probe = (
        "import sys, server.cli; "
        "print(sorted(m for m in ('server.app', 'schema.root', 'strawberry', 'sqlalchemy.orm',"
        " 'server.catalogue_import') if m in sys.modules))"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]", done.stdout
