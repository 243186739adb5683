"""The per-field fast coercers give exactly what the general `coerce` gives (or the same
error), for well-typed values and for every kind of malformed one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitseg.schema import CONTACT_FIELDS, MAX_KEYWORD_BYTES, FieldType, OrgSchema
from indexer import records as rec

_TEXTS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["de", " de", "DE ", "ß", "straße", "ǅ", "İ", "a\x00b", "", " ", "x" * 300]),
    st.text(alphabet="ßﬃŉ", min_size=1, max_size=MAX_KEYWORD_BYTES // 2),
    st.just("a" * (MAX_KEYWORD_BYTES // 4)),
    st.just("a" * (MAX_KEYWORD_BYTES + 1)),
)
_VALUES = st.one_of(
    _TEXTS,
    st.lists(_TEXTS, max_size=4),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.booleans(),
    st.floats(allow_nan=False),
    st.none(),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
FIELDS = [name for name in CONTACT_FIELDS if name != "email_domain"] + ["company_id"]


def _outcome(fn: object, value: object) -> tuple[str, object]:
    try:
        return "ok", fn(value)  # type: ignore[operator]
    except ValueError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("prefix", ["", "company."])
@pytest.mark.parametrize("name", FIELDS + ["country", "domain"])
@settings(max_examples=150, deadline=None)
@given(value=_VALUES)
def test_fast_coercer_matches_coerce(name: str, prefix: str, value: object) -> None:
    schema = OrgSchema()
    kind = schema.field_type(name) or rec.company_type(name)
    if kind is None:
        pytest.skip(f"{name} is not a field")
    coercers = rec.Coercers(lambda n: kind if n == name else None, prefix)
    fast = _outcome(coercers.get(name), value)
    slow = _outcome(lambda v: rec.coerce(name, kind, v, prefix), value)
    assert fast == slow, (name, kind, value)


def test_kinds_covered() -> None:
    kinds = {OrgSchema().field_type(n) for n in FIELDS}
    assert {FieldType.TEXT, FieldType.KEYWORD, FieldType.SET, FieldType.INT, FieldType.TIME,
            FieldType.BOOL, FieldType.REF} <= kinds
