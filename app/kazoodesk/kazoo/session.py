"""One HTTP session with a Kazoo server: URL, envelope, errors, login and token renewal.

Every request goes through `KazooSession.call`: it sends the JSON envelope with the token,
turns error answers into `KazooError` and network failures into `KazooUnavailable`, and, when
the server answers 401 to a token it accepted before (expired, or the server restarted with a
new key), logs in again the way `login` did and retries that request once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import ssl
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, urlsplit

import httpx
import truststore

from kazoodesk import __version__
from kazoodesk.kazoo.errors import KazooError, KazooUnavailable, error_from_answer, network_failure
from kazoodesk.kazoo.timestamps import parse_timestamp
from kazoodesk.kazoo.values import Answer, AuthInfo

API_VERSION = "v2"
_NO_DATA: Any = object()  # a request without a body (None would be sent as `"data": null`)


def normalize_base_url(url: str) -> str:
    """`scheme://host[:port][/prefix]/v2` from what a user typed: with or without the
    trailing `/v2` and slashes. Raises ValueError for a URL that cannot be a Kazoo API."""
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL of a Kazoo server: {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"a Kazoo API URL has no query or fragment: {url!r}")
    path = parts.path.rstrip("/")
    version = re.search(r"/(v\d+)$", path)
    if version is None:
        path = f"{path}/{API_VERSION}"
    elif version.group(1) != API_VERSION:
        raise ValueError(f"KazooDesk speaks the /{API_VERSION} API, not /{version.group(1)}")
    return f"{parts.scheme}://{parts.netloc}{path}"


def md5_credentials(username: str, password: str) -> str:
    """`credentials` of `PUT /user_auth`: md5 of "lower(username):password" (§9.1)."""
    return hashlib.md5(f"{username.lower()}:{password}".encode()).hexdigest()


def segment(value: str) -> str:
    """A value as one URL path segment (ids are hex, SIP usernames and numbers may not be)."""
    return quote(value, safe="")


class KazooSession:
    """The HTTP side of `KazooClient` (see client.py); one `httpx.AsyncClient` for its life."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        verify: bool | ssl.SSLContext = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.timeout = timeout
        self.auth: AuthInfo | None = None
        # from the latest envelope: `version` ("4.3.142") and `timestamp` (aware, UTC)
        self.server_version: str | None = None
        self.server_time: datetime | None = None
        self._account_id: str | None = None
        self._credentials: dict[str, str] | None = None  # how `login` logged in, to renew
        self._renewing = asyncio.Lock()
        if verify is True:  # the OS trust store, as browsers use, rather than certifi's
            verify = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._where = urlsplit(self.base_url).netloc
        self._http = httpx.AsyncClient(
            base_url=f"{self.base_url}/",
            timeout=timeout,
            verify=verify,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": f"KazooDesk/{__version__}"},
        )

    # ---- life -----------------------------------------------------------------------------

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ---- the working account ----------------------------------------------------------------

    @property
    def account_id(self) -> str:
        """The account the account-scoped calls work on: the logged-in one unless set to
        one of its descendants."""
        if self._account_id is None:
            raise RuntimeError("log in first (no working account yet)")
        return self._account_id

    @account_id.setter
    def account_id(self, value: str) -> None:
        self._account_id = value

    def account_path(self, *parts: str, account_id: str | None = None) -> str:
        """`accounts/{A}/...` of the working account (or `account_id`)."""
        account = segment(account_id or self.account_id)
        return "/".join(["accounts", account, *parts])

    # ---- login --------------------------------------------------------------------------------

    async def login(
        self,
        *,
        account_name: str | None = None,
        username: str | None = None,
        password: str | None = None,
        api_key: str | None = None,
    ) -> AuthInfo:
        """Log in with a user's credentials and account name (`PUT /user_auth`) or with an
        account's API key (`PUT /api_auth`); the working account becomes the login's."""
        if api_key is not None:
            if account_name is not None or username is not None or password is not None:
                raise ValueError("log in with an API key or with a user's credentials, not both")
            credentials = {"api_key": api_key}
        elif account_name and username and password is not None:
            credentials = {"account_name": account_name, "username": username, "password": password}
        else:
            raise ValueError("give account_name, username and password, or api_key")
        auth = await self._authenticate(credentials)
        self._credentials = credentials
        self._account_id = auth.account_id
        return auth

    async def _authenticate(self, credentials: Mapping[str, str]) -> AuthInfo:
        if "api_key" in credentials:
            path, body = "api_auth", {"api_key": credentials["api_key"]}
        else:
            creds = md5_credentials(credentials["username"], credentials["password"])
            path, body = (
                "user_auth",
                {"credentials": creds, "account_name": credentials["account_name"]},
            )
        answer = await self.call("PUT", path, data=body, token=False, subject="login")
        token, data = answer.envelope.get("auth_token"), answer.data
        if not isinstance(token, str) or not token or not isinstance(data, dict):
            raise KazooError(answer.status, "the login answer has no auth token")
        if not isinstance(data.get("account_id"), str):
            raise KazooError(answer.status, "the login answer names no account")
        self.auth = AuthInfo(
            account_id=data["account_id"],
            account_name=data.get("account_name"),
            owner_id=data.get("owner_id"),
            token=token,
            details=data,
        )
        return self.auth

    async def _renewed_token(self, refused: str | None) -> str | None:
        """A token to retry with after `refused` got a 401: logs in again unless another
        request already did; None when there is no way to."""
        async with self._renewing:
            if self.auth is not None and self.auth.token != refused:
                return self.auth.token
            if self._credentials is None:
                return None
            return (await self._authenticate(self._credentials)).token

    # ---- requests -------------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        path: str,
        *,
        data: Any = _NO_DATA,
        envelope: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        revision: str | None = None,
        token: bool = True,
        subject: str = "item",
    ) -> Answer:
        """One API request to `path` (below `/v2`). `data` (and `envelope` keys beside it)
        form the JSON body; `revision` is sent as `If-Match`; `token=False` sends none;
        `subject` ("device") names the thing in error texts. Any 2xx is a success."""
        body: dict[str, Any] | None = None
        if data is not _NO_DATA or envelope:
            body = {**(envelope or {}), "data": {} if data is _NO_DATA else data}
        headers = {"If-Match": f'"{revision}"'} if revision is not None else {}
        sent = self.auth.token if token and self.auth is not None else None
        response = await self._send(method, path, body, params, headers, sent)
        if response.status_code == 401 and token and self._credentials is not None:
            renewed = await self._renewed_token(sent)
            if renewed is not None:
                response = await self._send(method, path, body, params, headers, renewed)
        return self._answer(response, subject)

    async def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        params: Mapping[str, str] | None,
        headers: dict[str, str],
        token: str | None,
    ) -> httpx.Response:
        if token is not None:
            headers = {**headers, "X-Auth-Token": token}
        try:
            return await self._http.request(
                method, path.lstrip("/"), json=body, params=params, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise KazooUnavailable(
                f"no answer from {self._where} within {self.timeout:g} s (timed out)"
            ) from exc
        except httpx.TransportError as exc:
            raise KazooUnavailable(network_failure(exc, self._where)) from exc

    def _answer(self, response: httpx.Response, subject: str) -> Answer:
        status = response.status_code
        location = response.headers.get("location")
        if 300 <= status < 400 and status != 304 and location:
            # e.g. a proxy sending http:// to https://; following it silently would hide
            # that the address the user gave is not the server's
            text = f"the server redirects to {location}; connect to that address instead"
            raise KazooError(status, "redirected", text=text)
        if not 200 <= status < 300:
            raise error_from_answer(status, response.content, subject=subject)
        envelope: Any = {}
        if response.content:
            try:
                envelope = response.json()
            except ValueError:
                envelope = None
        if not isinstance(envelope, dict):
            raise KazooError(
                status,
                "not a Kazoo answer",
                text=f"{self._where} did not answer like a Kazoo server (no JSON envelope)",
            )
        self._note_server(envelope)
        revision = envelope.get("revision")
        if not isinstance(revision, str):
            etag = response.headers.get("etag")
            revision = etag.removeprefix("W/").strip('"') if etag else None
        return Answer(status, envelope.get("data"), revision, envelope)

    def _note_server(self, envelope: dict[str, Any]) -> None:
        version, timestamp = envelope.get("version"), envelope.get("timestamp")
        if isinstance(version, str):
            self.server_version = version
        if isinstance(timestamp, str):
            # a server's odd clock text is no reason to fail its answer
            with contextlib.suppress(ValueError):
                self.server_time = parse_timestamp(timestamp)

    async def pages(
        self, path: str, *, page_size: int, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[list[Any]]:
        """Each page of a listing, following `next_start_key` until the last page. A key
        that comes back again ends it: `/users/{U}/devices` keys every row by the user, so
        its `next_start_key` never advances (kazoo-api.md §5.11)."""
        query = {**(params or {}), "page_size": str(page_size)}
        seen: set[str] = set()
        while True:
            answer = await self.call("GET", path, params=query)
            yield answer.data if isinstance(answer.data, list) else []
            next_key = answer.envelope.get("next_start_key")
            if not isinstance(next_key, str) or not next_key or next_key in seen:
                return
            seen.add(next_key)
            query["start_key"] = next_key

    async def all_rows(
        self, path: str, *, page_size: int = 500, params: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Every row of a listing, all pages, each id once."""
        rows: list[dict[str, Any]] = []
        ids: set[str] = set()
        async for page in self.pages(path, page_size=page_size, params=params):
            for row in page:
                row_id = row.get("id") if isinstance(row, dict) else None
                if isinstance(row_id, str):
                    if row_id in ids:
                        continue
                    ids.add(row_id)
                rows.append(row)
        return rows
