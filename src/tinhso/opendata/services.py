"""Changes to the open-data portal. Each runs in one transaction that also writes its
activity row and its audit entry; a dataset stays private until a publisher publishes it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tinhso.accounts.models import User
from tinhso.accounts.policies import Purpose, agency_q_for, memberships_for, serves
from tinhso.accounts.roles import AGENCY_ADMIN, PROVINCE_ADMIN
from tinhso.agencies.models import Agency
from tinhso.core import files as stored_files
from tinhso.core.audit import audit_record
from tinhso.core.errors import DomainError
from tinhso.core.text import fold
from tinhso.opendata import datastore
from tinhso.opendata.formats import TABULAR, ResourceFile
from tinhso.opendata.licences import DEFAULT_LICENCE, LICENCES
from tinhso.opendata.loading import datastore_load, datastore_load_run
from tinhso.opendata.models import (
    Activity,
    Dataset,
    DatastoreTable,
    Frequency,
    LoadStatus,
    Publisher,
    Resource,
    Tag,
    Theme,
)
from tinhso.opendata.roles import PUBLISHER

NAME_RE = re.compile(r"^[a-z0-9_-]{2,100}$")
RESERVED_NAMES = frozenset({"quan-ly", "tim-kiem"})  # the portal's own addresses
# Who publishes an agency's data: its data publishers and agency admins; a province
# administrator for any agency of the province (accounts.policies).
PUBLISH = Purpose(
    "opendata.publish",
    frozenset({PUBLISHER, AGENCY_ADMIN}),
    "opendata",
    label="publish the agency's open data",
    roles_anywhere=frozenset({PROVINCE_ADMIN}),
)
# Fields a dataset takes, besides its name, publisher, tags and fields (groups).
TEXT_FIELDS = {
    "title": 300,
    "title_en": 300,
    "notes": 20000,
    "notes_en": 20000,
    "spatial": 200,
    "contact_name": 200,
}


class InvalidError(DomainError):
    """What is wrong with a request, by field (CKAN's "Validation Error", which its action
    API answers 409 in its own envelope; 422 `invalid` elsewhere)."""

    errors: dict[str, list[str]]

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), errors=errors)


class NotAllowedError(DomainError):
    """The caller may not do this (CKAN's "Authorization Error"; 403 `forbidden`)."""

    status = 403
    code = "forbidden"


# --- Who may publish ------------------------------------------------------------------------


def publisher_ids_of(user: User | None) -> set[Any]:
    """The publishers whose private datasets this user may see and change (policy
    `opendata.publish`: their agency's publishers and agency admins; a province
    administrator for every agency of the province); empty for anyone else."""
    if user is None or not user.is_authenticated:
        return set()
    agencies = Agency.objects.filter(agency_q_for(user, PUBLISH.code))
    return set(Publisher.objects.filter(agency__in=agencies).values_list("id", flat=True))


def may_publish(user: User | None, publisher: Publisher) -> bool:
    """Whether `user` publishes for this publisher's agency (policy `opendata.publish`)."""
    allowed = publisher_ids_of(user)
    return allowed is None or publisher.pk in allowed


def _check_may_publish(actor: User | None, publisher: Publisher) -> None:
    """The platform itself (no actor) may; a person must publish for that agency."""
    if actor is not None and not may_publish(actor, publisher):
        raise NotAllowedError(_("You do not publish data for %s.") % publisher.agency.name)


def _locked_for(actor: User | None, dataset: Dataset) -> Dataset:
    """The dataset as it stands, locked for this transaction, if the actor may change it."""
    locked = (
        Dataset.objects.select_for_update().select_related("publisher__agency").get(pk=dataset.pk)
    )
    _check_may_publish(actor, locked.publisher)
    return locked


def publishing_agencies(user: User) -> list[Agency]:
    """Agencies this user publishes data for (a province administrator: those of the
    province that have a publisher)."""
    anywhere = any(m.role in PUBLISH.roles_anywhere for m in memberships_for(user, PUBLISH.code))
    agencies = Agency.objects.filter(agency_q_for(user, PUBLISH.code), is_active=True)
    if anywhere:
        agencies = agencies.filter(publisher__isnull=False)
    return list(agencies.order_by("path"))


def publisher_for(agency: Agency) -> Publisher:
    """The agency's publisher record, made on first use with a slug from its name."""
    existing = Publisher.objects.filter(agency=agency).first()
    if existing is not None:
        return existing
    base = slugify(fold(agency.name))[:90] or "co-quan"
    name, n = base, 2
    while Publisher.objects.filter(name=name).exists():
        name = f"{base}-{n}"
        n += 1
    return Publisher.objects.create(agency=agency, name=name)


# --- Input ----------------------------------------------------------------------------------


def parse_bool(value: Any, field: str, errors: dict[str, list[str]]) -> bool | None:
    """A CKAN boolean (true/false, 1/0, yes/no, on/off); None, with the problem added to
    `errors` under `field`, for anything else."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    errors.setdefault(field, []).append(_("Must be true or false."))
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _names(value: Any, field: str, errors: dict[str, list[str]]) -> list[str]:
    """Tags or groups: a list of {"name": …} (CKAN) or of strings, or a comma list."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        errors.setdefault(field, []).append(_("Must be a list."))
        return []
    names = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            errors.setdefault(field, []).append(_("Each item needs a name."))
            continue
        names.append(" ".join(name.split())[:100])
    return list(dict.fromkeys(names))


def _date(value: Any, field: str, errors: dict[str, list[str]]) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        errors.setdefault(field, []).append(_("Must be a date (YYYY-MM-DD)."))
        return None


def _flatten_extras(data: dict[str, Any]) -> dict[str, Any]:
    """CKAN clients send custom fields as `extras: [{"key", "value"}]`; accept either form.
    `maintainer`/`maintainer_email` are CKAN's names for the contact."""
    merged = dict(data)
    extras = data.get("extras")
    if isinstance(extras, list):
        for extra in extras:
            if isinstance(extra, dict) and "key" in extra and extra["key"] not in merged:
                merged[str(extra["key"])] = extra.get("value")
    for ckan, ours in (("maintainer", "contact_name"), ("maintainer_email", "contact_email")):
        if ckan in merged and ours not in merged:
            merged[ours] = merged[ckan]
    return merged


def _apply(dataset: Dataset, data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Validate `data` onto `dataset` (not saved); returns tags and groups to set."""
    errors: dict[str, list[str]] = {}
    data = _flatten_extras(data)
    if "name" in data:
        name = _text(data["name"])
        if not NAME_RE.match(name):
            errors.setdefault("name", []).append(
                _(
                    "Must be 2 to 100 characters: lower-case letters without diacritics, "
                    "digits, - and _."
                )
            )
        elif name in RESERVED_NAMES or (
            Dataset.objects.filter(name=name).exclude(pk=dataset.pk).exists()
        ):
            errors.setdefault("name", []).append(_("That URL is already in use."))
        dataset.name = name
    elif creating:
        errors.setdefault("name", []).append(_("Missing value"))
    for key, limit in TEXT_FIELDS.items():
        if key in data:
            value = _text(data[key])
            if len(value) > limit:
                errors.setdefault(key, []).append(
                    _("At most %(limit)d characters.") % {"limit": limit}
                )
            setattr(dataset, key, value)
    if creating and not dataset.title:
        dataset.title = dataset.name
    if "license_id" in data:
        licence = _text(data["license_id"]) or DEFAULT_LICENCE
        if licence not in LICENCES:
            errors.setdefault("license_id", []).append(
                _("Unknown licence; one of: %s") % ", ".join(LICENCES)
            )
        dataset.license_id = licence
    if "frequency" in data:
        frequency = _text(data["frequency"]).upper()
        if frequency and frequency not in Frequency.values:
            errors.setdefault("frequency", []).append(
                _("Unknown frequency; one of: %s") % ", ".join(Frequency.values)
            )
        dataset.frequency = frequency
    if "contact_email" in data:
        email = _text(data["contact_email"])
        if email:
            try:
                EmailValidator()(email)
            except DjangoValidationError:
                errors.setdefault("contact_email", []).append(_("Not an e-mail address."))
        dataset.contact_email = email
    for key in ("temporal_start", "temporal_end"):
        if key in data:
            setattr(dataset, key, _date(data[key], key, errors))
    start, end = dataset.temporal_start, dataset.temporal_end
    if start and end and end < start:
        errors.setdefault("temporal_end", []).append(_("Ends before it starts."))
    if "private" in data:
        private = parse_bool(data["private"], "private", errors)
        if private is not None:
            dataset.private = private
    related: dict[str, Any] = {}
    if "tags" in data:
        related["tags"] = _names(data["tags"], "tags", errors)
    if "groups" in data:
        groups = _names(data["groups"], "groups", errors)
        found = {t.name: t for t in Theme.objects.filter(name__in=groups)}
        unknown = [g for g in groups if g not in found]
        if unknown:
            errors.setdefault("groups", []).append(_("Unknown field: %s") % ", ".join(unknown))
        related["groups"] = [found[g] for g in groups if g in found]
    if errors:
        raise InvalidError(errors)
    return related


def _owner(data: dict[str, Any], actor: User) -> Publisher:
    ref = _text(data.get("owner_org"))
    if not ref:
        raise InvalidError({"owner_org": [_("Missing value")]})
    publisher = Publisher.objects.filter(name=ref).first()
    if publisher is None:
        publisher = Publisher.objects.filter(agency__code=ref).first()
    if publisher is None:
        try:
            publisher = Publisher.objects.filter(pk=ref).first()
        except DjangoValidationError:
            publisher = None
    if publisher is None:
        agency = Agency.objects.filter(code=ref, is_active=True).first()
        if agency is not None and actor is not None and serves(actor, PUBLISH.code, agency):
            publisher = publisher_for(agency)
    if publisher is None:
        raise InvalidError({"owner_org": [_("Organization does not exist")]})
    _check_may_publish(actor, publisher)
    return publisher


_NOT_WORD = re.compile(r"[^0-9a-z]+")


def search_words(text: str) -> str:
    """Folded words between single spaces, with a space at each end, so a word is found
    whole: " dan so " holds "dan" and "so" but not "da"."""
    return " " + _NOT_WORD.sub(" ", fold(text)).strip() + " "


def search_text_refresh(dataset: Dataset) -> None:
    """Recompute the dataset's folded title and search text (titles, name, descriptions,
    tags, fields, the publishing agency, the place covered) after any change to them."""
    tags = " ".join(dataset.tags.values_list("name", flat=True))
    themes = " ".join(dataset.themes.values_list("title", flat=True))
    dataset.search_title = search_words(f"{dataset.title} {dataset.title_en}")
    dataset.search_text = search_words(
        " ".join(
            [
                dataset.title,
                dataset.title_en,
                dataset.name.replace("-", " "),
                dataset.notes,
                dataset.notes_en,
                tags,
                themes,
                dataset.publisher.agency.name,
                dataset.spatial,
            ]
        )
    )
    Dataset.objects.filter(pk=dataset.pk).update(
        search_title=dataset.search_title, search_text=dataset.search_text
    )


def _set_related(dataset: Dataset, related: dict[str, Any]) -> None:
    if "tags" in related:
        tags = []
        for name in related["tags"]:
            tag, _created = Tag.objects.get_or_create(name=name)
            tags.append(tag)
        dataset.tags.set(tags)
    if "groups" in related:
        dataset.themes.set(related["groups"])


def _record(dataset: Dataset, actor: User | None, kind: str, note: str = "", **data: Any) -> None:
    Activity.objects.create(dataset=dataset, actor=actor, kind=kind, note=note[:500])
    audit_record(
        actor=actor,
        action=f"opendata.{kind}",
        obj=dataset,
        data={"name": dataset.name, **data},
    )


# --- Datasets -------------------------------------------------------------------------------


def dataset_create(
    *, actor: User | None, data: dict[str, Any], publisher: Publisher | None = None
) -> Dataset:
    """Create a dataset for a publisher the actor publishes for (the platform itself when
    `actor` is None and `publisher` is given). Private unless `private` is false."""
    with transaction.atomic():
        errors: dict[str, list[str]] = {}
        if publisher is None:
            if actor is None:
                raise NotAllowedError(_("Sign in to publish data."))
            try:
                publisher = _owner(data, actor)
            except InvalidError as exc:  # reported with the other fields' problems
                errors.update(exc.errors)
        dataset = Dataset(creator=actor, private=True)
        if publisher is not None:
            dataset.publisher = publisher
        try:
            related = _apply(dataset, data, creating=True)
        except InvalidError as exc:
            errors.update(exc.errors)
        if errors:
            raise InvalidError(errors)
        now = timezone.now()
        dataset.metadata_created = dataset.metadata_modified = now
        if not dataset.private:
            dataset.published_at = now
        try:
            with transaction.atomic():
                dataset.save()
        except IntegrityError:
            raise InvalidError({"name": [_("That URL is already in use.")]}) from None
        _set_related(dataset, related)
        search_text_refresh(dataset)
        _record(dataset, actor, "created", private=dataset.private)
        if not dataset.private:
            _record(dataset, actor, "published")
    return dataset


def dataset_patch(*, actor: User | None, dataset: Dataset, data: dict[str, Any]) -> Dataset:
    """Change the fields given; the rest stay. Publishing is `private: false`."""
    with transaction.atomic():
        dataset = _locked_for(actor, dataset)
        if "owner_org" in data and actor is not None:
            new_owner = _owner(data, actor)
            dataset.publisher = new_owner
        was_private = dataset.private
        related = _apply(dataset, data, creating=False)
        dataset.metadata_modified = timezone.now()
        if was_private and not dataset.private and dataset.published_at is None:
            dataset.published_at = dataset.metadata_modified
        dataset.save()
        _set_related(dataset, related)
        search_text_refresh(dataset)
        changed = sorted(k for k in data if k not in ("id",))
        _record(dataset, actor, "updated", ", ".join(changed), fields=changed)
        if was_private != dataset.private:
            _record(dataset, actor, "unpublished" if dataset.private else "published")
    return dataset


# --- Resources ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceInput:
    name: str = ""
    description: str = ""
    url: str = ""
    file: ResourceFile | None = None
    format: str = ""


def _store(file: ResourceFile) -> str:
    checked = stored_files.CheckedFile(
        original_name=file.filename,
        content=file.content,
        content_type=file.mimetype,
        extension=file.extension,
        sha256=file.sha256,
    )
    return stored_files.store(checked, folder="opendata")


# --- Loading into the tabular store (ADR 0028) ----------------------------------------------


def _load_start(resource: Resource, *, background: bool) -> None:
    """Mark the resource's file as waiting to be loaded and ask for its load, in the
    transaction of the change (call inside it). `background`: a task (the database backend
    writes its row in this transaction: the load is asked for if and only if the change
    commits); otherwise the load runs now, in this process (the demo, the platform's own
    datasets, which are already on the worker)."""
    resource.load_status = LoadStatus.PENDING
    resource.load_rows = 0
    resource.load_error = ""
    resource.load_table = ""
    resource.load_task_id = ""
    resource.load_queued_at = resource.load_updated_at = timezone.now()
    resource.save(
        update_fields=[
            "load_status", "load_rows", "load_error", "load_table", "load_task_id",
            "load_queued_at", "load_updated_at",
        ]
    )  # fmt: skip
    if not background:
        datastore_load(str(resource.pk), resource.stored_file)
        return
    result = datastore_load_run.enqueue(str(resource.pk), resource.stored_file)
    Resource.objects.filter(pk=resource.pk).update(load_task_id=str(result.id)[:64])


def _header_check(file: ResourceFile) -> None:
    """Refuse at once a CSV file whose header cannot be read; the rest waits for the task."""
    try:
        datastore.header_check(file.format, file.content)
    except datastore.DatastoreError as exc:
        raise InvalidError({"upload": [m for ms in exc.errors.values() for m in ms]}) from None


def resource_create(
    *, actor: User | None, dataset: Dataset, data: ResourceInput, background: bool = True
) -> Resource:
    """Add a file (stored; a CSV or XLSX file is then loaded into the tabular store by a
    task, or at once when `background` is false) or a link to a dataset. A CSV file whose
    header cannot be read is refused at once."""
    errors: dict[str, list[str]] = {}
    if data.file is None and not data.url:
        errors["url"] = [_("Give a link or upload a file.")]
    if data.file is not None and data.url:
        errors["url"] = [_("Give a link or upload a file, not both.")]
    if data.url:
        try:
            URLValidator(schemes=["http", "https"])(data.url)
        except DjangoValidationError:
            errors["url"] = [_("Not a web address (http or https).")]
    if len(data.name) > 300:
        errors["name"] = [_("At most %(limit)d characters.") % {"limit": 300}]
    if errors:
        raise InvalidError(errors)
    with transaction.atomic():
        dataset = _locked_for(actor, dataset)
        now = timezone.now()
        resource = Resource(
            dataset=dataset,
            position=dataset.resources.count(),
            name=data.name or (data.file.filename if data.file else data.url.rsplit("/", 1)[-1]),
            description=data.description,
            created=now,
            last_modified=now,
        )
        if data.file is not None:
            if data.file.format in TABULAR:
                _header_check(data.file)
            resource.filename = data.file.filename
            resource.format = data.file.format
            resource.mimetype = data.file.mimetype
            resource.size = data.file.size
            resource.sha256 = data.file.sha256
            resource.stored_file = _store(data.file)
        else:
            resource.url = data.url
            resource.format = (data.format or "").strip()[:16]
        resource.save()
        if data.file is not None and data.file.format in TABULAR:
            _load_start(resource, background=background)
        dataset.metadata_modified = now
        dataset.save(update_fields=["metadata_modified"])
        _record(
            dataset,
            actor,
            "resource_created",
            resource.name,
            resource=str(resource.pk),
            sha256=resource.sha256,
        )
    return resource


def resource_replace_file(
    *, actor: User | None, resource: Resource, file: ResourceFile, background: bool = True
) -> Resource:
    """Replace a resource's file (and reload its table, as resource_create does) if its
    content changed. The previous table is served until the new one is loaded."""
    if resource.sha256 == file.sha256 and resource.format == file.format:
        return resource
    if file.format in TABULAR:
        _header_check(file)
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        if resource.stored_file:
            stored_files.discard(resource.stored_file)
        now = timezone.now()
        resource.stored_file = _store(file)
        resource.filename = file.filename
        resource.format = file.format
        resource.mimetype = file.mimetype
        resource.size = file.size
        resource.sha256 = file.sha256
        resource.last_modified = now
        resource.save()
        if file.format in TABULAR:
            _load_start(resource, background=background)
        else:
            # No table for a file that is not tabular any more.
            DatastoreTable.objects.filter(resource=resource).delete()
            resource.load_status = ""
            resource.save(update_fields=["load_status"])
        Dataset.objects.filter(pk=resource.dataset_id).update(metadata_modified=now)
        _record(
            resource.dataset,
            actor,
            "resource_updated",
            resource.name,
            resource=str(resource.pk),
            sha256=file.sha256,
        )
    return resource


def resource_downloaded(resource: Resource) -> None:
    """Count one download of the resource (one UPDATE: concurrent downloads all count)."""
    Resource.objects.filter(pk=resource.pk).update(download_count=F("download_count") + 1)
