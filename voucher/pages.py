"""Paging long lists in the UI: one page of a query's rows and the links to the others."""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import request
from sqlalchemy.orm import Session

PER_PAGE = 50


@dataclass
class Page:
    items: list
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_number() -> int:
    """?page=N from the request; anything odd is the first page."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def count_rows(session: Session, query: sa.Select) -> int:
    """How many rows ``query`` gives, in one statement (a home page's figure, a page's total)."""
    return session.execute(sa.select(sa.func.count()).select_from(query.subquery())
                           ).scalar_one()


def paginate(session: Session, query: sa.Select, number: int, per_page: int = PER_PAGE) -> Page:
    """Count the query's rows and fetch page ``number`` (already ordered by the caller)."""
    total = count_rows(session, query)
    items = session.execute(query.limit(per_page).offset((number - 1) * per_page)
                            ).scalars().all()
    return Page(list(items), number, per_page, total)
