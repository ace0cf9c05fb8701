from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tinhso.feedback.services import open311_client_create


class Command(BaseCommand):
    help = "Give an application an Open311 api_key (printed once; only its digest is kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the application's name")

    def handle(self, *args: Any, **options: Any) -> None:
        client, key = open311_client_create(options["name"])
        self.stdout.write(f"{client.name}: {key}")
