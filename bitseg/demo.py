"""A deterministic demo / benchmark dataset: one org's records as JSON Lines files.

`generate_org(folder, contacts=100_000, seed=1)` writes `contacts.jsonl` and
`companies.jsonl` (and with `activity=True` also `deals.jsonl`, `campaigns.jsonl` and
`events.jsonl`) in the ingest format of SPEC.md, with the skew of a real CRM: Zipf-like
countries, tags, sources and owners, lognormal company sizes, most activity recent,
some fields missing. Everything is drawn with numpy from one seeded generator, so the
same arguments always give the same bytes; 1M contacts take seconds, not minutes.
The custom fields it writes are declared by `demo_schema()`.

>>> demo_schema()["plan"]
'keyword'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from bitseg.timeutil import parse_instant

DAY = 86_400
YEAR = 365 * DAY
CHUNK = 50_000  # contacts generated and written per step (fixed: part of the determinism)

COUNTRIES = ("DE", "US", "FR", "GB", "ES", "IT", "NL", "BR", "IN", "JP", "CA", "AU", "PL", "SE",
             "AT", "CH")
LANGUAGE = {"DE": "de", "AT": "de", "CH": "de", "FR": "fr", "ES": "es", "IT": "it", "NL": "nl",
            "BR": "pt", "JP": "ja", "PL": "pl", "SE": "sv"}  # everything else: "en"
CALLING_CODE = {"DE": 49, "US": 1, "FR": 33, "GB": 44, "ES": 34, "IT": 39, "NL": 31, "BR": 55,
                "IN": 91, "JP": 81, "CA": 1, "AU": 61, "PL": 48, "SE": 46, "AT": 43, "CH": 41}
TLD = {"DE": "de", "FR": "fr", "GB": "co.uk", "ES": "es", "IT": "it", "NL": "nl", "BR": "com.br",
       "IN": "in", "JP": "jp", "AU": "com.au", "PL": "pl", "SE": "se", "AT": "at", "CH": "ch"}
CITIES = {
    "DE": ("Berlin", "Hamburg", "München", "Köln", "Frankfurt"),
    "US": ("New York", "San Francisco", "Austin", "Chicago", "Boston"),
    "FR": ("Paris", "Lyon", "Marseille"), "GB": ("London", "Manchester", "Edinburgh"),
    "ES": ("Madrid", "Barcelona"), "IT": ("Milano", "Roma"), "NL": ("Amsterdam", "Utrecht"),
    "BR": ("São Paulo", "Rio de Janeiro"), "IN": ("Bengaluru", "Mumbai", "Delhi"),
    "JP": ("Tokyo", "Osaka"), "CA": ("Toronto", "Vancouver"), "AU": ("Sydney", "Melbourne"),
    "PL": ("Warszawa", "Kraków"), "SE": ("Stockholm",), "AT": ("Wien", "Graz"),
    "CH": ("Zürich", "Genève"),
}
TAGS = (
    "newsletter", "vip", "hot-lead", "webinar-2026", "churned", "trial", "partner", "event-2025",
    "product-a", "product-b", "beta-tester", "enterprise", "smb", "decision-maker", "champion",
    "renewal-due", "upsell", "cold", "re-engaged", "ebook", "demo-requested", "do-not-call",
    "gdpr-consent", "api-user", "mobile", "referral", "investor", "press", "reseller",
    "webinar-2025", "black-friday", "survey", "nps-promoter", "nps-detractor", "support-heavy",
    "onboarding", "case-study", "advocate", "competitor-user", "high-intent",
)
INDUSTRIES = ("Software", "Healthcare", "Finance", "Retail", "Manufacturing", "Education",
              "Media", "Logistics", "Energy", "Real Estate", "Hospitality", "Government")
STAGES, STAGE_P = ("SUBSCRIBER", "LEAD", "MQL", "SQL", "CUSTOMER"), (.35, .3, .15, .1, .1)
TRENDS, TREND_P = ("RISING", "STABLE", "DECLINING"), (.25, .5, .25)
LIKELIHOOD, LIKELIHOOD_P = ("LOW", "POSSIBLE", "LIKELY", "VERY_LIKELY"), (.4, .3, .2, .1)
SOURCES = ("website", "webinar", "referral", "ads", "event", "import", "partner", "organic-search")
JOB_TITLES = ("Head of Sales", "Marketing Manager", "CTO", "CEO", "VP Sales", "Sales Manager",
              "Software Engineer", "Account Executive", "Head of Marketing", "Founder",
              "Product Manager", "Operations Manager", "CFO", "Customer Success Manager")
FIRST = ("Anna", "Ana", "Lukas", "Emma", "Noah", "Mia", "Leon", "Sofia", "Liam", "Olivia",
         "Jürgen", "Chloé", "Hugo", "Lucía", "Mateo", "Giulia", "Marco", "Daan", "Sanne",
         "João", "Priya", "Arjun", "Yuki", "Haruto", "Oliver", "Amelia", "Jack", "Isla",
         "Zofia", "Jakub", "Elsa", "Erik", "James", "Mary", "Robert", "Linda", "Michael",
         "Sarah", "David", "Laura", "Ahmed", "Fatima", "Wei", "Mei", "Carlos", "Ana Clara")
LAST = ("Müller", "Schmidt", "Schneider", "Fischer", "Smith", "Johnson", "Williams", "Brown",
        "Martin", "Bernard", "Dubois", "García", "Fernández", "Rossi", "Russo", "de Jong",
        "Jansen", "Silva", "Santos", "Sharma", "Patel", "Sato", "Suzuki", "Taylor", "Wilson",
        "Nowak", "Kowalski", "Andersson", "Johansson", "Jones", "Miller", "Davis", "O'Brien",
        "Nguyen", "Kim", "Wang", "Li", "Hoffmann", "Wagner", "Becker")
FREEMAIL = ("gmail.com", "outlook.com", "yahoo.com", "gmx.de", "web.de", "hotmail.com",
            "icloud.com")
COMPANY_WORDS_A = ("Acme", "Blue", "North", "Bright", "Green", "Silver", "Rapid", "Nova", "Peak",
                   "Iron", "Cloud", "Red", "Smart", "True", "Prime", "Alpha", "Vertex", "Swift",
                   "Urban", "Solid")
COMPANY_WORDS_B = ("Labs", "Works", "Systems", "Data", "Logic", "Bridge", "Stone", "Wave",
                   "Field", "Point", "Soft", "Line", "Path", "Gate", "Forge", "Hub", "Flow",
                   "Ware", "Core", "Nest")
LEGAL = {"DE": "GmbH", "AT": "GmbH", "CH": "AG", "FR": "SAS", "GB": "Ltd", "US": "Inc.",
         "ES": "S.L.", "IT": "S.r.l.", "NL": "B.V.", "BR": "Ltda.", "SE": "AB", "PL": "sp. z o.o."}
PLANS, PLAN_P = ("free", "starter", "pro", "enterprise"), (.5, .25, .18, .07)
INTERESTS = ("analytics", "automation", "email", "ads", "crm", "api", "mobile", "ai")
DEAL_STAGES = ("appointment", "qualified", "proposal", "negotiation", "closed_won", "closed_lost")
DEAL_STAGE_P = (.15, .2, .15, .1, .2, .2)
PIPELINES, PIPELINE_P = ("new-business", "renewal", "upsell"), (.6, .25, .15)
CAMPAIGN_THEMES = ("Weekly digest", "Product update", "Customer story", "Webinar invite",
                   "Feature spotlight", "Monthly newsletter", "Event recap")
EVENT_TYPES = ("email_opened", "email_clicked", "email_unsubscribed", "activity", "inbound",
               "purchase", "support_ticket", "conversation", "page_view")
EVENT_P = (.42, .12, .004, .2, .06, .02, .03, .046, .1)
EMAIL_EVENTS = 3  # the first three types carry a campaign_id
ASCII = str.maketrans({"ü": "ue", "ö": "oe", "ä": "ae", "é": "e", "í": "i", "ã": "a", "ó": "o",
                       "á": "a", "ç": "c", "ñ": "n", "'": "", " ": ""})


def demo_schema() -> dict[str, str]:
    """The custom fields the demo contacts carry, {name: type} for `Service.ingest(schema=)`."""
    return {"plan": "keyword", "seats": "int", "renewal_at": "time", "beta": "bool",
            "interests": "set"}


def generate_org(
    folder: Path,
    contacts: int = 100_000,
    seed: int = 1,
    now: str = "2026-11-20T12:00:00Z",
    activity: bool = False,
    events_per_contact: float = 30.0,
) -> dict[str, int]:
    """Write one org's JSONL files into `folder`; returns records written per kind.

    Events average `events_per_contact` a contact (skewed per contact).

    The result always has the keys contacts, companies, deals, campaigns and events;
    the last three are 0 (and their files not written) unless `activity` is true.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    now_s = parse_instant(now)
    companies = _companies(rng, max(1, contacts // 10))
    counts = {"contacts": contacts, "companies": len(companies["id"]),
              "deals": 0, "campaigns": 0, "events": 0}
    _write(folder / "companies.jsonl", _company_records(companies))
    created = np.zeros(contacts, dtype=np.int64)
    owners = np.zeros(contacts, dtype=np.int64)
    with (folder / "contacts.jsonl").open("wb") as out:
        for start in range(0, contacts, CHUNK):
            n = min(CHUNK, contacts - start)
            cols = _contact_columns(rng, start, n, companies, now_s)
            created[start:start + n] = cols.pop("_created")
            owners[start:start + n] = cols.pop("_owner")
            out.writelines(_lines(_rows(cols)))
    if activity:
        sent = _campaigns(rng, now_s)
        counts["campaigns"] = _write(folder / "campaigns.jsonl", _campaign_records(sent))
        counts["deals"] = _write(folder / "deals.jsonl", _deals(rng, created, owners, now_s))
        events = _events(rng, created, sent, now_s, events_per_contact)
        counts["events"] = _write(folder / "events.jsonl", events)
    return counts


# ---------------------------------------------------------------- helpers
def _zipf(n: int, s: float = 1.1) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1) ** s
    return p / p.sum()


def _times(epochs: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(epochs.astype("datetime64[s]"), unit="s", timezone="UTC")


def _missing(rng: np.random.Generator, values: Iterable[Any], p: float) -> list[Any]:
    """The values as a list, each replaced by None (not written) with probability p."""
    out = list(values)
    for i in np.flatnonzero(rng.random(len(out)) < p).tolist():
        out[i] = None
    return out


def _rows(cols: dict[str, list[Any]]) -> Iterator[dict[str, Any]]:
    keys = list(cols)
    for row in zip(*cols.values(), strict=True):
        yield {k: v for k, v in zip(keys, row, strict=True) if v is not None}


def _lines(records: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    for record in records:
        yield orjson.dumps(record) + b"\n"


def _write(path: Path, records: Iterable[dict[str, Any]]) -> int:
    n = 0
    with path.open("wb") as out:
        for line in _lines(records):
            out.write(line)
            n += 1
    return n


# ---------------------------------------------------------------- companies
def _companies(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Company columns (numpy arrays and lists), also used to place contacts."""
    i = np.arange(n)
    na, nb = len(COMPANY_WORDS_A), len(COMPANY_WORDS_B)
    words = [COMPANY_WORDS_A[a] + COMPANY_WORDS_B[b] for a, b in zip(
        (i % na).tolist(), ((i // na) % nb).tolist(), strict=True)]
    rounds = (i // (na * nb)).tolist()
    country = rng.choice(len(COUNTRIES), n, p=_zipf(len(COUNTRIES)))
    size = np.clip(np.round(rng.lognormal(3.5, 1.6, n)), 1, 250_000).astype(np.int64)
    revenue = (size * rng.lognormal(np.log(150_000), 0.6, n)).astype(np.int64)
    names, domains = [], []
    for word, r, c in zip(words, rounds, country.tolist(), strict=True):
        code = COUNTRIES[c]
        suffix = f" {r + 1}" if r else ""
        names.append(f"{word}{suffix} {LEGAL.get(code, 'Inc.')}")
        domains.append(f"{word.lower()}{r + 1 if r else ''}.{TLD.get(code, 'com')}")
    return {
        "id": [f"co{k}" for k in range(n)],
        "name": names,
        "domain": domains,
        "industry": _missing(rng, (INDUSTRIES[k] for k in rng.choice(
            len(INDUSTRIES), n, p=_zipf(len(INDUSTRIES), 0.8)).tolist()), 0.05),
        "size": _missing(rng, size.tolist(), 0.03),
        "country": [COUNTRIES[c] for c in country.tolist()],
        "revenue": _missing(rng, revenue.tolist(), 0.2),
        "_size": size,
        "_country": country,
    }


def _company_records(companies: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return _rows({k: v for k, v in companies.items() if not k.startswith("_")})


# ---------------------------------------------------------------- contacts
def _contact_columns(
    rng: np.random.Generator, start: int, n: int, companies: dict[str, Any], now: int
) -> dict[str, Any]:
    """Columns of contacts start..start+n-1 (plus _created and _owner arrays for deals)."""
    n_co = len(companies["id"])
    weights = np.sqrt(companies["_size"].astype(np.float64))
    company = rng.choice(n_co, n, p=weights / weights.sum())
    has_company = rng.random(n) < 0.9
    own_country = rng.choice(len(COUNTRIES), n, p=_zipf(len(COUNTRIES)))
    country = np.where(has_company & (rng.random(n) < 0.8), companies["_country"][company],
                       own_country)
    codes = [COUNTRIES[c] for c in country.tolist()]
    first = rng.integers(0, len(FIRST), n).tolist()
    last = rng.integers(0, len(LAST), n).tolist()
    created = now - rng.integers(0, 3 * YEAR, n)
    owner = rng.choice(20, n, p=_zipf(20, 0.7))
    cols: dict[str, Any] = {
        "id": [f"c{k}" for k in range(start, start + n)],
        "email": _missing(rng, _emails(rng, first, last, company, has_company, companies), 0.02),
        "name": [f"{FIRST[f]} {LAST[la]}" for f, la in zip(first, last, strict=True)],
        "phone": _missing(rng, _phones(rng, codes), 0.3),
        "job_title": _missing(rng, _pick(rng, JOB_TITLES, n, _zipf(len(JOB_TITLES), 0.6)), 0.2),
        "city": _missing(rng, [CITIES[c][k % len(CITIES[c])] for c, k in zip(
            codes, rng.integers(0, 60, n).tolist(), strict=True)], 0.15),
        "country": _missing(rng, codes, 0.03),
        "language": _missing(rng, [LANGUAGE.get(c, "en") for c in codes], 0.1),
        "source": _missing(rng, _pick(rng, SOURCES, n, _zipf(len(SOURCES))), 0.05),
        "owner": [f"u{k + 1}" for k in owner.tolist()],
    }
    stage = rng.choice(len(STAGES), n, p=STAGE_P)
    cols.update({
        "lifecycle_stage": _missing(rng, [STAGES[s] for s in stage.tolist()], 0.02),
        "engagement_trend": _missing(rng, _pick(rng, TRENDS, n, TREND_P), 0.2),
        "conversion_likelihood": _missing(rng, _pick(rng, LIKELIHOOD, n, LIKELIHOOD_P), 0.2),
        "tags": _tags(rng, n),
        "lead_score": _missing(rng, np.round(rng.beta(2, 5, n) * 100).astype(int).tolist(), 0.05),
        "engagement_score": _missing(rng, rng.binomial(100, 0.3, n).tolist(), 0.1),
        "lifetime_value": _lifetime_value(rng, stage),
        "fit_score": _missing(rng, [{"crm": int(a), "ads": int(b)} for a, b in zip(
            rng.integers(0, 101, n).tolist(), rng.integers(0, 101, n).tolist(), strict=True)], 0.3),
        **_contact_times(rng, created, now),
        "unsubscribed": (rng.random(n) < 0.03).tolist(),
        "suppressed": _missing(rng, (rng.random(n) < 0.01).tolist(), 0.5),
        "company_id": [companies["id"][c] if h else None
                       for c, h in zip(company.tolist(), has_company.tolist(), strict=True)],
        "custom": _custom(rng, n, now),
        "_created": created,
        "_owner": owner,
    })
    return cols


def _pick(rng: np.random.Generator, values: tuple[str, ...], n: int, p: Any) -> list[str]:
    return [values[k] for k in rng.choice(len(values), n, p=p).tolist()]


def _ascii(text: str) -> str:
    return text.lower().translate(ASCII)


def _emails(
    rng: np.random.Generator, first: list[int], last: list[int], company: np.ndarray,
    has_company: np.ndarray, companies: dict[str, Any],
) -> list[str]:
    """first.last@company-domain for most; freemail (with a number) for the others."""
    n = len(first)
    work = (has_company & (rng.random(n) < 0.85)).tolist()
    free = rng.choice(len(FREEMAIL), n, p=_zipf(len(FREEMAIL))).tolist()
    numbers = rng.integers(1, 999, n).tolist()
    domains = companies["domain"]
    out = []
    for f, la, c, w, fm, k in zip(first, last, company.tolist(), work, free, numbers,
                                  strict=True):
        local = f"{_ascii(FIRST[f])}.{_ascii(LAST[la])}"
        out.append(f"{local}@{domains[c]}" if w else f"{local}{k}@{FREEMAIL[fm]}")
    return out


def _phones(rng: np.random.Generator, codes: list[str]) -> list[str]:
    area = rng.integers(20, 999, len(codes)).tolist()
    number = rng.integers(100_000, 99_999_999, len(codes)).tolist()
    return [f"+{CALLING_CODE[c]} {a} {k}" for c, a, k in zip(codes, area, number, strict=True)]


def _tags(rng: np.random.Generator, n: int) -> list[list[str] | None]:
    """Each tag independently with a Zipf-like probability; no tag = field not written."""
    p = np.minimum(0.5, 2.0 * _zipf(len(TAGS), 0.9))
    has = rng.random((n, len(TAGS)), dtype=np.float32) < p.astype(np.float32)
    rows, cols = np.nonzero(has)
    split = np.split(cols, np.searchsorted(rows, np.arange(1, n)))
    return [[TAGS[t] for t in row.tolist()] or None for row in split]


def _lifetime_value(rng: np.random.Generator, stage: np.ndarray) -> list[int | None]:
    """Cents; customers lognormal, SQLs sometimes a little, others 0 or not written."""
    value = np.round(rng.lognormal(np.log(250_000), 1.2, len(stage))).astype(np.int64)
    value = np.where(stage == 4, value, np.where(stage == 3, value // 20, 0))
    return _missing(rng, value.tolist(), 0.15)


def _contact_times(rng: np.random.Generator, created: np.ndarray, now: int) -> dict[str, list]:
    n = len(created)
    age = now - created
    activity = now - np.minimum(age, rng.exponential(20 * DAY, n).astype(np.int64))
    engaged = now - np.minimum(age, rng.exponential(45 * DAY, n).astype(np.int64))
    return {
        "created_at": _times(created).tolist(),
        "last_activity_at": _missing(rng, _times(activity).tolist(), 0.1),
        "last_engaged_at": _missing(rng, _times(engaged).tolist(), 0.25),
    }


def _custom(rng: np.random.Generator, n: int, now: int) -> list[dict[str, Any]]:
    plan = _missing(rng, _pick(rng, PLANS, n, PLAN_P), 0.1)
    seats = _missing(rng, np.round(rng.lognormal(1.5, 1.0, n)).astype(int).tolist(), 0.3)
    renewal = _missing(rng, _times(now + rng.integers(-60 * DAY, YEAR, n)).tolist(), 0.5)
    beta = _missing(rng, (rng.random(n) < 0.1).tolist(), 0.4)
    has = rng.random((n, len(INTERESTS))) < 0.15
    interests = [[INTERESTS[k] for k in np.flatnonzero(row).tolist()] or None for row in has]
    keys = ("plan", "seats", "renewal_at", "beta", "interests")
    return [
        {k: v for k, v in zip(keys, row, strict=True) if v is not None}
        for row in zip(plan, seats, renewal, beta, interests, strict=True)
    ]


# ---------------------------------------------------------------- activity
def _campaigns(rng: np.random.Generator, now: int) -> np.ndarray:
    """sent_at of ~1 campaign a week over the last 2 years, plus 2 scheduled in the future."""
    weeks = np.arange(104, 0, -1)
    past = now - weeks * 7 * DAY + rng.integers(-DAY, DAY, len(weeks))
    future = now + np.array([3 * DAY, 10 * DAY])
    return np.concatenate([np.minimum(past, now - 3600), future])


def _campaign_records(sent: np.ndarray) -> Iterator[dict[str, Any]]:
    times = _times(sent).tolist()
    for k, at in enumerate(times):
        theme = CAMPAIGN_THEMES[k % len(CAMPAIGN_THEMES)]
        yield {"id": f"cmp{k + 1}", "name": f"{theme} {at[:10]}", "sent_at": at}


def _deals(
    rng: np.random.Generator, created: np.ndarray, owners: np.ndarray, now: int
) -> Iterator[dict[str, Any]]:
    """~20% of contacts have deals (1 + Poisson(0.5) each)."""
    n = len(created)
    per = np.where(rng.random(n) < 0.2, 1 + rng.poisson(0.5, n), 0)
    contact = np.repeat(np.arange(n), per)
    m = len(contact)
    start = created[contact] + (rng.random(m) * (now - created[contact])).astype(np.int64)
    stage_ix = rng.choice(len(DEAL_STAGES), m, p=DEAL_STAGE_P)
    close = start + rng.integers(7 * DAY, 120 * DAY, m)
    close = np.where(stage_ix >= 4, np.minimum(close, now), close)  # closed deals: in the past
    stage = stage_ix.tolist()
    value = np.round(rng.lognormal(np.log(500_000), 1.0, m)).astype(np.int64).tolist()
    pipeline = rng.choice(len(PIPELINES), m, p=PIPELINE_P).tolist()
    owner = np.where(rng.random(m) < 0.8, owners[contact], rng.integers(0, 20, m)).tolist()
    rows = zip(contact.tolist(), _times(start).tolist(), _times(close).tolist(), stage, value,
               pipeline, owner, strict=True)
    for k, (c, at, close_at, s, v, p, o) in enumerate(rows):
        yield {"id": f"d{k}", "contact_id": f"c{c}", "stage": DEAL_STAGES[s], "value": v,
               "owner": f"u{o + 1}", "pipeline": PIPELINES[p], "created_at": at,
               "close_date": close_at}


def _events(
    rng: np.random.Generator, created: np.ndarray, sent: np.ndarray, now: int, rate: float
) -> Iterator[dict[str, Any]]:
    """`rate` events a contact on average, skewed (lognormal activity level x Poisson)."""
    past = np.sort(sent[sent <= now])
    for start in range(0, len(created), CHUNK):
        chunk = created[start:start + CHUNK]
        level = rng.lognormal(0.0, 1.0, len(chunk))
        per = rng.poisson(rate * level / np.exp(0.5))
        contact = np.repeat(np.arange(len(chunk)), per)
        yield from _event_chunk(rng, start, contact, chunk[contact], past, now)


def _event_chunk(
    rng: np.random.Generator, offset: int, contact: np.ndarray, created: np.ndarray,
    past: np.ndarray, now: int,
) -> Iterator[dict[str, Any]]:
    m = len(contact)
    kind = rng.choice(len(EVENT_TYPES), m, p=EVENT_P)
    # email events: a campaign sent after the contact was created, recent ones more likely
    first = np.searchsorted(past, created)
    span = len(past) - first
    campaign = first + (np.sqrt(rng.random(m)) * span).astype(np.int64)
    email = (kind < EMAIL_EVENTS) & (span > 0)
    kind = np.where((kind < EMAIL_EVENTS) & ~email, 3, kind)  # no campaign yet: "activity"
    campaign = np.minimum(campaign, len(past) - 1)
    delay = rng.exponential(8 * 3600, m).astype(np.int64)
    other = now - ((now - created) * rng.random(m) ** 2).astype(np.int64)
    at = np.where(email, np.minimum(past[campaign] + delay, now), other)
    times = _times(at).tolist()
    rows = zip((contact + offset).tolist(), kind.tolist(), times, email.tolist(),
               campaign.tolist(), strict=True)
    campaign_ids = _campaign_ids(past)
    for c, k, t, is_email, cmp in rows:
        event: dict[str, Any] = {"contact_id": f"c{c}", "type": EVENT_TYPES[k], "at": t}
        if is_email:
            event["campaign_id"] = campaign_ids[cmp]
        yield event


def _campaign_ids(past: np.ndarray) -> list[str]:
    """Ids of the past campaigns in sent order (they are numbered in that order, from cmp1)."""
    return [f"cmp{k + 1}" for k in range(len(past))]
