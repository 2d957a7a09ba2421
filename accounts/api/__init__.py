"""The integration API's shared parts (D8): token authentication, scopes, quotas, one error
envelope, cursor pagination, idempotent creates and the OpenAPI schema class. Each app
keeps its own endpoints in ``<app>/api/``; ``config/urls_api.py`` mounts them under /api/v1/."""
