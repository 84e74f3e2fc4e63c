"""The fake lives beside its connector, in ``connectors/mailchimp/fake.py``, because ``make run`` serves it
too (the demo's vendor system); this keeps the tests' imports short."""

from connectors.mailchimp.fake import *  # noqa: F403
