"""The CKAN Action API (`/api/3/action/{name}` and `/api/action/{name}`), so CKAN clients
(ckanapi, harvesters, data-journalism notebooks) work against the portal unchanged.

Every answer has CKAN's envelope: `{"help", "success", "result"}`, or `success: false` with
`error: {"__type", "message", …}` and CKAN's status for that error (400 bad request or
search query, 403 authorisation, 404 not found, 409 validation). Write actions take an API
token (the platform's own, in `Authorization` or `X-CKAN-API-Key`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from tinhso.accounts.models import User
from tinhso.accounts.services import TokenError, api_token_authenticate
from tinhso.core.text import fold
from tinhso.opendata import datastore, services
from tinhso.opendata.formats import detect
from tinhso.opendata.licences import LICENCES
from tinhso.opendata.models import (
    Dataset,
    LoadStatus,
    Publisher,
    Resource,
    Tag,
    Theme,
)
from tinhso.opendata.selectors import (
    Query,
    SearchQueryError,
    dataset_get,
    dataset_search,
    publisher_get,
    resource_get,
    table_search,
    theme_get,
)
from tinhso.opendata.services import (
    InvalidError,
    NotAllowedError,
    ResourceInput,
    dataset_create,
    dataset_patch,
    parse_bool,
)

ROWS_MAX = 1000
LIST_LIMIT_MAX = 1000
# Offsets, counts and limits are numbers of rows: past PostgreSQL's integer range a query
# cannot even be sent, so larger values are a validation error, not a server error.
INT_MAX = 2**31 - 1
CKAN_VERSION = "2.11.0"  # the API version whose behaviour this implements


class BadRequestError(Exception):
    pass


class NotFoundError(Exception):
    pass


class Ctx:
    """One call: who is calling, the site's address, the request."""

    def __init__(self, request: HttpRequest, user: User | None) -> None:
        self.request = request
        self.user = user
        self.site = request.build_absolute_uri("/").rstrip("/")

    def url(self, path: str) -> str:
        return self.site + path


# --- Dictization ----------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.make_naive(value, timezone.get_fixed_timezone(0)).isoformat(
        timespec="microseconds"
    )


def organization_dict(publisher: Publisher, ctx: Ctx, package_count: int | None = None) -> dict:
    agency = publisher.agency
    data: dict[str, Any] = {
        "id": str(publisher.pk),
        "name": publisher.name,
        "title": agency.name,
        "display_name": agency.name,
        "description": agency.name_en,
        "image_url": "",
        "image_display_url": "",
        "created": _iso(publisher.created_at),
        "is_organization": True,
        "approval_status": "approved",
        "state": "active",
        "type": "organization",
        "agency_code": agency.code,
        "url": ctx.url(reverse("agencies:detail", args=[agency.code])),
    }
    if package_count is not None:
        data["package_count"] = package_count
    return data


def group_dict(theme: Theme, ctx: Ctx, package_count: int | None = None) -> dict:
    data: dict[str, Any] = {
        "id": str(theme.pk),
        "name": theme.name,
        "title": theme.title,
        "display_name": theme.title,
        "title_en": theme.title_en,
        "description": theme.description,
        "image_url": "",
        "image_display_url": "",
        "created": _iso(theme.created_at),
        "is_organization": False,
        "approval_status": "approved",
        "state": "active",
        "type": "group",
    }
    if package_count is not None:
        data["package_count"] = package_count
    return data


def resource_url(resource: Resource, site: str) -> str:
    if not resource.is_upload:
        return resource.url
    return site + reverse(
        "opendata:download",
        args=[resource.dataset.name, resource.pk, resource.filename or "tep"],
    )


def resource_dict(resource: Resource, ctx: Ctx) -> dict:
    table = getattr(resource, "datastore", None)
    data: dict[str, Any] = {
        "id": str(resource.pk),
        "package_id": str(resource.dataset_id),
        "name": resource.name,
        "description": resource.description,
        "url": resource_url(resource, ctx.site),
        "url_type": "upload" if resource.is_upload else None,
        "format": resource.format,
        "mimetype": resource.mimetype or None,
        "size": resource.size,
        "hash": f"sha256:{resource.sha256}" if resource.sha256 else "",
        "created": _iso(resource.created),
        "last_modified": _iso(resource.last_modified),
        "metadata_modified": _iso(resource.last_modified or resource.created),
        "position": resource.position,
        "state": "active",
        "resource_type": None,
        "datastore_active": table is not None,
        "downloads": resource.download_count,
    }
    if table is not None:
        data["datastore_rows"] = table.row_count
        data["datastore_bad_rows"] = table.bad_row_count
    if resource.load_status:
        data["datastore_load"] = load_dict(resource)
    return data


