"""The `agora` console script: Django's manage.py with Agora's own commands.

`agora serve`, `agora worker`, `agora demo` and `agora createoperator` are ordinary
management commands, so `agora help` lists them next to Django's.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agora.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
