"""Delivery: from a stored message to a carrier and back, with status callbacks.

    dispatch.py   the table's stream → send jobs and callback jobs (nothing is lost)
    worker.py     claim → carrier → record (nothing is sent twice)
    receipts.py   carrier events → statuses (duplicates and stragglers change nothing)
    callbacks.py  signed status callbacks with bounded retries
    scheduler.py  scheduled messages, dispatched at their SendAt
    sources.py    the Lambda event sources' names, batch sizes and receive counts

Each queue's batch runs through chalicelib.jobs.batch (jobs at once, within the invocation's
time, partial failures, a job's last receive settled).
"""
