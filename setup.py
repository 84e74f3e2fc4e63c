"""Build of the ``dsr-hub`` distribution (metadata in pyproject.toml; this only lists what is dynamic).

The templates and translations live at the top of the checkout (``templates/``, ``locale/``); a wheel
carries them inside the package as ``dsr/_templates`` and ``dsr/_locale``, where ``dsr/settings.py``
finds them when there is no checkout around the code. The runtime dependencies are
``requirements.txt``. The connector SDK alone is the ``dsr-hub-connectors`` distribution
(``connectors/pyproject.toml``).
"""

from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).resolve().parent
DATA = ["**/*.html", "**/*.txt", "**/*.css", "**/*.js", "**/*.svg", "**/*.yaml", "**/*.tmpl", "**/*.md"]


def requirements() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


setup(
    packages=[
        *find_packages(
            include=["dsr", "dsr.*", "connectors", "connectors.*"],
            exclude=["connectors.*.tests"],  # each connector's own test suite stays in the checkout
        ),
        "dsr._templates",
        "dsr._locale",
    ],
    package_dir={"dsr._templates": "templates", "dsr._locale": "locale"},
    package_data={"": DATA, "dsr._locale": ["*/LC_MESSAGES/*.po", "*/LC_MESSAGES/*.mo"]},
    include_package_data=False,
    install_requires=requirements(),
)
