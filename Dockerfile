# One image for the four services: `python -m services.<name>` (compose sets the command).

# Stage 1: the compiled hot modules (Cython, scripts/build_native.py) into /app/build/native. The
# runtime image gets only the built files; a missing or stale build just means plain Python.
FROM python:3.11-slim AS native
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir "cython>=3.0" "setuptools>=68"
WORKDIR /app
COPY libs ./libs
COPY services ./services
COPY scripts/build_native.py ./scripts/build_native.py
RUN python scripts/build_native.py

# Stage 2: the runtime image
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (cached layer): only pyproject + a stub package are needed to resolve them.
COPY pyproject.toml README.md ./
COPY libs/common/mevbot/__init__.py libs/common/mevbot/__init__.py
COPY services/__init__.py services/__init__.py
RUN pip install -e . && pip uninstall -y mevbot

COPY libs ./libs
COPY services ./services
COPY contracts/artifacts ./contracts/artifacts
COPY --from=native /app/build/native ./build/native
RUN pip install --no-deps -e . && python -c "import mevbot.runtime, mevbot.chainconfig; mevbot.chainconfig.default_chain_config()"

RUN useradd --create-home --uid 10001 mevbot && mkdir -p /home/mevbot/.mevbot && chown -R mevbot /home/mevbot
USER mevbot

# Every service serves /health/* and /metrics on its HTTP_PORT (compose sets 9101..9104).
EXPOSE 9101 9102 9103 9104
STOPSIGNAL SIGTERM
CMD ["mevbot", "--help"]
