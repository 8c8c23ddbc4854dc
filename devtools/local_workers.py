"""Background work that runs next to the local HTTP server, in the same process as the app.

On AWS, queue and stream events invoke the app's event handlers in Lambda; locally, pumps
started here will call those same handlers in-process. devtools/http_child.py calls
`start` once the HTTP server accepts connections, sets `stop_event` when the process is
asked to stop, then joins the threads `start` returned. Nothing runs here yet.
"""

import threading


def start(app, stop_event: threading.Event) -> list[threading.Thread]:
    """Start the local workers for `app`; each must return soon after `stop_event` is set."""
    return []
