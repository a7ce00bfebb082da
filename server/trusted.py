"""Trusted documents: the operations the three front ends ship with, by id.

``clients/<front end>/*.graphql`` hold one named operation each. ``hondana clients
manifest`` writes ``clients/manifest.json``, mapping the sha256 of each document's text to
the text. A request may name a document by id, ``{"documentId": ..., "variables": ...}``;
in production that is the only way in, so the server runs nothing its own front ends did
not ship (OWASP GraphQL Cheat Sheet: allow-listed queries).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from policies.errors import ErrorCode

CLIENTS_DIR = Path(__file__).resolve().parents[1] / "clients"
MANIFEST = CLIENTS_DIR / "manifest.json"
FRONT_ENDS = ("web-opac", "smartphone", "staff-dashboard")


def document_id(text: str) -> str:
    """The id of a document: the sha256 of its UTF-8 text, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def operation_files(root: Path = CLIENTS_DIR) -> list[tuple[str, Path]]:
    """(front end, file) for every operation file, in a stable order."""
    return [
        (front, path) for front in FRONT_ENDS for path in sorted((root / front).glob("*.graphql"))
    ]


def build_manifest(root: Path = CLIENTS_DIR) -> dict[str, Any]:
    """The manifest for the operation files under ``root``. Front ends that send the very
    same text (``Logout``, say) share one id, listed under each of its ``uses``."""
    documents: dict[str, dict[str, Any]] = {}
    for front, path in operation_files(root):
        text = path.read_text(encoding="utf-8")
        entry = documents.setdefault(document_id(text), {"document": text, "uses": []})
        entry["uses"].append({"client": front, "operation": path.stem})
    return {"version": 1, "documents": documents}


def manifest_text(root: Path = CLIENTS_DIR) -> str:
    """The manifest as written to disk (stable, so a test can compare it)."""
    return json.dumps(build_manifest(root), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True, slots=True)
class Rewrite:
    """What to do with a request body: run ``body``, or refuse with ``code``."""

    body: bytes | None = None
    code: ErrorCode | None = None


class TrustedDocuments:
    """The trusted documents, and the rule for each request.

    Production reads ``clients/manifest.json`` (what was built and reviewed) and runs
    nothing else. Development also takes any document, and reads the operation files
    themselves, so an edited ``.graphql`` file works at once without a new manifest.
    """

    def __init__(self, entries: dict[str, dict[str, Any]], *, required: bool) -> None:
        self.entries = entries
        self.documents = {doc_id: entry["document"] for doc_id, entry in entries.items()}
        self.required = required

    @classmethod
    def load(cls, path: Path, *, required: bool) -> TrustedDocuments:
        """Production refuses to start without a manifest."""
        if not required:
            return cls(build_manifest()["documents"], required=False)
        if not path.exists():
            raise RuntimeError(f"trusted documents manifest missing: {path}")
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["documents"], required=True)

    def ids_for(self, front_end: str) -> dict[str, str]:
        """Operation name -> document id for one front end (what its pages send)."""
        return {
            use["operation"]: doc_id
            for doc_id, entry in self.entries.items()
            for use in entry["uses"]
            if use["client"] == front_end
        }

    def rewrite(self, request: dict[str, Any], *, exact: bool = False) -> Rewrite:
        """Resolve ``documentId`` into the document; refuse ad-hoc text when required.
        ``exact``: orjson read the request, so orjson writes it back unchanged; else
        ``json`` does (orjson would write ``NaN`` and infinities as ``null``)."""
        doc_id = request.get("documentId")
        if doc_id is None:
            if self.required:
                return Rewrite(code=ErrorCode.TRUSTED_DOCUMENT_REQUIRED)
            return Rewrite()
        if not isinstance(doc_id, str) or doc_id not in self.documents:
            return Rewrite(code=ErrorCode.UNKNOWN_DOCUMENT)
        if request.get("query") not in (None, self.documents[doc_id]):
            return Rewrite(code=ErrorCode.UNKNOWN_DOCUMENT)
        body = {k: v for k, v in request.items() if k != "documentId"}
        body["query"] = self.documents[doc_id]
        if exact:
            return Rewrite(body=orjson.dumps(body))
        return Rewrite(body=json.dumps(body, ensure_ascii=False).encode())
