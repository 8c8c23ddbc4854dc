"""The stage's End User Messaging settings, read from the environment and checked: who texts
come from by default (HERALD_EUM_ORIGINATION_IDENTITY), the message type
(HERALD_EUM_MESSAGE_TYPE: TRANSACTIONAL, the default, or PROMOTIONAL) and the configuration
set whose event destination brings the receipts back (HERALD_EUM_CONFIGURATION_SET).

Apart from the carrier (chalicelib.carriers.end_user_messaging), so that a cold start checks
them without loading it, and its request (eum_request) reads them without importing it.
"""

import os
import re
from dataclasses import dataclass

ORIGINATION_VARIABLE = "HERALD_EUM_ORIGINATION_IDENTITY"
MESSAGE_TYPE_VARIABLE = "HERALD_EUM_MESSAGE_TYPE"
CONFIGURATION_SET_VARIABLE = "HERALD_EUM_CONFIGURATION_SET"
MESSAGE_TYPES = ("TRANSACTIONAL", "PROMOTIONAL")

# What SendTextMessage accepts as OriginationIdentity and ConfigurationSetName (botocore's
# service model: a phone number, its id or ARN, a sender ID, a pool id or ARN).
IDENTITY = re.compile(r"^[A-Za-z0-9_:/+-]{1,256}\Z")
CONFIGURATION_SET = re.compile(r"^[A-Za-z0-9_:/-]{1,256}\Z")


@dataclass(frozen=True)
class Settings:
    origination_identity: str | None
    message_type: str
    configuration_set: str | None


def settings() -> Settings:
    """The stage's End User Messaging settings; ValueError names a wrong one."""
    env = os.environ
    message_type = (env.get(MESSAGE_TYPE_VARIABLE) or "TRANSACTIONAL").strip().upper()
    if message_type not in MESSAGE_TYPES:
        raise ValueError(
            f"{MESSAGE_TYPE_VARIABLE} is one of {', '.join(MESSAGE_TYPES)}, "
            f"not {env.get(MESSAGE_TYPE_VARIABLE)!r}"
        )
    identity = env.get(ORIGINATION_VARIABLE) or None
    if identity is not None and not IDENTITY.match(identity):
        raise ValueError(
            f"{ORIGINATION_VARIABLE} is not an origination identity (a phone number, its id "
            f"or ARN, a sender ID or a pool): {identity!r}"
        )
    configuration_set = env.get(CONFIGURATION_SET_VARIABLE) or None
    if configuration_set is not None and not CONFIGURATION_SET.match(configuration_set):
        raise ValueError(
            f"{CONFIGURATION_SET_VARIABLE} is not a configuration set name or ARN: "
            f"{configuration_set!r}"
        )
    return Settings(identity, message_type, configuration_set)
