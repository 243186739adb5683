"""What the engine needs from storage, as a protocol (the store's ReadView implements it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np
from pyroaring import FrozenBitMap

from bitseg.schema import OrgSchema


class BitmapSource(Protocol):
    @property
    def schema(self) -> OrgSchema: ...

    def bitmap(self, entity: str, field: str, slot: bytes, shard: int) -> FrozenBitMap:
        """The bitmap at (entity, field, slot, shard); empty if there is none. Never mutate it."""
        ...

    def live(self, entity: str, shard: int) -> FrozenBitMap: ...

    def shard_count(self, entity: str) -> int: ...

    def bsi_depth(self, entity: str, field: str) -> int: ...

    @property
    def range_index(self) -> bool:
        """Whether int/time fields have a range index (bitseg.store.rangekeys)."""
        ...

    def slots_between(
        self, entity: str, field: str, start: bytes, end: bytes, limit: int = 64
    ) -> list[bytes]:
        """Slots in [start, end) of `field` holding a bitmap, in order (at most `limit`)."""
        ...

    def vocabulary(self, entity: str, field: str, slot_kind: bytes) -> list[str]: ...

    def text_values(self, entity: str, field: str, cols: Iterable[int]) -> dict[int, str]: ...

    def owner_array(self, deal_shard: int) -> np.ndarray:
        """Owner contact column + 1 (0: none) of each deal column of a deal shard."""
        ...

    def campaigns(self) -> list[tuple[str, int | None]]:
        """Every live campaign as (id, sent_at), ordered by sent_at then id."""
        ...

    def field_suffixes(self, entity: str, prefix: str) -> list[str]:
        """The rest of every field name of `entity` that starts with `prefix`."""
        ...
