# OMM image: one image for web (gunicorn), worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMM_DATA_DIR=/var/lib/omm

RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app --uid 1000 omm

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN mkdir -p "$OMM_DATA_DIR" && chown -R omm "$OMM_DATA_DIR" \
 && SECRET_KEY=build-only-key-not-used-at-runtime-0123456789abcdefghijklmnop \
    OMM_SECRETS_KEY=$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
    python manage.py collectstatic --noinput

USER omm
EXPOSE 8000
CMD ["gunicorn", "omm.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
