"""The gRPC server: threaded gRPC, uvloop for the change log, health, reflection, errors.

- `app`: `serve()` / `BitsegServer` / `ServerThread` — build, run and stop the server;
- `servicer`: the thin `bitseg.v1.Bitseg` servicer (decode, call `Service`, encode);
- `errors`: every method handler wrapped once so errors become gRPC statuses, in one place;
- `role`, `workers`, `worker`: `--workers N` processes sharing one port (primary and others);
- `rulecache`: decoded rules by their wire form, so a repeated rule is not parsed again;
- `ingest`: joins one Ingest client stream into one atomic batch;
- `rule_proto`: the structured rule form (`RuleNode`) <-> the rule model tree.

Importing this package imports none of them, so `bitseg.client` can use `rule_proto`
without loading the server.
"""
