"""deploy/docker-compose.yml is valid for docker-compose (no engine needed
for `config`; the engine does not run in CI). docker-compose is installed by
deploy/install-deps.sh: its absence is a failure, not a skip."""

import os
import shutil
import subprocess

from gch_testutil import REPO

EXPECTED = ["postgres", "redis", "smtp", "bus", "gateway", "svc-accounts", "svc-dossiers",
            "svc-documents", "svc-notify", "svc-finance"]


def test_docker_compose_config(stack):
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is not installed (bash deploy/install-deps.sh)"
    f = os.path.join(REPO, "deploy", "docker-compose.yml")
    r = subprocess.run([exe, "-f", f, "config"], capture_output=True, text=True, timeout=60,
                       cwd=REPO)
    assert r.returncode == 0, "docker-compose config failed (%d): %s" % (r.returncode, r.stderr)
    r = subprocess.run([exe, "-f", f, "config", "--services"], capture_output=True, text=True,
                       timeout=60, cwd=REPO)
    assert r.returncode == 0, r.stderr
    services = set(r.stdout.split())
    missing = [s for s in EXPECTED if s not in services]
    assert not missing, "services missing from docker-compose.yml: %s" % missing
    full = subprocess.run([exe, "-f", f, "config"], capture_output=True, text=True,
                          timeout=60, cwd=REPO).stdout
    assert "8080" in full, "the gateway's port 8080 is not published"
