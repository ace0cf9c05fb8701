"""What changes producers, products, OCOP applications and stamp batches. Each change is one
transaction with its event (its audit entry) — through the workflow engine for the
applications' moves; the stamps of a batch are issued after commit by the worker, a chunk
per transaction, so an order of 500,000 shows its progress and survives a restart."""

from __future__ import annotations

import calendar
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from tinhso.accounts.identity import validate_tax_code
from tinhso.accounts.models import User
from tinhso.agencies.models import Agency, AgencyLevel
from tinhso.agencies.selectors import province_committee
from tinhso.cases.effects import EffectContext
from tinhso.cases.transitions import TransitionError, case_transition
from tinhso.core.errors import DomainError
from tinhso.core.events import AuditItem, Event, event_emit
from tinhso.core.files import CheckedFile, check_upload, store
from tinhso.core.numbering import Period, sequence_next
from tinhso.core.outbox import outbox_put
from tinhso.core.photos import MAX_PHOTOS, photo_check
from tinhso.core.rollups import rollup_add
from tinhso.core.text import fold
from tinhso.products.gs1 import Gs1Error, gtin_from_prefix, gtin_normalize, lot_check, serial_new
from tinhso.products.labels_service import sheets_after_issue
from tinhso.products.models import (
    Application,
    ApplicationStatus,
    Batch,
    BatchState,
    Certificate,
    Evidence,
    Producer,
    ProducerKind,
    Product,
    ProductGroup,
    ProductRollup,
    Stamp,
)
from tinhso.products.photos import photo_keep
from tinhso.products.scoresheet import BY_CODE, SheetError, sheet_check, stars_for

log = logging.getLogger(__name__)

MAX_EVIDENCE = 10
CERTIFICATE_MONTHS = 36
ISSUE_CHUNK = 5_000
STAMPS_ISSUE = "products.stamps_issue"  # the outbox topic (ProductsConfig.ready)
MAX_LINKS = 8


class ProductsInvalid(DomainError):  # noqa: N818 (reads as what happened)
    """What was sent cannot be kept: `errors` per field (422)."""


class ProductsConflict(DomainError):  # noqa: N818 (reads as what happened)
    status = 409
    code = "conflict"


class ProductsForbidden(DomainError):  # noqa: N818 (reads as what happened)
    status = 403
    code = "forbidden"


def _dotted(n: int) -> str:
    """A count with Vietnamese thousands separators (500.000)."""
    return f"{n:,}".replace(",", ".")


def _invalid(field: str, message: str) -> ProductsInvalid:
    return ProductsInvalid(message, errors={field: [message]})


# --- events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProducerRegistered(Event):
    kind = "producer.registered"
    producer: Producer

    def audit(self) -> AuditItem:
        p = self.producer
        data = {"name": p.name, "kind": p.kind, "commune": p.commune_id}
        return AuditItem(actor=p.owner, action="producer.register", obj=p, data=data)


@dataclass(frozen=True)
class ProductSaved(Event):
    kind = "product.saved"
    product: Product
    actor: User
    created: bool

    def audit(self) -> AuditItem:
        p = self.product
        return AuditItem(
            actor=self.actor, action="product.create" if self.created else "product.update",
            obj=p, data={"name": p.name, "gtin": p.gtin, "group": p.group},
        )  # fmt: skip


@dataclass(frozen=True)
class ApplicationSubmitted(Event):
    kind = "ocop.submitted"
    application: Application

    def audit(self) -> AuditItem:
        a = self.application
        return AuditItem(actor=a.applicant, action="ocop.submit", obj=a,
                         data={"code": a.code, "product": a.product_id,
                               "files": a.files.count()})  # fmt: skip


@dataclass(frozen=True)
class CertificateGranted(Event):
    kind = "ocop.certified"
    certificate: Certificate
    actor: User | None

    def audit(self) -> AuditItem:
        c = self.certificate
        return AuditItem(
            actor=self.actor, action="ocop.certify", obj=c,
            data={"number": c.number, "product": c.product_id, "stars": c.stars,
                  "valid_until": c.valid_until.isoformat()},
        )  # fmt: skip


