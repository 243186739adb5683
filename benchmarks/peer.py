"""The DuckDB peer: the same JSONL files loaded into in-memory DuckDB tables.

Tables (times as BIGINT epoch seconds, UTC; the derived `email_domain` and the nested
`fit_score` / `custom` maps flattened at load, as bitseg derives and flattens them at
ingest):

- contacts(id, email, email_domain, name, phone, job_title, city, country, language,
  source, owner, lifecycle_stage, engagement_trend, conversion_likelihood, tags
  VARCHAR[], lead_score, engagement_score, lifetime_value, fit_crm, fit_ads,
  created_at, last_activity_at, last_engaged_at, unsubscribed, suppressed,
  company_id, plan, seats, renewal_at, beta, interests VARCHAR[])
- companies(id, name, domain, industry, size, country, revenue)
- deals(id, contact_id, stage, value, owner, pipeline, created_at, close_date)
- campaigns(id, name, sent_at)
- events(contact_id, type, ts, campaign_id)   -- `ts` is the event's `at`

Set up the way a careful DuckDB user would, so the comparison is fair to the peer:
events are stored in time order (the order they arrive in a real system; it lets
DuckDB's zone maps skip most row groups for a campaign or a time window), the event
`type` is an ENUM of the types present, and `python -m benchmarks` keeps the
database in a file (DuckDB's normal, compressed storage, served from its buffer
pool after the warm-up; measured faster than ":memory:" for most of these rules),
removed on `close()`. DuckDB runs with its default thread count (every core).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

_CONTACT_COLUMNS = {
    "id": "VARCHAR", "email": "VARCHAR", "name": "VARCHAR", "phone": "VARCHAR",
    "job_title": "VARCHAR", "city": "VARCHAR", "country": "VARCHAR", "language": "VARCHAR",
    "source": "VARCHAR", "owner": "VARCHAR", "lifecycle_stage": "VARCHAR",
    "engagement_trend": "VARCHAR", "conversion_likelihood": "VARCHAR", "tags": "VARCHAR[]",
    "lead_score": "BIGINT", "engagement_score": "BIGINT", "lifetime_value": "BIGINT",
    "fit_score": "STRUCT(crm BIGINT, ads BIGINT)", "created_at": "VARCHAR",
    "last_activity_at": "VARCHAR", "last_engaged_at": "VARCHAR", "unsubscribed": "BOOLEAN",
    "suppressed": "BOOLEAN", "company_id": "VARCHAR",
    "custom": "STRUCT(plan VARCHAR, seats BIGINT, renewal_at VARCHAR, beta BOOLEAN, "
              "interests VARCHAR[])",
}
_COMPANY_COLUMNS = {"id": "VARCHAR", "name": "VARCHAR", "domain": "VARCHAR",
                    "industry": "VARCHAR", "size": "BIGINT", "country": "VARCHAR",
                    "revenue": "BIGINT"}
_DEAL_COLUMNS = {"id": "VARCHAR", "contact_id": "VARCHAR", "stage": "VARCHAR",
                 "value": "BIGINT", "owner": "VARCHAR", "pipeline": "VARCHAR",
                 "created_at": "VARCHAR", "close_date": "VARCHAR"}
_CAMPAIGN_COLUMNS = {"id": "VARCHAR", "name": "VARCHAR", "sent_at": "VARCHAR"}
_EVENT_COLUMNS = {"contact_id": "VARCHAR", "type": "VARCHAR", "at": "VARCHAR",
                  "campaign_id": "VARCHAR"}


def _reader(path: Path, columns: dict[str, str]) -> str:
    cols = ", ".join(f"\"{k}\": '{v}'" for k, v in columns.items())
    return (f"read_json('{path.as_posix()}', format='newline_delimited', "
            f"columns={{{cols}}})")


class DuckPeer:
    """An in-memory DuckDB over one dataset folder."""

    def __init__(self, database: Path | str = ":memory:") -> None:
        self.database = str(database)
        if self.database != ":memory:":
            Path(self.database).unlink(missing_ok=True)
            Path(self.database + ".wal").unlink(missing_ok=True)
        self.con = duckdb.connect(self.database)
        self.con.execute("SET TimeZone='UTC'")
        self.con.execute(
            "CREATE MACRO ts(x) AS CAST(epoch(CAST(x AS TIMESTAMPTZ)) AS BIGINT)"
        )
        self.load_seconds = 0.0
        self.rows: dict[str, int] = {}

    def close(self) -> None:
        self.con.close()
        if self.database != ":memory:":
            Path(self.database).unlink(missing_ok=True)
            Path(self.database + ".wal").unlink(missing_ok=True)

    def load(self, folder: Path) -> float:
        """Create the five tables from the folder's JSONL files; returns seconds."""
        started = time.perf_counter()
        c = self.con
        c.execute(f"""
            CREATE TABLE contacts AS SELECT
              id, email,
              CASE WHEN contains(email, '@') THEN lower(regexp_extract(email, '@([^@]*)$', 1))
              END AS email_domain,
              name, phone, job_title, city, upper(country) AS country, language, source,
              owner, lifecycle_stage, engagement_trend, conversion_likelihood, tags,
              lead_score, engagement_score, lifetime_value,
              fit_score.crm AS fit_crm, fit_score.ads AS fit_ads,
              ts(created_at) AS created_at, ts(last_activity_at) AS last_activity_at,
              ts(last_engaged_at) AS last_engaged_at,
              coalesce(unsubscribed, false) AS unsubscribed,
              coalesce(suppressed, false) AS suppressed, company_id,
              custom.plan AS plan, custom.seats AS seats, ts(custom.renewal_at) AS renewal_at,
              coalesce(custom.beta, false) AS beta, custom.interests AS interests
            FROM {_reader(folder / 'contacts.jsonl', _CONTACT_COLUMNS)}""")
        c.execute(f"""
            CREATE TABLE companies AS SELECT id, name, lower(domain) AS domain, industry, size,
              upper(country) AS country, revenue
            FROM {_reader(folder / 'companies.jsonl', _COMPANY_COLUMNS)}""")
        if (folder / "deals.jsonl").is_file():
            c.execute(f"""
                CREATE TABLE deals AS SELECT id, contact_id, stage, value, owner, pipeline,
                  ts(created_at) AS created_at, ts(close_date) AS close_date
                FROM {_reader(folder / 'deals.jsonl', _DEAL_COLUMNS)}""")
            c.execute(f"""
                CREATE TABLE campaigns AS SELECT id, name, ts(sent_at) AS sent_at
                FROM {_reader(folder / 'campaigns.jsonl', _CAMPAIGN_COLUMNS)}""")
            events = _reader(folder / "events.jsonl", _EVENT_COLUMNS)
            c.execute(f"CREATE TYPE event_type AS ENUM "
                      f"(SELECT DISTINCT type FROM {events} WHERE type IS NOT NULL)")
            c.execute(f"""
                CREATE TABLE events AS SELECT contact_id, CAST(type AS event_type) AS type,
                  ts("at") AS ts, campaign_id
                FROM {events} ORDER BY ts""")
        if self.database != ":memory:":
            c.execute("CHECKPOINT")
        self.load_seconds = time.perf_counter() - started
        tables = [r[0] for r in c.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        for table in tables:
            row = c.execute(f"SELECT count(*) FROM {table}").fetchone()
            self.rows[table] = int(row[0]) if row else 0
        return self.load_seconds

    def count(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0

    def ids(self, sql: str) -> list[str]:
        """The `id` column of the query's result as a Python list of str."""
        result = self.con.execute(sql).fetchnumpy()["id"]
        return list(result.tolist())

    @staticmethod
    def version_string() -> str:
        return str(duckdb.__version__)
