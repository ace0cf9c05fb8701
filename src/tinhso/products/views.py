"""The products' pages: the public OCOP catalogue and product pages, the stamp resolver
(GS1 Digital Link: the public scan page, the RFC 9264 linkset, link-type redirects), the
producers' pages (register, products, OCOP applications, stamp orders and their labels),
the OCOP council's boxes and handling page, and the market inspectors' signals."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing as django_signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tinhso.accounts.models import User
from tinhso.accounts.policies import may, memberships_for, official, signed_in
from tinhso.agencies.maps import MapPoint, area_map
from tinhso.agencies.models import Agency, AgencyLevel
from tinhso.core.errors import DomainError
from tinhso.core.files import upload_response
from tinhso.core.spreadsheet import csv_row
from tinhso.core.text import fold
from tinhso.products.forms import ApplicationForm, OrderForm, ProducerForm, ProductForm
from tinhso.products.gs1 import Gs1Error, dl_parse
from tinhso.products.labels_service import part_range, parts_of, sheet_request, stamp_uri
from tinhso.products.models import (
    Application,
    Batch,
    BatchState,
    Evidence,
    LabelSheet,
    PhotoState,
    Producer,
    Product,
    ProductGroup,
    ProductPhoto,
    Scan,
    Signal,
    SignalStatus,
    Stamp,
)
from tinhso.products.scans import (
    client_digest,
    scan_locate,
    scan_rate_exceeded,
    scan_stamp,
    scan_unknown,
    signal_act,
)
from tinhso.products.scoresheet import CRITERIA, PARTS, part_totals
from tinhso.products.services import (
    application_act,
    application_submit,
    batch_order,
    producer_register,
    product_save,
)

PAGE = 24
EVIDENCE_SLOTS = 3  # the application form's file inputs, each with its criterion
GS1 = "https://gs1.org/voc/"
LINKSET = "application/linkset+json"


# --- public catalogue --------------------------------------------------------------------


def _certified_on(day: date) -> Q:
    return Q(certificate__isnull=False, certificate__valid_until__gte=day)


def catalogue(request: HttpRequest) -> HttpResponse:
    """OCOP products by stars, group, commune and name (accents optional)."""
    today = timezone.localdate()
    found = Product.objects.filter(_certified_on(today)).select_related(
        "producer__commune", "certificate"
    )
    stars = request.GET.get("sao", "").strip()
    group = request.GET.get("nhom", "").strip()
    commune = request.GET.get("xa", "").strip()
    query = request.GET.get("q", "").strip()[:100]
    if stars in {"3", "4", "5"}:
        found = found.filter(certificate__stars=int(stars))
    if group in ProductGroup.values:
        found = found.filter(group=group)
    if commune:
        found = found.filter(producer__commune__code=commune)
    if query:
        folded = fold(query)
        found = found.filter(
            Q(name_folded__contains=folded) | Q(producer__name_folded__contains=folded)
        )
    page = Paginator(found.order_by("-certificate__stars", "name"), PAGE).get_page(
        request.GET.get("trang")
    )
    communes = (
        Agency.objects.filter(
            level=AgencyLevel.COMMUNE, producers__products__certificate__valid_until__gte=today
        )
        .distinct()
        .order_by("admin_unit_name")
        .only("code", "name", "admin_unit_name")
    )
    return render(request, "products/catalogue.html", {
        "page": page, "stars": stars, "group": group, "commune": commune, "query": query,
        "groups": ProductGroup.choices, "communes": communes,
    })  # fmt: skip


def photo(request: HttpRequest, public_id: str) -> FileResponse:
    """A product's photo (cleaned; public like the product)."""
    from tinhso.core.files import image_response

    found = get_object_or_404(ProductPhoto, public_id=public_id, state=PhotoState.READY)
    return image_response(found.storage_name, content_type=found.content_type, public=True)


def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(
        Product.objects.select_related("producer__commune", "certificate__signed"), pk=pk
    )
    return render(request, "products/product.html", {
        "product": product, "stars": product.stars, "certificate": product.certificate,
        "photos": list(product.photos.filter(state=PhotoState.READY)),
        "expired": product.certificate is not None and product.stars is None,
    })  # fmt: skip


