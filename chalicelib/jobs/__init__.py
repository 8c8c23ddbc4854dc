"""Jobs: the work the delivery functions take from their queues, one SQS batch at a time.

    batch.py   a batch's jobs run at once, within the invocation's time, with Lambda's partial
               batch responses, and a job's last receive settled by its step

Delivery's steps (chalicelib.delivery) and the webhook (chalicelib.inbound.webhook) run as
jobs; this package knows nothing of what a job does.
"""
