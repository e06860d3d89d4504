"""The child side of the python tool: sets up limits and isolation, then runs one cell.

This file is never imported by Ponder. :mod:`app.tools.python_sandbox` copies it into a
fresh session folder and runs it as a script with ``python -I -S -X utf8`` (no user site,
no site-packages, no ``PYTHON*`` variables), so it may use the standard library only.

Usage: ``runner.py SESSION_DIR``. ``SESSION_DIR/config.json`` holds the limits; the cell's
source is ``SESSION_DIR/cell.py``; the working directory (set by the parent) is
``SESSION_DIR/work``. What it writes back, all in ``SESSION_DIR``:

- ``setup.json`` — what was actually enforced: ``rlimits`` that took effect, whether the
  network (``net``) and the process tree (``pid``) were isolated, and why not (``reason``);
  whether a user namespace (``user``) and a mount namespace (``mount``) were made, which
  folders were ``hidden``, whether everything but the session is ``readonly``, and whether
  ``/proc`` shows only the sandbox's own processes (``proc``);
- ``result.json`` — ``value`` (repr of the last expression), ``error`` (the exception's last
  traceback line), ``exit_code``;
- ``status.json`` — written by the namespace's reaper when the cell's process died of a
  signal (``signal``), which the parent turns into "CPU limit", "killed", ...

With ``"probe": true`` in the config it only does the setup (and checks that the network
really is gone), so the parent can say truthfully what code can reach on this machine.
"""

import ast
import builtins
import json
import os
import signal
import socket
import sys
import traceback

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = -100, 0x8000, 1
SYS_MOUNT_SETATTR = 442  # one number on x86-64, arm64 and the others of the unified table (Linux 5.1+)
PR_SET_PDEATHSIG = 1
CELL = "<cell>"


def write_json(path, data):
    """One record for the parent."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle)


def die_with_parent(expected_parent):
    """Linux: get SIGKILL when the parent goes away (no orphan keeps running)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if expected_parent and os.getppid() != expected_parent:
        os._exit(137)  # the parent died before prctl took effect


def set_limits(config):
    """Apply the resource limits; returns the ones the kernel accepted, by name."""
    try:
        import resource
    except ImportError:  # Windows: no rlimits
        return {}
    wanted = {
        "cpu_s": ("RLIMIT_CPU", config["cpu_s"], config["cpu_s"] + 1),
        "memory_bytes": ("RLIMIT_AS", config["memory_bytes"], config["memory_bytes"]),
        "file_bytes": ("RLIMIT_FSIZE", config["file_bytes"], config["file_bytes"]),
        "open_files": ("RLIMIT_NOFILE", config["open_files"], config["open_files"]),
        "core_bytes": ("RLIMIT_CORE", 0, 0),
    }
    if not sys.platform.startswith(("linux", "freebsd")):
        del wanted["memory_bytes"]  # macOS accepts RLIMIT_AS without enforcing it: do not claim it
    applied = {}
    for key, (name, soft, hard) in wanted.items():
        which = getattr(resource, name, None)
        if which is None or soft is None:
            continue
        try:
            _, current_hard = resource.getrlimit(which)
            if current_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, current_hard), min(hard, current_hard)
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            continue
        if resource.getrlimit(which)[0] == soft:
            applied[key] = soft
    return applied


def write_id_map(uid, gid):
    """Map our own uid/gid into the new user namespace (so files stay ours)."""
    try:
        with open("/proc/self/setgroups", "w") as handle:
            handle.write("deny")
    except OSError:
        pass
    for path, ident in (("/proc/self/uid_map", uid), ("/proc/self/gid_map", gid)):
        try:
            with open(path, "w") as handle:
                handle.write(f"{ident} {ident} 1")
        except OSError:
            pass


def only_loopback():
    """True when this process sees no network interface but ``lo`` (a fresh namespace)."""
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        return False
    return names == ["lo"] or names == []


