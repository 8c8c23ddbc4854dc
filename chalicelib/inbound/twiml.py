"""The app's answer to an inbound message, read as Twilio reads messaging TwiML.

    <Response>
      <Message>Thanks!</Message>
      <Message to="+1…" from="+1…" action="/status" method="POST">
        <Body>Here it is</Body><Media>https://…/a.png</Media>
      </Message>
    </Response>

Each <Message> becomes an outbound-reply message: its text directly inside, or <Body> plus
up to 10 <Media>; `to` defaults to the sender, `from` to the number that received the text;
`action`/`method` become the reply's status callback (relative to the webhook's URL). An
empty <Response/> (or an empty body) sends nothing; a text/plain answer is sent as it is.
What cannot be read is one of Twilio's codes and sends nothing:

    11200  the webhook did not answer 2xx (or not at all, or not its whole body)
    11750  the answer's body is over 64 KiB (chalicelib.outbound.client's limit: "too large")
    12300  a Content-Type that is not XML (text/xml, application/xml) or text/plain
    12100  the document is not well-formed XML, or uses DTDs or entities
    12200  the document is XML but not messaging TwiML (its root is not <Response>)

The XML is parsed with defusedxml (no entity expansion, no external entities, no DTD), and
the answer is bounded by chalicelib.outbound.client's body limit (64 KiB) before it gets here.
"""

from dataclasses import dataclass, field
from urllib.parse import urljoin

from chalicelib.twilio import codes

MAX_MESSAGES = 10
MAX_MEDIA = 10
XML_TYPES = ("text/xml", "application/xml")


@dataclass(frozen=True)
class Reply:
    body: str
    media_urls: list[str] = field(default_factory=list)
    to: str | None = None
    from_: str | None = None
    action: str | None = None
    method: str = "POST"


@dataclass(frozen=True)
class Answer:
    replies: list[Reply]
    error_code: int | None = None
    warning: str | None = None


def read(
    status: int | None,
    content_type: str,
    body: bytes,
    webhook_url: str,
    error: str | None = None,
) -> Answer:
    """The replies an answer asks for, or the Twilio code that says why there are none;
    `error` is chalicelib.outbound.client's Answer.error (the body is b"" with one)."""
    if status is None or not 200 <= status < 300:
        return Answer(
            [], codes.HTTP_RETRIEVAL_FAILURE, f"HTTP retrieval failure: {status or 'no answer'}"
        )
    if error == "too large":
        return Answer([], codes.TWIML_TOO_LARGE, "TwiML response body too large: over 64 KiB")
    if error is not None:  # a 2xx whose body did not arrive whole
        return Answer([], codes.HTTP_RETRIEVAL_FAILURE, f"HTTP retrieval failure: {error}")
    if not body.strip():
        return Answer([])
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "text/plain":
        text = body.decode("utf-8", errors="replace").strip()
        return Answer([Reply(text)] if text else [])
    if media_type not in XML_TYPES and not (media_type == "text/html" and _looks_xml(body)):
        return Answer(
            [], codes.INVALID_CONTENT_TYPE, f"Invalid Content-Type: {media_type or 'none'}"
        )
    return _parse(body, webhook_url)


def _looks_xml(body: bytes) -> bool:
    # Frameworks often answer TwiML as text/html; Twilio reads it when it is XML.
    return body.lstrip().startswith((b"<?xml", b"<Response"))


def _parse(body: bytes, webhook_url: str) -> Answer:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as error:
        return Answer(
            [], codes.DOCUMENT_PARSE_FAILURE, f"Document parse failure: {type(error).__name__}"
        )
    if root.tag != "Response":
        return Answer(
            [], codes.SCHEMA_VALIDATION_WARNING, f"Schema validation warning: root <{root.tag}>"
        )
    replies, ignored = [], []
    for element in root:
        if element.tag != "Message":
            ignored.append(element.tag)
            continue
        if len(replies) == MAX_MESSAGES:
            ignored.append("Message")
            continue
        reply = _message(element, webhook_url)
        if reply is not None:
            replies.append(reply)
    warning = f"ignored: {', '.join(sorted(set(ignored)))}" if ignored else None
    return Answer(replies, codes.SCHEMA_VALIDATION_WARNING if ignored else None, warning)


def _message(element, webhook_url: str) -> Reply | None:
    body_element = element.find("Body")
    media = [m.text.strip() for m in element.findall("Media") if m.text and m.text.strip()]
    if body_element is not None:
        text = body_element.text or ""
    else:
        text = "".join(element.itertext()) if not len(element) else (element.text or "")
    text = text.strip()
    if not text and not media:
        return None
    action = element.get("action")
    method = (element.get("method") or "POST").upper()
    return Reply(
        body=text,
        media_urls=media[:MAX_MEDIA],
        to=element.get("to") or None,
        from_=element.get("from") or None,
        action=urljoin(webhook_url, action) if action else None,
        method=method if method in ("GET", "POST") else "POST",
    )
