"""``python -m services.detector``: run the detector service."""

from mevbot.runtime import main

from services.detector.app import DetectorService

if __name__ == "__main__":
    main(DetectorService)
