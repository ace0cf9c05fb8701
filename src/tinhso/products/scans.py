"""Stamps scanned, and the counterfeit signals scans raise.

A person opening a stamp's URI is a scan: kept with the time, the client as a keyed digest
(never its address), the region a trusted proxy tells (TINHSO_CLIENT_REGION_HEADER) and,
if the scanner shares it, a coarse place (two decimals: about a kilometre). The stamp's
count moves on its own row; the batch's on one of a few tally rows; the figures' rollups
are filled from the scans by the hourly roll (no commune-wide row is locked by a scan).

Signals, one open signal per pattern (later scans of the same pattern add nothing new):
* a serial never issued, on one of this province's products (per product and lot);
* a stamp scanned more than TINHSO_STAMP_SCAN_LIMIT times;
* scans of one stamp within FAR_HOURS in different regions, or more than FAR_KM apart;
* a scan after the batch's expiry date (per batch);
* a batch scanned more times than its printed quantity (per batch).
Each is a case of the market inspection body (subject "stamp_signal"); the producer is told."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.agencies.geo import commune_at, distance_m
from tinhso.agencies.models import Agency
from tinhso.agencies.selectors import province_committee
from tinhso.core.calendar import add_working_days, hours_for
from tinhso.core.events import AuditItem, Event, event_emit
from tinhso.core.notifications import notify
from tinhso.core.numbering import Period, sequence_next
from tinhso.core.rollups import rollup_add
from tinhso.products.models import (
    OPEN_SIGNAL_STATUSES,
    Batch,
    BatchTally,
    Product,
    ProductRollup,
    RollMark,
    Scan,
    Signal,
    SignalKind,
    SignalStatus,
    Stamp,
)

log = logging.getLogger(__name__)
Fn = TypeVar("Fn", bound=Callable[..., Any])

FAR_HOURS = 6
UNKNOWN_AGAIN_DAYS = 30
FAR_KM = 100
TALLY_SHARDS = 8
SIGNAL_DAYS = 5  # working days the inspectors have to conclude


def client_digest(address: str) -> str:
    """The scanning client as a keyed digest of its address (kept instead of it)."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"scan-client:{address}".encode(), hashlib.sha256).hexdigest()[:16]


def scan_rate_exceeded(client: str, now: datetime | None = None) -> bool:
    """Whether `client` made TINHSO_SCAN_RATE scans in the last minute: its scans of the
    last minute counted on the (client, at) index, at most one more than the rate (no
    cache to write, no counter every scan must lock)."""
    since = (now or timezone.now()) - timedelta(minutes=1)
    limit = settings.TINHSO_SCAN_RATE
    recent = Scan.objects.filter(client=client, at__gte=since).values_list("pk", flat=True)
    return len(recent[:limit]) >= limit


