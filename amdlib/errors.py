"""User-facing errors: one line saying what is wrong and how to fix it."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from a user (params, files, credentials, endpoints).

    The CLI prints ``str(err)`` on one line and exits with ``exit_code``;
    no traceback is shown.
    """

    exit_code: int = 2

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code


class CassetteMiss(UserError):
    """A replayed run asked for an exchange that the cassette does not hold."""


class BudgetExhausted(Exception):
    """Raised inside a search when an LLM budget (calls or cost) is used up.

    The engine catches it and ends the run cleanly with what it has.
    """
