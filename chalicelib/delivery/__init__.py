"""Delivery: from a stored message to a carrier and back, with status callbacks.

    dispatch.py   the table's stream → send jobs and callback jobs (nothing is lost)
    worker.py     claim → carrier → record (nothing is sent twice)
    receipts.py   carrier events → statuses (duplicates and stragglers change nothing)
    callbacks.py  signed status callbacks with bounded retries
    scheduler.py  scheduled messages, dispatched at their SendAt
    batch.py      SQS batches: jobs at once, within the invocation's time, partial failures,
                  a job's last receive settled

The Lambda event sources and their names are in chalicelib/delivery/sources.py.
"""
