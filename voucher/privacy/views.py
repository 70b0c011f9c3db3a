"""Downloads of a client's data export: staff from the client's page (or the audit search), the
client from their own page. Other municipalities' clients are not found (404)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from flask_login import current_user

from voucher import db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.errors import NotFound
from voucher.privacy.export import client_for_export, export_client_data, export_pdf
from voucher.web import current_actor

bp = Blueprint("privacy", __name__)
FORMATS = ("json", "pdf")


def _download(client_id: int, file_format: str) -> Response:
    if file_format not in FORMATS:
        raise NotFound()
    session = db.session()
    client = client_for_export(session, current_user, client_id)
    export = export_client_data(session, client, actor=current_actor(), file_format=file_format,
                                authority=current_app.config["AUTHORITY_NAME"])
    if file_format == "json":
        body, mimetype = export.as_json(), "application/json"
    else:
        body, mimetype = export_pdf(export), "application/pdf"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="client-{client.id}-data.{file_format}"',
        "Cache-Control": "private, no-store"})


@bp.get("/clients/<int:client_id>/data-export.<file_format>")
@roles(Role.CASE_MANAGER, Role.ADMIN)
def client_export(client_id: int, file_format: str):
    return _download(client_id, file_format)


@bp.get("/my-data/export.<file_format>")
@roles(Role.CLIENT)
def my_export(file_format: str):
    if current_user.client_id is None:
        raise NotFound()
    return _download(current_user.client_id, file_format)
