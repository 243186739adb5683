"""Segments: the per-org catalog of dynamic and static segments, their members and references.

Modules, one stage each: `layout` (ids and where static members live; pure),
`catalog` (segment records in the org's "seg" database), `membership` (static
members as sharded bitmaps), `expand` (segment references in rules: resolved,
inlined, cycles refused), `ops` (the operations, each one write transaction) and
`csvexport` (members as CSV rows). This package file imports nothing, so the
engine can use `layout` without pulling in the store.
"""
