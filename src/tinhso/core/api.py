"""Pieces every API router shares: pagination and the error body."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from pydantic import BaseModel

T = TypeVar("T")

MAX_PAGE_SIZE = 200


class ErrorOut(Schema):
    detail: str
    code: str | None = None
    errors: dict[str, list[str]] | None = Field(
        None, description="Messages per input field, for invalid requests (422)"
    )


MAX_PAGE = 100_000
# The largest integers the database holds where the API's numbers go: ids are bigint
# (BigAutoField), versions and counts integer. A larger number is a 422, not a database
# error.
ID_MAX = 2**63 - 1
INT_MAX = 2**31 - 1


class PageParams(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1")
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="Items per page (1–200)")


class Page(BaseModel, Generic[T]):
    count: int
    page: int
    page_size: int
    pages: int
    items: list[T]


def paginate(qs: QuerySet[Any], params: PageParams) -> dict[str, object]:
    count = qs.count()
    start = (params.page - 1) * params.page_size
    return {
        "count": count,
        "page": params.page,
        "page_size": params.page_size,
        "pages": max(1, -(-count // params.page_size)),
        "items": list(qs[start : start + params.page_size]) if start < count else [],
    }


# Pydantic's error types, said in the user's language.
_MESSAGES = {
    "missing": _("This field is required."),
    "string_too_short": _("Too short."),
    "string_too_long": _("Too long."),
    "string_type": _("Must be text."),
    "int_parsing": _("Must be a whole number."),
    "int_type": _("Must be a whole number."),
    "float_parsing": _("Must be a number."),
    "bool_parsing": _("Must be true or false."),
    "greater_than_equal": _("Too small."),
    "less_than_equal": _("Too large."),
    "greater_than": _("Too small."),
    "less_than": _("Too large."),
    "enum": _("Not one of the allowed values."),
    "literal_error": _("Not one of the allowed values."),
    "json_invalid": _("The body is not valid JSON."),
    "model_attributes_type": _("Must be an object."),
    "dict_type": _("Must be an object."),
    "list_type": _("Must be a list."),
    "too_short": _("Too few items."),
    "too_long": _("Too many items."),
    "string_pattern_mismatch": _("Not in the expected form."),
    "bool_type": _("Must be true or false."),
    "int_parsing_size": _("Too large."),
    "int_from_float": _("Must be a whole number."),
    "float_type": _("Must be a number."),
    "decimal_type": _("Must be a number."),
    "decimal_parsing": _("Must be a number."),
    "decimal_max_digits": _("Too many digits."),
    "decimal_max_places": _("Too many digits after the decimal point."),
    "decimal_whole_digits": _("Too many digits."),
    "date_type": _("Must be a date (YYYY-MM-DD)."),
    "date_parsing": _("Must be a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": _("Must be a date (YYYY-MM-DD)."),
    "date_from_datetime_inexact": _("Must be a date (YYYY-MM-DD)."),
    "datetime_type": _("Must be a date and time (YYYY-MM-DDTHH:MM)."),
    "datetime_parsing": _("Must be a date and time (YYYY-MM-DDTHH:MM)."),
    "datetime_from_date_parsing": _("Must be a date and time (YYYY-MM-DDTHH:MM)."),
    "datetime_object_invalid": _("Must be a date and time (YYYY-MM-DDTHH:MM)."),
    "time_type": _("Must be a time (HH:MM)."),
    "time_parsing": _("Must be a time (HH:MM)."),
    "timezone_naive": _("Must be a date and time without a time zone."),
    "timezone_aware": _("Must be a date and time with its time zone."),
    "uuid_type": _("Must be an identifier (UUID)."),
    "uuid_parsing": _("Must be an identifier (UUID)."),
    "url_type": _("Must be a web address."),
    "url_parsing": _("Must be a web address."),
}
_CONTAINERS = {"body", "query", "path", "header", "cookie", "form", "file"}
_GROUPS = {"payload", "filters", "paging", "query"}


def validation_errors(raw: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Pydantic's error list as {field: [messages]} in the active language."""
    errors: dict[str, list[str]] = {}
    for error in raw:
        loc = [str(p) for p in error.get("loc", ())]
        # Drop the location kind and the parameter-group name ninja puts first, once each: a
        # field may itself be called "form" or "file".
        if loc and loc[0] in _CONTAINERS:
            loc = loc[1:]
        if loc and loc[0] in _GROUPS:
            loc = loc[1:]
        message = _MESSAGES.get(str(error.get("type")))
        text = str(message) if message else str(error.get("msg", ""))
        if message is None and error.get("type") == "value_error" and error.get("ctx"):
            # Our own validators' message (core.input), without pydantic's "Value error, ".
            text = str(error["ctx"].get("error", "")) or text
        errors.setdefault(".".join(loc) or "__all__", []).append(text)
    return errors
