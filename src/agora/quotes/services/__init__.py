"""Quote writes, one room per subject:

* requests.py — a request asked, matched and invited in waves, cancelled, expired;
* offers.py — quotes offered, revised, withdrawn, passed on, expired and accepted (→ a
  paid booking);
* assign.py — automatic assignment for on-demand categories, in optimal batches;
* announce.py — what the events say; stats.py — the vendors' counters.
"""
