# Production image for the OKR platform: one image runs web, worker and beat
# (the first argument to docker/entrypoint.sh picks which).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first so the layer is cached until requirements.txt changes.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# EMBEDDED_SERVICES=false: without DATABASE_URL / REDIS_URL the app refuses to start
# instead of starting a database inside the container.
ENV DJANGO_SETTINGS_MODULE=config.settings.production PYTHONUNBUFFERED=1 EMBEDDED_SERVICES=false

# Dummy values only for this step: production settings require SECRET_KEY,
# ALLOWED_HOSTS, DATABASE_URL and REDIS_URL; collectstatic connects to neither.
RUN SECRET_KEY=build-only-dummy-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://x@localhost/x REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput

RUN chmod 0755 docker/entrypoint.sh \
    && useradd --create-home --shell /usr/sbin/nologin app

USER app

EXPOSE 8000

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
