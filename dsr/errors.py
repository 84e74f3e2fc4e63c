"""The error every face shows the same way: input a person (or a staff member) can fix."""

from __future__ import annotations


class RequestInputError(Exception):
    """Input a person can fix; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
