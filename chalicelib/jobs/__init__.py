"""Jobs: the work the delivery functions take from their queues, one SQS batch at a time.

    batch.py   a batch's jobs run at once, within the invocation's time, with Lambda's partial
               batch responses, and a job's last receive settled by its step
    calls.py   what a job that calls a user's URL does when a sealed secret will not open

Delivery's steps (chalicelib.delivery) and the webhook (chalicelib.inbound.webhook) run as
jobs; batch knows nothing of what a job does.
"""
