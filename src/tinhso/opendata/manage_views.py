"""The publishers' pages: their agencies' datasets, creating one, adding resources, and
publishing or withdrawing. Every change goes through the same services as the API."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tinhso.accounts.models import User
from tinhso.agencies.models import Agency
from tinhso.opendata.formats import TABULAR, detect
from tinhso.opendata.forms import DatasetForm, ResourceForm
from tinhso.opendata.models import Dataset, LoadStatus
from tinhso.opendata.services import (
    InvalidError,
    NotAllowedError,
    ResourceInput,
    dataset_create,
    dataset_patch,
    publisher_ids_of,
    publishing_agencies,
    resource_create,
)


def _publisher(request: HttpRequest) -> tuple[User, list[Agency]]:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    agencies = publishing_agencies(user)
    if not agencies:
        raise PermissionDenied(_("Only an agency's data publishers can manage its datasets."))
    return user, agencies


def _mine(user: User, slug: str) -> Dataset:
    allowed = publisher_ids_of(user)
    qs = Dataset.objects.select_related("publisher__agency").filter(name=slug)
    qs = qs.filter(publisher_id__in=allowed)
    dataset = qs.first()
    if dataset is None:
        raise Http404
    return dataset


def _add_errors(form: DatasetForm | ResourceForm, errors: dict[str, list[str]]) -> None:
    for field, problems in errors.items():
        target = field if field in form.fields else None
        for problem in problems:
            form.add_error(target, problem)


@login_required
def manage_list(request: HttpRequest) -> HttpResponse:
    user, agencies = _publisher(request)
    allowed = publisher_ids_of(user)
    datasets = Dataset.objects.select_related("publisher__agency").order_by(
        "-private", "-metadata_modified"
    )
    datasets = datasets.filter(publisher_id__in=allowed)
    return render(
        request,
        "opendata/manage_list.html",
        {"datasets": list(datasets[:500]), "agencies": agencies},
    )


@login_required
def manage_create(request: HttpRequest) -> HttpResponse:
    user, agencies = _publisher(request)
    form = DatasetForm(request.POST or None, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        try:
            dataset = dataset_create(actor=user, data=form.service_data())
        except InvalidError as exc:
            _add_errors(form, exc.errors)
        except NotAllowedError as exc:
            form.add_error("owner_org", str(exc))
        else:
            messages.success(request, _("Dataset created. It stays private until you publish it."))
            return redirect("opendata:manage_dataset", dataset.name)
    return render(request, "opendata/manage_create.html", {"form": form})


@login_required
def manage_dataset(request: HttpRequest, slug: str) -> HttpResponse:
    """A dataset of the publisher's agency: its resources, adding one, publishing."""
    user, _agencies = _publisher(request)
    dataset = _mine(user, slug)
    form = ResourceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["upload"]
        try:
            file = None
            if upload is not None:
                limit = settings.TINHSO_OPENDATA_UPLOAD_MAX_BYTES
                file = detect(upload.name or "tep", upload.read(limit + 1))
            resource_create(
                actor=user,
                dataset=dataset,
                data=ResourceInput(
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    url=form.cleaned_data["url"] or "",
                    file=file,
                ),
            )
        except DjangoValidationError as exc:
            form.add_error("upload", exc.messages)
        except InvalidError as exc:
            _add_errors(form, exc.errors)
        except NotAllowedError as exc:
            raise PermissionDenied(str(exc)) from None
        else:
            messages.success(
                request,
                _("Resource added. Its table is being loaded: this page shows how far.")
                if file is not None and file.format in TABULAR
                else _("Resource added."),
            )
            return redirect("opendata:manage_dataset", dataset.name)
    resources = list(dataset.resources.select_related("datastore"))
    loading = any(r.load_status in (LoadStatus.PENDING, LoadStatus.LOADING) for r in resources)
    return render(
        request,
        "opendata/manage_dataset.html",
        {"dataset": dataset, "resources": resources, "form": form, "loading": loading},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def manage_publish(request: HttpRequest, slug: str) -> HttpResponse:
    user, _agencies = _publisher(request)
    dataset = _mine(user, slug)
    publish = request.POST.get("publish") == "1"
    try:
        dataset_patch(actor=user, dataset=dataset, data={"private": not publish})
    except NotAllowedError as exc:
        raise PermissionDenied(str(exc)) from None
    messages.success(
        request,
        _("Published: everyone can see and download it.")
        if publish
        else _("Withdrawn: only your agency's publishers see it now."),
    )
    return redirect("opendata:manage_dataset", dataset.name)
