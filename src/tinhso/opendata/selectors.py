"""Reads of the open-data portal: which datasets a caller may see, and the search behind
both the portal pages and `package_search` (words with diacritics ignored, Solr-style
`field:value` filters, sorting, facets)."""

from __future__ import annotations

import re
import shlex
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError
from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.core.text import fold
from tinhso.opendata import datastore
from tinhso.opendata.models import Dataset, DatastoreTable, Publisher, Resource, Tag, Theme
from tinhso.opendata.services import publisher_ids_of, search_words

FACET_FIELDS = ("organization", "groups", "tags", "res_format", "license_id")
SORTS = {
    "score": "score",
    "metadata_modified": "metadata_modified",
    "metadata_created": "metadata_created",
    "name": "name",
    "title_string": "search_title",
    "title": "search_title",
}
DEFAULT_SORT = "score desc, metadata_modified desc"


SEARCH_WORDS_MAX = 32  # different words in one search (q)


class SearchQueryError(Exception):
    """A query that cannot be understood (CKAN's "Search Query Error")."""


def visible(user: User | None, *, include_private: bool = True) -> QuerySet[Dataset]:
    """Datasets this user may see: the public ones, and (when asked) the private ones of the
    publishers they publish for."""
    qs = Dataset.objects.all()
    if not include_private:
        return qs.filter(private=False)
    return qs.filter(Q(private=False) | Q(publisher_id__in=publisher_ids_of(user)))


def dataset_get(ref: str, user: User | None) -> Dataset | None:
    """A dataset by id or slug, if this user may see it."""
    qs = visible(user).select_related("publisher__agency")
    try:
        found = qs.filter(pk=uuid.UUID(str(ref))).first()
    except ValueError:
        found = None
    return found or qs.filter(name=str(ref)).first()


def resource_get(ref: str, user: User | None) -> Resource | None:
    try:
        pk = uuid.UUID(str(ref))
    except ValueError:
        return None
    return (
        Resource.objects.select_related("dataset__publisher__agency", "datastore")
        .filter(pk=pk, dataset__in=visible(user))
        .first()
    )


def publisher_get(ref: str) -> Publisher | None:
    qs = Publisher.objects.select_related("agency")
    try:
        return qs.filter(pk=uuid.UUID(str(ref))).first() or qs.filter(name=ref).first()
    except ValueError:
        return qs.filter(Q(name=ref) | Q(agency__code=ref)).first()


def theme_get(ref: str) -> Theme | None:
    try:
        return Theme.objects.filter(pk=uuid.UUID(str(ref))).first()
    except ValueError:
        return Theme.objects.filter(name=ref).first()


# --- Search ---------------------------------------------------------------------------------


@dataclass
class Query:
    q: str = ""
    fq: str = ""
    sort: str = ""
    rows: int = 10
    start: int = 0
    facet_fields: list[str] = field(default_factory=list)
    facet_limit: int = 50
    facet_mincount: int = 1
    include_private: bool = False


@dataclass(frozen=True)
class Result:
    count: int
    ids: list[Any]
    facets: dict[str, list[tuple[str, str, int]]]  # field → [(name, display name, count)]
    sort: str


_TOKEN = re.compile(r"^([+-]?)([A-Za-z_\.]+):(.*)$", re.S)
_FILTERS = {
    "organization": "publisher__name",
    "owner_org": "publisher_id",
    "groups": "themes__name",
    "tags": "tags__name",
    "res_format": "resources__format",
    "license_id": "license_id",
    "name": "name",
    "id": "id",
    "frequency": "frequency",
}
_IGNORED = {"dataset_type", "type", "state", "capacity", "site_id"}


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text, posix=True)
    except ValueError as exc:  # an unclosed quote
        raise SearchQueryError(_("Cannot parse the query: %s") % exc) from None


def _apply_filters(qs: QuerySet[Dataset], tokens: list[str], words: list[str]) -> QuerySet[Dataset]:
    for token in tokens:
        if token.upper() in ("AND", "OR") or token in ("*:*", "*"):
            continue
        match = _TOKEN.match(token)
        if not match:
            words.append(token)
            continue
        sign, key, value = match.groups()
        value = value.strip().strip('"')
        if key == "text":
            words.append(value)
            continue
        if key in _IGNORED:
            continue
        if key not in _FILTERS:
            raise SearchQueryError(
                _("Unknown field %(field)s; one of: %(fields)s")
                % {"field": key, "fields": ", ".join(_FILTERS)}
            )
        lookup = _FILTERS[key]
        if key in ("id", "owner_org"):
            try:
                value = str(uuid.UUID(value))
            except ValueError:
                raise SearchQueryError(
                    _("%(field)s must be an id, not %(value)s") % {"field": key, "value": value}
                ) from None
        if key == "res_format":
            lookup += "__iexact"
        condition = Q(**{lookup: value})
        qs = qs.exclude(condition) if sign == "-" else qs.filter(condition)
    return qs


