"""A small generated org for the natural-language tests: `bitseg.demo` data (contacts,
companies, deals, campaigns, events, custom fields) plus two segments, VIP and Cooldown.

Its vocabulary is what the corpus (tests/fixtures/nl/corpus.txt) relies on: tags such as
vip, enterprise, churned, partner; industries such as Healthcare and Software; countries
DE, FR, US ...; languages de, fr ...; deal stages appointment ... closed_won; owners
u1..u20; campaigns named "<theme> <date>" (e.g. "Weekly digest 2026-09-26"); custom
fields plan, seats, renewal_at, beta, interests; event types including page_view.
"""

from __future__ import annotations

from pathlib import Path

from bitseg.demo import demo_schema, generate_org
from bitseg.service import Service, SourceFile
from bitseg.timeutil import parse_instant

ORG = "nlorg"
NOW = "2026-11-20T12:00:00Z"
NOW_S = parse_instant(NOW)
KINDS = ("companies", "contacts", "deals", "campaigns", "events")
SEGMENTS = {"VIP": {"field": "tags", "op": "has", "value": "vip"}, "Cooldown": None}


def write_org(folder: Path, contacts: int = 400) -> Path:
    """The org's JSONL files (and the custom-field declaration) in `folder`."""
    generate_org(folder, contacts=contacts, now=NOW, activity=True)
    return folder


def build_service(root: Path, contacts: int = 400) -> Service:
    """A Service over `root` holding ORG, loaded and with its segments."""
    source = write_org(root / "source", contacts)
    service = Service(root / "data")
    files = [
        SourceFile(kind, f"{kind}.jsonl", "jsonl", (source / f"{kind}.jsonl").read_bytes())
        for kind in KINDS
    ]
    service.ingest(ORG, files, schema=demo_schema())
    for name, rule in SEGMENTS.items():
        if rule is None:
            service.create_segment(ORG, name, members=["c1", "c2", "c3"])
        else:
            from bitseg.rules import rule_from_json

            service.create_segment(ORG, name, rule=rule_from_json(rule))
    return service
