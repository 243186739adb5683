"""A fake language model for the end-to-end test, loaded by the server subprocess through
BITSEG_NL_MODEL=nl_fake_model:answer: a sentence mentioning "model" gets a fixed rule,
any other makes the model fail (so the server falls back to the offline translator)."""

from __future__ import annotations

from typing import Any


def answer(request: Any) -> dict[str, Any]:
    if "model" not in request.sentence:
        raise RuntimeError("the fake model only answers sentences about models")
    return {"rule": {"field": "tags", "op": "has", "value": "vip"},
            "notes": ["answered by the fake model"]}  # fmt: skip
