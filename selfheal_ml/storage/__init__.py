"""DuckDB storage: one file holds metrics, rollups, alerts, incidents and the repair audit log.

``Database`` owns the connection and applies the numbered SQL migrations in
``storage/migrations/`` (``001_metrics.sql``, ``002_alerts.sql``, ...) exactly once each.
The stores (``MetricsStore``, ``AlertStore``, ...) are thin typed layers over it.
"""

from selfheal_ml.storage.database import Database

__all__ = ["Database"]
