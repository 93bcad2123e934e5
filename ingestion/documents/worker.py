"""The sandboxed parse worker: ``python -m ingestion.documents.worker PATH KIND MAX_PAGES ENGINE``.

Runs in a child process started by ``sandbox.parse_document`` under memory, CPU-time and file-size
limits. Prints one JSON object on stdout: ``{"ok": true, "document": {...}}`` or
``{"ok": false, "reason": CODE, "message": TEXT}``. A crash or a limit hit simply ends the process;
the parent turns that into a rejection.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Parse one file and print the result as JSON; exit status 0 when a reply was printed."""
    from ingestion.documents.errors import DocumentRejected
    from ingestion.documents.parsers import parse_file

    path, kind, max_pages, engine = Path(argv[0]), argv[1], int(argv[2]), argv[3]
    try:
        parsed = parse_file(path, kind, max_pages=max_pages, pdf_engine=engine)
        reply: dict[str, object] = {"ok": True, "document": parsed.as_json()}
    except DocumentRejected as exc:
        reply = {"ok": False, "reason": exc.reason, "message": exc.message}
    except MemoryError:
        reply = {"ok": False, "reason": "parse_killed", "message": "the parser ran out of memory"}
    except Exception as exc:  # noqa: BLE001 - any parser failure is a rejection, never a crash
        reply = {"ok": False, "reason": "parse_failed", "message": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(reply, ensure_ascii=True))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
