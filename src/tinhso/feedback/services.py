"""What changes reports: submitting one (checked whole before anything is stored: the
category and its questions, the place inside the province, the photos cleaned, a burst from
one sender refused), taking a workflow action with its public answer and photos, the
reporter's rating, and moderation. Each change is one transaction with its history row and
audit entry (through the workflow engine's event, or the module's own events)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.agencies.geo import box_around, commune_at, distance_m
from tinhso.agencies.models import Agency
from tinhso.cases.transitions import case_transition
from tinhso.core.calendar import add_working_days, hours_for
from tinhso.core.errors import DomainError
from tinhso.core.events import AuditItem, Event, event_emit
from tinhso.core.files import CheckedFile, store
from tinhso.core.numbering import Period, sequence_next
from tinhso.core.outbox import outbox_handler, outbox_put
from tinhso.core.photos import MAX_PHOTOS, photo_check, photo_clean_kept
from tinhso.core.privacy import public_text
from tinhso.core.rates import rate_exceeded
from tinhso.core.rollups import rollup_add
from tinhso.feedback.attributes import answers_clean
from tinhso.feedback.models import (
    OPEN_STATUSES,
    Category,
    Open311Client,
    PhotoKind,
    PhotoState,
    Report,
    ReportPhoto,
    ReportRollup,
    ReportStatus,
    Route,
)

DESCRIPTION_MAX = 4000
# How long after the answer the reporter may reopen the report.
REOPEN_DAYS = 14
# Nearby open reports of the same category suggested as the same problem.
DUPLICATE_RADIUS_M = 50
# At most this many reports from one sender (address or account) in BURST_SECONDS.
BURST_LIMIT = 5
BURST_SECONDS = 600


class ReportInvalid(DomainError):  # noqa: N818 (reads as what happened: the report is invalid)
    """What was sent cannot become a report: `errors` per field (422)."""

    status = 422
    code = "invalid_report"


class ReportBurst(DomainError):  # noqa: N818 (reads as what happened: a burst of reports)
    """Too many reports from one sender in a short time (429)."""

    status = 429
    code = "too_many_reports"


@dataclass(frozen=True)
class Photo:
    name: str
    content: bytes


@dataclass
class ReportDraft:
    """A report as sent (the web form, or Open311's POST)."""

    category_code: str
    description: str
    latitude: str | float | Decimal | None = None
    longitude: str | float | Decimal | None = None
    address: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    photos: list[Photo] = field(default_factory=list)
    reporter: User | None = None
    reporter_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    show_name: bool = False
    channel: str = "web"
    device_id: str = ""
    client: Open311Client | None = None
    sender: str = ""  # who sends (an address or account) for the burst limit


@dataclass(frozen=True)
class ReportSubmitted(Event):
    kind = "report.submitted"
    report: Report

    def audit(self) -> AuditItem:
        return AuditItem(
            actor=self.report.reporter,
            action="report.submit",
            obj=self.report,
            data={
                "code": self.report.code,
                "category": self.report.category.code,
                "agency": self.report.agency.code,
                "photos": self.report.photos.count(),
            },
        )


@dataclass(frozen=True)
class ReportRated(Event):
    kind = "report.rated"
    report: Report
    before: int | None = None  # the reporter's earlier rating, when they change it

    def audit(self) -> AuditItem:
        return AuditItem(
            actor=self.report.reporter,
            action="report.rate",
            obj=self.report,
            data={"code": self.report.code, "rating": self.report.rating},
        )


@dataclass(frozen=True)
class ReportModerated(Event):
    kind = "report.moderated"
    report: Report
    actor: User
    hidden: bool

    def audit(self) -> AuditItem:
        return AuditItem(
            actor=self.actor,
            action="report.moderate",
            obj=self.report,
            data={"code": self.report.code, "hidden": self.hidden},
        )


# --- public text --------------------------------------------------------------------------


def _clean_text(value: str, limit: int) -> str:
    # No control characters but line breaks and tabs; HTML is escaped wherever it is shown.
    text = "".join(c for c in str(value) if c in "\n\t" or ord(c) >= 32).strip()
    return text[:limit]


# --- submitting ---------------------------------------------------------------------------


def _coordinate(value: object, low: float, high: float) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValueError from None
    if not number.is_finite() or not low <= number <= high:
        raise ValueError
    return number.quantize(Decimal("0.000001"))


def _burst_refused(sender: str) -> None:
    if not sender:
        return
    if rate_exceeded(f"feedback:burst:{sender}", most=BURST_LIMIT, seconds=BURST_SECONDS):
        raise ReportBurst(
            _("Too many reports from you in a short time; wait a few minutes and send again.")
        )


def _route(category: Category, commune: Agency | None) -> Agency | None:
    if category.route == Route.AGENCY:
        return category.agency
    return commune


def report_check(draft: ReportDraft) -> tuple[Category, dict[str, Any], list[CheckedFile]]:
    """Everything about a draft that can be checked before anything is stored; raises
    ReportInvalid with every problem by field."""
    errors: dict[str, list[str]] = {}

    def problem(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    category = Category.objects.filter(code=draft.category_code, is_active=True).first()
    if category is None:
        problem("category", _("Choose what the report is about from the list."))
    description = _clean_text(draft.description, DESCRIPTION_MAX + 1)
    if not description:
        problem("description", _("Describe what is wrong."))
    elif len(description) > DESCRIPTION_MAX:
        problem(
            "description",
            _("A description may be at most %(n)d characters.") % {"n": DESCRIPTION_MAX},
        )
    try:
        lat = _coordinate(draft.latitude, -90, 90)
        lng = _coordinate(draft.longitude, -180, 180)
    except ValueError:
        lat = lng = None
        problem("place", _("The place is not a valid latitude and longitude."))
    else:
        if (lat is None) != (lng is None):
            problem("place", _("Give both the latitude and the longitude of the place."))
    address = _clean_text(draft.address, 255)
    if lat is None and not address and "place" not in errors:
        problem("place", _("Pick the place on the map or type its address."))
    commune = None
    if lat is not None and lng is not None:
        commune = commune_at(float(lat), float(lng))
        if commune is None:
            problem("place", _("The place is outside the province: pick a place inside it."))
    answers: dict[str, Any] = {}
    if category is not None:
        answers, problems = answers_clean(category.attributes, draft.answers)
        for code, message in problems.items():
            problem(f"attribute[{code}]", message)
        if category.route == Route.COMMUNE and commune is None and "place" not in errors:
            problem(
                "place",
                _("Reports of this kind go to the commune where the place is: pick it on the map."),
            )
    if not draft.reporter and not (draft.contact_phone or draft.contact_email):
        problem(
            "contact", _("Leave a phone number or an e-mail address for the answer, or sign in.")
        )
    if draft.contact_email:
        try:
            validate_email(draft.contact_email)
        except ValidationError:
            problem("contact", _("The e-mail address is not valid."))
    if draft.contact_phone and not re.fullmatch(r"\+?[\d .\-]{8,16}", draft.contact_phone.strip()):
        problem("contact", _("The phone number is not valid."))
    if len(draft.photos) > MAX_PHOTOS:
        problem("photos", _("At most %(n)d photos.") % {"n": MAX_PHOTOS})
    photos: list[CheckedFile] = []
    for photo in draft.photos[:MAX_PHOTOS]:
        try:
            photos.append(photo_check(photo.content, name=photo.name))
        except ValidationError as exc:
            problem("photos", " ".join(exc.messages))
    if errors:
        first = next(iter(errors.values()))[0]
        raise ReportInvalid(first, errors=errors)
    assert category is not None  # noqa: S101 (no errors: it was found)
    return (
        category,
        {
            "lat": lat,
            "lng": lng,
            "address": address,
            "commune": commune,
            "description": description,
            "answers": answers,
        },
        photos,
    )


def report_submit(draft: ReportDraft, *, now: datetime | None = None) -> Report:
    """Check the draft whole, then store the report, its photos, its event and audit entry
    in one transaction; the report is numbered in its responsible body's yearly register
    and due after the category's working days in that body's calendar. (`now` only for the
    demo's history.)"""
    category, checked, photos = report_check(draft)
    _burst_refused(draft.sender)
    agency = _route(category, checked["commune"])
    if agency is None:
        raise ReportInvalid(
            _("No body answers for this place yet."),
            errors={"place": [_("No body answers for this place yet.")]},
        )
    now = now or timezone.now()
    with transaction.atomic():
        number = sequence_next(
            register="feedback.report",
            scope=str(agency.pk),
            period=Period.YEARLY,
            day=timezone.localdate(now),
            gaps=True,
        )
        due_at = add_working_days(now, Decimal(category.time_days), hours_for(agency.calendar))
        name = draft.reporter_name.strip() or (draft.reporter.full_name if draft.reporter else "")
        report = Report.objects.create(
            code=f"PA{timezone.localtime(now):%y}-{agency.pk}-{number:05d}",
            category=category,
            description=checked["description"],
            public_description=public_text(checked["description"]),
            latitude=checked["lat"],
            longitude=checked["lng"],
            address=checked["address"],
            commune=checked["commune"],
            agency=agency,
            answers=checked["answers"],
            reporter=draft.reporter,
            reporter_name=_clean_text(name, 255),
            contact_phone=draft.contact_phone.strip()[:32],
            contact_email=draft.contact_email.strip()[:254],
            show_name=draft.show_name,
            channel=draft.channel[:32],
            device_id=draft.device_id[:64],
            client=draft.client,
            state="new",
            status=ReportStatus.NEW,
            submitted_at=now,
            updated_at=now,
            due_at=due_at,
        )
        for photo in photos:
            _photo_store(report, photo, PhotoKind.REPORT)
        event_emit(ReportSubmitted(report=report))
    return report


def _photo_store(report: Report, photo: CheckedFile, kind: str) -> ReportPhoto:
    """Keep the photo as it came, in the private folder (never served), and have the worker
    clean it after commit (the outbox: at least once; `photo_clean_stored` is idempotent)."""
    raw = store(photo, folder="feedback-raw")
    kept = ReportPhoto.objects.create(
        report=report, kind=kind, state=PhotoState.PENDING, raw_name=raw,
        content_type=photo.content_type, size=photo.size, sha256=photo.sha256,
    )  # fmt: skip
    outbox_put(topic=PHOTO_CLEAN, payload={"id": kept.pk})
    return kept


PHOTO_CLEAN = "feedback.photo_clean"


@outbox_handler(PHOTO_CLEAN)
def photo_clean_stored(payload: dict[str, Any]) -> None:
    """Clean a kept photo (core.photos.photo_clean_kept) into the served folder."""
    photo_clean_kept(ReportPhoto, payload["id"], folder="feedback")


def nearby_open(
    category: Category,
    lat: float,
    lng: float,
    *,
    radius_m: float = DUPLICATE_RADIUS_M,
    exclude: int | None = None,
) -> list[Report]:
    """Open, visible reports of the category within `radius_m` of the point, nearest first
    (an index range on the point, then the exact distance)."""
    min_lat, max_lat, min_lng, max_lng = box_around(lat, lng, radius_m)
    candidates = Report.objects.filter(
        category=category,
        status__in=[int(s) for s in OPEN_STATUSES],
        hidden=False,
        latitude__gte=min_lat,
        latitude__lte=max_lat,
        longitude__gte=min_lng,
        longitude__lte=max_lng,
    ).exclude(pk=exclude or 0)[:50]
    found = [
        (distance_m(lat, lng, float(r.latitude), float(r.longitude)), r)
        for r in candidates
        if r.latitude is not None and r.longitude is not None
    ]
    return [r for d, r in sorted(found, key=lambda p: p[0]) if d <= radius_m]


# --- handling -----------------------------------------------------------------------------


def report_act(
    *,
    report: Report,
    actor: User,
    action: str,
    version: int,
    note: str = "",
    assignee: User | None = None,
    photos: list[Photo] | None = None,
    duplicate_of: Report | None = None,
    forward_to: Agency | None = None,
    now: datetime | None = None,
) -> Report:
    """Take a workflow action. `answer` publishes `note` as the public answer (with photos
    of the fix); `mark_duplicate` links the original (the reporter will get its answer);
    the reporter's `reopen` is possible for REOPEN_DAYS after the answer."""
    from tinhso.cases.transitions import TransitionError

    cleaned = [photo_check(p.content, name=p.name) for p in photos or []]
    if len(cleaned) > MAX_PHOTOS:
        raise TransitionError(_("At most %(n)d photos.") % {"n": MAX_PHOTOS})
    if action == "mark_duplicate":
        if duplicate_of is None or duplicate_of.pk == report.pk:
            raise TransitionError(_("Name the report this one repeats."))
        if duplicate_of.duplicate_of_id is not None:
            duplicate_of = duplicate_of.duplicate_of
    at = now or timezone.now()
    if action == "forward" and (
        forward_to is None or not forward_to.is_active or forward_to.pk == report.agency_id
    ):
        raise TransitionError(_("Choose the body the report goes to."))
    if action == "forward" and forward_to is not None:
        note = f"{note.strip()} (→ {forward_to.name})"
    if action == "reopen" and report.reporter_id == actor.pk:
        answered = report.answered_at or at
        if at > answered + timedelta(days=REOPEN_DAYS):
            raise TransitionError(
                _("A report can be reopened within %(n)d days of its answer.") % {"n": REOPEN_DAYS}
            )
    with transaction.atomic():
        if action == "mark_duplicate" and duplicate_of is not None:
            # Linked first, so the move's notification names the original (and its answer).
            Report.objects.filter(pk=report.pk, version=version).update(duplicate_of=duplicate_of)
        moved = case_transition(
            case=report,
            actor=actor,
            action=action,
            version=version,
            note=note,
            assignee=assignee,
            now=now,
        )
        assert isinstance(moved, Report)  # noqa: S101
        changes: dict[str, Any] = {}
        if action == "answer":
            changes |= {"answer": _clean_text(note, DESCRIPTION_MAX), "answered_at": at}
        if action == "forward" and forward_to is not None:
            # The other body receives it anew (its receivers' box); the reporter's clock
            # keeps running from the first arrival.
            changes |= {"agency": forward_to, "assignee": None}
        before = moved.agency_id
        if changes:
            for name, value in changes.items():
                setattr(moved, name, value)
            moved.save(update_fields=list(changes))
        if action == "forward" and moved.agency_id != before and moved.is_open:
            # Open at its new body, no longer at the old one (feedback.figures' stock).
            rollup_add(ReportRollup, agency_id=before, at=at, counts={"open_change": -1})
            rollup_add(ReportRollup, agency_id=moved.agency_id, at=at, counts={"open_change": 1})
        for photo in cleaned:
            _photo_store(moved, photo, PhotoKind.ANSWER)
    return moved


def report_rate(*, report: Report, user: User, rating: int, comment: str = "") -> Report:
    """The reporter rates the answer (1 dissatisfied, 2 satisfied, 3 very satisfied), once
    it is answered or closed; a later rating replaces theirs."""
    if report.reporter_id is None or report.reporter_id != user.pk:
        raise DomainError(_("Only the reporter rates the answer."), status=403, code="forbidden")
    if report.status not in (ReportStatus.ANSWERED, ReportStatus.CLOSED):
        raise DomainError(
            _("The report has no answer to rate yet."), status=409, code="not_answered"
        )
    if rating not in (1, 2, 3):
        raise DomainError(_("Rate from 1 to 3."), status=422, code="invalid_rating")
    with transaction.atomic():
        before = (
            Report.objects.select_for_update().filter(pk=report.pk).values_list("rating", flat=True)
        ).first()
        Report.objects.filter(pk=report.pk).update(
            rating=rating, rating_comment=_clean_text(comment, 1000), updated_at=timezone.now()
        )
        report.refresh_from_db()
        event_emit(ReportRated(report=report, before=before))
    return report


def report_moderate(
    *, report: Report, actor: User, hidden: bool, public_description: str | None = None
) -> Report:
    """Hide a report from the public (abusive, personal data) or edit what the public reads
    of its description; the reporter, the receiver and the moderators still see the
    original (the field worker reads what the public reads)."""
    with transaction.atomic():
        changes: dict[str, Any] = {"hidden": hidden, "updated_at": timezone.now()}
        if public_description is not None:
            changes["public_description"] = public_text(
                _clean_text(public_description, DESCRIPTION_MAX)
            )
        Report.objects.filter(pk=report.pk).update(**changes)
        report.refresh_from_db()
        event_emit(ReportModerated(report=report, actor=actor, hidden=hidden))
    return report


def open311_client_create(name: str) -> tuple[Open311Client, str]:
    """A new application allowed to POST through Open311, and its key (shown once)."""
    import secrets

    from tinhso.feedback.models import key_digest

    key = secrets.token_urlsafe(24)
    client = Open311Client.objects.create(name=name, key_digest=key_digest(key), key_hint=key[:6])
    return client, key


def open311_client_for(key: str) -> Open311Client | None:
    """The active application whose api_key this is (None for a wrong or missing key)."""
    from tinhso.feedback.models import key_digest

    if not key:
        return None
    return Open311Client.objects.filter(key_digest=key_digest(key), is_active=True).first()


def demo_key() -> str:
    """The Open311 key of the demo application (demo mode only)."""
    return f"demo-{settings.TINHSO_PROVINCE_CODE}-open311"
