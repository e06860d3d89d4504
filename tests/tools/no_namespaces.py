"""Run the python tool where the kernel refuses namespaces, as Docker's default profile does.

``python no_namespaces.py PORT`` installs a seccomp filter that makes ``unshare`` fail
with EPERM for this process and everything it starts, then prints one JSON object: what
the probe found, the approval card's lines, and what code connecting to 127.0.0.1:PORT
got. Linux on x86-64 or arm64 only.
"""

import ctypes
import json
import os
import platform
import sys

ARCHES = {"x86_64": (0xC000003E, 272), "aarch64": (0xC00000B7, 97)}


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def forbid_unshare() -> None:
    arch, unshare_nr = ARCHES[platform.machine()]
    program = [
        SockFilter(0x20, 0, 0, 4),            # load seccomp_data.arch
        SockFilter(0x15, 0, 3, arch),         # another architecture: allow
        SockFilter(0x20, 0, 0, 0),            # load seccomp_data.nr
        SockFilter(0x15, 0, 1, unshare_nr),   # unshare?
        SockFilter(0x06, 0, 0, 0x00050000 | 1),  # SECCOMP_RET_ERRNO | EPERM
        SockFilter(0x06, 0, 0, 0x7FFF0000),   # SECCOMP_RET_ALLOW
    ]
    filters = (SockFilter * len(program))(*program)
    prog = SockFprog(len(program), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
    if libc.prctl(22, 2, ctypes.byref(prog), 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
        raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP failed")


def main() -> None:
    port = int(sys.argv[1])
    forbid_unshare()
    from app.tools.python_sandbox import run_python_sync
    from app.tools.sandbox_reach import platform_enforcement_sync, reach_lines

    enforced = platform_enforcement_sync()
    result = run_python_sync(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5).close()\n"
                             "'connected'")
    # this process started with NO_NAMESPACES_MARKER in its environment (see the test)
    peek = run_python_sync(f"open('/proc/{os.getpid()}/environ', 'rb').read().count(b'NO_NAMESPACES_MARKER')")
    print(json.dumps({"network_isolated": enforced.network_isolated, "process_tree": enforced.process_tree,
                      "reason": enforced.reason, "lines": reach_lines(enforced),
                      "value": result.value, "error": result.error, "environ_readable": peek.value == "1"}))


if __name__ == "__main__":
    main()
