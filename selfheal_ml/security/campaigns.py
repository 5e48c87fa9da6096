"""Distributed brute-force campaigns: the addresses taking part, each named at its first failure.

The distinct-address bucket (``rules.py``) finds a distributed brute force on its *account*; a
ban needs an *address*. Waiting for each of the campaign's addresses to fill the per-address
jail (5 failures within 600 s) is slow by design of the attack: 40 addresses sharing 4 tries a
second make 0.1 a second each, so the first of them reached the jail 12-33 s after the start
(33 s on held-out seed 8101: over issue 13's 30 s) and the last minutes later. Once the account
is known to be under attack, one failed login on it is evidence enough against an address:

- the addresses the bucket counted are named at once (:meth:`AccountCampaigns.started`);
- every later address that fails on the account while the campaign lasts (``campaign_s``
  after its latest failure) is named at its first failure (:meth:`AccountCampaigns.failed`).

Spared: an address from which the account logged in successfully within ``known_s`` (its
owner, who may well mistype while someone else guesses their password), and an address named
less than ``repeat_s`` ago (named again after that, so a ban the policy refused for its rate
cap is asked for again, while a dry run is not flooded with findings).

>>> from datetime import UTC, datetime, timedelta
>>> from selfheal_ml.security.counting import Overflow
>>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
>>> campaigns = AccountCampaigns()
>>> campaigns.accepted("admin", "198.51.100.7", t0)
>>> bucket = Overflow("admin", t0, 11, (), ("203.0.113.1", "198.51.100.7", "203.0.113.2"))
>>> campaigns.started("admin", bucket, t0 + timedelta(seconds=3))
['203.0.113.1', '203.0.113.2']
>>> campaigns.failed("admin", "203.0.113.9", t0 + timedelta(seconds=5))
True
>>> campaigns.failed("admin", "203.0.113.9", t0 + timedelta(seconds=6))  # named 1 s ago
False
>>> campaigns.failed("admin", "203.0.113.10", t0 + timedelta(seconds=700))  # campaign over
False
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from selfheal_ml.security.counting import Overflow

CAMPAIGN_S = 600.0  # fail2ban's findtime: a campaign quiet that long is over
KNOWN_S = 30 * 86_400.0  # an address the account logged in from this recently is its owner's
REPEAT_S = 60.0  # the ban cap's window


@dataclass
class _Campaign:
    first_seen: datetime
    last_failure: datetime
    named: dict[str, datetime] = field(default_factory=dict)  # address -> when last named


class AccountCampaigns:
    """The accounts under a distributed brute force and who takes part (module docstring)."""

    def __init__(
        self, campaign_s: float = CAMPAIGN_S, known_s: float = KNOWN_S, repeat_s: float = REPEAT_S
    ) -> None:
        self.campaign = timedelta(seconds=campaign_s)
        self.known = timedelta(seconds=known_s)
        self.repeat = timedelta(seconds=repeat_s)
        self._campaigns: dict[str, _Campaign] = {}
        self._owners: dict[str, dict[str, datetime]] = {}  # account -> address -> last login

    def accepted(self, account: str, address: str, time: datetime) -> None:
        """A login for ``account`` from ``address`` was accepted: that address is spared."""
        self._owners.setdefault(account, {})[address] = time

    def started(self, account: str, overflow: Overflow, time: datetime) -> list[str]:
        """The bucket found a campaign on ``account``: the addresses to name now."""
        campaign = self._active(account, time)
        if campaign is None:
            campaign = self._campaigns[account] = _Campaign(overflow.first_seen, time)
        campaign.last_failure = max(campaign.last_failure, time)
        return [address for address in overflow.values if self._name(campaign, account,
                                                                      address, time)]  # fmt: skip

    def failed(self, account: str, address: str, time: datetime) -> bool:
        """A failed login for ``account`` from ``address``: whether to name the address now."""
        campaign = self._active(account, time)
        if campaign is None:
            return False
        campaign.last_failure = max(campaign.last_failure, time)
        return self._name(campaign, account, address, time)

    def first_seen(self, account: str) -> datetime | None:
        """When the campaign on ``account`` began (``None``: none known)."""
        campaign = self._campaigns.get(account)
        return None if campaign is None else campaign.first_seen

    def prune(self, now: datetime) -> None:
        """Forget campaigns that are over and owners' logins older than ``known_s``."""
        for account in list(self._campaigns):
            self._active(account, now)  # drops it when it is over
        for account, logins in list(self._owners.items()):
            for address in [a for a, last in logins.items() if now - last > self.known]:
                del logins[address]
            if not logins:
                del self._owners[account]

    def _active(self, account: str, time: datetime) -> _Campaign | None:
        campaign = self._campaigns.get(account)
        if campaign is None:
            return None
        if time - campaign.last_failure > self.campaign:
            del self._campaigns[account]
            return None
        return campaign

    def _name(self, campaign: _Campaign, account: str, address: str, time: datetime) -> bool:
        owner_login = self._owners.get(account, {}).get(address)
        if owner_login is not None and time - owner_login <= self.known:
            return False
        last = campaign.named.get(address)
        if last is not None and time - last < self.repeat:
            return False
        campaign.named[address] = time
        return True

    def __len__(self) -> int:
        return len(self._campaigns)
