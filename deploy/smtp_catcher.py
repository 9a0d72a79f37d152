#!/usr/bin/python3
"""smtp_catcher - a real SMTP server for development and tests.

Every message it receives is kept as one file, <maildir>/<time>-<pid>-<n>.eml
(the raw message as sent, preceded by X-Envelope-From and X-Envelope-To
headers). Files are written under a temporary name and renamed, so a reader
never sees half a message. Nothing is ever relayed anywhere.

A small HTTP read-out, for people:
    GET /                 list of messages (French HTML page)
    GET /messages.json    the same as JSON, with each raw message
    GET /messages/<file>  one raw message, as text

    smtp_catcher.py --maildir var/mail --port 2525 --http-port 8025

Needs Debian's python3-aiosmtpd (run it with /usr/bin/python3). Stops cleanly
on SIGTERM or SIGINT and can be started again on the same folder and ports.
"""

import argparse
import email
import email.policy
import html
import itertools
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

_counter = itertools.count(1)
_lock = threading.Lock()


class MaildirHandler:
    """aiosmtpd handler: store each message as one .eml file."""

    def __init__(self, maildir):
        self.maildir = maildir

    async def handle_DATA(self, server, session, envelope):
        with _lock:
            n = next(_counter)
        now = time.time()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
        name = "%s.%06d-%d-%06d.eml" % (stamp, int((now % 1) * 1e6), os.getpid(), n)
        head = "X-Envelope-From: <%s>\r\nX-Envelope-To: %s\r\n" % (
            envelope.mail_from or "",
            ", ".join("<%s>" % r for r in envelope.rcpt_tos),
        )
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        tmp = os.path.join(self.maildir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(head.encode("ascii", "replace"))
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.maildir, name))
        print("smtp_catcher: stored %s for %s" % (name, ", ".join(envelope.rcpt_tos)),
              flush=True)
        return "250 Message accepted for delivery"


def read_messages(maildir, with_raw=True):
    """Every stored message, oldest first, as a dict."""
    out = []
    for name in sorted(os.listdir(maildir)):
        if not name.endswith(".eml") or name.startswith("."):
            continue
        path = os.path.join(maildir, name)
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError:
            continue
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        item = {
            "file": name,
            "received": os.path.getmtime(path),
            "from": str(msg.get("From", "")),
            "to": str(msg.get("To", "")),
            "envelope_to": str(msg.get("X-Envelope-To", "")),
            "subject": str(msg.get("Subject", "")),
            "message_id": str(msg.get("Message-ID", "")),
            "date": str(msg.get("Date", "")),
        }
        if with_raw:
            item["raw"] = raw.decode("utf-8", "replace")
        out.append(item)
    return out


def make_http_handler(maildir):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):  # quiet: the SMTP side logs
            pass

        def _send(self, code, ctype, body):
            data = body.encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path == "/messages.json":
                body = json.dumps({"messages": read_messages(maildir)}, ensure_ascii=False)
                return self._send(200, "application/json; charset=utf-8", body)
            if path.startswith("/messages/"):
                name = os.path.basename(path[len("/messages/"):])
                full = os.path.join(maildir, name)
                if not name.endswith(".eml") or not os.path.isfile(full):
                    return self._send(404, "text/plain; charset=utf-8", "Message introuvable\n")
                with open(full, "rb") as f:
                    return self._send(200, "text/plain; charset=utf-8",
                                      f.read().decode("utf-8", "replace"))
            if path == "/":
                rows = []
                for m in reversed(read_messages(maildir, with_raw=False)):
                    rows.append(
                        "<tr><td>%s</td><td>%s</td><td><a href=\"/messages/%s\">%s</a></td>"
                        "<td><code>%s</code></td></tr>"
                        % (html.escape(time.strftime("%d/%m/%Y %H:%M:%S",
                                                     time.localtime(m["received"]))),
                           html.escape(m["to"] or m["envelope_to"]),
                           html.escape(m["file"]),
                           html.escape(m["subject"] or "(sans objet)"),
                           html.escape(m["message_id"])))
                page = (
                    "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">"
                    "<title>Courriels reçus - Guichet</title>"
                    "<style>body{font-family:sans-serif;margin:2em}"
                    "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
                    "padding:.3em .6em;text-align:left}</style></head><body>"
                    "<h1>Courriels reçus</h1>"
                    "<p>%d message(s) capturé(s) par le serveur SMTP de développement. "
                    "Aucun n'a été envoyé à l'extérieur. "
                    "<a href=\"/messages.json\">Version JSON</a>.</p>"
                    "<table><tr><th>Reçu le</th><th>Destinataire</th><th>Objet</th>"
                    "<th>Message-ID</th></tr>%s</table></body></html>"
                    % (len(rows), "".join(rows)))
                return self._send(200, "text/html; charset=utf-8", page)
            return self._send(404, "text/plain; charset=utf-8", "Page introuvable\n")

    return Handler


def main():
    ap = argparse.ArgumentParser(description="SMTP catcher for Guichet")
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2525)
    ap.add_argument("--http-port", type=int, default=8025)
    args = ap.parse_args()

    os.makedirs(args.maildir, exist_ok=True)
    controller = Controller(MaildirHandler(args.maildir), hostname=args.host,
                            port=args.port)
    controller.start()
    httpd = ThreadingHTTPServer((args.host, args.http_port), make_http_handler(args.maildir))
    httpd.daemon_threads = True
    http_thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    http_thread.start()
    print("smtp_catcher: SMTP on %s:%d, read-out on http://%s:%d/, maildir %s"
          % (args.host, args.port, args.host, args.http_port, args.maildir), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    httpd.shutdown()
    controller.stop()
    print("smtp_catcher: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
