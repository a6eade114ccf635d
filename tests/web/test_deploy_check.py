"""A production configuration passes Django's deployment checks without a warning."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path


def test_production_settings_pass_check_deploy(tmp_path: Path) -> None:
    # Given the environment an operator sets behind TLS (and no test database settings)
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env = {
        key: value
        for key, value in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' own switch, never a deployment's.
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
        and not key.startswith("AGORA_")
    }
    env.update(
        DEBUG="0",
        AGORA_HTTPS="1",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(60)),
        ALLOWED_HOSTS="market.example.com",
        AGORA_VAR_DIR=str(tmp_path),
    )

    # When the deployment checks run, with warnings counting as failures
    result = subprocess.run(
        [sys.executable, "-m", "agora", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # Then nothing is reported
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
