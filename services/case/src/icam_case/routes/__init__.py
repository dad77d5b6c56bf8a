"""The case service's HTTP routes: commands (write through the kernel's path) and queries."""

from icam_case.routes import commands, documents, moves, queries

ROUTERS = (commands.router, documents.router, moves.router, queries.router)
