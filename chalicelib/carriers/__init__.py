"""Carriers: the hand-off interface (base), the events every carrier's receipts speak
(events), and the implementations, chosen per stage by HERALD_CARRIER:

    sandbox              chalicelib.carriers.sandbox: outcomes by destination number
    end-user-messaging   chalicelib.carriers.end_user_messaging: AWS End User Messaging SMS

A stage switches between them by configuration alone (HERALD_CARRIER, and the HERALD_EUM_*
settings, in .chalice/config.json). The settings are checked when this package is first
imported, i.e. at every function's cold start: a wrong value stops the function there, with
a ValueError that names the setting, instead of failing each message later. The import also
wires the stage's carrier into chalicelib.messages (messages.carrier_port), which asks it
whether it answers a create itself and cannot import carriers, being below them.
"""

from typing import TYPE_CHECKING

from chalicelib.messages import carrier_port
from chalicelib.runtime import config

if TYPE_CHECKING:  # the interface's classes are loaded with a carrier, not at cold start
    from chalicelib.carriers.base import Carrier

SANDBOX = "sandbox"
END_USER_MESSAGING = "end-user-messaging"

_instances: dict[str, "Carrier"] = {}


def check() -> str:
    """The stage's carrier, once its settings are known to be sound; ValueError if not."""
    name = config.delivery().carrier  # raises for a name that is not in config.CARRIERS
    if name == END_USER_MESSAGING:
        from chalicelib.carriers import eum_settings

        eum_settings.settings()
    return name


def current() -> "Carrier":
    """The stage's carrier (one instance per container and carrier)."""
    name = config.delivery().carrier
    carrier = _instances.get(name)
    if carrier is None:
        if name == SANDBOX:
            from chalicelib.carriers.sandbox import Sandbox

            carrier = Sandbox()
        else:
            from chalicelib.carriers.end_user_messaging import EndUserMessaging

            carrier = EndUserMessaging()
        _instances[name] = carrier
    return carrier


def _refuse_at_create(to: str, from_: str | None):
    return current().refuse_at_create(to, from_)


check()
carrier_port.wire(_refuse_at_create)
