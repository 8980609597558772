"""``python -m services.ingest``: run the ingest service."""

from mevbot.runtime import main

from services.ingest.app import IngestService

if __name__ == "__main__":
    main(IngestService)
