"""The HTTP API: health, the admin dashboard, alerts and silences, Prometheus metrics.

``create_app(settings)`` builds a FastAPI app whose lifespan builds and starts the runtime;
nothing is built at import time. Routes live one resource per file in ``api/routes/``.
"""

from selfheal_ml.api.app import create_app

__all__ = ["create_app"]