def isolate():
    """Try new user+mount+network+pid namespaces, then fewer, down to the network alone.

    Returns a dict: ``net`` and ``pid`` (private network / process tree), ``user`` (a user
    namespace: other programs' memory and environment are out of reach), ``mount`` (a
    private mount namespace, see :func:`harden_files`), ``reason`` (why not, errno text).
    """
    none = {"net": False, "pid": False, "user": False, "mount": False}
    if not sys.platform.startswith("linux"):
        return {**none, "reason": f"{sys.platform} has no network namespaces"}
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        unshare = libc.unshare
    except (OSError, AttributeError) as exc:
        return {**none, "reason": f"unshare is not available ({exc})"}
    uid, gid = os.getuid(), os.getgid()
    reason = ""
    user, net, pid, mount = CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWNS
    for flags in (user | mount | net | pid, user | net | pid, mount | net | pid, net | pid, net):
        if unshare(flags) == 0:
            if flags & user:
                write_id_map(uid, gid)
            isolated = only_loopback()
            return {"net": isolated, "pid": bool(flags & pid), "user": bool(flags & user),
                    "mount": bool(flags & mount), "reason": "" if isolated else "the new namespace still has interfaces"}
        if not reason:
            reason = os.strerror(ctypes.get_errno())
    return {**none, "reason": f"unshare failed: {reason}"}


def _libc_mount():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    mount = libc.mount
    mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    return libc, mount


