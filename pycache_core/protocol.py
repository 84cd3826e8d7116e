"""The wire format between the per-compile client and the server.

Imported by the client on every compile: builtins only, no imports at all.

A frame is ``MAGIC | 4-byte little-endian length | body``. Request bodies
are NUL-separated fields (command lines and environments cannot contain NUL):
``kind, config fingerprint, *fields``; a compile's fields are ``cwd, tty,
client executable, umask (octal), argc, *argv, *NAME=value``. A reply body is one ASCII header line
``status exit_code outcome stdout_len stderr_len execute_len`` followed by
the three byte strings. While a compile runs, the server sends single
``KEEPALIVE`` bytes before the reply frame, so a client can tell a busy
server from a hung one, and ``EARLY`` frames: whole lines of the
compiler's stderr as it prints them (cargo starts a crate's dependents when
rustc prints that the crate's metadata is written); the reply's stderr is
then what was not sent early.
"""

MAGIC = b"PYC1"
EARLY = b"PYE1"
KEEPALIVE = b"\n"
MAX_FRAME = 1 << 31
# Part of the server's fingerprint: a client never talks to a server that
# reads another layout (it starts one of its own).
PROTOCOL_VERSION = "3"


def frame(body: bytes) -> bytes:
    return MAGIC + len(body).to_bytes(4, "little") + body


def early(data: bytes) -> bytes:
    """A frame of stderr sent while the compile still runs."""
    return EARLY + len(data).to_bytes(4, "little") + data


def encode_compile(fingerprint: str, cwd: str, tty: bool, client_exe: str, umask: int, argv, env) -> bytes:
    fields = [b"compile", fingerprint.encode(), _fs(cwd), b"1" if tty else b"0", _fs(client_exe), b"%o" % umask,
              str(len(argv)).encode()]
    fields += [_fs(a) for a in argv]
    fields += [_fs(k) + b"=" + _fs(v) for k, v in env.items()]
    return frame(b"\0".join(fields))


_ARGV = 7  # index of the first argument in a compile request's fields


def decode_compile(body: bytes):
    """-> (fingerprint, cwd, tty, client_exe, umask, argv, env); raises ValueError."""
    fields = body.split(b"\0")
    if len(fields) < _ARGV or fields[0] != b"compile":
        raise ValueError("not a compile request")
    umask = int(fields[5], 8)
    if not 0 <= umask <= 0o777:
        raise ValueError(f"bad umask {fields[5]!r}")
    argc = int(fields[6])
    if argc < 1 or _ARGV + argc > len(fields):
        raise ValueError("bad argument count")
    argv = tuple(_str(a) for a in fields[_ARGV : _ARGV + argc])
    env = {}
    for item in fields[_ARGV + argc :]:
        key, sep, value = item.partition(b"=")
        if not sep:
            raise ValueError("bad environment entry")
        env[_str(key)] = _str(value)
    return fields[1].decode("ascii"), _str(fields[2]), fields[3] == b"1", _str(fields[4]), umask, argv, env


def encode_reply(status: str, exit_code: int, outcome: str, stdout: bytes, stderr: bytes, execute: str = "") -> bytes:
    exe = _fs(execute) if execute else b""
    header = f"{status} {exit_code} {outcome or '-'} {len(stdout)} {len(stderr)} {len(exe)}\n".encode("ascii")
    return frame(header + stdout + stderr + exe)


def decode_reply(body: bytes):
    """-> (status, exit_code, outcome, stdout, stderr, execute); raises ValueError."""
    newline = body.index(b"\n")
    status, code, outcome, n_out, n_err, n_exe = body[:newline].decode("ascii").split(" ")
    offset = newline + 1
    n_out, n_err, n_exe = int(n_out), int(n_err), int(n_exe)
    if offset + n_out + n_err + n_exe != len(body):
        raise ValueError("reply length mismatch")
    stdout = body[offset : offset + n_out]
    stderr = body[offset + n_out : offset + n_out + n_err]
    execute = _str(body[offset + n_out + n_err :]) if n_exe else ""
    return status, int(code), outcome, stdout, stderr, execute


def encode_control(kind: str, fingerprint: str, *args: str) -> bytes:
    return frame(b"\0".join([kind.encode(), fingerprint.encode(), *(a.encode() for a in args)]))


def _fs(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _str(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")
