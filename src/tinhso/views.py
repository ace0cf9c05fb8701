"""The portal's home page: it shows what every module offers, so it lives at the
composition root, beside urls.py, and may read any module."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tinhso.agencies.selectors import agency_counts
from tinhso.catalog.models import Procedure


def home(request: HttpRequest) -> HttpResponse:
    procedures = Procedure.objects.filter(is_active=True).count()
    return render(request, "home.html", {"counts": agency_counts(), "procedures": procedures})
