from tinhso.core.schedule import HourlyChainCommand
from tinhso.dossiers.deadlines import deadline_warnings, deadline_warnings_send


class Command(HourlyChainCommand):
    help = "Warn the responsible officials of dossiers due within one working day."
    task = deadline_warnings
    scheduled = "Deadline warnings scheduled on the task worker (hourly)."
    done = "{n} dossiers warned."

    def run_once(self) -> int:
        return deadline_warnings_send()
