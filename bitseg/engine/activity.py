"""Deal and event leaves: evaluated once per query over all shards, then sliced per shard.

`has deals where R count C`: R runs on the deal entity's own bitmaps; the matching deal
columns are mapped to owner contacts through the per-deal-shard owner arrays, counted
per contact with numpy, and compared with C. Without `where`, the contact-level
`$deals` count BSI answers directly. An event rule sums the contact-level count BSIs
of the selected (type, campaign, UTC day) fields with bit-sliced addition (a plain
union when the count is the default "at least one") and compares the sum.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import numpy as np
from pyroaring import BitMap, FrozenBitMap

from bitseg.engine.bsi import AnyBitMap, bsi_range
from bitseg.engine.source import BitmapSource
from bitseg.errors import InvalidArgument
from bitseg.rules.model import (
    CampaignIn,
    CampaignLast,
    Cmp,
    EventRule,
    WindowBetween,
    WindowLast,
    WindowSince,
)
from bitseg.store import keys
from bitseg.timeutil import DAY, parse_duration, parse_time_interval

INT_MAX = 2**63 - 1
EMPTY = FrozenBitMap()


def count_range(cmp: Cmp | None) -> tuple[int, int]:
    """The inclusive [lo, hi] a count comparison accepts; None means "at least one"."""
    if cmp is None:
        return 1, INT_MAX
    lo, hi = 0, INT_MAX
    if cmp.gte is not None:
        lo = max(lo, cmp.gte)
    if cmp.gt is not None:
        lo = max(lo, cmp.gt + 1)
    if cmp.lte is not None:
        hi = min(hi, cmp.lte)
    if cmp.lt is not None:
        hi = min(hi, cmp.lt - 1)
    if cmp.eq is not None:
        lo, hi = max(lo, cmp.eq), min(hi, cmp.eq)
    return lo, hi


def all_live(src: BitmapSource) -> AnyBitMap:
    parts = [src.live(keys.CONTACT, s) for s in range(src.shard_count(keys.CONTACT))]
    return FrozenBitMap.union(*parts) if len(parts) > 1 else (parts[0] if parts else EMPTY)


def deal_owners(src: BitmapSource, deals: AnyBitMap) -> np.ndarray:
    """Owner contact columns of the given deal columns (one entry per deal with an owner)."""
    cols = np.frombuffer(deals.to_array(), dtype=np.uint32)  # sorted ascending
    out: list[np.ndarray] = []
    start = 0
    while start < len(cols):
        shard = int(cols[start]) >> keys.SHARD_BITS
        end = int(np.searchsorted(cols, (shard + 1) << keys.SHARD_BITS))
        owners = src.owner_array(shard)
        offsets = cols[start:end] - np.uint32(shard << keys.SHARD_BITS)
        offsets = offsets[: np.searchsorted(offsets, len(owners))]
        mapped = owners[offsets]
        out.append(mapped[mapped > 0] - np.uint32(1))
        start = end
    if not out:
        return np.zeros(0, dtype=np.uint32)
    return out[0] if len(out) == 1 else np.concatenate(out)


def contacts_by_count(src: BitmapSource, owners: np.ndarray, lo: int, hi: int) -> AnyBitMap:
    """Live contacts whose number of entries in `owners` lies in [lo, hi] (0 counts too)."""
    live = all_live(src)
    if not len(owners):
        return live if lo <= 0 else EMPTY
    if hi >= len(owners) and lo <= 1:  # no upper limit in effect
        if lo <= 0:
            return live
        seen = np.zeros(int(owners.max()) + 1, dtype=bool)  # "at least one": no counting
        seen[owners] = True
        return _bitmap(np.flatnonzero(seen)) & live
    counts = np.bincount(owners)
    result = _bitmap(np.flatnonzero((counts >= max(lo, 1)) & (counts <= hi)))
    if lo <= 0:
        result |= live - _bitmap(np.flatnonzero(counts))
    return result & live


# -- events --------------------------------------------------------------------------------
def event_fields(src: BitmapSource, rule: EventRule, now: int) -> list[list[str]]:
    """Groups of contact-level count fields: each group is summed; groups are intersected
    (one group per campaign for `match: all`, else a single group)."""
    campaigns = _campaigns(src, rule, now)
    day_range = _days(rule, now)
    groups: list[list[str]] = []
    per_campaign = isinstance(rule.campaign, CampaignLast) and rule.campaign.match == "all"
    selected: Sequence[str | None] = campaigns if campaigns is not None else [None]
    for campaign in selected:
        if day_range is None:
            fields = [keys.event_field(rule.type.strip(), campaign)]
        else:
            lo, hi = day_range
            prefix = keys.event_day_prefix(rule.type.strip(), campaign)
            days = _days_of(src.field_suffixes(keys.CONTACT, prefix))
            chosen = days[np.searchsorted(days, lo) : np.searchsorted(days, hi, side="right")]
            fields = [f"{prefix}{day}" for day in chosen.tolist()]
        if per_campaign or not groups:
            groups.append(fields)
        else:
            groups[0].extend(fields)
    if not per_campaign and not groups:
        groups.append([])  # no campaign selected: every count is 0
    return groups


_DAYS_MEMO: dict[int, tuple[list[str], np.ndarray]] = {}


def _days_of(suffixes: list[str]) -> np.ndarray:
    """The sorted day numbers among field-name suffixes (memoised per suffix list object,
    which the store caches per data generation)."""
    hit = _DAYS_MEMO.get(id(suffixes))
    if hit is not None and hit[0] is suffixes:
        return hit[1]
    days = np.array(sorted(int(d) for d in suffixes if d.lstrip("-").isdigit()), dtype=np.int64)
    if len(_DAYS_MEMO) > 4096:
        _DAYS_MEMO.clear()
    _DAYS_MEMO[id(suffixes)] = (suffixes, days)
    return days


def _campaigns(src: BitmapSource, rule: EventRule, now: int) -> list[str] | None:
    selector = rule.campaign
    if selector is None:
        return None
    known = src.campaigns()  # [(id, sent_at)] sorted by sent_at, then id
    ids = {cid for cid, _ in known}
    if isinstance(selector, str):
        wanted = [selector]
    elif isinstance(selector, CampaignIn):
        wanted = list(selector.ids)
    else:
        sent = [cid for cid, at in known if at is not None and at <= now]
        return sent[-selector.n :][::-1] if selector.n > 0 else []
    for index, cid in enumerate(wanted):
        if cid not in ids:
            where = "campaign" if isinstance(selector, str) else f"campaign.in[{index}]"
            raise InvalidArgument(f'{where}: unknown campaign "{cid}"')
    return list(dict.fromkeys(wanted))  # a campaign named twice still counts its events once


def _days(rule: EventRule, now: int) -> tuple[int, int] | None:
    window = rule.within
    today = now // DAY
    if window is None:
        return None
    if isinstance(window, WindowLast):
        days = parse_duration(window.duration) // DAY
        return today - days + 1, today
    if isinstance(window, WindowSince):
        return parse_time_interval(window.time, now)[0] // DAY, today
    assert isinstance(window, WindowBetween)
    return (
        parse_time_interval(window.start, now)[0] // DAY,
        parse_time_interval(window.end, now)[1] // DAY,
    )


def sum_counts(
    src: BitmapSource, fields: list[str], shard: int, need_values: bool
) -> tuple[AnyBitMap, list[AnyBitMap]]:
    """(contacts with a non-zero sum, bit slices of the sum) over `fields` on one shard."""
    exists_parts = [src.bitmap(keys.CONTACT, f, keys.EXISTS, shard) for f in fields]
    exists_parts = [e for e in exists_parts if e]
    if not exists_parts:
        return EMPTY, []
    exists = exists_parts[0] if len(exists_parts) == 1 else FrozenBitMap.union(*exists_parts)
    exists = exists & src.live(keys.CONTACT, shard)  # events may name contacts not (yet) live
    if not need_values:
        return exists, []
    total: list[AnyBitMap] = []
    for field in fields:
        depth = src.bsi_depth(keys.CONTACT, field)
        slices = [src.bitmap(keys.CONTACT, field, keys.bit_slot(b), shard) for b in range(depth)]
        total = slices if not total else add_bsi(total, slices)
    return exists, total


def add_bsi(a: Sequence[AnyBitMap], b: Sequence[AnyBitMap]) -> list[AnyBitMap]:
    """Bit-sliced addition (ripple carry) of two non-negative BSIs."""
    out: list[AnyBitMap] = []
    carry: AnyBitMap = EMPTY
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else EMPTY
        y = b[i] if i < len(b) else EMPTY
        half = x ^ y
        out.append(half ^ carry if carry else half)
        carry = (x & y) | (carry & half) if carry else x & y
    if carry:
        out.append(carry)
    return out


def event_shard(
    src: BitmapSource, groups: list[list[str]], cmp: Cmp | None, shard: int
) -> AnyBitMap:
    lo, hi = count_range(cmp)
    if lo > hi:
        return EMPTY
    result: AnyBitMap | None = None
    for fields in groups:
        default = lo <= 1 and hi == INT_MAX
        exists, slices = sum_counts(src, fields, shard, need_values=not default)
        if default:
            part = exists if lo == 1 else src.live(keys.CONTACT, shard)
        else:
            part = bsi_range(exists, EMPTY, slices, max(lo, 1), hi) if hi >= 1 else BitMap()
            if lo <= 0:
                part = part | (src.live(keys.CONTACT, shard) - exists)
        result = part if result is None else result & part
        if not result:
            return EMPTY
    return result if result is not None else EMPTY


def _bitmap(cols: np.ndarray) -> BitMap:
    return BitMap(array("I", cols.astype(np.uint32).tobytes()))
