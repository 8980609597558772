"""The four services (ingest, detector, validator, executor): ``python -m services.<name>``."""

import mevbot  # noqa: F401 - installs the finder of the compiled hot modules before any service module
