from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tinhso.core.schedule import chain_start
from tinhso.payments.services import payment_expire_due
from tinhso.payments.tasks import payments_expire


class Command(BaseCommand):
    help = "Expire the payments past their time (once, or hourly on the task worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schedule", action="store_true", help="hourly on the worker")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            chain_start(payments_expire)
            self.stdout.write("Payment expiry scheduled on the task worker (hourly).")
            return
        self.stdout.write(f"{payment_expire_due()} payments expired.")
