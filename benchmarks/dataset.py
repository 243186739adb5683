"""The benchmark datasets: `bitseg.demo.generate_org` output, generated once per key.

A dataset is keyed by (contacts, seed, now, a hash of `bitseg/demo.py`), so a change
to the generator never reuses stale files. It is written into a temporary folder and
renamed into place when complete; `manifest.json` records the counts per kind.

Events average 30 a contact up to 1M contacts; beyond that the rate falls so a dataset
holds at most 30M events (a 10M org would otherwise write 300M event lines, ~26 GB).

Layout: `<root>/datasets/c<contacts>-s<seed>-<now>-<hash>/{contacts,companies,deals,
campaigns,events}.jsonl`.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

import bitseg.demo
from bitseg.demo import demo_schema, generate_org

KINDS = ("contacts", "companies", "deals", "campaigns", "events")
MAX_EVENTS = 30_000_000
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Dataset:
    """One generated org on disk."""

    path: Path
    contacts: int
    seed: int
    now: str
    counts: dict[str, int]
    generate_seconds: float  # 0.0 when reused from the cache
    cached: bool

    def file(self, kind: str) -> Path:
        return self.path / f"{kind}.jsonl"

    def file_bytes(self) -> dict[str, int]:
        return {k: self.file(k).stat().st_size for k in KINDS if self.file(k).is_file()}

    @property
    def schema(self) -> dict[str, str]:
        return demo_schema()


def generator_hash() -> str:
    """A short hash of the generator's source: part of the cache key."""
    source = Path(bitseg.demo.__file__).read_bytes()
    return hashlib.sha256(source).hexdigest()[:10]


def dataset_key(contacts: int, seed: int, now: str) -> str:
    compact = now.replace("-", "").replace(":", "")
    return f"c{contacts}-s{seed}-{compact}-{generator_hash()}"


def ensure_dataset(
    root: Path,
    contacts: int,
    seed: int,
    now: str,
    log: Callable[[str], None] = print,
) -> Dataset:
    """The dataset for this key under `root/datasets`, generated if not cached."""
    folder = Path(root) / "datasets" / dataset_key(contacts, seed, now)
    manifest = folder / MANIFEST
    if manifest.is_file():
        counts = orjson.loads(manifest.read_bytes())["counts"]
        log(f"dataset {folder.name}: cached")
        return Dataset(folder, contacts, seed, now, counts, 0.0, True)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"dataset {folder.name}: generating {contacts:,} contacts with activity ...")
    started = time.perf_counter()
    rate = min(30.0, MAX_EVENTS / contacts)
    counts = generate_org(tmp, contacts=contacts, seed=seed, now=now, activity=True,
                          events_per_contact=rate)
    seconds = time.perf_counter() - started
    (tmp / MANIFEST).write_bytes(
        orjson.dumps({"counts": counts, "seed": seed, "now": now, "seconds": seconds},
                     option=orjson.OPT_INDENT_2)
    )
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    log(f"dataset {folder.name}: {counts} in {seconds:.1f} s")
    return Dataset(folder, contacts, seed, now, counts, seconds, False)
