from datetime import timedelta

from django_tasks import task

from agora.core import periodic
from agora.verticals.automotive import reminders


@task()
def send_due_mot_reminders() -> int:
    """MOT reminders 28, 14 and 1 days before expiry (each once; see reminders.py)."""
    return reminders.send_due_mot_reminders()


periodic.register(send_due_mot_reminders, every=timedelta(hours=1))