def coarse(value: float | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class SignalRaised(Event):
    kind = "stamp_signal.raised"
    signal: Signal

    def audit(self) -> AuditItem:
        s = self.signal
        return AuditItem(action="stamp_signal.raise", obj=s,
                         data={"code": s.code, "kind": s.kind, "product": s.product_id,
                               "batch": s.batch_id, "serial": s.serial})  # fmt: skip


def market_agency() -> Agency | None:
    province = province_committee(province_code=settings.TINHSO_PROVINCE_CODE)
    if province is None:
        return None
    return Agency.objects.filter(
        path__startswith=province.path, short_name=settings.TINHSO_MARKET_AGENCY
    ).first()


def signal_raise(
    *, kind: str, key: str, product: Product, facts: str, batch: Batch | None = None,
    stamp: Stamp | None = None, serial: str = "", latitude: Decimal | None = None,
    longitude: Decimal | None = None, now: datetime | None = None,
    again_after_days: int | None = None,
) -> Signal | None:  # fmt: skip
    """Open a signal for this pattern unless one is open already, or was concluded (for a
    pattern that stays true once seen — a stamp's many scans, a batch past its expiry —
    once ever; with `again_after_days`, again that long after the last conclusion). None
    then, or when the province has no market inspection body. In the caller's
    transaction."""
    now = now or timezone.now()
    seen = Signal.objects.filter(key=key)
    if again_after_days is not None:
        seen = seen.filter(
            Q(status__in=OPEN_SIGNAL_STATUSES)
            | Q(updated_at__gte=now - timedelta(again_after_days))
        )
    if seen.exists():
        return None
    agency = market_agency()
    if agency is None:
        log.warning("no market inspection body (%s): signal %s not raised",
                    settings.TINHSO_MARKET_AGENCY, key)  # fmt: skip
        return None
    commune = None
    if latitude is not None and longitude is not None:
        commune = commune_at(float(latitude), float(longitude))
    if commune is None:
        commune = product.producer.commune
    number = sequence_next(register="products.signal", period=Period.YEARLY,
                           day=timezone.localdate(now), gaps=True)  # fmt: skip
    try:
        with transaction.atomic():
            signal = Signal.objects.create(
                code=f"CB{timezone.localtime(now):%y}-{number:05d}", kind=kind, key=key[:96],
                product=product,
                batch=batch, stamp=stamp, serial=serial[:20], facts=facts[:2000],
                latitude=latitude, longitude=longitude, commune=commune, agency=agency,
                state="new", status=SignalStatus.NEW, raised_at=now, updated_at=now,
                due_at=add_working_days(now, Decimal(SIGNAL_DAYS), hours_for(agency.calendar)),
            )  # fmt: skip
    except IntegrityError:
        return None  # raised a moment ago by another scan
    rollup_add(ProductRollup, agency_id=product.producer.commune_id, at=now,
               counts={"signals": 1})  # fmt: skip
    notify(
        user=product.producer.owner,
        subject=_("A stamp of %(product)s raised a signal") % {"product": product.name},
        body=_("%(facts)s The market inspectors will look into it (signal %(code)s).")
        % {"facts": signal.facts, "code": signal.code},
        link="/ocop/co-so/",
    )  # fmt: skip
    event_emit(SignalRaised(signal=signal))
    return signal


def _platform_language(fn: Fn) -> Fn:
    """Signals' facts are kept in the platform's language, whoever's request raised them."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with translation.override(settings.LANGUAGE_CODE):
            return fn(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@dataclass(frozen=True)
class ScanResult:
    scan: Scan
    scans: int  # the stamp's scans, this one included (0 for an unknown serial)
    first_scan_at: datetime | None


def _tally(batch_id: int, shard: int) -> None:
    with connection.cursor() as cursor:
        table = BatchTally._meta.db_table
        cursor.execute(
            f"INSERT INTO {table} (batch_id, shard, scans) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (batch_id, shard) DO UPDATE SET scans = {table}.scans + 1",
            [batch_id, shard],
        )


def _count(stamp_id: int, now: datetime) -> tuple[int, datetime]:
    """Count a scan on the stamp's own row and read its count and first scan back (one
    statement: UPDATE … RETURNING, on PostgreSQL and SQLite alike)."""
    table = Stamp._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET scans = scans + 1, "  # noqa: S608 (the table is ours)
            "first_scan_at = COALESCE(first_scan_at, %s), last_scan_at = %s "
            "WHERE id = %s RETURNING scans, first_scan_at",
            [now, now, stamp_id],
        )
        scans, first = cursor.fetchone()
    if isinstance(first, str):  # SQLite answers the text it keeps
        first = datetime.fromisoformat(first)
    if timezone.is_naive(first):
        first = first.replace(tzinfo=UTC)
    return int(scans), first


def batch_scans(batch_id: int) -> int:
    return int(BatchTally.objects.filter(batch_id=batch_id).aggregate(n=Sum("scans"))["n"] or 0)


def _money(n: int) -> str:
    return f"{n:,}".replace(",", ".")


@_platform_language
def scan_stamp(
    stamp: Stamp, *, client: str, region: str = "", now: datetime | None = None
) -> ScanResult:
    """A person scanned a genuine stamp (`stamp` with its batch and product read): count
    it, keep the scan, and raise the signals it shows."""
    now = now or timezone.now()
    batch = stamp.batch
    product = batch.product
    with transaction.atomic():
        scans, first = _count(stamp.pk, now)
        previous = None
        if region:
            previous = (
                Scan.objects.filter(stamp=stamp, at__gte=now - timedelta(hours=FAR_HOURS))
                .exclude(region="").exclude(region=region).values_list("region", flat=True).first()
            )  # fmt: skip
        scan = Scan.objects.create(
            stamp=stamp, product=product, serial=stamp.serial, lot=batch.lot, at=now,
            client=client, region=region[:64],
        )  # fmt: skip
        _tally(batch.pk, stamp.number % TALLY_SHARDS)
        limit = settings.TINHSO_STAMP_SCAN_LIMIT
        if scans == limit + 1:  # crossing the limit (the stamp's own count, no race)
            signal_raise(
                kind=SignalKind.TOO_MANY, key=f"too_many:{stamp.pk}", product=product,
                batch=batch, stamp=stamp, serial=stamp.serial, now=now,
                facts=_("Stamp %(serial)s of batch %(lot)s was scanned %(n)d times (more than "
                        "%(limit)d).") % {"serial": stamp.serial, "lot": batch.lot, "n": scans,
                                          "limit": limit},
            )  # fmt: skip
        if previous is not None:
            signal_raise(
                kind=SignalKind.FAR_APART, key=f"far:{stamp.pk}", product=product, batch=batch,
                stamp=stamp, serial=stamp.serial, now=now,
                facts=_("Stamp %(serial)s was scanned in %(a)s and in %(b)s within %(h)d hours.")
                % {"serial": stamp.serial, "a": previous, "b": region, "h": FAR_HOURS},
            )  # fmt: skip
        if batch.expires_on is not None and timezone.localdate(now) > batch.expires_on:
            signal_raise(
                kind=SignalKind.EXPIRED, key=f"expired:{batch.pk}", product=product, batch=batch,
                stamp=stamp, serial=stamp.serial, now=now,
                facts=_("A stamp of batch %(lot)s was scanned on %(day)s, after the batch's expiry "
                        "date %(expiry)s.")
                % {"lot": batch.lot, "day": f"{timezone.localdate(now):%d/%m/%Y}",
                   "expiry": f"{batch.expires_on:%d/%m/%Y}"},
            )  # fmt: skip
        total = batch_scans(batch.pk)  # a few tally rows
        if total > batch.quantity:
            signal_raise(
                kind=SignalKind.OVER_QUANTITY, key=f"over_qty:{batch.pk}", product=product,
                batch=batch, stamp=stamp, serial=stamp.serial, now=now,
                facts=_("Batch %(lot)s was scanned %(n)s times; %(q)s stamps were printed.")
                % {"lot": batch.lot, "n": _money(total), "q": _money(batch.quantity)},
            )  # fmt: skip
    return ScanResult(scan=scan, scans=scans, first_scan_at=first)


@_platform_language
def scan_unknown(
    product: Product, *, serial: str, lot: str, client: str, region: str = "",
    now: datetime | None = None,
) -> Scan:  # fmt: skip
    """A serial this province never issued, under one of its products' GTIN: kept, and a
    signal for the product and lot (one, however many such serials turn up)."""
    now = now or timezone.now()
    with transaction.atomic():
        scan = Scan.objects.create(
            stamp=None, product=product, serial=serial[:20], lot=lot[:20], at=now,
            client=client, region=region[:64],
        )  # fmt: skip
        batch = Batch.objects.filter(product=product, lot=lot).first() if lot else None
        # One signal per batch (or per product, for a lot it never had): invented lots and
        # serials do not open a case each. A wave after a conclusion is a new signal.
        where = f"batch:{batch.pk}" if batch is not None else "product"
        signal_raise(
            kind=SignalKind.UNKNOWN_SERIAL, key=f"unknown:{product.pk}:{where}",
            again_after_days=UNKNOWN_AGAIN_DAYS,
            product=product, batch=batch, serial=serial, now=now,
            facts=_("A stamp with serial %(serial)s (batch %(lot)s) was scanned: this serial "
                    "was never issued for %(product)s.")
            % {"serial": serial, "lot": lot or "—", "product": product.name},
        )  # fmt: skip
    return scan


@_platform_language
def scan_locate(scan: Scan, *, latitude: float, longitude: float) -> Signal | None:
    """The scanner shared their (coarse) place: kept on their scan (once); a scan of the
    same stamp more than FAR_KM away within FAR_HOURS raises a signal."""
    lat, lng = coarse(latitude), coarse(longitude)
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    with transaction.atomic():
        if not Scan.objects.filter(pk=scan.pk, latitude__isnull=True).update(
            latitude=lat, longitude=lng
        ):
            return None
        if scan.stamp_id is None:
            return None
        stamp = Stamp.objects.select_related("batch__product__producer").get(pk=scan.stamp_id)
        since = scan.at - timedelta(hours=FAR_HOURS)
        others = (
            Scan.objects.filter(stamp_id=stamp.pk, at__gte=since, latitude__isnull=False)
            .exclude(pk=scan.pk).values_list("latitude", "longitude")[:50]
        )  # fmt: skip
        for other_lat, other_lng in others:
            if other_lat is None or other_lng is None:
                continue
            km = distance_m(float(lat), float(lng), float(other_lat), float(other_lng)) / 1000
            if km > FAR_KM:
                return signal_raise(
                    kind=SignalKind.FAR_APART, key=f"far:{stamp.pk}",
                    product=stamp.batch.product, batch=stamp.batch, stamp=stamp,
                    serial=stamp.serial, latitude=lat, longitude=lng,
                    facts=_("Stamp %(serial)s was scanned %(km)d km apart within %(h)d hours.")
                    % {"serial": stamp.serial, "km": int(km), "h": FAR_HOURS},
                )  # fmt: skip
    return None


ROLL = 20_000
ROLL_SETTLE_MINUTES = 5


def scans_roll(now: datetime | None = None) -> int:
    """Count the scans since the last roll into the figures' rollups (per producer's commune
    and day): the worker's hourly job. Returns how many scans were counted."""
    counted = 0
    while True:
        with transaction.atomic():
            mark, _created = RollMark.objects.select_for_update().get_or_create(name="scans")
            # Only scans older than a few minutes: a scan's id is taken when it is written,
            # and one that commits late must not be passed over.
            settled = (now or timezone.now()) - timedelta(minutes=ROLL_SETTLE_MINUTES)
            rows = list(
                Scan.objects.filter(pk__gt=mark.last_id).order_by("pk")
                .values_list("pk", "at", "product__producer__commune_id")[:ROLL]
            )  # fmt: skip
            for index, (_pk, at, _commune) in enumerate(rows):
                if at >= settled:
                    rows = rows[:index]
                    break
            if not rows:
                return counted
            groups: dict[tuple[int, object], tuple[datetime, int]] = {}
            for _pk, at, commune_id in rows:
                key = (commune_id, timezone.localtime(at).date())
                first, n = groups.get(key, (at, 0))
                groups[key] = (first, n + 1)
            for (commune_id, _day), (at, n) in sorted(groups.items(), key=lambda g: str(g[0])):
                rollup_add(ProductRollup, agency_id=commune_id, at=at, counts={"scans": n})
            mark.last_id = rows[-1][0]
            mark.save(update_fields=["last_id"])
            counted += len(rows)


CONCLUSIONS = ("confirm", "dismiss")


def signal_act(*, signal: Signal, actor: User, action: str, version: int, note: str = "") -> Signal:
    """An inspector's move on a signal (cases.transitions); a conclusion keeps its note as
    the signal's conclusion, in the same transaction."""
    from tinhso.cases.transitions import case_transition

    with transaction.atomic():
        moved = case_transition(case=signal, actor=actor, action=action, version=version,
                                note=note)  # fmt: skip
        assert isinstance(moved, Signal)  # noqa: S101
        if action in CONCLUSIONS:
            moved.conclusion = note.strip()[:4000]
            moved.save(update_fields=["conclusion"])
    return moved
