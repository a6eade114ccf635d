"""Fixtures shared by tests/vendors and tests/catalog (imported by both conftests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agora import urls


@pytest.fixture(autouse=True)
def _no_static_finders(settings: Any) -> None:
    """Every test client loads the middleware afresh, and WhiteNoise then walks every static
    finder (~80 ms a client); these tests serve no static files, so skip the walk."""
    settings.WHITENOISE_USE_FINDERS = False


@pytest.fixture
def media_root(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Uploads go to a fresh directory, and /media/ serves from it.

    The storage follows settings.MEDIA_ROOT, but agora.urls passes MEDIA_ROOT to the
    `serve` view once, at import, so that pattern is pointed at the directory too.
    """
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    for pattern in urls.urlpatterns:
        if "document_root" in getattr(pattern, "default_args", {}):
            monkeypatch.setitem(pattern.default_args, "document_root", str(root))
    return root


@pytest.fixture
def mailbox(settings: Any) -> Any:
    """Outgoing e-mail lands in django.core.mail.outbox."""
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    return mail.outbox
