"""The case service's HTTP routes: commands (write through the kernel's path) and queries."""

from icam_case.routes import commands, queries

ROUTERS = (commands.router, queries.router)
