#!/bin/sh
# Container entrypoint. The first argument picks the role:
#   web    - wait for PostgreSQL, run migrate_platform, then serve with gunicorn
#   worker - Celery worker
#   beat   - Celery beat (schedule file in /tmp: the image is not writable by `app`)
# Anything else is executed as given (e.g. `python manage.py shell`).
# Extra arguments after the role are passed on to gunicorn / celery.
set -eu

wait_for_database() {
    : "${DATABASE_URL:?entrypoint: DATABASE_URL must be set for the web container}"
    timeout="${DB_WAIT_TIMEOUT:-60}"
    deadline=$(( $(date +%s) + timeout ))
    echo "entrypoint: waiting up to ${timeout}s for the database at DATABASE_URL..."
    # django-environ parses the URL exactly as the settings do (postgres://, psql://, ...).
    while ! error=$(python -c '
import environ
import psycopg

cfg = environ.Env.db_url_config(environ.Env()("DATABASE_URL"))
params = {"dbname": cfg.get("NAME"), "user": cfg.get("USER"), "password": cfg.get("PASSWORD"),
          "host": cfg.get("HOST"), "port": cfg.get("PORT"), "connect_timeout": 3}
params.update(cfg.get("OPTIONS", {}))
psycopg.connect(**{key: value for key, value in params.items() if value not in (None, "")}).close()
' 2>&1); do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "entrypoint: ERROR: database not reachable after ${timeout}s; last error:" >&2
            echo "$error" | tail -n 3 >&2
            exit 1
        fi
        echo "entrypoint: database not ready yet, retrying in 1s..."
        sleep 1
    done
    echo "entrypoint: database is ready."
}

role="${1:-}"
case "$role" in
    web)
        shift
        wait_for_database
        # Public schema, the tenant template schema, then every tenant.
        python manage.py migrate_platform
        exec gunicorn config.wsgi:application \
            --bind 0.0.0.0:8000 \
            --workers "${GUNICORN_WORKERS:-3}" \
            --access-logfile - \
            "$@"
        ;;
    worker)
        shift
        exec celery -A config worker --loglevel=INFO "$@"
        ;;
    beat)
        shift
        exec celery -A config beat --loglevel=INFO --schedule /tmp/celerybeat-schedule "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