# Our load statuses in the words of CKAN's xloader and datapusher.
XLOADER_STATUS = {
    LoadStatus.PENDING: "pending",
    LoadStatus.LOADING: "running",
    LoadStatus.DONE: "complete",
    LoadStatus.ERROR: "error",
}


def load_dict(resource: Resource) -> dict[str, Any]:
    """How far the resource's file is on its way into the tabular store."""
    return {
        "status": resource.load_status,
        "rows_loaded": resource.load_rows,
        "error": resource.load_error or None,
        "queued": _iso(resource.load_queued_at),
        "last_updated": _iso(resource.load_updated_at),
    }


def package_dict(dataset: Dataset, ctx: Ctx) -> dict:
    licence = LICENCES.get(dataset.license_id)
    tags = sorted(dataset.tags.all(), key=lambda t: t.name)
    themes = list(dataset.themes.all())
    resources = sorted(dataset.resources.all(), key=lambda r: r.position)
    extras = {
        "title_en": dataset.title_en,
        "notes_en": dataset.notes_en,
        "temporal_start": dataset.temporal_start.isoformat() if dataset.temporal_start else "",
        "temporal_end": dataset.temporal_end.isoformat() if dataset.temporal_end else "",
        "spatial": dataset.spatial,
        "spatial_code": str(dataset.spatial_code or ""),
        "frequency": dataset.frequency,
        "generated_by_platform": "true" if dataset.generator else "",
    }
    data: dict[str, Any] = {
        "id": str(dataset.pk),
        "name": dataset.name,
        "title": dataset.title,
        "notes": dataset.notes,
        "type": "dataset",
        "state": "active",
        "private": dataset.private,
        "owner_org": str(dataset.publisher_id),
        "organization": organization_dict(dataset.publisher, ctx),
        "author": dataset.publisher.agency.name,
        "author_email": dataset.publisher.agency.email or None,
        "maintainer": dataset.contact_name or None,
        "maintainer_email": dataset.contact_email or None,
        "license_id": dataset.license_id,
        "license_title": licence.title if licence else dataset.license_id,
        "license_url": licence.url if licence else None,
        "isopen": licence is not None,
        "url": ctx.url(reverse("opendata:dataset", args=[dataset.name])),
        "version": None,
        "metadata_created": _iso(dataset.metadata_created),
        "metadata_modified": _iso(dataset.metadata_modified),
        "creator_user_id": None,
        "groups": [group_dict(t, ctx) for t in themes],
        "tags": [
            {
                "id": str(t.pk),
                "name": t.name,
                "display_name": t.name,
                "state": "active",
                "vocabulary_id": None,
            }
            for t in tags
        ],
        "num_tags": len(tags),
        "resources": [resource_dict(r, ctx) for r in resources],
        "num_resources": len(resources),
        "relationships_as_object": [],
        "relationships_as_subject": [],
        "extras": [{"key": k, "value": v} for k, v in extras.items() if v],
    }
    data.update({k: v for k, v in extras.items() if k != "generated_by_platform"})
    data["contact_name"] = dataset.contact_name
    data["contact_email"] = dataset.contact_email
    return data


def datasets_loaded(ids: list[Any]) -> list[Dataset]:
    found = (
        Dataset.objects.select_related("publisher__agency")
        .prefetch_related(
            "tags",
            "themes",
            Prefetch("resources", queryset=Resource.objects.select_related("datastore")),
        )
        .in_bulk(ids)
    )
    return [found[pk] for pk in ids if pk in found]


# --- Parameters -----------------------------------------------------------------------------


