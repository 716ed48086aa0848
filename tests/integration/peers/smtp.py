"""A real SMTP server (Debian's python3-aiosmtpd) on 127.0.0.1 for the delivery tests: STARTTLS
required (or implicit TLS, or no TLS at all), AUTH checked against a password, chosen recipients
refused with 550, and a script of DATA answers (e.g. one 451 first). Received messages are kept
as (envelope recipients, raw bytes)."""
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from .common import free_port


class Handler:
    def __init__(self, refuse):
        self.refuse = set(refuse)
        self.messages = []
        self.data_script = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.data_script:
                return self.data_script.pop(0)
            self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 2.0.0 Message accepted"


class Smtp:
    """mode: "starttls" (required), "implicit" (smtps), or "plain" (no TLS offered)."""

    def __init__(self, cert, key, mode="starttls", user="pcmon", password=None, refuse=()):
        self.handler = Handler(refuse)
        self.port = free_port()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)

        def auth(server, session, envelope, mechanism, data):
            ok = data is not None and data.login == user.encode() and data.password == password.encode()
            return AuthResult(success=ok, handled=False)

        kw = {}
        if password is not None:
            # aiosmtpd counts only STARTTLS as TLS; with implicit TLS the transport is encrypted anyway
            kw.update(authenticator=auth, auth_required=True, auth_require_tls=mode == "starttls")
        if mode == "starttls":
            kw.update(tls_context=ctx, require_starttls=True)
        elif mode == "implicit":
            kw.update(ssl_context=ctx)
        self.ctl = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kw)
        self.ctl.start()
        self.url = "%s://127.0.0.1:%d" % ("smtps" if mode == "implicit" else "smtp", self.port)

    def messages(self):
        with self.handler.lock:
            return list(self.handler.messages)

    def close(self):
        self.ctl.stop()