# --- the resolver (GS1 Digital Link) -----------------------------------------------------


def _not_genuine(request: HttpRequest, reason: str, status: int = 404) -> HttpResponse:
    response = render(request, "products/not_genuine.html", {"reason": reason}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _absolute(request: HttpRequest, path: str) -> str:
    return settings.TINHSO_PUBLIC_URL + path


def _links(request: HttpRequest, product: Product, anchor: str) -> dict[str, list[dict[str, Any]]]:
    """The link types this platform answers for a product (GS1 Web Vocabulary)."""
    page = _absolute(request, reverse("products:product", args=[product.pk]))
    links: dict[str, list[dict[str, Any]]] = {
        "pip": [{"href": page, "title": product.name, "type": "text/html", "hreflang": ["vi"]}],
        "defaultLink": [{"href": anchor, "title": _("Traceability"), "type": "text/html"}],
    }
    certificate = product.certificate
    if certificate is not None and certificate.signed is not None and product.stars:
        links["certificationInfo"] = [{
            "href": _absolute(
                request, reverse("signing:document", args=[certificate.signed.public_id])
            ),
            "title": _("OCOP certificate %(n)s (%(s)d stars)") % {"n": certificate.number,
                                                                  "s": certificate.stars},
            "type": "text/html",
        }]  # fmt: skip
    shops = [{"href": s["url"], "title": s["name"]} for s in product.links]
    if shops:
        links["hasRetailers"] = shops
    return links


def _linkset(request: HttpRequest, product: Product, anchor: str) -> JsonResponse:
    entry: dict[str, Any] = {"anchor": anchor}
    for kind, targets in _links(request, product, anchor).items():
        entry[GS1 + kind] = targets
    response = JsonResponse({"linkset": [entry]}, content_type=LINKSET,
                            json_dumps_params={"ensure_ascii": False})  # fmt: skip
    response["Link"] = f'<{anchor}>; rel="linkset"; type="{LINKSET}"'
    response["Vary"] = "Accept"
    return response


def _wants_linkset(request: HttpRequest, link_type: str) -> bool:
    if link_type in ("linkset", "all"):
        return True
    accept = request.headers.get("Accept", "")
    return LINKSET in accept and "text/html" not in accept.split(",")[0]


def _client(request: HttpRequest) -> tuple[str, str]:
    """The scanning client (its address behind the trusted proxies; an IPv6 address by its
    /64, which one device may walk through) and its region, if the proxy tells it."""
    from tinhso.accounts.services import client_network

    address = client_network(request)
    header = settings.TINHSO_CLIENT_REGION_HEADER
    region = ""
    if header:
        region = request.META.get("HTTP_" + header.upper().replace("-", "_"), "").strip()[:64]
    return client_digest(address), region


SCAN_SALT = "products.scan"


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def resolve(request: HttpRequest, rest: str) -> HttpResponse:
    """`/01/{gtin}[/10/{lot}][/21/{serial}]`: a stamp's page (a scan), its linkset, or a
    redirect for a link type; "not a genuine stamp" (404) for anything else, never an
    error page."""
    try:
        # The path as it came (Django decoded it once; a value is decoded by dl_parse).
        link = dl_parse(escape_uri_path("/01/" + rest))
    except Gs1Error as exc:
        return _not_genuine(request, str(exc))
    product = (
        Product.objects.select_related("producer__commune", "certificate__signed")
        .filter(gtin=link.gtin).first()
    )  # fmt: skip
    if product is None:
        return _not_genuine(request, _("No product of this province has this GTIN."))
    # The identifier's own URI, built from what was parsed (never the raw path: it goes
    # into a header and the linkset).
    anchor = settings.TINHSO_PUBLIC_URL + "/01/" + link.gtin
    if link.lot is not None:
        anchor += "/10/" + quote(link.lot, safe="")
    if link.serial is not None:
        anchor += "/21/" + quote(link.serial, safe="")
    link_type = request.GET.get("linkType", "").strip()
    stamp = None
    if link.serial is not None:
        stamp = Stamp.objects.select_related("batch").filter(serial=link.serial).first()
        if stamp is not None and (
            stamp.batch.product_id != product.pk
            or (link.lot is not None and stamp.batch.lot != link.lot)
        ):
            stamp = None  # a genuine serial copied under another product or batch
        if stamp is not None:
            stamp.batch.product = product  # read once, with its producer and certificate
    genuine = link.serial is None or stamp is not None
    if _wants_linkset(request, link_type):
        if not genuine:
            return JsonResponse({"error": _("This is not a genuine stamp.")}, status=404)
        return _linkset(request, product, anchor)
    if link_type:
        targets = _links(request, product, anchor)
        name = link_type.removeprefix("gs1:")
        if name in targets and name != "defaultLink" and genuine:
            return HttpResponseRedirect(targets[name][0]["href"], status=307)
        if link.serial is None or not genuine:
            return HttpResponseRedirect(targets["pip"][0]["href"], status=307)
        return HttpResponseRedirect(anchor, status=307)  # the default: the stamp page
    if link.serial is None:
        # A product's (or a lot's) code without a serial: its page.
        return HttpResponseRedirect(reverse("products:product", args=[product.pk]), status=307)
    client, region = _client(request)
    if request.method == "POST":
        return _locate(request)
    if request.method == "HEAD":
        return HttpResponse(status=200 if stamp is not None else 404)
    if scan_rate_exceeded(client):
        response = render(request, "products/too_many.html", status=429)
        response["Retry-After"] = "60"
        return response
    if stamp is None:
        scan_unknown(product, serial=link.serial, lot=link.lot or "", client=client, region=region)
        return _not_genuine(request, _(
            "This serial was never issued for %(product)s. The market inspectors have been "
            "told; the product may be a counterfeit."
        ) % {"product": product.name})  # fmt: skip
    result = scan_stamp(stamp, client=client, region=region)
    batch = stamp.batch
    today = timezone.localdate()
    page = render(request, "products/stamp.html", {
        "product": product, "producer": product.producer, "batch": batch, "stamp": stamp,
        "photo": product.photos.filter(state=PhotoState.READY).first(),
        "scans": result.scans, "first_scan_at": result.first_scan_at,
        "stars": product.stars_on(today), "certificate": product.certificate,
        "expired_batch": batch.expires_on is not None and batch.expires_on < today,
        "scan_token": django_signing.dumps(result.scan.pk, salt=SCAN_SALT),
        "limit": settings.TINHSO_STAMP_SCAN_LIMIT,
    })  # fmt: skip
    # Where a machine finds this identifier's links (GS1 resolver, RFC 9264).
    page["Link"] = f'<{anchor}?linkType=linkset>; rel="linkset"; type="{LINKSET}"'
    return page


def _locate(request: HttpRequest) -> HttpResponse:
    """The scanner shares a coarse place for their scan (the page's script posts it)."""
    try:
        scan_id = django_signing.loads(request.POST.get("scan", ""), salt=SCAN_SALT, max_age=3600)
        latitude = float(request.POST.get("lat", ""))
        longitude = float(request.POST.get("lng", ""))
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):  # NaN fails too
            raise ValueError("not a place")
    except (django_signing.BadSignature, ValueError, TypeError):
        return HttpResponse(_("This place cannot be kept."), status=400,
                            content_type="text/plain; charset=utf-8")  # fmt: skip
    scan = Scan.objects.filter(pk=scan_id).first()
    if scan is None:
        raise Http404
    scan_locate(scan, latitude=latitude, longitude=longitude)
    return HttpResponse(_("Thank you: the place is kept (about a kilometre)."),
                        content_type="text/plain; charset=utf-8")  # fmt: skip