def _order(sort: str) -> tuple[list[tuple[str, bool]], str]:
    text = sort.strip() or DEFAULT_SORT
    parts: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        key = words[0]
        direction = words[1].lower() if len(words) > 1 else "asc"
        if key not in SORTS or direction not in ("asc", "desc") or len(words) > 2:
            raise SearchQueryError(
                _("Cannot sort by %(sort)s; sort by %(fields)s, each asc or desc")
                % {"sort": part.strip(), "fields": ", ".join(SORTS)}
            )
        parts.append((key, direction == "desc"))
    return parts, text


def _score(words: list[str]) -> Any:
    """Relevance, computed by the database: the whole phrase in the title (more at its
    start), then each word of it in the title. Every result matched every word already."""
    phrase = " ".join(words)

    def when(lookup: str, value: str, points: int) -> Case:
        return Case(When(**{lookup: value}, then=Value(points)), default=Value(0))

    score = when("search_title__contains", f" {phrase} ", 100) + when(
        "search_title__startswith", f" {phrase} ", 50
    )
    for word in words:
        score = score + when("search_title__contains", f" {word} ", 10)
    return score


def dataset_search(query: Query, user: User | None) -> Result:
    qs = visible(user, include_private=query.include_private)
    words: list[str] = []
    qs = _apply_filters(qs, _split(query.q) if ":" in query.q else [], words)
    if ":" not in query.q:
        words = [query.q]
    qs = _apply_filters(qs, _split(query.fq), [])
    # Each word once (a repeat matches nothing more); a question of more different words
    # than any title holds is refused rather than turned into thousands of conditions.
    folded = list(
        dict.fromkeys(w for w in search_words(" ".join(words)).split() if w not in ("and", "or"))
    )
    if len(folded) > SEARCH_WORDS_MAX:
        raise SearchQueryError(
            _("Search for at most %(count)d different words, not %(asked)d")
            % {"count": SEARCH_WORDS_MAX, "asked": len(folded)}
        )
    for word in folded:
        qs = qs.filter(search_text__contains=f" {word} ")
    if query.fq or ":" in query.q:
        qs = Dataset.objects.filter(pk__in=qs.values("pk"))  # joins may repeat a dataset
    order, sort_text = _order(query.sort)
    matching = qs
    if folded:
        qs = qs.annotate(score=_score(folded))
    db_order = []
    for key, descending in order:
        field = "score" if key == "score" else SORTS[key]
        if field == "score" and not folded:
            continue  # without words every dataset scores the same
        db_order.append(("-" if descending else "") + str(field))
    page = slice(query.start, query.start + query.rows)
    count = qs.count()
    ids = list(qs.order_by(*db_order, "name").values_list("id", flat=True)[page])
    facets = _facets(matching, query) if query.facet_fields else {}
    return Result(count=count, ids=ids, facets=facets, sort=sort_text)


def _facets(matching: QuerySet[Dataset], query: Query) -> dict[str, list[tuple[str, str, int]]]:
    out: dict[str, list[tuple[str, str, int]]] = {}
    for name in query.facet_fields:
        if name not in FACET_FIELDS:
            raise SearchQueryError(
                _("Cannot facet on %(field)s; one of: %(fields)s")
                % {"field": name, "fields": ", ".join(FACET_FIELDS)}
            )
        items: list[tuple[str, str, int]]
        if name == "organization":
            rows = (
                matching.values("publisher__name", "publisher__agency__name")
                .annotate(n=Count("id"))
                .values_list("publisher__name", "publisher__agency__name", "n")
            )
            items = [(a, b, c) for a, b, c in rows]
        elif name == "groups":
            theme_rows = (
                Theme.objects.filter(datasets__in=matching)
                .annotate(n=Count("datasets"))
                .values_list("name", "title", "n")
            )
            items = [(a, b, c) for a, b, c in theme_rows]
        elif name == "tags":
            tag_rows = (
                Tag.objects.filter(datasets__in=matching)
                .annotate(n=Count("datasets"))
                .values_list("name", "n")
            )
            items = [(a, a, c) for a, c in tag_rows]
        elif name == "res_format":
            fmt_rows = (
                Resource.objects.filter(dataset__in=matching)
                .exclude(format="")
                .values("format")
                .annotate(n=Count("dataset", distinct=True))
                .values_list("format", "n")
            )
            items = [(a, a, c) for a, c in fmt_rows]
        else:
            lic_rows = (
                matching.values("license_id").annotate(n=Count("id")).values_list("license_id", "n")
            )
            items = [(a, a, c) for a, c in lic_rows]
        items = [i for i in items if i[2] >= query.facet_mincount]
        items.sort(key=lambda i: (-i[2], fold(i[1])))
        out[name] = items if query.facet_limit < 0 else items[: query.facet_limit]
    return out


def table_search(
    resource: Resource, table: DatastoreTable, request: datastore.SearchRequest
) -> datastore.SearchResult:
    """Search the resource's table; if a load swapped it between reading its name and
    querying it (the old one is dropped when the new one is named), search the new one."""
    try:
        # No savepoint: requests run in autocommit (a failed statement spoils nothing).
        return datastore.search(table.table, table.fields, table.row_count, request)
    except DatabaseError:
        fresh = DatastoreTable.objects.filter(resource=resource).first()
        if fresh is None or fresh.table == table.table:
            raise
        return datastore.search(fresh.table, fresh.fields, fresh.row_count, request)
