"""The fake lives beside its connector, in ``connectors/hubspot/fake.py``, because ``make run`` serves it
too (the demo's vendor system); this keeps the tests' imports short."""

from connectors.hubspot.fake import *  # noqa: F403
