"""OpenDAL's errors as `StorageError`, with everything they say.

An OpenDAL error reads::

    PermissionDenied (permanent) at read => AzblobError { code: "AuthorizationFailure", message: "Server failed ..." }

    Context:
       service_operation: GetBlob
       uri: http://127.0.0.1:10000/devstoreaccount1/cache/ci/entries/ab/abcd
       response: Parts { status: 403, version: HTTP/1.1, headers: {"x-ms-request-id": "5712...", ...} }
       service: azblob
       path: ci/entries/ab/abcd

    Source:
       ...

    Backtrace:
       ...

`translate` keeps the kind and whether it is temporary, the service's own
error code, message, HTTP status and request id, the URL and the source
chain, drops the backtrace, folds it all onto one line (an HTML error page
becomes its text), and blanks every secret option's value. ``hint`` says
what to check, for `pycache doctor`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pycache_core.errors import StorageError

from .credentials import credential_options

#: Longest service message kept (an HTML error page can be kilobytes).
MESSAGE_LIMIT = 400

_HEAD = re.compile(r"^(?P<kind>\w+) \((?P<persistence>[\w ]+)\) at (?P<operation>[^\n]*?)\s*=>\s?(?P<message>.*)$", re.S)
_STATUS = re.compile(r"\bstatus: (\d{3})\b")
_HEADER = re.compile(r'"([A-Za-z0-9-]+)": "([^"]*)"')
_QUOTED_CODE = re.compile(r'\bcode: "([^"]+)"')
_QUOTED_MESSAGE = re.compile(r'\bmessage: "((?:[^"\\]|\\.)*)"')
_XML_CODE = re.compile(r"<Code>([^<]+)</Code>")
_XML_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")
_TAG = re.compile(r"<[^>]+>")
_UNREACHABLE = re.compile(r"connect|refused|reset by peer|broken pipe|dns|resolve|unreachable|no route", re.I)
_HEAD_ELEMENT = re.compile(r"<head\b.*?</head>", re.S | re.I)
_SPACE = re.compile(r"\s+")
_URL_SECRETS = re.compile(r"([?&](?:sig|se|sv|sp|st|spr|srt|ss|skoid|sktid|token|X-Amz-Signature|X-Amz-Credential)=)[^&\s\"]*", re.I)
_REQUEST_ID_HEADERS = (
    "x-amz-request-id",
    "x-ms-request-id",
    "x-oss-request-id",
    "x-cos-request-id",
    "x-goog-request-id",
    "x-guploader-uploadid",
    "x-github-request-id",
    "x-request-id",
)
_CODE_HEADERS = ("x-ms-error-code", "x-amz-error-code", "x-oss-ec", "x-cos-error-code")
#: Service codes of a missing bucket or container: an error, never a miss.
MISSING_CONTAINER = frozenset({"NoSuchBucket", "ContainerNotFound", "BucketNotFound", "NoSuchContainer"})


@dataclass
class Parsed:
    kind: str
    persistence: str = ""
    operation: str = ""
    message: str = ""
    context: dict[str, str] = field(default_factory=dict)
    source: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in _HEADER.findall(self.context.get("response", ""))}

    @property
    def status(self) -> int | None:
        match = _STATUS.search(self.context.get("response", ""))
        return int(match.group(1)) if match else None

    @property
    def service_code(self) -> str:
        for pattern in (_QUOTED_CODE, _XML_CODE):
            match = pattern.search(self.message)
            if match:
                return match.group(1)
        headers = self.headers
        return next((headers[h] for h in _CODE_HEADERS if headers.get(h)), "")

    @property
    def service_message(self) -> str:
        for pattern in (_QUOTED_MESSAGE, _XML_MESSAGE):
            match = pattern.search(self.message)
            if match:
                return _fold(match.group(1).replace('\\"', '"'))
        return _fold(self.message)

    @property
    def request_id(self) -> str:
        headers = self.headers
        return next((headers[h] for h in _REQUEST_ID_HEADERS if headers.get(h)), "")


def _fold(text: str) -> str:
    """One line of plain text: an HTML page's head dropped, tags stripped,
    entities decoded, space folded."""
    text = _HEAD_ELEMENT.sub(" ", text)
    text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def parse(text: str, kind: str = "") -> Parsed:
    """Take an OpenDAL error's text apart (see the module's docstring)."""
    body = text.split("\n\nBacktrace:", 1)[0]
    sections = re.split(r"\n\n(Context|Source):\n", body)
    head, rest = sections[0], sections[1:]
    match = _HEAD.match(head.strip())
    parsed = Parsed(kind=kind or "Error", message=head.strip())
    if match:
        parsed.kind = match.group("kind")
        parsed.persistence = match.group("persistence")
        parsed.operation = match.group("operation").strip()
        parsed.message = match.group("message").strip()
    for title, content in zip(rest[::2], rest[1::2]):
        if title == "Context":
            for line in content.splitlines():
                key, sep, value = line.strip().partition(": ")
                if sep:
                    parsed.context[key] = value.strip()
        else:
            parsed.source = _fold(" ".join(line.strip() for line in content.splitlines()))
    return parsed


def _status_phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")
    except ValueError:
        return f"HTTP{status}"


def exception_kind(exc: BaseException) -> str:
    """OpenDAL's error kind (``NotFound``, ``PermissionDenied``, ...), or "" for others."""
    module = type(exc).__module__ or ""
    return type(exc).__name__ if module.startswith("opendal") else ""