# --- producers ---------------------------------------------------------------------------


def _producer_user(request: HttpRequest) -> User:
    user = signed_in(request.user)
    if user is None:
        raise PermissionDenied(_("Sign in to manage a producer."))
    return user


def _own_product(user: User, pk: int) -> Product:
    product = get_object_or_404(Product.objects.select_related("producer"), pk=pk)
    if product.producer.owner_id != user.pk:
        raise PermissionDenied(_("This product belongs to another producer."))
    return product


@login_required
def producer_home(request: HttpRequest) -> HttpResponse:
    user = _producer_user(request)
    producers = list(Producer.objects.filter(owner=user).select_related("commune"))
    products = list(
        Product.objects.filter(producer__owner=user).select_related("producer", "certificate")
    )
    return render(request, "products/producer_home.html", {
        "producers": producers, "products": products,
        "applications": Application.objects.filter(applicant=user).select_related("product")
        .order_by("-submitted_at")[:50],
        "batches": Batch.objects.filter(producer__owner=user).select_related("product")[:50],
        "signals": Signal.objects.filter(product__producer__owner=user).order_by("-raised_at")[:20],
    })  # fmt: skip


def _show_errors(form: Any, exc: DomainError) -> None:
    if exc.errors:
        for field, messages in exc.errors.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, exc.message)


