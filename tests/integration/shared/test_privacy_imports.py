"""Export and erasure of an imported comment (shared.privacy.linked): the export says
which export it came from; the erasure keeps that record (it names nobody), so importing
the same file again does not bring the erased comment back; SQLite and PostgreSQL."""

from __future__ import annotations

import json

from shared.db import session_scope
from shared.models import ImportedComment
from shared.privacy.erase import erase_author
from shared.privacy.export import export_author
from tests.support.factories import open_article, status_of, submit_in_process

SLUG = "istanbul-talks"
ADDRESS = "imported@example.org"


def export(container) -> dict:
    return json.loads(b"".join(export_author(container, ADDRESS, "tester")))


def test_an_imported_comment_is_exported_and_its_import_record_kept(make_container, backend):
    container = make_container()
    open_article(container.stores, SLUG, "Talks", "https://news.example/talks")
    cid = submit_in_process(container, SLUG, "Written long ago elsewhere.", email=ADDRESS)
    with session_scope(container.stores.moderation) as session:
        session.add(ImportedComment(source="wordpress:news", source_id="17", comment_id=cid))
    body = export(container)
    assert [(i["source"], i["source_id"], i["comment_id"]) for i in body["imports"]] == [
        ("wordpress:news", "17", cid)
    ]
    erase_author(container, ADDRESS, "delete", "dpo")
    assert status_of(container, cid) == "erased"
    with container.stores.moderation_read() as session:
        assert session.get(ImportedComment, ("wordpress:news", "17")).comment_id == cid
    assert export(container)["imports"] == []  # nothing names the address any more
