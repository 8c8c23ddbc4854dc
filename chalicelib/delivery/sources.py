"""The names the delivery functions' event sources have at import time.

Chalice reads its decorators' arguments when it packages the app; the deploy step
(deploy/) replaces these names with references to the resources its templates create, per
stage. Locally, `make run` and the tests create queues with these names on the embedded AWS
server and feed the same handlers with Lambda-shaped events (devtools/event_sources.py).
"""

SEND_QUEUE = "herald-send"
CALLBACK_QUEUE = "herald-callbacks"
RECEIPT_QUEUE = "herald-receipts"
# A placeholder the deploy step swaps for the table's StreamArn.
TABLE_STREAM_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/herald/stream/deployed"
SCHEDULE = "rate(1 minute)"

# Batch sizes: the dispatcher reads up to 100 stream records at once; workers take 10 jobs.
STREAM_BATCH = 100
QUEUE_BATCH = 10

# Each queue's maxReceiveCount (deploy/queues.py gives it to the redrive policy): the job's
# receive at which a handler that cannot finish it settles its message instead
# (chalicelib.jobs.batch), since the next receive would be the dead-letter queue's.
# Every receive counts: a retry later, a job handed back, a lease waited out.
SEND_MAX_RECEIVES = 20
RECEIPT_MAX_RECEIVES = 10
CALLBACK_MAX_RECEIVES = 10
