"""gch_mail - read what deploy/smtp_catcher.py caught.

The catcher writes one <time>-<pid>-<n>.eml file per message in its maildir
(complete files only: written under a dot-name, then renamed). Messages are
parsed with the email module; recipients are taken from To, Cc and the
catcher's X-Envelope-To header.
"""

import email
import email.policy
import email.utils
import html
import os
import re
import time

URL_RE = re.compile(r"https?://[^\s\"'<>]+")


class Mail:
    def __init__(self, path, raw):
        self.path = path
        self.file = os.path.basename(path)
        self.raw = raw
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.subject = str(self.msg.get("Subject", ""))
        self.message_id = str(self.msg.get("Message-ID", "")).strip()
        addrs = []
        for h in ("To", "Cc", "X-Envelope-To"):
            for v in self.msg.get_all(h, []):
                addrs += [a for _, a in email.utils.getaddresses([str(v)])]
        self.recipients = sorted({a.strip().lower() for a in addrs if a})
        self.text = self._text()

    def _text(self):
        """Every text part decoded (plain and HTML, entities unescaped)."""
        parts = []
        for part in self.msg.walk():
            if part.get_content_maintype() == "text":
                try:
                    content = part.get_content()
                except (LookupError, ValueError):
                    content = part.get_payload(decode=True).decode("utf-8", "replace")
                if part.get_content_subtype() == "html":
                    content = html.unescape(content)
                parts.append(content)
        return "\n".join(parts)

    def links(self):
        return [u.rstrip(".,;)") for u in URL_RE.findall(self.text)]

    def verify_link(self):
        """The link of a verification mail: the first one carrying token=."""
        for u in self.links():
            if "token=" in u:
                return u
        return None

    def __repr__(self):
        return "<Mail %s to %s: %s>" % (self.file, ",".join(self.recipients), self.subject)


class Mailbox:
    def __init__(self, maildir):
        self.maildir = maildir

    def messages(self):
        out = []
        try:
            names = sorted(os.listdir(self.maildir))
        except FileNotFoundError:
            return out
        for name in names:
            if name.startswith(".") or not name.endswith(".eml"):
                continue
            path = os.path.join(self.maildir, name)
            try:
                with open(path, "rb") as f:
                    out.append(Mail(path, f.read()))
            except OSError:
                continue
        return out

    def to(self, address):
        address = address.lower()
        return [m for m in self.messages() if address in m.recipients]

    def wait(self, predicate, count=1, timeout=15.0, interval=0.1):
        """Wait until at least count messages match; return those matching
        (possibly fewer than count after the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages() if predicate(m)]
            if len(found) >= count or time.monotonic() >= deadline:
                return found
            time.sleep(interval)

    def wait_to(self, address, count=1, timeout=15.0, contains=None):
        address = address.lower()

        def match(m):
            return address in m.recipients and (
                contains is None or contains in m.subject or contains in m.text)
        return self.wait(match, count=count, timeout=timeout)
