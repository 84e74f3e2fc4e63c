"""The rootdir conftest: pytest plugins for every test path (``tests/`` and ``connectors/<key>/tests/``).

Plugins may be declared only here (pytest refuses ``pytest_plugins`` in a nested conftest).
"""

pytest_plugins = ["tests.support.browser", "tests.support.network"]
