"""Mailchimp Marketing connector (``mailchimp``)."""

from connectors.mailchimp.connector import MailchimpConfig, MailchimpConnector, subscriber_hash

__all__ = ["MailchimpConfig", "MailchimpConnector", "subscriber_hash"]
