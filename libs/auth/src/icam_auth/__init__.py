"""Authentication and the ICAM roles, shared by the gateway and every service.

The gateway enforces access first; each service checks the same bearer token again, so a
service reached directly is no weaker than the gateway.
"""

from icam_auth.principal import Principal, Role
from icam_auth.verify import AuthSettings, Forbidden, TokenVerifier, Unauthenticated

__all__ = ["AuthSettings", "Forbidden", "Principal", "Role", "TokenVerifier", "Unauthenticated"]
