"""Giving out provider documents: only to the provider's own users and administrators, always
as a download, never rendered by the browser. Other roles are refused (403); another
provider's document is 404. The bytes come from the database, so any app server can answer;
damaged bytes are refused (documents.document_content)."""

from __future__ import annotations

import io

from flask import Response, request, send_file
from flask_login import current_user

from voucher import db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.providers import documents
from voucher.providers.views import bp


@bp.get("/documents/<int:document_id>")
@roles(Role.PROVIDER, Role.ADMIN)
def document(document_id: int):
    session = db.session()
    found = documents.find_document(session, document_id, user=current_user)
    if found.sha256 in request.if_none_match:
        # The client already holds these bytes: no need to read them out of the database.
        response = Response(status=304)
    else:
        data = documents.document_content(session, found)
        response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                             download_name=found.original_filename, max_age=0,
                             conditional=False, etag=False)
        response.content_length = len(data)
    response.set_etag(found.sha256)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