Save = Callable[[dict[str, Any]], HttpResponse]


def _form_page(
    request: HttpRequest, form: forms.Form, save: Save, template: str, context: dict[str, Any]
) -> HttpResponse:
    """A producer's form: on a valid POST `save` (a service call, then the redirect to what
    it made); a refusal shown on the form with its fields' messages and its HTTP status."""
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 422
        else:
            try:
                return save(form.cleaned_data)
            except DomainError as exc:
                _show_errors(form, exc)
                status = exc.status
    return render(request, template, {"form": form, **context}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def producer_new(request: HttpRequest) -> HttpResponse:
    user = _producer_user(request)

    def save(data: dict[str, Any]) -> HttpResponse:
        producer_register(
            owner=user, kind=data["kind"], name=data["name"], commune=data["commune"],
            tax_code=data["tax_code"], address=data["address"], phone=data["phone"],
        )  # fmt: skip
        return redirect("products:producer-home")

    return _form_page(request, ProducerForm(request.POST or None), save, "products/form.html",
                      {"title": _("Register a producer"), "submit": _("Register")})  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def product_new(request: HttpRequest) -> HttpResponse:
    from tinhso.core.photos import photo_limit_bytes

    user = _producer_user(request)
    wanted = request.GET.get("co-so", "")
    chosen = int(wanted) if wanted.isdecimal() and len(wanted) < 10 else 0
    producer = Producer.objects.filter(owner=user, pk=chosen).first() or (
        Producer.objects.filter(owner=user).first()
    )
    if producer is None:
        return redirect("products:producer-new")
    form = ProductForm(request.POST or None)

    def save(data: dict[str, Any]) -> HttpResponse:
        limit = photo_limit_bytes() + 1
        photos = [(u.name or "anh", u.read(limit)) for u in request.FILES.getlist("photos")]
        product = product_save(
            producer=producer, actor=user, name=data["name"], group=data["group"],
            description=data["description"], gtin=data["gtin"], links=form.links_pairs(),
            photos=photos,
        )  # fmt: skip
        return redirect("products:product", pk=product.pk)

    return _form_page(request, form, save, "products/form.html", {
        "title": _("New product of %(p)s") % {"p": producer.name}, "photos": True,
        "submit": _("Save"),
    })  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = _producer_user(request)
    product = _own_product(user, pk)

    def save(data: dict[str, Any]) -> HttpResponse:
        # Each file with the criterion chosen beside it (an empty slot sends no file).
        files, criteria = [], []
        for slot in range(1, EVIDENCE_SLOTS + 1):
            upload = request.FILES.get(f"file_{slot}")
            if upload is not None:
                files.append(upload)
                criteria.append(request.POST.get(f"criterion_{slot}", ""))
        application = application_submit(
            product=product, actor=user, self_assessment=data["self_assessment"], files=files,
            criteria=criteria,
        )  # fmt: skip
        return redirect("products:application", code=application.code)

    return _form_page(request, ApplicationForm(request.POST or None), save, "products/apply.html",
                      {"product": product, "criteria": CRITERIA})  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = _producer_user(request)
    product = _own_product(user, pk)

    def save(data: dict[str, Any]) -> HttpResponse:
        batch = batch_order(
            product=product, actor=user, lot=data["lot"], produced_on=data["produced_on"],
            expires_on=data["expires_on"], place=data["place"], quantity=data["quantity"],
        )  # fmt: skip
        return redirect("products:batch", code=batch.code)

    return _form_page(request, OrderForm(request.POST or None), save, "products/form.html", {
        "title": _("Order stamps for %(p)s") % {"p": product.name},
        "submit": pgettext_lazy("stamp order", "Order"),
        "note": _("Each stamp gets its own code that cannot be guessed. Large orders are "
                  "issued in the background: the order's page shows how far it has gone."),
    })  # fmt: skip


def _own_batch(request: HttpRequest, code: str) -> Batch:
    user = _producer_user(request)
    batch = get_object_or_404(Batch.objects.select_related("product", "producer"), code=code)
    if batch.producer.owner_id != user.pk:
        raise PermissionDenied(_("These stamps belong to another producer."))
    return batch


@login_required
@require_http_methods(["GET", "POST"])
def batch_detail(request: HttpRequest, code: str) -> HttpResponse:
    batch = _own_batch(request, code)
    if request.method == "POST":
        try:
            part = int(request.POST.get("part", "0"))
        except ValueError:
            part = 0
        if sheet_request(batch, part) is None:
            return HttpResponse(_("There is no such part of the labels yet."), status=409,
                                content_type="text/plain; charset=utf-8")  # fmt: skip
        return redirect("products:batch", code=batch.code)
    sheets = {s.part: s for s in batch.sheets.all()}
    parts: list[dict[str, Any]] = []
    for part in range(1, parts_of(batch) + 1):
        first, last = part_range(batch, part)
        parts.append({"part": part, "first": first, "last": last, "sheet": sheets.get(part)})
    sample = list(batch.stamps.order_by("number")[:3])
    working = batch.state != BatchState.ISSUED or any(
        p["sheet"] is not None and not p["sheet"].storage_name for p in parts
    )
    return render(request, "products/batch.html", {
        "batch": batch, "parts": parts, "working": working,
        "percent": int(batch.issued * 100 / batch.quantity) if batch.quantity else 100,
        "sample": [(s, stamp_uri(batch.product.gtin, batch.lot, s.serial)) for s in sample],
    })  # fmt: skip


@login_required
def sheet_download(request: HttpRequest, code: str, part: int) -> FileResponse:
    batch = _own_batch(request, code)
    sheet = LabelSheet.objects.filter(batch=batch, part=part).exclude(storage_name="").first()
    if sheet is None:
        raise Http404(_("These labels are not ready."))
    return upload_response(sheet.storage_name, filename=f"tem-{batch.code}-{part}.pdf",
                           content_type="application/pdf")  # fmt: skip


@login_required
def batch_csv(request: HttpRequest, code: str) -> StreamingHttpResponse:
    """Every stamp of the batch for a printing house: number, serial, URI (streamed)."""
    batch = _own_batch(request, code)
    if batch.state != BatchState.ISSUED:
        raise Http404(_("These stamps are still being issued."))
    gtin, lot = batch.product.gtin, batch.lot

    class Line:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Line())

    def rows() -> Iterator[str]:
        yield "\ufeff" + str(writer.writerow(csv_row(["so_thu_tu", "serial", "uri"])))
        stamps = batch.stamps.order_by("number").values_list("number", "serial")
        for number, serial in stamps.iterator(chunk_size=5_000):
            yield str(writer.writerow(csv_row([number, serial, stamp_uri(gtin, lot, serial)])))

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="tem-{batch.code}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- OCOP applications -------------------------------------------------------------------


