"""What every command of the package shares: its exit codes and how a mistake is reported.

0: done. 1: the work failed on its input (a missing folder, unreadable data, a run folder that is taken):
one ``error:`` line names the file or value at fault. 2: the command line itself cannot be used (argparse's
own refusals and ``UsageError``, for instance a setting with an impossible value).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from .parallel import WorkerDied

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(ValueError):
    """An option value that cannot be used; reported like argparse's refusals, with exit code 2."""


def run_command(body: Callable[[], int | None]) -> int:
    """Run a command's work and turn the mistakes a user can fix into one ``error:`` line on stderr and
    the exit code above; anything else is a bug and keeps its traceback."""
    try:
        return body() or EXIT_OK
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, ValueError, WorkerDied) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
