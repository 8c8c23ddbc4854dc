"""Carriers: the hand-off interface (base), the events every carrier's receipts speak
(events), and the implementations, chosen per stage by HERALD_CARRIER."""

from chalicelib import config
from chalicelib.carriers.base import Carrier


def current() -> Carrier:
    name = config.delivery().carrier
    if name == "sandbox":
        from chalicelib.carriers.sandbox import Sandbox

        return Sandbox()
    from chalicelib.carriers.end_user_messaging import EndUserMessaging

    return EndUserMessaging()