def is_not_found(exc: BaseException) -> bool:
    return exception_kind(exc) == "NotFound"


def is_already_there(exc: BaseException) -> bool:
    return exception_kind(exc) in ("AlreadyExists", "ConditionNotMatch")


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return _URL_SECRETS.sub(r"\1***", text)


@dataclass(frozen=True, slots=True)
class Where:
    """What an error needs to know about its tier."""

    tier: str
    scheme: str
    endpoint: str
    credentials: str
    timeout: float
    io_timeout: float
    attempts: int
    secrets: tuple[str, ...] = ()


def translate(exc: BaseException, where: Where, operation: str, location: str) -> StorageError:
    """The `StorageError` for an exception an OpenDAL call raised."""
    kind = exception_kind(exc)
    if not kind:  # not OpenDAL's: still name it in full
        text = scrub(f"{type(exc).__name__}: {exc}", where.secrets)
        return StorageError(where.tier, operation, text, code=type(exc).__name__, location=location)
    parsed = parse(str(exc), kind)
    status = parsed.status
    code = parsed.service_code or parsed.kind
    if not parsed.service_code and parsed.kind == "Unexpected" and status is not None:
        code = _status_phrase(status)  # "Unauthorized", "InternalServerError"
    message = parsed.service_message or parsed.kind
    if parsed.source and parsed.source not in message:
        message = f"{message}: {parsed.source}"
    timed_out = "timeout" in parsed.message.lower() or "timed out" in parsed.source.lower()
    if timed_out:
        message += f" (timeout {where.timeout:g} s per request, {where.io_timeout:g} s per read or write; {where.attempts} attempts)"
    extra = {"opendal": f"{parsed.kind} ({parsed.persistence})" + (f" at {parsed.operation}" if parsed.operation else "")}
    if parsed.context.get("service_operation"):
        extra["service operation"] = parsed.context["service_operation"]
    url = parsed.context.get("uri") or parsed.context.get("url")
    if url:
        extra["url"] = url
    elif where.endpoint:
        extra["endpoint"] = where.endpoint
    if parsed.context.get("called"):
        extra["called"] = parsed.context["called"]
    error = StorageError(
        where.tier,
        operation,
        scrub(message, where.secrets),
        code=code,
        status=status,
        request_id=parsed.request_id,
        location=location,
        extra={k: scrub(v, where.secrets) for k, v in extra.items()},
    )
    error.hint = hint(parsed, error, where, timed_out)
    return error


def hint(parsed: Parsed, error: StorageError, where: Where, timed_out: bool) -> str:
    """What to check for this failure, or ""."""
    status = error.status
    scheme = where.scheme
    if error.code in MISSING_CONTAINER or (status == 404 and error.operation == "PUT"):
        return f"the bucket or container does not exist at this endpoint: create it, or check the {scheme} options bucket/container"
    if parsed.kind == "PermissionDenied" or status in (401, 403):
        return (
            f"the service refused these credentials ({where.credentials}) for {error.operation}: check "
            f"{credential_options(scheme)}, and the account's rights on this bucket or path; "
            "for untrusted builds set read_only = true or PYCACHE_READ_ONLY=true"
        )
    if parsed.kind == "ConfigInvalid":
        if scheme == "ghac":
            return (
                "the GitHub Actions cache is reachable only inside a workflow: export ACTIONS_RESULTS_URL, "
                "ACTIONS_RUNTIME_TOKEN and ACTIONS_CACHE_SERVICE_V2 to the build's steps (docs/scale-out.md)"
            )
        return f"OpenDAL refused the {scheme} configuration: check the tier's options (pycache doctor lists them)"
    if parsed.kind == "Unsupported":
        return f"this OpenDAL build cannot do that with {scheme}: check the scheme and the opendal version"
    if parsed.kind == "RateLimited" or status == 429:
        return "the service is throttling requests: fewer parallel jobs, or a tier in front of it (memcached, Redis)"
    if timed_out:
        return (
            "the service took the connection but did not answer in time: is it overloaded or hung? "
            "(the tier's timeout / io_timeout options set the bounds)"
        )
    if status is not None and status >= 500:
        return f"the service failed on its side (HTTP {status}); if it persists, give its request id to the operator"
    if scheme == "memcached" and error.operation == "PUT" and "unexpected status" in parsed.message:
        # OpenDAL 0.47 does not pass memcached's reply on (SERVER_ERROR object too large for cache)
        return "memcached refused the entry: items over its size limit (memcached -I, 1 MB by default) are refused; raise -I"
    if status is None and _UNREACHABLE.search(f"{parsed.message} {parsed.source}"):
        return f"the service cannot be reached at {where.endpoint or 'its endpoint'}: is it running, and is the endpoint right?"
    return ""