def _application_or_403(request: HttpRequest, code: str) -> Application:
    application = get_object_or_404(
        Application.objects.select_related("product__producer__commune", "agency", "applicant"),
        code=code,
    )
    user = signed_in(request.user)
    if user is None:
        raise PermissionDenied(_("Sign in to see this application."))
    if application.applicant_id != user.pk and not may(user, "ocop.handle", application):
        raise PermissionDenied(_("This application is handled by another body."))
    return application


@login_required  # anonymous: to the sign-in page, and back here afterwards
@require_http_methods(["GET", "POST"])
def application_detail(request: HttpRequest, code: str) -> HttpResponse:
    from tinhso.accounts.access import personal_data_access_record
    from tinhso.cases.transitions import case_actions

    application = _application_or_403(request, code)
    user = signed_in(request.user)
    assert user is not None  # noqa: S101
    error, status, errors = "", 200, {}
    posted: dict[str, object] = {}
    if request.method == "POST":
        scores: dict[str, object] = {
            c.code: request.POST.get(f"score_{c.code}", "") for c in CRITERIA
        }
        posted = scores
        try:
            application_act(
                application=application, actor=user, action=request.POST.get("action", ""),
                version=int(request.POST.get("version", "0") or 0),
                note=request.POST.get("note", ""),
                scores=scores if request.POST.get("action") == "score" else None,
                files=request.FILES.getlist("files"),
                criteria=request.POST.getlist("criterion"),
            )  # fmt: skip
        except DomainError as exc:
            error, status = exc.message, exc.status
            errors = exc.errors or {}
            application.refresh_from_db()
        except ValueError:
            error, status = _("This form is not complete."), 400
        else:
            return redirect("products:application", code=application.code)
    producer = application.product.producer
    sees_producer = may(user, "ocop.read_producer", application)
    if sees_producer and application.applicant_id != user.pk:
        personal_data_access_record(
            official=user, citizen=application.applicant, agency=application.agency,
            record=f"ocop:{application.code}",
            purpose=_("Rate the product of OCOP application %(c)s") % {"c": application.code},
        )  # fmt: skip
    totals = part_totals(application.scores) if application.scores else {}
    return render(request, "products/application.html", {
        "application": application, "producer": producer, "sees_producer": sees_producer,
        "actions": case_actions(application, user), "parts": PARTS,
        "sheet": [
            (c, posted.get(c.code, ""), " ".join(errors.get(f"score_{c.code}", [])))
            for c in CRITERIA
        ],
        "totals": totals, "files": list(application.files.all()), "error": error,
        "errors": errors, "events": list(application.events.select_related("actor")),
        "certificate": getattr(application, "certificate", None),
        "official": application.applicant_id != user.pk,
    }, status=status)  # fmt: skip


