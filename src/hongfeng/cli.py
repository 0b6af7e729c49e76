"""The `hongfeng` command: the project's manage.py. Every Django management command runs
through it (`hongfeng migrate`, `hongfeng createsuperuser`, `hongfeng shell`), and so do the
project's own (`hongfeng demo`, `hongfeng serve`, `hongfeng audit_verify`)."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongfeng.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["hongfeng", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
