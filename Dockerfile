# servicedesk: one image for every process of the production deployment
# (gunicorn web, celery worker, celery beat, one-off manage.py commands).
# See docker-compose.yml and the "Production" section of README.md.
FROM python:3.11-slim

# PYTHONPATH: settings.py finds templates/ and static/ next to the servicedesk
# package (BASE_DIR), so the processes import the code from /app, not the copy
# pip puts into site-packages. WEB_CONCURRENCY: gunicorn's number of workers.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    WEB_CONCURRENCY=3

WORKDIR /app

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

# Dependencies in their own layer, rebuilt only when pyproject.toml changes:
# with no source copied yet, `pip install .` installs the dependencies and an
# empty distribution, which the next step replaces.
COPY pyproject.toml README.md ./
RUN pip install . && pip uninstall --yes servicedesk

COPY . .
RUN pip install --no-deps . && rm -rf build *.egg-info

# Static files are collected at build time, with DEBUG=0 so that whitenoise's
# compressed, hashed storage is used. Settings refuse DEBUG=0 without a
# SECRET_KEY, so this step gets a throwaway one; it is not set in the image.
# ALLOWED_HOSTS plays no part in collectstatic.
RUN DEBUG=0 SECRET_KEY=collectstatic-at-build-time-only \
        python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media \
    && chown -R app:app /app/var

USER app

EXPOSE 8000

# Liveness: /healthz answers 200 while the process serves. Django validates the
# Host header, so the probe sends the first ALLOWED_HOSTS entry.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request as u; h = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h}), timeout=4)"

CMD ["gunicorn", "servicedesk.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
