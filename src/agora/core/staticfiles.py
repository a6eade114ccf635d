from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed, long-cached static files after `collectstatic`; before it (a
    checkout served straight away, the tests) fall back to the plain name — served by
    WhiteNoise from the apps' folders — instead of failing every page."""

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            return name
