"""Cache headers for public reads.

An anonymous read of public data may be kept by the browser and shared caches for a short
while (`public, max-age`); anything read with credentials — which may include what only
the vendor's staff or an operator can see — is `private, no-cache`. Either way the answer
varies with the Authorization header, so a cache never serves one to the other.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

PUBLIC_MAX_AGE = 60


def cache_read(response: HttpResponse, *, public: bool, max_age: int = PUBLIC_MAX_AGE) -> None:
    if public:
        patch_cache_control(response, public=True, max_age=max_age)
    else:
        patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ("Authorization",))
