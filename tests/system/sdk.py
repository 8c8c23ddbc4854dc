"""twilio-python pointed at a live Herald, as a user points it: only the base URL changes."""

from twilio.rest import Client


def client_for(url: str, username: str, password: str, account_sid: str | None = None) -> Client:
    """A client of the Herald at `url`. TWILIO_EDGE or TWILIO_REGION in the environment would
    make the SDK rewrite the host: this client has neither, and the environment is left as
    it was."""
    client = Client(username, password, account_sid=account_sid)
    client.edge = client.region = None
    client.api.base_url = url
    return client