def _int(data: dict, key: str, default: int, *, minimum: int = 0) -> int:
    value = data.get(key, default)
    if value in (None, ""):
        return default
    text = str(value).strip()
    # Python reads a hundred thousand digits slowly and refuses more: a few suffice.
    if len(text) > 20:
        raise InvalidError({key: [_("Must be at most %(max)d") % {"max": INT_MAX}]})
    try:
        number = int(text)
    except ValueError:
        raise InvalidError({key: [_("Invalid integer")]}) from None
    if number < minimum:
        raise InvalidError({key: [_("Must be a natural number")]})
    if number > INT_MAX:
        raise InvalidError({key: [_("Must be at most %(max)d") % {"max": INT_MAX}]})
    return number


def _bool(data: dict, key: str, default: bool) -> bool:
    if key not in data or data[key] in (None, ""):
        return default
    errors: dict[str, list[str]] = {}
    value = parse_bool(data[key], key, errors)
    if errors or value is None:
        raise InvalidError(errors)
    return value


def _json_param(data: dict, key: str, default: Any) -> Any:
    """A parameter that may arrive as JSON text (GET) or as a JSON value (POST)."""
    value = data.get(key, default)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return default
        if text[0] in "[{":
            try:
                return json.loads(text)
            except (ValueError, RecursionError):
                raise InvalidError({key: [_("Cannot parse JSON")]}) from None
    return value


def _required(data: dict, key: str = "id") -> str:
    value = data.get(key)
    if value in (None, ""):
        raise InvalidError({key: [_("Missing value")]})
    return str(value)


def _field_list(value: Any, key: str) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise InvalidError({key: [_("Must be a list of field names")]})


# --- Actions --------------------------------------------------------------------------------


def status_show(ctx: Ctx, data: dict) -> dict:
    """Return the site's status: version, address, title and extensions."""
    return {
        "site_title": "Tỉnh Số — Cổng dữ liệu mở",
        "site_description": _("Open data of the province"),
        "site_url": ctx.site,
        "ckan_version": CKAN_VERSION,
        "error_emails_to": None,
        "locale_default": "vi",
        "extensions": ["datastore", "dcat"],
    }


def site_read(ctx: Ctx, data: dict) -> bool:
    """Return true if the caller may read the site (always)."""
    return True


def license_list(ctx: Ctx, data: dict) -> list:
    """Return the licences a dataset may carry."""
    return [lic.as_ckan() for lic in LICENCES.values()]


def package_list(ctx: Ctx, data: dict) -> list:
    """Return the names of the public datasets; `limit` and `offset` page them."""
    limit = _int(data, "limit", 0)
    offset = _int(data, "offset", 0)
    names = Dataset.objects.filter(private=False).order_by("name").values_list("name", flat=True)
    return list(names[offset : offset + limit] if limit else names[offset:])


def package_search(ctx: Ctx, data: dict) -> dict:
    """Search datasets: `q` (words, diacritics ignored; or field:value), `fq` (field:value
    filters: organization, groups, tags, res_format, license_id, name), `sort` (score,
    metadata_modified, metadata_created, name, title_string; asc or desc), `rows` (at most
    1000), `start`, `facet.field` (organization, groups, tags, res_format, license_id),
    `facet.limit`, `facet.mincount`, `include_private` (a publisher's own private
    datasets)."""
    rows = min(_int(data, "rows", 10), ROWS_MAX)
    facet = _bool(data, "facet", True)
    facet_fields = _json_param(data, "facet.field", [])
    if isinstance(facet_fields, str):
        facet_fields = [facet_fields]
    if not isinstance(facet_fields, list) or not all(isinstance(f, str) for f in facet_fields):
        raise InvalidError({"facet.field": [_("Must be a list of field names")]})
    query = Query(
        q=str(data.get("q") or ""),
        fq=str(data.get("fq") or ""),
        sort=str(data.get("sort") or ""),
        rows=rows,
        start=_int(data, "start", 0),
        facet_fields=facet_fields if facet else [],
        facet_limit=_int(data, "facet.limit", 50, minimum=-1),
        facet_mincount=_int(data, "facet.mincount", 1),
        include_private=_bool(data, "include_private", False),
    )
    result = dataset_search(query, ctx.user)
    datasets = datasets_loaded(result.ids)
    facets = {name: {n: c for n, _d, c in items} for name, items in result.facets.items()}
    return {
        "count": result.count,
        "sort": result.sort,
        "facets": facets,
        "results": [package_dict(d, ctx) for d in datasets],
        "search_facets": {
            name: {
                "title": name,
                "items": [{"name": n, "display_name": d, "count": c} for n, d, c in items],
            }
            for name, items in result.facets.items()
        },
    }


