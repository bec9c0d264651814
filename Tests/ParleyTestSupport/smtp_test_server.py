#!/usr/bin/env python3
"""An SMTP server for the SMTPClient tests, on Debian's python3-aiosmtpd.

Listens on 127.0.0.1 on a port the kernel picks and writes the port to --ready-file once it accepts
connections. Each message received is written to --folder as N.eml (the content as received) and
N.json (the envelope, and the message parsed back by Python's email package: decoded subject and
body, header defects). Exits when its standard input closes, so it cannot outlive the test process.

Options: --starttls / --implicit-tls with --cert and --key; --auth USER (password from the
environment variable SMTP_TEST_PASSWORD) with --auth-mechanisms PLAIN,LOGIN and --auth-plaintext
(offer AUTH without TLS); --reject ADDRESS (550 at RCPT TO); --no-ehlo (EHLO answers 502).
"""
import argparse
import asyncio
import json
import os
import ssl
import sys
from email import policy
from email.parser import BytesParser

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, folder, rejected):
        self.folder = folder
        self.rejected = set(rejected)
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rejected:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        content = envelope.content
        message = BytesParser(policy=policy.default).parsebytes(content)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": bool(session.authenticated),
            "subject": str(message["subject"]),
            "from": str(message["from"]),
            "to": str(message["to"]),
            "body": body.get_content().replace("\r\n", "\n") if body is not None else None,
            "defects": [str(d) for d in message.defects]
            + [str(d) for _, v in message.items() for d in getattr(v, "defects", [])],
        }
        base = os.path.join(self.folder, str(self.count))
        with open(base + ".eml", "wb") as f:
            f.write(content)
        with open(base + ".json.tmp", "w") as f:
            json.dump(record, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 2.0.0 OK: queued"


class NoEHLO(SMTP):
    async def smtp_EHLO(self, hostname):
        await self.push("502 5.5.2 Error: command not recognized")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", required=True)
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--starttls", action="store_true")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth")
    parser.add_argument("--auth-mechanisms", default="PLAIN,LOGIN")
    parser.add_argument("--auth-plaintext", action="store_true")
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--no-ehlo", action="store_true")
    args = parser.parse_args()

    context = None
    if args.starttls or args.implicit_tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    password = os.environ.get("SMTP_TEST_PASSWORD", "").encode()

    def authenticator(server, session, envelope, mechanism, auth_data):
        good = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == args.auth.encode()
            and auth_data.password == password
        )
        return AuthResult(success=good, handled=False)

    offered = {m.strip().upper() for m in args.auth_mechanisms.split(",")}
    excluded = {"PLAIN", "LOGIN"} - offered
    handler = Handler(args.folder, args.reject)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        options = dict(
            hostname="smtp.test",
            tls_context=context if args.starttls else None,
            require_starttls=False,
            auth_require_tls=not args.auth_plaintext,
            auth_exclude_mechanism=excluded,
            loop=loop,
        )
        if args.auth:
            options["authenticator"] = authenticator
        return (NoEHLO if args.no_ehlo else SMTP)(handler, **options)

    server = loop.run_until_complete(
        loop.create_server(factory, host="127.0.0.1", port=0, ssl=context if args.implicit_tls else None)
    )
    port = server.sockets[0].getsockname()[1]
    with open(args.ready_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(args.ready_file + ".tmp", args.ready_file)

    def stdin_ready():
        if not os.read(sys.stdin.fileno(), 4096):
            loop.stop()

    loop.add_reader(sys.stdin.fileno(), stdin_ready)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
