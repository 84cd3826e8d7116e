"""`pycache doctor` and clock skew (issue 13 E): signed S3 requests are
refused beyond 15 minutes of skew; the doctor warns from 30 seconds on and
fails from 15 minutes. The thresholds are checked at their edges, and end
to end through a real S3 store (SeaweedFS) behind an HTTP proxy that
reports a clock that is off -- the way a server with a wrong clock does, in
its Date header.
"""

from __future__ import annotations

import email.utils
import http.client
import re
import time

import pytest

from pycache_core.doctor import Report, _check_skew

from .conftest import _QuietHandler, serve_http
from .test_doctor import doctor, use_s3  # noqa: F401 (fixture)


@pytest.mark.parametrize(
    ("skew", "verdict"),
    [(0.0, None), (29.9, None), (-29.9, None), (30.0, "warning"), (-30.0, "warning"), (899.0, "warning"),
     (900.0, "failure"), (-900.0, "failure"), (86400.0, "failure")],
)
def test_skew_thresholds(skew, verdict):
    report = Report()
    _check_skew("s3", {"clock skew": f"{skew:+.1f} s (local clock minus the server's Date header)"}, report)
    found = ("failure" if report.failures else None) or ("warning" if report.warnings else None)
    assert found == verdict, (report.failures, report.warnings)
    for text in report.failures + report.warnings:
        assert f"{skew:+.0f} s off the server's" in text


def skewed_proxy(target: str, offset: float):
    """An HTTP proxy to ``target`` whose responses carry a Date ``offset``
    seconds off (negative: the server's clock is behind)."""
    host, port = target.removeprefix("http://").split(":")

    class Proxy(_QuietHandler):
        def _forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            upstream = http.client.HTTPConnection(host, int(port), timeout=30)
            upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response_only(answer.status)  # no Date of its own: only the skewed one
            for name, value in answer.getheaders():
                if name.lower() not in ("date", "content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Date", email.utils.formatdate(time.time() + offset, usegmt=True))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            upstream.close()

        do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = _forward

    return serve_http(Proxy)


@pytest.mark.parametrize(("offset", "expected"), [(-120, "warning"), (-1200, "problem")])
def test_doctor_reports_a_server_clock_that_is_off(doctor, aws_env, seaweed, offset, expected):  # noqa: F811
    with skewed_proxy(seaweed.endpoint, offset) as proxy:
        use_s3(aws_env, seaweed)
        aws_env.setenv("PYCACHE_S3_ENDPOINT", f"http://127.0.0.1:{proxy.server_address[1]}")
        status, text = doctor()
    line = next((row for row in text.splitlines() if "the local clock is" in row), "")
    assert line.startswith(f"{expected}:"), text
    seen = int(re.search(r"the local clock is ([+-]\d+) s off", line).group(1))
    assert -offset - 1 <= seen <= -offset + 5, line  # the Date header has whole seconds; requests take time
    assert status == (1 if expected == "problem" else 0), text
