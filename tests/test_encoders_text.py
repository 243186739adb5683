"""Text postings are the same whichever way they are built: per row with numpy, or per
distinct value when values repeat; and both equal the plain definition (the trigrams of
each value, the value keys, the long-value bitmap)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from bitseg.schema import FieldType
from bitseg.store import keys
from indexer import encoders

_WORDS = st.sampled_from(["Sales", "VP", "ünï", "çödé", "a", "ab", "x" * 60, "Ǆ", " ", "-"])
_TEXTS = st.lists(_WORDS, min_size=1, max_size=4).map("".join)


def _expected(cols: list[int], texts: list[str]) -> dict[bytes, BitMap]:
    out: dict[bytes, BitMap] = {}
    for col, text in zip(cols, texts, strict=True):
        low = text.lower()
        slots = [keys.gram_slot(g) for g in encoders.text_grams(low)] + [keys.EXISTS]
        fits = len(low.encode()) <= keys.MAX_TEXT_VALUE_KEY
        slots.append(keys.value_slot(low) if fits else keys.LONG_TEXT)
        for slot in slots:
            out.setdefault(slot, BitMap()).add(col)
    return out


@settings(max_examples=150, deadline=None)
@given(
    pool=st.lists(_TEXTS, min_size=1, max_size=6),
    picks=st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=120),
    distinct_each=st.booleans(),
)
def test_text_postings_match_the_definition(
    pool: list[str], picks: list[int], distinct_each: bool
) -> None:
    texts = [pool[i % len(pool)] + (str(n) if distinct_each else "") for n, i in enumerate(picks)]
    cols = list(range(3, 3 + 2 * len(texts), 2))
    got = encoders.encode(FieldType.TEXT, np.asarray(cols, dtype=np.uint32), texts)
    assert {slot: BitMap(c.tolist()) for slot, c in got.items()} == _expected(cols, texts)
