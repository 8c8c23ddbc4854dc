"""A status-callback and webhook listener for trying Herald by hand: prints each request it
gets and whether its X-Twilio-Signature is valid, and answers 204.

    .venv/bin/python -m devtools.listen 9000 --auth-token $AUTH_TOKEN [--reply '<Response>…']

then create a message with StatusCallback=http://127.0.0.1:9000/status, or register a number
with SmsUrl=http://127.0.0.1:9000/sms: with --reply it answers every request with that
TwiML (text/xml), as an app answering inbound texts would. The signature is checked with
twilio's own RequestValidator (a development dependency), not Herald's code.
"""

import argparse
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


def handler_for(auth_token: str | None, reply: str | None = None):
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(auth_token) if auth_token else None

    class Listener(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
            url = f"http://{self.headers.get('Host')}{self.path}"
            signature = self.headers.get("X-Twilio-Signature")
            if validator is None:
                verdict = "signature not checked (no --auth-token)"
            elif signature and validator.validate(url, form, signature):
                verdict = "signature valid"
            else:
                verdict = "signature INVALID" if signature else "no signature"
            fields = " ".join(f"{k}={v}" for k, v in sorted(form.items()))
            print(f"{self.command} {self.path}  {verdict}\n  {fields}", flush=True)
            if reply is None:
                self.send_response(204)
                self.end_headers()
                return
            data = reply.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.do_POST()

        def log_message(self, *args):
            pass

    return Listener


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.listen", description=__doc__)
    parser.add_argument("port", type=int, nargs="?", default=9000)
    parser.add_argument("--auth-token", help="the account's AuthToken, to check signatures")
    parser.add_argument("--reply", help="answer every request with this TwiML (text/xml)")
    args = parser.parse_args(argv)
    handler = handler_for(args.auth_token, args.reply)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    print(f"listening on http://127.0.0.1:{args.port} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