def package_show(ctx: Ctx, data: dict) -> dict:
    """Return one dataset, by `id` or name, with its resources."""
    ref = _required(data)
    dataset = dataset_get(ref, ctx.user)
    if dataset is None:
        raise NotFoundError(_("Dataset not found"))
    return package_dict(datasets_loaded([dataset.pk])[0], ctx)


def _list_params(data: dict, default_sort: str) -> tuple[bool, str, int, int]:
    all_fields = _bool(data, "all_fields", False)
    sort = str(data.get("sort") or default_sort).strip()
    words = sort.split()
    if (
        not words
        or words[0] not in ("name", "title", "package_count")
        or (len(words) > 1 and words[1].lower() not in ("asc", "desc"))
    ):
        raise InvalidError({"sort": [_("Sort by name, title or package_count, asc or desc")]})
    limit = min(_int(data, "limit", LIST_LIMIT_MAX), LIST_LIMIT_MAX)
    return all_fields, sort, limit, _int(data, "offset", 0)


def _sorted_page(
    items: list[Any], sort: str, limit: int, offset: int, title: Callable[[Any], str]
) -> list[Any]:
    key, *rest = sort.split()
    descending = bool(rest) and rest[0].lower() == "desc"
    if key == "package_count":
        items.sort(key=lambda i: i.n, reverse=descending)
    elif key == "title":
        items.sort(key=lambda i: fold(title(i)), reverse=descending)
    else:
        items.sort(key=lambda i: i.name, reverse=descending)
    return items[offset : offset + limit]


def _public_count() -> Count:
    return Count("datasets", filter=Q(datasets__private=False), distinct=True)


def _with_datasets(out: dict, public: QuerySet[Dataset], ctx: Ctx, data: dict) -> dict:
    """`include_datasets`: the public datasets (at most 1000) in the answer."""
    if _bool(data, "include_datasets", False):
        ids = list(public.order_by("name").values_list("id", flat=True)[:1000])
        out["packages"] = [package_dict(d, ctx) for d in datasets_loaded(ids)]
    return out


def organization_list(ctx: Ctx, data: dict) -> list:
    """Return the agencies that publish data (names, or dicts with `all_fields`); `sort`
    by name, title or package_count; `limit`, `offset`."""
    all_fields, sort, limit, offset = _list_params(data, "title asc")
    publishers = list(Publisher.objects.select_related("agency").annotate(n=_public_count()))
    page = _sorted_page(publishers, sort, limit, offset, lambda p: p.agency.name)
    if not all_fields:
        return [p.name for p in page]
    return [organization_dict(p, ctx, p.n) for p in page]


def organization_show(ctx: Ctx, data: dict) -> dict:
    """Return one publishing agency by `id` or name; `include_datasets` lists its public
    datasets (at most 1000)."""
    publisher = publisher_get(_required(data))
    if publisher is None:
        raise NotFoundError(_("Organization not found"))
    public = publisher.datasets.filter(private=False)
    return _with_datasets(organization_dict(publisher, ctx, public.count()), public, ctx, data)


def group_list(ctx: Ctx, data: dict) -> list:
    """Return the data fields (names, or dicts with `all_fields`); `sort` by name, title or
    package_count; `limit`, `offset`."""
    all_fields, sort, limit, offset = _list_params(data, "title asc")
    themes = list(Theme.objects.annotate(n=_public_count()))
    page = _sorted_page(themes, sort, limit, offset, lambda t: t.title)
    if not all_fields:
        return [t.name for t in page]
    return [group_dict(t, ctx, t.n) for t in page]


def group_show(ctx: Ctx, data: dict) -> dict:
    """Return one data field by `id` or name; `include_datasets` lists its public
    datasets (at most 1000)."""
    theme = theme_get(_required(data))
    if theme is None:
        raise NotFoundError(_("Group not found"))
    public = theme.datasets.filter(private=False)
    return _with_datasets(group_dict(theme, ctx, public.count()), public, ctx, data)


