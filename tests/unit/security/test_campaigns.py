"""Distributed brute-force campaigns: who is named, who is spared, and what is forgotten."""

from __future__ import annotations

from selfheal_ml.security.campaigns import AccountCampaigns
from selfheal_ml.security.counting import Overflow

from .conftest import at


def test_prune_forgets_campaigns_that_are_over_and_old_owner_logins() -> None:
    campaigns = AccountCampaigns(campaign_s=600, known_s=3600)
    campaigns.accepted("admin", "198.51.100.7", at(0))
    campaigns.started("admin", Overflow("admin", at(0), 11, (), ("203.0.113.1",)), at(10))
    campaigns.started("bob", Overflow("bob", at(0), 11, (), ("203.0.113.2",)), at(500))
    campaigns.prune(at(700))
    assert len(campaigns) == 1 and campaigns.first_seen("bob") == at(0)
    campaigns.prune(at(4000))
    assert len(campaigns) == 0
    # the owner's login is older than known_s now: a failure in a new campaign names them
    campaigns.started("admin", Overflow("admin", at(4000), 11, (), ("198.51.100.7",)), at(4001))
    assert campaigns.failed("admin", "198.51.100.7", at(4070))


def test_a_named_address_is_named_again_after_a_minute() -> None:
    campaigns = AccountCampaigns()
    assert campaigns.started("admin", Overflow("admin", at(0), 11, (), ("203.0.113.1",)), at(1))
    assert not campaigns.failed("admin", "203.0.113.1", at(30))
    assert campaigns.failed("admin", "203.0.113.1", at(61))
