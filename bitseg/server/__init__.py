"""The gRPC server: grpc.aio on uvloop, health, reflection, error mapping, limits.

- `app`: `serve()` / `BitsegServer` / `ServerThread` — build, run and stop the server;
- `servicer`: the thin `bitseg.v1.Bitseg` servicer (decode, call `Service`, encode);
- `errors`: the interceptor that maps every error to its gRPC status, in one place;
- `ingest`: joins one Ingest client stream into one atomic batch;
- `rule_proto`: the structured rule form (`RuleNode`) <-> the rule model tree.

Importing this package imports none of them, so `bitseg.client` can use `rule_proto`
without loading the server.
"""