@login_required
def evidence_download(request: HttpRequest, code: str, public_id: str) -> FileResponse:
    from tinhso.accounts.access import personal_data_access_record

    application = _application_or_403(request, code)
    evidence = get_object_or_404(Evidence, application=application, public_id=public_id)
    user = signed_in(request.user)
    assert user is not None  # noqa: S101
    if user.pk != application.applicant_id:
        # The producer reads in their account which official opened which file.
        personal_data_access_record(
            official=user, citizen=application.applicant, agency=application.agency,
            record=f"ocop:{application.code}:file:{evidence.public_id}",
            purpose=_("Check the evidence of OCOP application %(c)s") % {"c": application.code},
        )  # fmt: skip
    return upload_response(evidence.storage_name, filename=evidence.original_name,
                           content_type=evidence.content_type)  # fmt: skip


def _official_or_403(request: HttpRequest, purpose: str) -> User:
    user = official(request.user)
    if user is None:
        if not request.user.is_authenticated:
            raise PermissionDenied(_("Sign in as an official."))
        raise PermissionDenied(_("Only officials see this page."))
    if not memberships_for(user, purpose):
        raise PermissionDenied(_("You hold no role for this work."))
    return user


def council_inbox(request: HttpRequest) -> HttpResponse:
    from tinhso.cases.inbox import inbox_look
    from tinhso.products.subject import APPLICATION_BOXES, APPLICATION_SUBJECT, on_council

    user = _official_or_403(request, "products.ocop")
    if not on_council(user):
        raise PermissionDenied(_("Only the OCOP council's body handles these applications."))
    look = inbox_look(user, APPLICATION_SUBJECT)
    counts = look.counts()
    slug = request.GET.get("hop") or APPLICATION_BOXES[0].slug
    if slug not in {b.slug for b in APPLICATION_BOXES}:
        raise Http404(_("No such box."))
    return render(request, "products/council_inbox.html", {
        "boxes": [(b, counts.get(b.slug, 0)) for b in APPLICATION_BOXES], "slug": slug,
        "rows": look.rows(slug),
    })  # fmt: skip


