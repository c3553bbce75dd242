"""A local OAuth2 authorisation server on loopback for the tests (not a test module itself).

Speaks what Kefu and Dovecot use: ``GET /authorize`` (consents at once and redirects back with
a code and the state), ``POST /token`` (authorization_code with PKCE S256, refresh_token with
rotation), and ``POST /introspect`` (RFC 7662, for Dovecot's ``oauth2`` passdb). ``revoke``
withdraws an account's consent the way a user or tenant administrator does at the provider.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Grant:
    account: str
    client_id: str
    scope: str
    is_revoked: bool = False


@dataclass
class FakeAuthorizationServer:
    client_id: str = "kefu-test-client"
    client_secret: str = "kefu-test-secret"  # noqa: S105 - the fake server's own test secret
    account: str = "support@kefu.example"
    expires_in: int = 3600
    port: int = 0
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    introspections: int = 0
    # code -> (grant, redirect_uri, code_challenge)
    codes: dict[str, tuple[Grant, str, str]] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    # access token -> (grant, expiry as time.time())
    access_tokens: dict[str, tuple[Grant, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def revoke(self, account: str | None = None) -> None:
        """Withdraw the consent: every refresh and access token of the account stops working."""
        with self.lock:
            for grant, *_rest in self.codes.values():
                if account is None or grant.account == account:
                    grant.is_revoked = True
            for grant in self.refresh_tokens.values():
                if account is None or grant.account == account:
                    grant.is_revoked = True

    def grants_by(self, grant_type: str) -> list[dict[str, str]]:
        return [r for r in self.token_requests if r.get("grant_type") == grant_type]

    # --- the endpoints ------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict]:
        self.authorize_requests.append(query)
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect_uri:
            return 400, {}, {"error": "invalid_client"}
        answer = {"state": query.get("state", "")}
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            answer["error"] = "invalid_request"
        else:
            code = secrets.token_urlsafe(16)
            grant = Grant(self.account, self.client_id, query.get("scope", ""))
            with self.lock:
                self.codes[code] = (grant, redirect_uri, query.get("code_challenge", ""))
            answer["code"] = code
        location = redirect_uri + ("&" if "?" in redirect_uri else "?")
        return 302, {"Location": location + urllib.parse.urlencode(answer)}, {}

    def token(self, form: dict[str, str]) -> tuple[int, dict]:
        self.token_requests.append(form)
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return 401, {"error": "invalid_client"}
        with self.lock:
            if form.get("grant_type") == "authorization_code":
                found = self.codes.pop(form.get("code", ""), None)
                if found is None:
                    return 400, {"error": "invalid_grant", "error_description": "unknown code"}
                grant, redirect_uri, challenge = found
                verifier = form.get("code_verifier", "").encode("ascii")
                computed = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest())
                if computed.rstrip(b"=").decode() != challenge:
                    return 400, {"error": "invalid_grant", "error_description": "PKCE failed"}
                if form.get("redirect_uri") != redirect_uri:
                    return 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
                return 200, self._issue(grant, with_id_token="openid" in grant.scope.split())
            if form.get("grant_type") == "refresh_token":
                used = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
                if used is None or used.is_revoked:
                    return 400, {
                        "error": "invalid_grant",
                        "error_description": "AADSTS50173: the grant was revoked",
                    }
                return 200, self._issue(used, with_id_token=False)
        return 400, {"error": "unsupported_grant_type"}

    def _issue(self, grant: Grant, *, with_id_token: bool) -> dict:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access_tokens[access] = (grant, time.time() + self.expires_in)
        self.refresh_tokens[refresh] = grant  # rotated: the used one is gone
        answer = {
            "token_type": "Bearer",
            "access_token": access,
            "expires_in": self.expires_in,
            "refresh_token": refresh,
            "scope": grant.scope,
        }
        if with_id_token:
            claims = json.dumps({"email": grant.account, "iss": self.base_url}).encode()
            payload = base64.urlsafe_b64encode(claims).rstrip(b"=").decode()
            answer["id_token"] = f"eyJhbGciOiJub25lIn0.{payload}."
        return answer

    def introspect(self, form: dict[str, str]) -> dict:
        self.introspections += 1
        with self.lock:
            found = self.access_tokens.get(form.get("token", ""))
        if found is None:
            return {"active": False}
        grant, expires_at = found
        if grant.is_revoked or expires_at < time.time():
            return {"active": False}
        return {"active": True, "email": grant.account, "exp": int(expires_at)}


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeOAuth/1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    @property
    def fake(self) -> FakeAuthorizationServer:
        return self.server.fake  # type: ignore[attr-defined]

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        return dict(urllib.parse.parse_qsl(body))

    def _json(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - the base class's name
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/authorize":
            status, headers, body = self.fake.authorize(dict(urllib.parse.parse_qsl(url.query)))
            self._json(status, body, headers)
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self):  # noqa: N802 - the base class's name
        path = urllib.parse.urlsplit(self.path).path
        if path == "/token":
            status, body = self.fake.token(self._form())
            self._json(status, body)
        elif path == "/introspect":
            self._json(200, self.fake.introspect(self._form()))
        else:
            self._json(404, {"error": "not_found"})


class running:
    """``with running(FakeAuthorizationServer()) as fake:`` — served on a free loopback port."""

    def __init__(self, fake: FakeAuthorizationServer):
        self.fake = fake
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.fake = self.fake  # type: ignore[attr-defined]
        self.httpd.daemon_threads = True
        fake.port = self.httpd.server_address[1]

    def __enter__(self) -> FakeAuthorizationServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self.fake

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
