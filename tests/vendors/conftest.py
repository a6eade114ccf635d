from tests.vendors.fixtures import _no_static_finders, mailbox, media_root

__all__ = ["_no_static_finders", "mailbox", "media_root"]