@dataclass(frozen=True)
class BatchOrdered(Event):
    kind = "stamps.ordered"
    batch: Batch

    def audit(self) -> AuditItem:
        b = self.batch
        return AuditItem(actor=b.ordered_by, action="stamps.order", obj=b,
                         data={"code": b.code, "product": b.product_id, "lot": b.lot,
                               "quantity": b.quantity})  # fmt: skip


@dataclass(frozen=True)
class StampsIssued(Event):
    kind = "stamps.issued"
    batch: Batch
    count: int

    def audit(self) -> AuditItem | None:
        if self.batch.state != BatchState.ISSUED:
            return None  # one audit entry per batch, when it is whole
        b = self.batch
        return AuditItem(action="stamps.issue", obj=b,
                         data={"code": b.code, "quantity": b.quantity})  # fmt: skip


# --- producers and products --------------------------------------------------------------


def _commune(commune: Agency | None) -> Agency:
    if commune is None or commune.level != AgencyLevel.COMMUNE or not commune.is_active:
        raise _invalid("commune", _("Choose the commune or ward where the producer works."))
    return commune


def producer_register(
    *, owner: User, kind: str, name: str, commune: Agency | None, tax_code: str = "",
    address: str = "", phone: str = "",
) -> Producer:  # fmt: skip
    """Register a producer managed by `owner`. A business or cooperative gives its tax code
    (check digit verified; one producer per code); a household is its head: `owner`'s own
    name and personal ID, as the population registry gave them at sign-in, never typed."""
    if kind not in ProducerKind.values:
        raise _invalid("kind", _("Choose what kind of producer this is."))
    commune = _commune(commune)
    personal_id = ""
    if kind == ProducerKind.HOUSEHOLD:
        if not owner.personal_id:
            raise _invalid("kind", _("A household registers with a citizen's account."))
        personal_id = owner.personal_id
        tax_code = ""
        name = name.strip() or f"Hộ {owner.full_name}"
    else:
        tax_code = tax_code.strip().replace(" ", "")
        try:
            validate_tax_code(tax_code)
        except ValidationError as exc:
            raise _invalid("tax_code", " ".join(exc.messages)) from exc
    name = name.strip()[:255]
    if not name:
        raise _invalid("name", _("Give the producer's name."))
    with transaction.atomic():
        taken = Producer.objects.filter(tax_code=tax_code) if tax_code else (
            Producer.objects.filter(personal_id=personal_id)
        )  # fmt: skip
        if taken.exists():
            raise ProductsConflict(_("This producer is registered already."))
        try:
            with transaction.atomic():
                producer = Producer.objects.create(
                    kind=kind, name=name, name_folded=fold(name), tax_code=tax_code,
                    personal_id=personal_id, commune=commune, address=address.strip()[:255],
                    phone=phone.strip()[:32], owner=owner,
                )  # fmt: skip
        except IntegrityError as exc:  # the same code registered at the same moment
            raise ProductsConflict(_("This producer is registered already.")) from exc
        event_emit(ProducerRegistered(producer=producer))
    return producer


