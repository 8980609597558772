"""``python -m services.validator``: run the validator service."""

from mevbot.runtime import main

from services.validator.app import ValidatorService

if __name__ == "__main__":
    main(ValidatorService)
