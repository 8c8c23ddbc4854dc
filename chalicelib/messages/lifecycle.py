"""Fetch, update (redact, cancel) and delete a message, and its status transitions.

Every change of status is one conditional write allowed by status.TRANSITIONS: `transition`
is the only way a status changes, for the API's cancel and for delivery alike.
"""

from chalicelib import storage
from chalicelib.accounts import credentials
from chalicelib.messages.model import Message, message_path
from chalicelib.messages.status import UNDELETABLE, Qualified, Status, allowed_from
from chalicelib.runtime import clock
from chalicelib.storage import messages as stored_messages
from chalicelib.storage import schema
from chalicelib.twilio import codes, errors, forms, sids

UPDATE_PARAMS = frozenset({"Body", "Status"})
WITHOUT_ERROR = frozenset({Status.SENT, Status.DELIVERED})
ERROR_FIELDS = ("error_code", "error_message")


def not_found(account_sid: str, sid: str) -> errors.TwilioError:
    return errors.not_found(message_path(account_sid, sid))


def _checked_sid(account_sid: str, sid: str) -> str:
    if sids.message_key(sid) is None:
        raise not_found(account_sid, sid)
    return sid


def fetch(account_sid: str, sid: str) -> Message:
    fields = stored_messages.get_message(account_sid, _checked_sid(account_sid, sid))
    if fields is None:
        raise not_found(account_sid, sid)
    return Message.from_fields(fields)


def events_of(account_sid: str, sid: str) -> list[dict]:
    """What happened around the message besides its statuses (each status callback and
    webhook attempt, a TwiML error, a receipt not applied), oldest first: the inbox shows
    them. Read after `fetch`, which answers a foreign Sid as a missing one."""
    from chalicelib.storage import events  # the inbox's alone: no delivery function pays

    return events.of_message(account_sid, sid)


def transition(
    account_sid: str,
    sid: str,
    target: Status,
    changes: dict | None = None,
    **conditions,
) -> Message:
    """Move a message to `target` in one conditional write, from a status the transitions
    table allows, recording it in the message's history; raises storage.Missing or
    storage.WrongState (with what the item holds).

    A status's markers (status.Qualified) are set by `changes` and removed by a change
    that may leave a qualified status; a status without an error (sent, delivered)
    removes the error a failure left."""
    now = clock.now_ms()
    fields = {"status": target.value, "updated_ms": now, **(changes or {})}
    entry = {"status": target.value, "at_ms": now}
    if fields.get("error_code") is not None:
        entry["error_code"] = fields["error_code"]
    from_states = allowed_from(target)
    markers = sorted({state.marker for state in from_states if isinstance(state, Qualified)})
    remove = [*markers, *(ERROR_FIELDS if target in WITHOUT_ERROR else ())]
    stored = stored_messages.update_message(
        account_sid,
        sid,
        fields,
        statuses=from_states,
        history=entry,
        remove=[name for name in remove if name not in fields],
        **conditions,
    )
    return Message.from_fields(stored)


def sent_changes(fields: dict, sent_ms: int) -> dict:
    """The changes that record `sent_ms` as the message's date_sent (storage.schema's
    sent_attributes): kept within what lists rely on, and for a message sent more than
    schema.LATE_AFTER_MS after its order time, its entry in the late index, in its shard of
    the account's list shards (read only then)."""
    order = schema.order_ms(fields)
    shard = 0
    if schema.is_late(order, schema.clamp_sent(order, sent_ms)):
        found = credentials.account(fields["account_sid"])
        shards = found.list_shards_for_writing() if found else schema.DEFAULT_LIST_SHARDS
        shard = schema.shard_of(fields["sid"], shards)
    return schema.sent_attributes(fields["account_sid"], order, sent_ms, shard)


def update(account_sid: str, sid: str, params: forms.Params) -> Message:
    forms.reject_unknown(params, UPDATE_PARAMS)
    _checked_sid(account_sid, sid)
    body = forms.single(params, "Body")
    status = forms.single(params, "Status")
    if body:
        raise errors.bad_parameter("Body can only be set to an empty string, which redacts it")
    if status is not None and status != Status.CANCELED:
        raise errors.bad_parameter("Status can only be set to canceled")
    if body is None and status is None:
        return fetch(account_sid, sid)
    changes = {"body": ""} if body is not None else {}
    try:
        if status is not None:
            return transition(account_sid, sid, Status.CANCELED, changes)
        changes["updated_ms"] = clock.now_ms()
        return Message.from_fields(stored_messages.update_message(account_sid, sid, changes))
    except storage.Missing:
        raise not_found(account_sid, sid) from None
    except storage.WrongState as state:
        raise errors.TwilioError(
            codes.NOT_CANCELABLE,
            f"Message {sid} is {state.item.get('status')}: only a scheduled message can be"
            " canceled.",
        ) from None


def delete(account_sid: str, sid: str) -> None:
    try:
        stored_messages.delete_message(
            account_sid,
            _checked_sid(account_sid, sid),
            [s.value for s in UNDELETABLE],
            clock.now_ms(),
        )
    except storage.Missing:
        raise not_found(account_sid, sid) from None
    except storage.WrongState:
        raise errors.TwilioError(
            codes.NOT_DELETABLE,
            "Cannot delete message because delivery has not been completed.",
            409,
        ) from None