def _links(raw: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    from django.core.validators import URLValidator

    check = URLValidator(schemes=["https"])
    links = []
    for name, url in raw:
        name, url = name.strip()[:64], url.strip()[:500]
        if not url:
            continue
        try:
            check(url)
        except ValidationError as exc:
            raise _invalid("links", _("A shop's address starts with https://.")) from exc
        if "@" in url.split("/")[2]:  # user@host: it would read as another site's address
            raise _invalid("links", _("A shop's address starts with https://."))
        links.append({"name": name or url.split("/")[2], "url": url})
    if len(links) > MAX_LINKS:
        raise _invalid("links", _("At most %(n)d shops.") % {"n": MAX_LINKS})
    return links


def gtin_assign() -> str:
    """A GTIN-14 from the province's GS1 company prefix, its item reference the next of the
    province's register (never reused); inside the caller's transaction."""
    item = sequence_next(register="products.gtin", gaps=True)
    try:
        return gtin_from_prefix(settings.TINHSO_GS1_PREFIX, item)
    except Gs1Error as exc:
        raise ProductsConflict(str(exc)) from exc


def product_save(
    *, producer: Producer, actor: User, name: str, group: str, description: str = "",
    gtin: str = "", links: Sequence[tuple[str, str]] = (), product: Product | None = None,
    photos: Sequence[tuple[str, bytes]] = (),
) -> Product:  # fmt: skip
    """Create (or, with `product`, edit) a product of `producer`, by its manager. A GTIN
    typed is the producer's own (check digit verified, unique); without one the product
    gets one from the province's prefix. A GTIN, once stamps carry it, never changes.
    `photos` (name, content) are checked now and shown once the worker has cleaned them."""
    if producer.owner_id != actor.pk:
        raise ProductsForbidden(_("Only the producer's account manages its products."))
    name = name.strip()[:255]
    if not name:
        raise _invalid("name", _("Give the product's name."))
    if group not in ProductGroup.values:
        raise _invalid("group", _("Choose the product's OCOP group."))
    own = ""
    if gtin.strip():
        try:
            own = gtin_normalize(gtin)
        except Gs1Error as exc:
            raise _invalid("gtin", str(exc)) from exc
    cleaned = _links(links)
    checked = []
    for photo_name, content in photos:
        try:
            checked.append(photo_check(content, name=photo_name))
        except ValidationError as exc:
            raise _invalid("photos", " ".join(exc.messages)) from exc
    with transaction.atomic():
        others = Product.objects.filter(gtin=own)
        if product is not None:
            others = others.exclude(pk=product.pk)
        if own and others.exists():
            raise ProductsConflict(_("Another product has this GTIN."))
        created = product is None
        if product is None:
            product = Product(producer=producer, gtin=own or gtin_assign(), gtin_assigned=not own)
        elif own and own != product.gtin:
            if product.batches.exists():
                raise ProductsConflict(_("Stamps carry this product's GTIN: it cannot change."))
            product.gtin, product.gtin_assigned = own, False
        product.name, product.name_folded = name, fold(name)
        product.group, product.description = group, description.strip()[:4000]
        product.links = cleaned
        try:
            with transaction.atomic():
                product.save()
        except IntegrityError as exc:  # the same GTIN taken at the same moment
            raise ProductsConflict(_("Another product has this GTIN.")) from exc
        if product.photos.count() + len(checked) > MAX_PHOTOS:
            raise _invalid("photos", _("At most %(n)d photos of a product.") % {"n": MAX_PHOTOS})
        for photo in checked:
            photo_keep(product, photo)
        event_emit(ProductSaved(product=product, actor=actor, created=created))
    return product


# --- OCOP applications -------------------------------------------------------------------


def council_agency() -> Agency:
    """The department that runs the province's OCOP council (TINHSO_OCOP_AGENCY)."""
    province = province_committee(province_code=settings.TINHSO_PROVINCE_CODE)
    found = None
    if province is not None:
        found = Agency.objects.filter(
            path__startswith=province.path, short_name=settings.TINHSO_OCOP_AGENCY
        ).first()
    if found is None:
        raise ProductsConflict(_("The province has not named the body of its OCOP council."))
    return found


def _evidence_check(upload: UploadedFile) -> CheckedFile:
    try:
        return check_upload(upload)
    except ValidationError as exc:
        raise _invalid("files", " ".join(exc.messages)) from exc


def _evidence_store(
    application: Application, files: Sequence[CheckedFile], criteria: Sequence[str], at: datetime
) -> None:
    codes = set(BY_CODE)
    for index, file in enumerate(files):
        criterion = criteria[index] if index < len(criteria) else ""
        Evidence.objects.create(
            application=application, criterion=criterion if criterion in codes else "",
            original_name=file.original_name[:255], storage_name=store(file, folder="ocop"),
            content_type=file.content_type, size=len(file.content), sha256=file.sha256,
            added_at=at,
        )  # fmt: skip


def application_submit(
    *, product: Product, actor: User, self_assessment: str, files: Sequence[UploadedFile],
    criteria: Sequence[str] = (), now: datetime | None = None,
) -> Application:  # fmt: skip
    """The producer applies for an OCOP rating of `product`: the own assessment and at least
    one evidence file (PDF, JPEG or PNG, checked by content), each for a criterion of the
    sheet. One open application per product."""
    if product.producer.owner_id != actor.pk:
        raise ProductsForbidden(_("Only the producer's account applies for its products."))
    if not files:
        raise _invalid("files", _("Attach the evidence: at least one file (PDF, JPEG or PNG)."))
    if len(files) > MAX_EVIDENCE:
        raise _invalid("files", _("At most %(n)d files.") % {"n": MAX_EVIDENCE})
    checked = [_evidence_check(f) for f in files]
    agency = council_agency()
    now = now or timezone.now()
    with transaction.atomic():
        # The product's row: two submissions at once cannot both open an application.
        Product.objects.select_for_update().filter(pk=product.pk).first()
        if product.applications.filter(
            status__in=[ApplicationStatus.NEW, ApplicationStatus.SCORING, ApplicationStatus.SCORED,
                        ApplicationStatus.RETURNED]
        ).exists():  # fmt: skip
            raise ProductsConflict(_("This product has an application being handled."))
        number = sequence_next(register="products.ocop", period=Period.YEARLY,
                               day=timezone.localdate(now), gaps=True)  # fmt: skip
        application = Application.objects.create(
            code=f"OCOP{timezone.localtime(now):%y}-{number:05d}", product=product,
            applicant=actor, agency=agency,
            self_assessment=self_assessment.strip()[:4000], state="new",
            status=ApplicationStatus.NEW, submitted_at=now, updated_at=now,
        )  # fmt: skip
        _evidence_store(application, checked, criteria, now)
        event_emit(ApplicationSubmitted(application=application))
    return application


def application_act(
    *, application: Application, actor: User, action: str, version: int, note: str = "",
    scores: dict[str, object] | None = None, files: Sequence[UploadedFile] = (),
    criteria: Sequence[str] = (), now: datetime | None = None,
) -> Application:  # fmt: skip
    """Take a workflow action on an application. `resubmit` (the producer, after it was
    returned) may add evidence files. `score` takes the council's points (every
    criterion of the sheet): the total and its star band are kept; `approve` issues the
    certificate (the `ocop.certificate` effect)."""
    checked: dict[str, int] | None = None
    if actor.pk == application.applicant_id and action != "resubmit":
        # Whatever roles they hold, nobody scores or approves their own application.
        raise ProductsForbidden(_("You may not handle your own application."))
    added = [_evidence_check(f) for f in files]
    if added and (action != "resubmit" or actor.pk != application.applicant_id):
        raise _invalid("files", _("The producer adds evidence when sending the application again."))
    if len(added) + application.files.count() > MAX_EVIDENCE:
        raise _invalid("files", _("At most %(n)d files.") % {"n": MAX_EVIDENCE})
    if action == "score":
        try:
            checked = sheet_check(scores or {})
        except SheetError as exc:
            raise ProductsInvalid(
                _("The score sheet is not complete."),
                errors={f"score_{k}": [v] for k, v in exc.problems.items()},
            ) from exc
    with transaction.atomic():
        if checked is not None:
            # Kept first: the move's history and the leader's approval read them.
            total = sum(checked.values())
            Application.objects.filter(pk=application.pk, version=version).update(
                scores=checked, total=total, stars=stars_for(total), scored_by=actor
            )
        moved = case_transition(
            case=application, actor=actor, action=action, version=version, note=note, now=now
        )
        assert isinstance(moved, Application)  # noqa: S101
        _evidence_store(moved, added, criteria, now or timezone.now())
    return moved


def _months_later(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


CERTIFICATE = "products.certificate"  # the core.documents kind


def certificate_effect(context: EffectContext) -> None:
    """The `ocop.certificate` effect of `approve`: the certificate with the next number of
    the council body's yearly register, the stars of the score, 36 months' term; the
    product shows it from now; the PDF is issued after commit, signed by the approving
    leader and sealed with the body's seal. Refused below 50 points, or when the leader or
    the body has no certificate that can sign now."""
    from tinhso.core.documents import document_pending
    from tinhso.core.models import PendingDocument
    from tinhso.signing import services as signing

    application = context.case
    assert isinstance(application, Application)  # noqa: S101
    if application.total is None or application.stars is None:
        raise TransitionError(_("Below 50 points a product is not certified: refuse it."))
    actor = context.actor
    agency = application.agency
    if actor is None:
        raise TransitionError(_("A leader approves the certificate."))
    signing.personal_for(actor, agency)
    signing.seal_for(agency)
    issued = timezone.localdate(context.now)
    number = sequence_next(register="products.certificate", scope=str(agency.pk),
                           period=Period.YEARLY, day=issued)  # fmt: skip
    certificate = Certificate.objects.create(
        number=f"{number:04d}/{issued:%Y}/GCN-OCOP", application=application,
        product=application.product, agency=agency, stars=application.stars,
        total=application.total, issued_on=issued,
        valid_until=_months_later(issued, CERTIFICATE_MONTHS), signer=actor,
    )  # fmt: skip
    Product.objects.filter(pk=application.product_id).update(certificate=certificate)
    rollup_add(ProductRollup, agency_id=application.product.producer.commune_id,
               at=context.now, counts={"certificates": 1})  # fmt: skip

    def bind(row: PendingDocument) -> None:
        Certificate.objects.filter(pk=certificate.pk).update(issuing=row)

    document_pending(
        kind=CERTIFICATE, key=f"ocop-certificate:{certificate.pk}",
        label=f"Giấy chứng nhận OCOP {certificate.number}",
        payload={"certificate": certificate.pk, "public_id": signing.verification_id_new()},
        bind=bind,
    )  # fmt: skip
    event_emit(CertificateGranted(certificate=certificate, actor=actor))


# --- stamp batches -----------------------------------------------------------------------


def batch_order(
    *, product: Product, actor: User, lot: str, produced_on: date | None,
    expires_on: date | None, place: str, quantity: int, now: datetime | None = None,
) -> Batch:  # fmt: skip
    """Order `quantity` stamps for a lot of `product`: the lot number (GS1 AI 10) unique for
    the product, its dates and place; within the producer's limits per order and per
    year. The stamps are issued after commit, in the background (the batch shows how far)."""
    producer = product.producer
    if producer.owner_id != actor.pk:
        raise ProductsForbidden(_("Only the producer's account orders its stamps."))
    try:
        lot = lot_check(lot)
    except Gs1Error as exc:
        raise _invalid("lot", str(exc)) from exc
    if produced_on is None:
        raise _invalid("produced_on", _("Give the production date."))
    if expires_on is not None and expires_on < produced_on:
        raise _invalid("expires_on", _("The expiry date is after the production date."))
    if not place.strip():
        raise _invalid("place", _("Give the place of production."))
    if quantity < 1:
        raise _invalid("quantity", _("Order at least one stamp."))
    if quantity > producer.order_limit:
        raise _invalid("quantity", _("At most %(n)s stamps in one order for this producer.")
                       % {"n": _dotted(producer.order_limit)})  # fmt: skip
    now = now or timezone.now()
    with transaction.atomic():
        # The producer's row is locked: two orders at once cannot both pass the yearly limit.
        Producer.objects.select_for_update().filter(pk=producer.pk).first()
        year_start = timezone.localtime(now).replace(month=1, day=1, hour=0, minute=0, second=0,
                                                     microsecond=0)  # fmt: skip
        ordered = (
            Batch.objects.filter(producer=producer, ordered_at__gte=year_start).aggregate(
                n=Sum("quantity")
            )["n"]
            or 0
        )
        if ordered + quantity > producer.year_limit:
            raise _invalid("quantity", _(
                "This order would pass the producer's %(n)s stamps for the year (%(left)s left)."
            ) % {"n": _dotted(producer.year_limit),
                 "left": _dotted(max(0, producer.year_limit - ordered))})  # fmt: skip
        if Batch.objects.filter(product=product, lot=lot).exists():
            raise ProductsConflict(
                _("This product already has stamps for batch %(lot)s.") % {"lot": lot}
            )
        number = sequence_next(register="products.batch", period=Period.YEARLY,
                               day=timezone.localdate(now), gaps=True)  # fmt: skip
        try:
            with transaction.atomic():
                batch = Batch.objects.create(
                    code=f"TEM{timezone.localtime(now):%y}-{number:06d}", product=product,
                    producer=producer, lot=lot,
                    produced_on=produced_on, expires_on=expires_on, place=place.strip()[:255],
                    quantity=quantity, ordered_by=actor, ordered_at=now,
                )  # fmt: skip
        except IntegrityError as exc:  # the same lot ordered twice at once
            raise ProductsConflict(
                _("This product already has stamps for batch %(lot)s.") % {"lot": lot}
            ) from exc
        outbox_put(topic=STAMPS_ISSUE, payload={"batch": batch.pk})
        event_emit(BatchOrdered(batch=batch))
    return batch


def stamps_issue_handler(payload: dict[str, Any]) -> None:
    """The outbox's side of an order: the issuing runs as a task of its own (chunks in
    their own transactions, so progress shows while it runs)."""
    # Enqueued in the outbox's own transaction (the database backend's task row commits with
    # it; the immediate backend of tests and development issues at once).
    stamps_issue_task.enqueue(int(payload["batch"]))


def _stamps_insert(rows: list[tuple[int, str, int]]) -> None:
    """One chunk of stamps in one statement batch (the ORM's objects cost ten times more at
    half a million)."""
    table = Stamp._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (batch_id, serial, number, scans) "  # noqa: S608 (ours)
            "VALUES (%s, %s, %s, 0)",
            rows,
        )


def stamps_issue(batch_id: int) -> int:
    """Issue the batch's stamps that are not issued yet, ISSUE_CHUNK per transaction (each
    transaction adds its stamps and moves the batch's count, under the batch's lock, so a
    rerun after a crash continues where it stopped and two runs never issue twice).
    Serials are 80 random bits; the unique index refuses a repeat and the chunk is drawn
    again. Returns how many were issued by this call."""
    done = 0
    while True:
        with transaction.atomic():
            batch = (
                Batch.objects.select_for_update(of=("self",))
                .select_related("producer").get(pk=batch_id)
            )  # fmt: skip
            if batch.issued >= batch.quantity:
                if batch.state != BatchState.ISSUED:
                    batch.state, batch.issued_at = BatchState.ISSUED, timezone.now()
                    batch.save(update_fields=["state", "issued_at"])
                return done
            count = min(ISSUE_CHUNK, batch.quantity - batch.issued)
            first = batch.issued + 1
            for _attempt in range(3):
                rows = [(batch.pk, serial_new(), first + i) for i in range(count)]
                try:
                    with transaction.atomic():
                        _stamps_insert(rows)
                    break
                except IntegrityError:
                    # A serial drawn twice (1 in 2^80 per pair): the chunk is drawn again.
                    log.warning("stamp serial collision in batch %s; drawing again", batch.pk)
            else:
                raise RuntimeError("stamp serials collided three times")
            batch.issued += count
            batch.state = (
                BatchState.ISSUED if batch.issued >= batch.quantity else BatchState.ISSUING
            )
            if batch.state == BatchState.ISSUED:
                batch.issued_at = timezone.now()
            batch.save(update_fields=["issued", "state", "issued_at"])
            rollup_add(ProductRollup, agency_id=batch.producer.commune_id, at=timezone.now(),
                       counts={"stamps_issued": count})  # fmt: skip
            event_emit(StampsIssued(batch=batch, count=count))
            done += count


@task()
def stamps_issue_task(batch_id: int) -> int:
    """Issue the rest of a batch's stamps (resumable), then its labels if it fits one part."""
    done = stamps_issue(batch_id)
    sheets_after_issue(batch_id)
    return done
