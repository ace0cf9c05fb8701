"""A task for the worker tests: the first run leaves a marker and then holds (the test
kills its worker meanwhile); any later run finds the marker and finishes at once."""

import os
import time
from pathlib import Path

from django_tasks import task


@task()
def hold(marker: str) -> str:
    path = Path(marker)
    if path.exists():
        return "finished on a later run"
    path.write_text(str(os.getpid()))
    time.sleep(600)
    return "finished on the first run"
