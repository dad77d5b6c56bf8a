"""SCRATCH (never commit): hold a platform under test for development."""
import json, os, time
from pathlib import Path
import pytest
import icam_platform.platform as P
from icam_auth import Principal, Role

pytestmark = pytest.mark.e2e
CALLS = {}
_orig = P.start_service
def _rec(service, endpoints, settings, peers=P.SERVICES, extra_env=None):
    CALLS[service.name] = (service, endpoints, settings, peers, extra_env)
    return _orig(service, endpoints, settings, peers, extra_env)
P.start_service = _rec
CTL = Path("/tmp/web2-ctl")

def test_hold(platform_under_test):
    p = platform_under_test
    toks = {}
    for sub, role, region in [("demo-coach-brussels-1", Role.COACH, "brussels"), ("demo-lead-brussels", Role.TEAM_LEAD, "brussels"), ("demo-coach-brussels-2", Role.COACH, "brussels")]:
        toks[sub] = p.issuer.mint(Principal(sub, role, region, None))
    (CTL / "urls.json").write_text(json.dumps({"gateway": p.gateway_url, "web": p.web_url, "tokens": toks, "logs": str(p.logs), "home": str(p.home)}))
    if os.environ.get("HOLD_DEMO"):
        from icam_platform.demo import seed
        from icam_platform.journeys import fast_platform_settings
        import asyncio
        env = fast_platform_settings(p.home / "reference.json")
        asyncio.run(seed(p.gateway_url, p.issuer.mint, env=env, households=12))
    (CTL / "ready").write_text("1")
    while not (CTL / "stop").exists():
        if (CTL / "restart").exists():
            (CTL / "restart").unlink()
            svc, *rest = CALLS["web"]
            P.stop_service(svc, rest[1])
            _orig(svc, *rest)
            P.wait_healthy([svc], rest[1], timeout=60)
            (CTL / "restarted").write_text(str(time.time()))
        time.sleep(0.5)