def tag_list(ctx: Ctx, data: dict) -> list:
    """Return the tags of public datasets; `query` keeps those containing it; with
    `all_fields`, dicts."""
    qs: QuerySet[Tag] = Tag.objects.filter(datasets__private=False).distinct()
    query = str(data.get("query") or "").strip()
    if query:
        qs = qs.filter(name__icontains=query)
    tags = list(qs.order_by("name"))
    if _bool(data, "all_fields", False):
        return [
            {"id": str(t.pk), "name": t.name, "display_name": t.name, "vocabulary_id": None}
            for t in tags
        ]
    return [t.name for t in tags]


def resource_show(ctx: Ctx, data: dict) -> dict:
    """Return one resource by `id`."""
    resource = resource_get(_required(data), ctx.user)
    if resource is None:
        raise NotFoundError(_("Resource not found"))
    return resource_dict(resource, ctx)


def xloader_status(ctx: Ctx, data: dict) -> dict:
    """Where the loading of a resource's file into the tabular store stands (`resource_id`),
    as CKAN's xloader answers it: `status` (pending, running, complete or error), `job_id`,
    `last_updated` and `task_info` (rows loaded so far, the error)."""
    key = "id" if "id" in data and "resource_id" not in data else "resource_id"
    resource = resource_get(_required(data, key), ctx.user)
    if resource is None:
        raise NotFoundError(_("Resource not found"))
    if not resource.load_status:
        raise NotFoundError(_("The resource is not loaded into the tabular store."))
    status = XLOADER_STATUS[LoadStatus(resource.load_status)]
    return {
        "resource_id": str(resource.pk),
        "status": status,
        "job_id": resource.load_task_id or None,
        "last_updated": _iso(resource.load_updated_at),
        "task_info": {
            "status": status,
            "created": _iso(resource.load_queued_at),
            "rows_loaded": resource.load_rows,
            "error": {"message": resource.load_error} if resource.load_error else None,
            "datastore_active": getattr(resource, "datastore", None) is not None,
        },
    }


def datastore_search(ctx: Ctx, data: dict) -> dict:
    """Rows of a tabular resource: `resource_id`, `filters` (JSON object: field → value or
    list of values), `q` (words, diacritics ignored; or a JSON object field → text),
    `fields`, `sort` ("field desc, …"), `limit` (100; at most 32000), `offset`,
    `include_total`. The result has `fields`, `records`, `total` and `_links`."""
    resource_id = _required(data, "resource_id")
    resource = resource_get(resource_id, ctx.user)
    if resource is None:
        raise NotFoundError(_('Resource "%s" was not found.') % resource_id)
    table = getattr(resource, "datastore", None)
    if table is None:
        raise NotFoundError(_('Resource "%s" is not in the tabular store.') % resource_id)
    filters = _json_param(data, "filters", {})
    if not isinstance(filters, dict):
        raise InvalidError({"filters": [_("Must be a JSON object")]})
    q = _json_param(data, "q", "")
    if not isinstance(q, str | dict):
        raise InvalidError({"q": [_("Must be text or a JSON object")]})
    fields_value = _json_param(data, "fields", None)
    fields = _field_list(fields_value, "fields") if fields_value not in (None, "", []) else None
    sort_value = data.get("sort") or ""
    if isinstance(sort_value, list):
        sort_value = ", ".join(str(s) for s in sort_value)
    limit = min(_int(data, "limit", datastore.LIMIT_DEFAULT), datastore.LIMIT_MAX)
    offset = _int(data, "offset", 0)
    include_total = _bool(data, "include_total", True)
    try:
        found = table_search(
            resource,
            table,
            datastore.SearchRequest(
                filters=filters,
                q=q,
                fields=fields,
                sort=str(sort_value),
                limit=limit,
                offset=offset,
                include_total=include_total,
            ),
        )
    except datastore.DatastoreError as exc:
        raise InvalidError(exc.errors) from None
    base = reverse("opendata:ckan_action", args=["datastore_search"])
    query = f"?resource_id={resource.pk}"
    out: dict[str, Any] = {
        "resource_id": str(resource.pk),
        "fields": found.fields,
        "records": found.records,
        "records_format": "objects",
        "limit": limit,
        "offset": offset,
        "include_total": include_total,
        "_links": {
            "start": f"{base}{query}",
            "next": f"{base}{query}&offset={offset + limit}",
        },
    }
    if include_total:
        out["total"] = found.total
        out["total_was_estimated"] = False
    if filters:
        out["filters"] = filters
    if q:
        out["q"] = q
    if sort_value:
        out["sort"] = sort_value
    return out


