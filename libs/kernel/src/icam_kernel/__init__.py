"""ICAM event-sourcing kernel: event store, outbox relay, inbox, projections (see README.md)."""
