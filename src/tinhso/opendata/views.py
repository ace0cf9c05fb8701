"""Portal pages of the open-data portal (browse by field, search with facets, a dataset, a
resource with a preview of its first rows), the downloads, and the DCAT documents."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.core import files as stored_files
from tinhso.core.api import MAX_PAGE
from tinhso.opendata import dcat
from tinhso.opendata.ckan import datasets_loaded
from tinhso.opendata.datastore import SearchRequest
from tinhso.opendata.licences import LICENCES
from tinhso.opendata.models import Dataset, Publisher, Resource, Theme
from tinhso.opendata.selectors import (
    Query,
    SearchQueryError,
    dataset_get,
    dataset_search,
    table_search,
)
from tinhso.opendata.services import publishing_agencies, resource_downloaded

PAGE_SIZE = 20
PREVIEW_ROWS = 50
FACETS = [
    ("groups", "linh-vuc"),
    ("organization", "co-quan"),
    ("res_format", "dinh-dang"),
    ("tags", "the"),
    ("license_id", "giay-phep"),
]


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _site(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def home(request: HttpRequest) -> HttpResponse:
    """Browse by field, with the number of public datasets in each; the latest changes."""
    themes = Theme.objects.annotate(
        n=Count("datasets", filter=Q(datasets__private=False), distinct=True)
    ).order_by("title")
    latest_ids = list(
        Dataset.objects.filter(private=False)
        .order_by("-metadata_modified")
        .values_list("id", flat=True)[:8]
    )
    context = {
        "themes": themes,
        "latest": datasets_loaded(latest_ids),
        "total": Dataset.objects.filter(private=False).count(),
        "publishers": Publisher.objects.filter(datasets__private=False).distinct().count(),
        "can_publish": isinstance(request.user, User) and bool(publishing_agencies(request.user)),
    }
    return render(request, "opendata/home.html", context)


def search_page(request: HttpRequest) -> HttpResponse:
    """Search with facets; each chosen facet value narrows the results (an fq filter)."""
    get = request.GET
    chosen: list[tuple[str, str, str]] = []  # (facet, query key, value)
    fq = []
    for facet, key in FACETS:
        for value in get.getlist(key):
            value = value.strip()[:100]
            if value:
                chosen.append((facet, key, value))
                fq.append(f'{facet}:"{value.replace(chr(34), "")}"')
    try:
        # Past MAX_PAGE the offset would not fit the database's integer (and no one pages so far).
        page_number = min(max(1, int(get.get("trang", "1"))), MAX_PAGE)
    except ValueError:
        page_number = 1
    sort = get.get("sap-xep", "")
    sorts = {
        "": "score desc, metadata_modified desc",
        "moi-nhat": "metadata_modified desc",
        "ten": "title_string asc",
    }
    query = Query(
        q=get.get("q", "")[:200].replace(":", " "),
        fq=" ".join(fq),
        sort=sorts.get(sort, sorts[""]),
        rows=PAGE_SIZE,
        start=(page_number - 1) * PAGE_SIZE,
        facet_fields=[f for f, _k in FACETS],
        facet_limit=10,
    )
    try:
        result = dataset_search(query, None)
    except SearchQueryError:
        result = dataset_search(Query(rows=PAGE_SIZE, facet_fields=[f for f, _k in FACETS]), None)
    paginator = Paginator(range(result.count), PAGE_SIZE)
    page = paginator.get_page(page_number)
    base_params = [(k, value) for k, values in get.lists() for value in values if k != "trang"]
    facets = []
    for facet, key in FACETS:
        items = []
        for name, display, count in result.facets.get(facet, []):
            selected = (facet, key, name) in chosen
            params = [(k, v) for k, v in base_params if not (k == key and v == name)]
            if not selected:
                params.append((key, name))
            items.append(
                {
                    "name": name,
                    "display": display,
                    "count": count,
                    "selected": selected,
                    "href": "?" + urlencode(params),
                }
            )
        facets.append({"key": key, "facet": facet, "items": items})
    context = {
        "q": get.get("q", ""),
        "sort": sort,
        "datasets": datasets_loaded(result.ids),
        "count": result.count,
        "page": page,
        "facets": facets,
        "chosen": chosen,
        "query": urlencode(base_params),
    }
    template = (
        "opendata/_results.html" if request.headers.get("HX-Request") else "opendata/search.html"
    )
    return render(request, template, context)


def _api_examples(request: HttpRequest, dataset: Dataset, resource: Resource | None) -> list[str]:
    site = _site(request)
    lines = [
        f"curl '{site}/api/3/action/package_show?id={dataset.name}'",
        f"curl '{site}/dataset/{dataset.name}.ttl'",
    ]
    if resource is not None and hasattr(resource, "datastore"):
        fields = resource.datastore.fields
        lines.append(
            f"curl '{site}/api/3/action/datastore_search?resource_id={resource.pk}&limit=5'"
        )
        if fields:
            first = fields[0]["id"]
            lines.append(
                f"curl -G '{site}/api/3/action/datastore_search'"
                f" --data-urlencode 'resource_id={resource.pk}'"
                f" --data-urlencode 'q=…' --data-urlencode 'sort={first} asc'"
            )
        lines.append(
            "python -c \"import ckanapi; print(ckanapi.RemoteCKAN('"
            + site
            + f"').action.datastore_search(resource_id='{resource.pk}', limit=5))\""
        )
    return lines


def dataset_page(request: HttpRequest, slug: str) -> HttpResponse:
    dataset = dataset_get(slug, _user(request))
    if dataset is None or dataset.name != slug:
        raise Http404
    loaded = datasets_loaded([dataset.pk])[0]
    resources = sorted(loaded.resources.all(), key=lambda r: r.position)
    tabular = next((r for r in resources if hasattr(r, "datastore")), None)
    context = {
        "dataset": loaded,
        "resources": resources,
        "licence": LICENCES.get(loaded.license_id),
        "examples": _api_examples(request, loaded, tabular),
        "activities": loaded.activities.all()[:10],
    }
    return render(request, "opendata/dataset.html", context)


def resource_page(request: HttpRequest, slug: str, resource_id: uuid.UUID) -> HttpResponse:
    """A resource, with the first rows of its table when it has one."""
    dataset = dataset_get(slug, _user(request))
    if dataset is None:
        raise Http404
    resource = (
        Resource.objects.select_related("datastore", "dataset").filter(
            pk=resource_id, dataset=dataset
        )
    ).first()
    if resource is None:
        raise Http404
    table = getattr(resource, "datastore", None)
    preview = None
    if table is not None:
        found = table_search(resource, table, SearchRequest(limit=PREVIEW_ROWS))
        preview = {
            "fields": found.fields,
            "rows": [[r.get(f["id"]) for f in found.fields] for r in found.records],
        }
    context = {
        "dataset": dataset,
        "resource": resource,
        "table": table,
        "preview": preview,
        "examples": _api_examples(request, dataset, resource),
    }
    return render(request, "opendata/resource.html", context)


def download(
    request: HttpRequest, slug: str, resource_id: uuid.UUID, filename: str
) -> HttpResponse | FileResponse:
    """The resource's file (or its link); every download is counted."""
    dataset = dataset_get(slug, _user(request))
    if dataset is None:
        raise Http404
    resource = Resource.objects.filter(pk=resource_id, dataset=dataset).first()
    if resource is None:
        raise Http404
    resource_downloaded(resource)
    if not resource.is_upload:
        return HttpResponseRedirect(resource.url)
    response = stored_files.upload_response(
        resource.stored_file,
        filename=resource.filename or f"{resource.pk}",
        content_type=resource.mimetype or "application/octet-stream",
        private=False,
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


def dataset_redirect(request: HttpRequest, slug: str) -> HttpResponse:
    """CKAN's address of a dataset (by name or id) leads to its portal page."""
    dataset = dataset_get(slug, _user(request))
    if dataset is None:
        raise Http404
    return redirect("opendata:dataset", dataset.name)


def resource_redirect(request: HttpRequest, slug: str, resource_id: uuid.UUID) -> HttpResponse:
    dataset = dataset_get(slug, _user(request))
    if dataset is None:
        raise Http404
    return redirect("opendata:resource", dataset.name, resource_id)


def organization_redirect(request: HttpRequest, name: str) -> HttpResponse:
    if not Publisher.objects.filter(name=name).exists():
        raise Http404
    return HttpResponseRedirect(reverse("opendata:search") + "?" + urlencode({"co-quan": name}))


def _rdf(body: bytes, kind: str) -> HttpResponse:
    response = HttpResponse(body, content_type=dcat.SERIALIZATIONS[kind][1])
    response["Access-Control-Allow-Origin"] = "*"
    return response


def catalog(request: HttpRequest, kind: str) -> HttpResponse:
    """The DCAT-AP catalogue, PAGE_SIZE datasets a page (`?page=`), with Hydra paging."""
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        return HttpResponseBadRequest(_("page must be a whole number"))
    graph = dcat.catalog_graph(_site(request), page, kind)
    if graph is None:
        raise Http404
    return _rdf(dcat.serialize(graph, kind), kind)


def dataset_rdf(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    dataset = dataset_get(slug, _user(request))
    if dataset is None:
        raise Http404
    return _rdf(dcat.serialize(dcat.dataset_graph(_site(request), dataset), kind), kind)
