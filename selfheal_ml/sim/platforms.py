"""The simulated platforms: endpoints, business events and background jobs of each.

Five platforms from the original design share one PostgreSQL database and one Redis cache.
Each endpoint says how much of its latency is spent in the database and in the cache, which is
what makes a dependency fault propagate: a slow database slows the database-heavy endpoints of
every platform, while a mostly static endpoint barely notices.

>>> [platform.name for platform in DEFAULT_PLATFORMS]
['leadsite.ai', 'leadsite.io', 'clientcontact.io', 'videosite.io', 'tackle.io']
>>> DEFAULT_PLATFORMS[0].endpoints[-1].path
'/api/auth/login'
"""

from __future__ import annotations

from dataclasses import dataclass

LOGIN_PATH = "/api/auth/login"


@dataclass(frozen=True)
class EndpointSpec:
    """One HTTP endpoint: its share of the platform's traffic and its latency make-up.

    ``base_p50_ms`` is the unloaded median latency; ``db_fraction`` and ``cache_fraction`` are
    the shares of a request's time spent waiting on PostgreSQL and Redis (0..1).
    """

    path: str
    traffic_share: float
    base_p50_ms: float
    db_fraction: float
    cache_fraction: float


@dataclass(frozen=True)
class BusinessEventSpec:
    """A business counter (e.g. ``leads_generated``) and its rate at nominal peak traffic.

    ``needs_job`` marks events produced by the platform's background job: they stop when the
    job is stuck.
    """

    name: str
    peak_per_min: float
    needs_job: bool = False


@dataclass(frozen=True)
class PlatformSpec:
    """A platform: name, nominal peak traffic, endpoints, business events and background job."""

    name: str
    peak_rps: float
    endpoints: tuple[EndpointSpec, ...]
    business_events: tuple[BusinessEventSpec, ...]
    background_job: str
    base_memory_percent: float = 45.0
    base_disk_percent: float = 48.0

    @property
    def host(self) -> str:
        """The platform's single host, e.g. ``leadsite.ai-web-1``."""
        return f"{self.name}-web-1"


def _login(share: float = 0.08) -> EndpointSpec:
    return EndpointSpec(LOGIN_PATH, share, 45.0, db_fraction=0.5, cache_fraction=0.3)


DEFAULT_PLATFORMS: tuple[PlatformSpec, ...] = (
    PlatformSpec(
        name="leadsite.ai",
        peak_rps=40.0,
        endpoints=(
            EndpointSpec("/api/campaigns", 0.35, 70.0, db_fraction=0.6, cache_fraction=0.2),
            EndpointSpec("/api/leads", 0.57, 55.0, db_fraction=0.7, cache_fraction=0.2),
            _login(),
        ),
        business_events=(
            BusinessEventSpec("campaigns_created", 6.0),
            BusinessEventSpec("leads_generated", 90.0),
            BusinessEventSpec("emails_sent", 400.0, needs_job=True),
        ),
        background_job="email_sender",
    ),
    PlatformSpec(
        name="leadsite.io",
        peak_rps=30.0,
        endpoints=(
            EndpointSpec("/api/sites", 0.6, 60.0, db_fraction=0.5, cache_fraction=0.35),
            EndpointSpec("/api/publish", 0.32, 120.0, db_fraction=0.6, cache_fraction=0.1),
            _login(),
        ),
        business_events=(
            BusinessEventSpec("websites_built", 8.0),
            BusinessEventSpec("publishes", 25.0, needs_job=True),
        ),
        background_job="publish_worker",
        base_memory_percent=50.0,
    ),
    PlatformSpec(
        name="clientcontact.io",
        peak_rps=50.0,
        endpoints=(
            EndpointSpec("/api/messages", 0.62, 40.0, db_fraction=0.65, cache_fraction=0.25),
            EndpointSpec("/api/conversations", 0.3, 50.0, db_fraction=0.55, cache_fraction=0.3),
            _login(),
        ),
        business_events=(
            BusinessEventSpec("messages_sent", 300.0, needs_job=True),
            BusinessEventSpec("conversations", 60.0),
        ),
        background_job="message_dispatcher",
        base_memory_percent=42.0,
    ),
    PlatformSpec(
        name="videosite.io",
        peak_rps=80.0,
        endpoints=(
            EndpointSpec("/v/page", 0.8, 25.0, db_fraction=0.1, cache_fraction=0.6),
            EndpointSpec("/api/videos", 0.16, 90.0, db_fraction=0.6, cache_fraction=0.2),
            _login(0.04),
        ),
        business_events=(BusinessEventSpec("page_views", 3000.0),),
        background_job="thumbnail_renderer",
        base_memory_percent=55.0,
        base_disk_percent=58.0,
    ),
    PlatformSpec(
        name="tackle.io",
        peak_rps=25.0,
        endpoints=(
            EndpointSpec("/api/companies", 0.4, 65.0, db_fraction=0.7, cache_fraction=0.15),
            EndpointSpec("/api/deals", 0.52, 75.0, db_fraction=0.75, cache_fraction=0.1),
            _login(),
        ),
        business_events=(
            BusinessEventSpec("companies_created", 12.0, needs_job=True),
            BusinessEventSpec("contacts_created", 45.0, needs_job=True),
            BusinessEventSpec("deals_created", 10.0),
        ),
        background_job="crm_import",
    ),
)
