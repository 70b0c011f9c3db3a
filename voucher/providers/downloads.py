"""Giving out provider documents: only to the provider's own users and administrators, always
as a download, never rendered by the browser. Other roles are refused (403); another
provider's document is 404."""

from __future__ import annotations

from flask import abort, current_app, send_file
from flask_login import current_user

from voucher import db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.providers import documents
from voucher.providers.views import bp


@bp.get("/documents/<int:document_id>")
@roles(Role.PROVIDER, Role.ADMIN)
def document(document_id: int):
    found = documents.find_document(db.session(), document_id, user=current_user)
    path = documents.document_path(current_app.config["UPLOAD_DIR"], found)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="application/pdf", as_attachment=True,
                         download_name=found.original_filename, max_age=0, conditional=False,
                         etag=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