# --- market inspectors -------------------------------------------------------------------

SIGNAL_LEGEND = (
    ("open", pgettext_lazy("signal", "open")),
    ("ended", gettext_lazy("concluded")),
)


def _signals_for(user: User) -> QuerySet[Signal]:
    agencies = [m.agency_id for m in memberships_for(user, "products.inspect")]
    return Signal.objects.filter(agency_id__in=agencies)


def signal_list(request: HttpRequest) -> HttpResponse:
    user = _official_or_403(request, "products.inspect")
    found = _signals_for(user).select_related("product", "commune", "batch")
    state = request.GET.get("trang-thai", "mo")
    if state == "mo":
        found = found.filter(status__in=[SignalStatus.NEW, SignalStatus.INVESTIGATING])
    kind = request.GET.get("loai", "")
    if kind:
        found = found.filter(kind=kind)
    found = found.order_by("-raised_at")
    page = Paginator(found, 30).get_page(request.GET.get("trang"))
    points = []
    for s in found[:500]:
        lat: Any = s.latitude
        lng: Any = s.longitude
        if lat is None and s.commune_id is not None:
            lat, lng = _commune_point(s.commune_id)
        points.append(MapPoint(
            href=reverse("products:signal", args=[s.code]), latitude=lat, longitude=lng,
            title=f"{s.code} · {s.get_kind_display()} · {s.product.name}",
            state="open" if s.status in (1, 2) else "ended",
        ))  # fmt: skip
    return render(request, "products/signals.html", {
        "page": page, "state": state, "kind": kind,
        "map": area_map(points, legend=SIGNAL_LEGEND),
        "kinds": Signal._meta.get_field("kind").choices,
    })  # fmt: skip


_CENTRES: dict[int, tuple[float | None, float | None]] = {}


def _commune_point(commune_id: int) -> tuple[float | None, float | None]:
    """The middle of a commune's boundary box (where a signal with no shared place shows)."""
    if commune_id not in _CENTRES:
        from tinhso.agencies.models import Boundary

        box = (
            Boundary.objects.filter(agency_id=commune_id)
            .values_list("min_lat", "max_lat", "min_lng", "max_lng")
            .first()
        )
        _CENTRES[commune_id] = (
            ((box[0] + box[1]) / 2, (box[2] + box[3]) / 2) if box else (None, None)
        )
    return _CENTRES[commune_id]


@require_http_methods(["GET", "POST"])
def signal_detail(request: HttpRequest, code: str) -> HttpResponse:
    from tinhso.cases.transitions import case_actions

    user = _official_or_403(request, "products.inspect")
    signal = get_object_or_404(
        Signal.objects.select_related("product__producer__commune", "batch", "stamp", "commune"),
        code=code,
    )
    if not may(user, "signal.handle", signal):
        raise PermissionDenied(_("This signal is handled by another body."))
    error, status = "", 200
    if request.method == "POST":
        try:
            signal_act(
                signal=signal, actor=user, action=request.POST.get("action", ""),
                version=int(request.POST.get("version", "0") or 0),
                note=request.POST.get("note", ""),
            )  # fmt: skip
        except DomainError as exc:
            error, status = exc.message, exc.status
            signal.refresh_from_db()
        except ValueError:
            error, status = _("This form is not complete."), 400
        else:
            return redirect("products:signal", code=signal.code)
    scans = []
    if signal.stamp_id is not None:
        scans = list(Scan.objects.filter(stamp_id=signal.stamp_id).order_by("-at")[:50])
    elif signal.kind == "unknown":
        unknown = Scan.objects.filter(product=signal.product, stamp__isnull=True)
        if signal.batch is not None:
            unknown = unknown.filter(lot=signal.batch.lot)
        scans = list(unknown.order_by("-at")[:50])
    return render(request, "products/signal.html", {
        "signal": signal, "actions": case_actions(signal, user), "error": error,
        "scans": scans, "events": list(signal.events.select_related("actor")),
    }, status=status)  # fmt: skip