def _need_user(ctx: Ctx) -> User:
    if ctx.user is None:
        raise NotAllowedError(_("An API token is needed for this action."))
    return ctx.user


def package_create(ctx: Ctx, data: dict) -> dict:
    """Create a dataset for an agency you publish for (`owner_org`). It stays private
    unless `private` is false. `resources` may list links (`url`, `name`, `format`)."""
    user = _need_user(ctx)
    links = data.get("resources") or []
    if not isinstance(links, list) or not all(isinstance(r, dict) for r in links):
        raise InvalidError({"resources": [_("Must be a list of objects")]})
    with transaction.atomic():  # the dataset and its links, or nothing
        dataset = dataset_create(actor=user, data=data)
        for link in links:
            services.resource_create(
                actor=user,
                dataset=dataset,
                data=ResourceInput(
                    name=str(link.get("name") or ""),
                    description=str(link.get("description") or ""),
                    url=str(link.get("url") or ""),
                    format=str(link.get("format") or ""),
                ),
            )
    return package_dict(datasets_loaded([dataset.pk])[0], ctx)


def package_patch(ctx: Ctx, data: dict) -> dict:
    """Change the given fields of a dataset (`id` or name); `private: false` publishes it."""
    user = _need_user(ctx)
    dataset = dataset_get(_required(data), user)
    if dataset is None:
        raise NotFoundError(_("Dataset not found"))
    changes = {k: v for k, v in data.items() if k != "id"}
    dataset = dataset_patch(actor=user, dataset=dataset, data=changes)
    return package_dict(datasets_loaded([dataset.pk])[0], ctx)


def resource_create(ctx: Ctx, data: dict) -> dict:
    """Add a resource to a dataset (`package_id`): a file in `upload` (multipart: CSV,
    XLSX, JSON, GeoJSON or PDF; CSV and XLSX are loaded into the tabular store) or a link
    in `url`; `name`, `description`, `format`."""
    user = _need_user(ctx)
    dataset = dataset_get(_required(data, "package_id"), user)
    if dataset is None:
        raise NotFoundError(_("Dataset not found"))
    upload = ctx.request.FILES.get("upload")
    resource_file = None
    if upload is not None:
        limit = settings.TINHSO_OPENDATA_UPLOAD_MAX_BYTES
        content = upload.read(limit + 1)
        try:
            resource_file = detect(upload.name or "tep", content)
        except DjangoValidationError as exc:
            raise InvalidError({"upload": exc.messages}) from None
    url = str(data.get("url") or "").strip()
    if resource_file is not None and url and not url.startswith(("http://", "https://")):
        url = ""  # ckanapi sends the file name as url beside an upload
    resource = services.resource_create(
        actor=user,
        dataset=dataset,
        data=ResourceInput(
            name=str(data.get("name") or ""),
            description=str(data.get("description") or ""),
            url="" if resource_file is not None else url,
            file=resource_file,
            format=str(data.get("format") or ""),
        ),
    )
    resource = Resource.objects.select_related("dataset", "datastore").get(pk=resource.pk)
    return resource_dict(resource, ctx)


def help_show(ctx: Ctx, data: dict) -> str:
    """Return the help text of the action `name`."""
    name = _required(data, "name")
    if name not in ACTIONS:
        raise NotFoundError(_("Action name not known: %s") % name)
    return (ACTIONS[name][0].__doc__ or "").strip()


# name → (function, side-effect free (GET allowed))
ACTIONS: dict[str, tuple[Callable[[Ctx, dict], Any], bool]] = {
    "status_show": (status_show, True),
    "site_read": (site_read, True),
    "help_show": (help_show, True),
    "license_list": (license_list, True),
    "package_list": (package_list, True),
    "package_search": (package_search, True),
    "package_show": (package_show, True),
    "organization_list": (organization_list, True),
    "organization_show": (organization_show, True),
    "group_list": (group_list, True),
    "group_show": (group_show, True),
    "tag_list": (tag_list, True),
    "resource_show": (resource_show, True),
    "datastore_search": (datastore_search, True),
    "xloader_status": (xloader_status, True),
    "package_create": (package_create, False),
    "package_patch": (package_patch, False),
    "resource_create": (resource_create, False),
}


