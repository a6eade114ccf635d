"""A person's rights over their data (UK/EU GDPR articles 15, 17 and 20): an export of
everything the marketplace holds about them, and the deletion of their account.

This is the one part of `accounts` that reads other apps' tables: the person is at the
centre of bookings, orders, payments, reviews, messages and notifications, and both the
export and the erasure must see all of them at once. Nothing below imports it; the API
and the pages call it.
"""
