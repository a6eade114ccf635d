"""The security and data pages in Chromium: axe-core finds no serious or critical WCAG
2.1 AA violation, with an enrolment under way (QR code, secret, code field) and after it."""

from __future__ import annotations

from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from agora.accounts.two_factor import codes, services
from tests.factories import UserFactory
from tests.web.browser.test_accessibility import audit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_security_and_data_pages_pass_axe(page: Any, sign_in: Any, screenshot: Any) -> None:
    ann = UserFactory(name="Ann Example")
    services.two_factor_enrol_start(user=ann)
    sign_in(ann)

    problems = audit(page, "/account/security/")
    assert page.get_by_label("Code from the app").is_visible()
    assert page.locator(".qr-code svg").is_visible()
    screenshot("1-enrolment")
    problems += audit(page, "/account/privacy/")
    screenshot("2-your-data")

    device = TOTPDevice.objects.get(user=ann)
    page.goto("/account/security/")
    page.get_by_label("Code from the app").fill(codes.totp_code_at(device.key, _now()))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Two-factor sign-in is on").is_visible()
    assert page.locator(".recovery-codes li").count() == 10
    screenshot("3-recovery-codes")

    assert problems == []


def _now() -> Any:
    from agora.core import clock

    return clock.now()
