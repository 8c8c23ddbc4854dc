"""Herald: Twilio's Messages API on Chalice. The app: its routes (chalicelib/web) and the
event handlers behind the delivery queues (chalicelib/delivery); nothing else."""

import gc
import os

# No collection while the modules load: each would walk every object made so far and find
# nothing to free (bench/cold_start.py --explain). The collector comes back at the end,
# after gc.freeze().
gc.disable()

from chalice import Chalice  # noqa: E402

# The stage's carrier settings are checked here, at every function's cold start.
from chalicelib import carriers  # noqa: E402, F401
from chalicelib.delivery import sources  # noqa: E402
from chalicelib.observability.handlers import instrument  # noqa: E402

app = Chalice(app_name="herald")
# First, so that its request line is the outermost middleware (chalicelib/observability).
instrument(app)

# Lambda names the handler each function runs (_HANDLER): the routes, and everything they
# import, are the API function's alone. Everywhere else (make run, tests, `chalice
# package`) every route is registered.
if os.environ.get("_HANDLER", "app.app") in ("app.app", "app.front_door"):
    from chalicelib.web import fallbacks, inbox, media, messages, numbers, sandbox

    # The methods each route serves (tests/system/test_openapi.py): routing imports auth, forms
    # and the web layer's storage, which no delivery function needs at its cold start.
    from chalicelib.web.routing import SERVED_METHODS  # noqa: F401

    for resource in (messages, media, numbers, sandbox, inbox, fallbacks):
        resource.register(app)
__all__ = ["app", "front_door"]


def front_door(event, context):
    """The API's handler behind an API Gateway HTTP API or a Lambda function URL, whose
    events it serves as the REST API's (chalicelib/web/front_door.py; docs/deploy.md)."""
    from chalicelib.web import front_door as adapter

    return adapter.handle(app, event, context)


# --- delivery: the functions behind the queues (chalicelib/delivery) ---------------------
# Each function is a Lambda function of its own that imports only what it runs: the API's
# cold start never pays for delivery, nor the queue workers' for each other's modules.


@app.on_dynamodb_record(
    stream_arn=sources.TABLE_STREAM_ARN,
    batch_size=sources.STREAM_BATCH,
    starting_position="TRIM_HORIZON",
    name="dispatcher",
)
def dispatcher(event):
    from chalicelib.delivery import dispatch

    return dispatch.handle(event.to_dict())


@app.on_sqs_message(queue=sources.SEND_QUEUE, batch_size=sources.QUEUE_BATCH, name="sender")
def sender(event):
    from chalicelib.delivery import worker

    return worker.handle(event.to_dict(), event.context)


@app.on_sqs_message(queue=sources.RECEIPT_QUEUE, batch_size=sources.QUEUE_BATCH, name="receipts")
def receipt_handler(event):
    from chalicelib.delivery import receipts

    return receipts.handle(event.to_dict(), event.context)


@app.on_sqs_message(queue=sources.CALLBACK_QUEUE, batch_size=sources.QUEUE_BATCH, name="callbacks")
def callback_sender(event):
    from chalicelib.delivery import callbacks

    return callbacks.handle(event.to_dict(), event.context)


@app.schedule(sources.SCHEDULE, name="scheduler")
def scheduled_sends(event):
    from chalicelib.delivery import scheduler

    return {"dispatched": scheduler.sweep(context=event.context)}


# Everything imported so far lives as long as the Lambda container: moving it out of the
# collector's reach spares each later collection from walking it again (a measured 5-10%
# of the cold start; bench/cold_start.py).
gc.freeze()
gc.enable()
