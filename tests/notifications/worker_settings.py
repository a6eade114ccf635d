"""Settings for a worker process started by a test: Agora's, plus the `test.ping` event."""

import time
from typing import Any

from django.core.mail.backends.filebased import EmailBackend as FileBackend

from agora.settings import *  # noqa: F403
from agora.settings import INSTALLED_APPS, TEMPLATES
from tests.notifications.conftest import TEMPLATES_DIR

INSTALLED_APPS = [*INSTALLED_APPS, "tests.notifications.pingapp"]
TEMPLATES = [{**TEMPLATES[0], "DIRS": [TEMPLATES_DIR, *TEMPLATES[0].get("DIRS", [])]}]
EMAIL_BACKEND = "tests.notifications.worker_settings.SlowFileBackend"


class SlowFileBackend(FileBackend):
    """The file backend at a relay's pace (10 ms a mail), so a test can kill mid-batch."""

    def write_message(self, message: Any) -> None:
        time.sleep(0.01)
        super().write_message(message)
        self.stream.flush()
