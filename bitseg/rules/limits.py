"""Size limits on rules (configurable per server; SPEC.md gives these defaults)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_depth: int = 64
    max_nodes: int = 2_000
    max_in_values: int = 10_000
    max_message_bytes: int = 4 * 1024 * 1024
