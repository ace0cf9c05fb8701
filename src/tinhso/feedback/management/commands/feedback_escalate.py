from tinhso.core.schedule import HourlyChainCommand
from tinhso.feedback.escalation import escalate_overdue, feedback_escalate


class Command(HourlyChainCommand):
    help = "Tell the leaders of each body about its overdue citizens' reports (once each)."
    task = feedback_escalate
    scheduled = "Overdue reports escalated hourly on the task worker."
    done = "{n} reports escalated."

    def run_once(self) -> int:
        return escalate_overdue()
