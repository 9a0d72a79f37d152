"""gch_client - an HTTP client for the tests that behaves like the web apps.

A Client keeps its cookies (gch_session, gch_csrf) like a browser and handles
CSRF like the portal does: before its first write it reads
GET /api/v1/session to get the token, sends it as X-CSRF-Token on every
POST/PUT/PATCH/DELETE, and takes the rotated token from the login answer.
Pass csrf=False (or a wrong string) to a call to test the defence.

One Client per thread (http.client connections are not shared); each request
opens its own connection.
"""

import http.client
import http.cookies
import json
import time
import urllib.parse

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_NO_BODY = object()


class Response:
    def __init__(self, method, path, status, reason, headers, body, elapsed):
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        self.headers = headers          # list of (name, value)
        self.body = body                # bytes
        self.elapsed = elapsed          # seconds
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def error(self):
        """The "error" object of an error answer, or None."""
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            return self.json["error"]
        return None

    def __repr__(self):
        text = self.body[:400].decode("utf-8", "replace")
        return "%s %s -> %d %s" % (self.method, self.path, self.status, text)


class Client:
    def __init__(self, base_url, timeout=30.0):
        u = urllib.parse.urlsplit(base_url)
        self.host = u.hostname
        self.port = u.port or 80
        self.timeout = timeout
        self.cookies = {}               # name -> value, like a browser jar
        self.set_cookie_headers = []    # every raw Set-Cookie seen, newest last
        self.csrf_token = None          # from GET /api/v1/session or the login answer
        self.user = None

    # ---- raw requests --------------------------------------------------

    def request(self, method, path, json_body=_NO_BODY, body=None, headers=None,
                csrf=None, content_type="application/json"):
        """csrf: None = automatic on writes, False = omit, str = send that."""
        hdrs = {"Accept": "application/json"}
        if json_body is not _NO_BODY:
            body = json.dumps(json_body).encode("utf-8")
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None and content_type:
            hdrs["Content-Type"] = content_type
        if method in WRITE_METHODS:
            if csrf is None:
                if self.csrf_token is None:
                    self.fetch_csrf()
                csrf = self.csrf_token
            if csrf:
                hdrs["X-CSRF-Token"] = csrf
        if self.cookies:
            hdrs["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        hdrs.update(headers or {})
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        start = time.monotonic()
        try:
            try:
                conn.request(method, path, body=body, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                # the server may answer (413) and close before reading it all
                pass
            resp = conn.getresponse()
            data = resp.read()
            elapsed = time.monotonic() - start
            r = Response(method, path, resp.status, resp.reason, resp.getheaders(), data,
                         elapsed)
        finally:
            conn.close()
        for raw in r.header_all("Set-Cookie"):
            self._store_cookie(raw)
        return r

    def _store_cookie(self, raw):
        self.set_cookie_headers.append(raw)
        c = http.cookies.SimpleCookie()
        try:
            c.load(raw)
        except http.cookies.CookieError:
            return
        for name, morsel in c.items():
            expired = morsel["max-age"] in ("0",) or (
                morsel["expires"] and "1970" in morsel["expires"])
            if expired or morsel.value == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def cookie_header(self, name):
        """The last raw Set-Cookie header for cookie name (attribute checks)."""
        for raw in reversed(self.set_cookie_headers):
            if raw.split("=", 1)[0].strip() == name:
                return raw
        return None

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, data=_NO_BODY, **kw):
        return self.request("POST", path, json_body=data, **kw)

    def patch(self, path, data=_NO_BODY, **kw):
        return self.request("PATCH", path, json_body=data, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # ---- the app's steps -------------------------------------------------

    def fetch_csrf(self):
        """GET /api/v1/session, as the portal does at start: keep the token."""
        r = self.get("/api/v1/session")
        token = None
        if r.status == 200 and isinstance(r.json, dict):
            token = r.json.get("csrf_token")
            self.user = r.json.get("user")
        self.csrf_token = token or self.cookies.get("gch_csrf")
        return r

    def signup(self, email, password, display_name, **extra):
        data = {"email": email, "password": password, "display_name": display_name}
        data.update(extra)
        return self.post("/api/v1/accounts", data)

    def login(self, email, password, **kw):
        r = self.post("/api/v1/session", {"email": email, "password": password}, **kw)
        if r.status == 200 and isinstance(r.json, dict):
            self.csrf_token = r.json.get("csrf_token") or self.cookies.get("gch_csrf")
            self.user = r.json.get("user")
        return r

    def logout(self):
        return self.delete("/api/v1/session")
