"""Two-factor sign-in: TOTP authenticator apps (RFC 6238) and single-use recovery codes.

The devices are django-otp's (`otp_totp.TOTPDevice`, `otp_static.StaticDevice` with its
`StaticToken`s); the checks are Agora's, in `services.otp_check`:

- codes are computed on `agora.core.clock`, so tests can move time, and a code's time step
  is claimed with a conditional UPDATE (`last_t < step`), so a code is accepted once even
  when two requests race with it;
- recovery codes are stored as keyed digests, never as typed, and are spent with a
  conditional DELETE;
- wrong codes are throttled with `agora.core.ratelimit`, per account, beside the password
  step's limits (database counters that survive a rolled-back request).

`User.otp_enabled_at` says whether two-factor sign-in is on, so the checks made on every
operator request (`selectors.otp_enrolment_missing`) read no table of their own.
"""
