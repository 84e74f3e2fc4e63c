"""The keyed blind index of an e-mail address: how requests are found and duplicates detected
without decrypting any identity (``dsr.identity.crypto.blind_index``)."""

from __future__ import annotations

from connectors.types import normalise_email
from dsr.identity import crypto


def email_blind_index(email: str) -> str:
    """The index of the normalised address (case and surrounding spaces do not matter; a
    ``+tag`` does, since it may be another mailbox)."""
    return crypto.blind_index(normalise_email(email), purpose="email")
