"""The fake lives beside its connector, in ``connectors/klaviyo/fake.py``, because ``make run`` serves it
too (the demo's vendor system); this keeps the tests' imports short."""

from connectors.klaviyo.fake import *  # noqa: F403
