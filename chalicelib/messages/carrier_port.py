"""What messages asks of the stage's carrier before a message is made: whether the carrier
answers the create itself (the sandbox answers Twilio's test numbers: To +15005550001 is
21211, …).

Carriers sit above messages (they hand its messages over and read them), so messages asks
through this port instead of importing them: chalicelib.carriers wires the stage's carrier
in when it is imported, as every function's cold start does (app.py). Unwired, a create
fails loudly rather than skip the carrier's answer.
"""

from collections.abc import Callable

# (To, From) -> the carrier's refusal (with the Twilio `code` and `message` the create
# answers with: chalicelib.carriers.base.CreateRefusal), or None.
RefuseAtCreate = Callable[[str, str | None], object]

_refuse_at_create: RefuseAtCreate | None = None


def wire(refuse_at_create: RefuseAtCreate) -> None:
    """Plug in the stage's carrier (chalicelib.carriers does, once, when it is imported)."""
    global _refuse_at_create
    _refuse_at_create = refuse_at_create


def refuse_at_create(to: str, from_: str | None):
    """The stage's carrier's refusal of a create to `to` from `from_`, or None."""
    if _refuse_at_create is None:
        raise RuntimeError(
            "no carrier is wired into chalicelib.messages: import chalicelib.carriers first "
            "(app.py does)"
        )
    return _refuse_at_create(to, from_)