def _set_readonly(libc, path, readonly, recursive):
    """mount_setattr(2) (Linux 5.12+): set or clear read-only on the mount at ``path``."""
    import ctypes

    class MountAttr(ctypes.Structure):
        _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                    ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]

    attr = MountAttr(MOUNT_ATTR_RDONLY if readonly else 0, 0 if readonly else MOUNT_ATTR_RDONLY, 0, 0)
    flags = AT_RECURSIVE if recursive else 0
    return libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, os.fsencode(path), flags, ctypes.byref(attr),
                        ctypes.sizeof(attr)) == 0


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def harden_files(session, hide, keep):
    """In the private mount namespace: hide folders, make everything read-only but ``session``.

    ``hide`` (the home folder, the desktop session's runtime folder...) get an empty tmpfs
    over them; the ``keep`` folders inside them (the interpreter, the session) are bound
    back, read-only. Then every mount is made read-only and the session folder writable
    (and /dev/shm, as a new empty tmpfs of at most 64 MB).
    Returns what was verified afterwards: ``hidden`` folders (their device changed) and
    ``readonly`` (statvfs says / is read-only and the session is not).
    """
    libc, mount = _libc_mount()
    report = {"hidden": [], "readonly": False}
    if mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return report
    keep = [os.path.realpath(path) for path in keep + [session] if os.path.isdir(path)]
    hide = [os.path.realpath(path) for path in hide if os.path.isdir(path) and os.path.realpath(path) != "/"]
    hide = [path for path in hide if path not in keep]
    held = {}
    for path in keep:
        if any(_inside(path, folder) for folder in hide):
            held[path] = os.open(path, os.O_PATH | os.O_DIRECTORY)
    devices = {path: os.stat(path).st_dev for path in hide}
    for path in hide:
        if mount(b"tmpfs", os.fsencode(path), b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=0755,size=1m") != 0:
            continue
        for kept in held:
            if _inside(kept, path):
                os.makedirs(kept, exist_ok=True)
        if os.stat(path).st_dev != devices[path]:
            report["hidden"].append(path)
    for path, fd in held.items():
        mount(os.fsencode(f"/proc/self/fd/{fd}"), os.fsencode(path), None, MS_BIND | MS_REC, None)
        os.close(fd)
    if mount(os.fsencode(session), os.fsencode(session), None, MS_BIND, None) != 0:
        return report
    if not _set_readonly(libc, "/", True, True):
        return report
    if not _set_readonly(libc, session, False, False):
        _set_readonly(libc, "/", False, True)  # never leave the session folder unwritable
        return report
    if os.path.isdir("/dev/shm"):  # semaphores of multiprocessing live here: a small private one
        mount(b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=1777,size=64m")
    report["readonly"] = bool(os.statvfs("/").f_flag & os.ST_RDONLY) and not (
        os.statvfs(session).f_flag & os.ST_RDONLY)
    return report


def private_proc():
    """As init of the new pid namespace: a /proc that shows only this namespace's processes."""
    _, mount = _libc_mount()
    return mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) == 0


def limit_processes(count):
    """RLIMIT_NPROC inside our own user namespace, where it counts only the processes in it.

    (Outside one it would count all of the user's processes.) The kernel ignores the limit
    for root, so it is checked with a fork under a limit of 1: True when it holds.
    """
    try:
        import resource
    except ImportError:
        return False
    which = resource.RLIMIT_NPROC
    original = resource.getrlimit(which)
    try:
        resource.setrlimit(which, (1, original[1]))
    except (ValueError, OSError):
        return False
    try:
        probe = os.fork()
    except OSError:
        enforced = True
    else:
        if probe == 0:
            os._exit(0)
        os.waitpid(probe, 0)
        enforced = False
    try:
        resource.setrlimit(which, (count, original[1]) if enforced else original)
    except (ValueError, OSError):
        return False
    return enforced


def cell_error(exc):
    """The exception's last traceback line, e.g. ``ZeroDivisionError: division by zero``."""
    lines = traceback.format_exception_only(type(exc), exc)
    return lines[-1].strip() if lines else type(exc).__name__


def print_traceback(exc):
    """The traceback on stderr, without this runner's own frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != CELL:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb, file=sys.stderr)


def run_cell(source, value_limit):
    """Run the cell like a notebook cell; returns the result record."""
    import linecache

    linecache.cache[CELL] = (len(source), None, source.splitlines(True), CELL)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    result = {"value": None, "error": None, "exit_code": 0}
    try:
        tree = ast.parse(source, CELL)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, CELL, "exec"), namespace)
        if last is not None:
            value = eval(compile(last, CELL, "eval"), namespace)
            if value is not None:
                text = repr(value)
                result["value"] = text if len(text) <= value_limit else text[:value_limit] + " …"
    except SystemExit as exc:
        code = exc.code
        result["exit_code"] = code if isinstance(code, int) else (0 if code is None else 1)
        if code not in (None, 0):
            result["error"] = f"SystemExit: {code}"
    except BaseException as exc:  # the cell's own error is its result, whatever it is
        if isinstance(exc, SyntaxError):
            traceback.print_exception(type(exc), exc, None, file=sys.stderr)
        else:
            print_traceback(exc)
        result["error"] = cell_error(exc)
        result["exit_code"] = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return result


def reap(child):
    """As the new pid namespace's init: wait for the cell's process, reaping orphans."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 1
        if pid == child:
            if os.WIFSIGNALED(status):
                return 128 + os.WTERMSIG(status)
            return os.WEXITSTATUS(status)


def main():
    """Set up, report what took effect, then run the cell (in a pid namespace when there is one)."""
    session = sys.argv[1]
    with open(os.path.join(session, "config.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    die_with_parent(config.get("parent_pid"))
    rlimits = set_limits(config)
    if config.get("isolate", True):
        setup = isolate()
    else:
        setup = {"net": False, "pid": False, "user": False, "mount": False, "reason": "not asked for"}
    setup["hidden"], setup["readonly"], setup["proc"] = [], False, False
    if setup["mount"]:
        setup.update(harden_files(session, config.get("hide", []), config.get("keep", [])))
        os.chdir(os.getcwd())  # the working directory was opened before the writable bind mount
    sys.stdout.flush()
    sys.stderr.flush()
    if setup["pid"]:
        # The first child is the namespace's init: when it exits, the kernel kills
        # everything the cell started. The cell itself runs in a grandchild, because
        # init ignores signals it has no handler for (the CPU limit's SIGXCPU among them).
        init = os.fork()
        if init != 0:
            os._exit(reap(init))
        die_with_parent(None)
        if setup["mount"]:
            setup["proc"] = private_proc()
    # outer process, init and the cell count too
    if setup["user"] and config.get("processes") and limit_processes(config["processes"] + 3):
        rlimits["processes"] = config["processes"]
    setup["rlimits"] = rlimits
    write_json(os.path.join(session, "setup.json"), setup)
    if config.get("probe"):
        os._exit(0)
    with open(os.path.join(session, "cell.py"), encoding="utf-8") as handle:
        source = handle.read()
    if setup["pid"]:
        cell = os.fork()
        if cell != 0:
            code = reap(cell)
            if code > 128:
                write_json(os.path.join(session, "status.json"), {"signal": code - 128})
            os._exit(code)
        die_with_parent(None)
    result = run_cell(source, config.get("value_chars", 10000))
    write_json(os.path.join(session, "result.json"), result)
    os._exit(result["exit_code"] & 0xFF)


if __name__ == "__main__":
    main()
