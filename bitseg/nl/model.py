"""The external language-model interface: how a model is plugged in and called.

A model is any callable `model(request: ModelRequest) -> answer`. The request carries the
sentence, `now` (ISO-8601 UTC), the org name, the org's schema (`describe_schema`: fields
and their types, operators per type, deal fields, event types, the JSON rule shapes) and
its vocabulary (`Service.vocabulary`: tag, country, stage, industry ... values, campaigns,
segments); `request.to_json()` is all of it as one JSON-able dict, ready for a prompt.
The answer is a JSON rule of SPEC.md (a dict, or JSON text), or an object
`{"rule": RULE, "not_understood": ["phrase", ...], "ambiguities": [{"phrase": ...,
"chosen": ..., "alternatives": [...]}], "notes": ["..."]}` (every key but "rule"
optional).

The translator calls the model on a daemon thread and waits at most `timeout` seconds.
Its rule goes through the same checks as the offline translator's: parts that fail
validation are dropped and named; a model that raises, times out, answers something
that is not a rule, or whose every part is invalid is replaced by the offline
translator, with a note saying why.

Plugging one in: pass `model=` to `bitseg.nl.Translator`, or set `BITSEG_NL_MODEL` for
the server, either to `package.module:function` or to the name of an entry point in the
group `bitseg.nl_models` (`BITSEG_NL_TIMEOUT`, seconds, default 5).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import orjson

from bitseg.errors import InvalidArgument
from bitseg.rules import rule_from_json
from bitseg.rules.limits import Limits
from bitseg.rules.model import Rule
from bitseg.rules.vocab import OP_NAMES, ROOT_NAMES
from bitseg.schema import COMPANY_FIELDS, CONTACT_FIELDS, DEAL_FIELDS, OPERATORS, OrgSchema

ENTRY_POINT_GROUP = "bitseg.nl_models"
DEFAULT_TIMEOUT = 5.0
RULE_SHAPES = """\
{"all": [R, ...]} | {"any": [R, ...]} | {"not": R}
{"field": F, "op": OP, "value": V}   (no value for exists / not_exists)
{"has": "deals", "where": R?, "count": {"gte"|"gt"|"lte"|"lt"|"eq": n}?}   (where: deal fields)
{"event": TYPE, "campaign": "id" | {"in": [ids]} | {"last": N, "match": "all"|"any"}?,
 "within": {"last": "30d"} | {"since": TIME} | {"between": [TIME, TIME]}?, "count": CMP?}
{"segment": NAME_OR_ID, "ever": true?}
TIME: "2026-03-01", "2026-03-01T12:00:00Z", "now", "-30d"; durations "30d", "12h", "2w"
"""


@dataclass(frozen=True)
class ModelRequest:
    """What a model receives."""

    sentence: str
    now: str
    org: str
    schema: Mapping[str, Any] = field(default_factory=dict)
    vocabulary: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"sentence": self.sentence, "now": self.now, "org": self.org,
                "schema": dict(self.schema), "vocabulary": dict(self.vocabulary)}  # fmt: skip


NLModel = Callable[[ModelRequest], Any]


@dataclass(frozen=True)
class ModelAnswer:
    """A model's answer, read: the rule tree and the optional extras."""

    rule: Rule
    not_understood: tuple[str, ...] = ()
    ambiguities: tuple[Mapping[str, Any], ...] = ()
    notes: tuple[str, ...] = ()


class ModelTimeout(Exception):
    pass


def describe_schema(schema: OrgSchema) -> dict[str, Any]:
    """The org's schema as a model reads it."""
    contact = {name: str(t) for name, t in CONTACT_FIELDS.items()}
    contact.update({f"company.{n}": str(t) for n, t in COMPANY_FIELDS.items()})
    contact.update({f"custom.{n}": str(t) for n, t in sorted(schema.custom.items())})
    return {
        "contact_fields": contact,
        "fit_score_fields": "fit_score.<product>: int, one per product",
        "deal_fields": {name: str(t) for name, t in DEAL_FIELDS.items()},
        "operators": {str(t): [op for op in OP_NAMES if op in ops]
                      for t, ops in OPERATORS.items()},  # fmt: skip
        "rule_shapes": RULE_SHAPES,
    }


def call_with_timeout(model: NLModel, request: ModelRequest, timeout: float) -> Any:
    """`model(request)` on a daemon thread; ModelTimeout after `timeout` seconds (the thread
    is left to finish on its own: a Python thread cannot be stopped)."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = model(request)
        except BaseException as e:  # handed to the caller
            box["error"] = e
        finally:
            done.set()

    threading.Thread(target=run, name="bitseg-nl-model", daemon=True).start()
    if not done.wait(timeout):
        raise ModelTimeout(f"no answer within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def read_answer(answer: Any, limits: Limits) -> ModelAnswer:
    """The model's answer as a rule tree; InvalidArgument if it is not one."""
    if isinstance(answer, bytes | str):
        try:
            answer = orjson.loads(answer)
        except orjson.JSONDecodeError as e:
            raise InvalidArgument(f"the answer is not JSON ({e})") from None
    if not isinstance(answer, Mapping):
        raise InvalidArgument(f"the answer is not a JSON object but {type(answer).__name__}")
    extras: Mapping[str, Any] = {}
    if "rule" in answer and not any(k in answer for k in ROOT_NAMES):
        extras, answer = answer, answer["rule"]
    rule = rule_from_json(answer, limits)
    return ModelAnswer(
        rule=rule,
        not_understood=tuple(str(p) for p in _list(extras.get("not_understood"))),
        ambiguities=tuple(a for a in _list(extras.get("ambiguities")) if isinstance(a, Mapping)),
        notes=tuple(str(n) for n in _list(extras.get("notes"))),
    )


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def load_model(spec: str) -> NLModel:
    """A model from "package.module:attribute" or an entry point name (group bitseg.nl_models)."""
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    else:
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == spec]
        if not found:
            raise ValueError(f'no language model "{spec}" (entry points of {ENTRY_POINT_GROUP})')
        target = found[0].load()
    if not callable(target):
        raise ValueError(f'language model "{spec}" is not callable')
    return target  # type: ignore[no-any-return]


def model_from_env() -> tuple[NLModel | None, float]:
    """(the model named by $BITSEG_NL_MODEL or None, $BITSEG_NL_TIMEOUT or 5 s)."""
    spec = os.environ.get("BITSEG_NL_MODEL", "").strip()
    timeout = float(os.environ.get("BITSEG_NL_TIMEOUT", "") or DEFAULT_TIMEOUT)
    return (load_model(spec) if spec else None), timeout