# --- The view -------------------------------------------------------------------------------


def _envelope(ctx_site: str, name: str) -> dict[str, Any]:
    return {"help": f"{ctx_site}/api/3/action/help_show?name={name}"}


def _error(help_url: dict, status: int, error: dict[str, Any]) -> JsonResponse:
    body = {**help_url, "success": False, "error": error}
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return response


def bad_request(request: HttpRequest, message: str) -> JsonResponse:
    """CKAN's 400 for a request that cannot be taken at all, for the action in the path
    (core.input refuses NUL characters with it: OpendataConfig registers it)."""
    site = request.build_absolute_uri("/").rstrip("/")
    match = request.resolver_match
    name = str(match.kwargs.get("name", "")) if match is not None else ""
    return _error(
        _envelope(site, name),
        400,
        {"__type": "Bad Request", "message": _("Bad request - %s") % message},
    )


def _request_data(request: HttpRequest) -> dict[str, Any]:
    if request.method == "GET":
        data: dict[str, Any] = {}
        for key in request.GET:
            values = request.GET.getlist(key)
            data[key] = values if len(values) > 1 else values[0]
        return data
    content_type = request.content_type or ""
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return {k: request.POST.get(k) for k in request.POST}
    body = request.body
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestError(_("JSON Error: %s") % exc) from None
    except RecursionError:
        raise BadRequestError(_("JSON Error: the body is nested too deeply")) from None
    if not isinstance(parsed, dict):
        raise BadRequestError(_("JSON Error: the request body must be a JSON object"))
    return parsed


def _caller(request: HttpRequest) -> User | None:
    header = request.headers.get("Authorization") or request.headers.get("X-CKAN-API-Key")
    if not header:
        return None
    token = header.split(" ", 1)[1] if header.lower().startswith("bearer ") else header
    try:
        return api_token_authenticate(token)
    except TokenError as exc:
        raise NotAllowedError(exc.message) from None


@csrf_exempt
def action(request: HttpRequest, name: str) -> JsonResponse:
    site = request.build_absolute_uri("/").rstrip("/")
    help_url = _envelope(site, name)
    if request.method not in ("GET", "POST"):
        return _error(help_url, 405, {"__type": "Bad Request", "message": _("Use GET or POST.")})
    if name not in ACTIONS:
        return _error(
            help_url,
            400,
            {
                "__type": "Bad Request",
                "message": _("Bad request - Action name not known: %s") % name,
            },
        )
    function, side_effect_free = ACTIONS[name]
    if request.method == "GET" and not side_effect_free:
        return _error(
            help_url,
            400,
            {
                "__type": "Bad Request",
                "message": _(
                    "Bad request - JSON Error: Invalid request. Please use POST method for "
                    "your request"
                ),
            },
        )
    try:
        user = _caller(request)
        data = _request_data(request)
        result = function(Ctx(request, user), data)
    except BadRequestError as exc:
        return _error(
            help_url, 400, {"__type": "Bad Request", "message": _("Bad request - %s") % exc}
        )
    except NotAllowedError as exc:
        return _error(
            help_url,
            403,
            {"__type": "Authorization Error", "message": _("Access denied: %s") % exc},
        )
    except NotFoundError as exc:
        return _error(
            help_url, 404, {"__type": "Not Found Error", "message": _("Not found: %s") % exc}
        )
    except InvalidError as exc:
        return _error(
            help_url,
            409,
            {
                "__type": "Validation Error",
                "message": "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items()),
                **exc.errors,
            },
        )
    except SearchQueryError as exc:
        return _error(
            help_url,
            400,
            {
                "__type": "Search Query Error",
                "message": _("Search Query is invalid: %s") % exc,
            },
        )
    response = JsonResponse(
        {**help_url, "success": True, "result": result},
        json_dumps_params={"ensure_ascii": False},
        safe=False,
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response
