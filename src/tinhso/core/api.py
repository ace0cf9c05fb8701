"""Pieces every API router shares: pagination and the error body."""

from __future__ import annotations

from typing import Generic, TypeVar

from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import BaseModel

T = TypeVar("T")

MAX_PAGE_SIZE = 200


class ErrorOut(Schema):
    detail: str
    code: str | None = None


class PageParams(Schema):
    page: int = Field(1, ge=1, description="Page number, from 1")
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="Items per page (1–200)")


class Page(BaseModel, Generic[T]):
    count: int
    page: int
    page_size: int
    pages: int
    items: list[T]


def paginate(qs: QuerySet, params: PageParams) -> dict[str, object]:
    count = qs.count()
    start = (params.page - 1) * params.page_size
    return {
        "count": count,
        "page": params.page,
        "page_size": params.page_size,
        "pages": max(1, -(-count // params.page_size)),
        "items": list(qs[start : start + params.page_size]),
    }
