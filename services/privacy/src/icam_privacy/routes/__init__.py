"""The privacy service's routes: key custody, erasure orders and receipts, holds, subject access."""

from icam_privacy.routes.erasures import router as erasures
from icam_privacy.routes.keys import router as keys
from icam_privacy.routes.subjects import router as subjects

ROUTERS = (keys, erasures, subjects)
