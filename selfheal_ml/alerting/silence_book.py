"""SilenceBook: the AlertManager's silences, written through to the store and cached.

Every alert the manager returns carries ``silenced_by``, so muting is decided on every fire and
every flush; the book keeps the silences in memory for that (loaded once from the store, updated
on each save). Listing and expiring read the store, so they see exactly what is stored, e.g.
after retention deleted old expired silences (which never mute anything, so the cache may keep
them without changing a decision). Not thread-safe by itself: the manager holds its lock.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from selfheal_ml.alerting.ports import AlertStateStore
from selfheal_ml.alerting.silences import Matcher, Silence, check_silence
from selfheal_ml.errors import ValidationError


class SilenceBook:
    """Create, expire and list silences over an :class:`AlertStateStore`, with a cache."""

    def __init__(self, store: AlertStateStore) -> None:
        self.store = store
        self.cached: list[Silence] = self.stored()

    def stored(self) -> list[Silence]:
        """Every stored silence, newest first."""
        rows = self.store.silences()
        return [Silence.model_validate({"id": row.pop("silence_id"), **row}) for row in rows]

    def add(
        self,
        matchers: list[Matcher],
        starts_at: datetime,
        ends_at: datetime,
        created_by: str,
        comment: str,
        now: datetime,
    ) -> str:
        """Validate and save a new silence; returns its id."""
        try:
            check_silence(matchers, starts_at, ends_at)
        except ValueError as exc:
            field, _, problem = str(exc).partition(": ")
            raise ValidationError(field, problem) from exc
        silence = Silence(
            id=uuid.uuid4().hex,
            matchers=tuple(matchers),
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=created_by,
            comment=comment,
            updated_at=now,
        )
        self._save(silence)
        return silence.id

    def expire(self, silence_id: str, now: datetime) -> Silence:
        """End a silence at ``now`` (a pending one never starts); returns it as stored."""
        found = [silence for silence in self.stored() if silence.id == silence_id]
        if not found:
            raise ValidationError("silence_id", f"no silence with id {silence_id!r}")
        silence = found[0]
        if silence.state(now) != "expired":
            silence = silence.model_copy(
                update={"starts_at": min(silence.starts_at, now), "ends_at": now, "updated_at": now}
            )
            self._save(silence)
        return silence

    def _save(self, silence: Silence) -> None:
        row = silence.model_dump(mode="python", exclude={"id"})
        self.store.save_silence({**row, "silence_id": silence.id})
        others = [cached for cached in self.cached if cached.id != silence.id]
        self.cached = sorted([*others, silence], key=lambda kept: kept.updated_at, reverse=True)
