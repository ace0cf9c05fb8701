from tinhso.core.schedule import HourlyChainCommand
from tinhso.products.reminders import certificates_remind
from tinhso.products.scans import scans_roll
from tinhso.products.tasks import products_hourly


class Command(HourlyChainCommand):
    help = (
        "Count the stamps' scans into the figures and tell producers of certificates ending "
        "soon (hourly on the worker with --schedule)."
    )
    task = products_hourly
    scheduled = "Scans counted into the figures hourly on the task worker."
    done = "{n} scans counted."

    def run_once(self) -> int:
        certificates_remind()
        return scans_roll()
