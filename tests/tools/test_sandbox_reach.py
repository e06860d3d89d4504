"""The approval card's sentences follow what was enforced, one fact at a time."""

import os

from app.tools.python_sandbox import Enforcement, SandboxLimits
from app.tools.sandbox_reach import describe_reach, reach_lines, reach_summary

ALL_LIMITS = ("cpu_s", "memory_bytes", "file_bytes", "open_files", "processes")
LIMITS = SandboxLimits(cpu_s=7, memory_mb=300, wall_s=20, processes=32)


def full(**changes) -> Enforcement:
    home = os.path.realpath(os.path.expanduser("~"))
    values = dict(rlimits=ALL_LIMITS, network_isolated=True, process_tree=True, user_namespace=True,
                  hidden=(home,), files_readonly=True, private_proc=True)
    values.update(changes)
    return Enforcement(**values)


def test_everything_enforced():
    lines = reach_lines(full(), LIMITS)
    assert lines[0].endswith("in a separate process with 7 s of CPU time, 300 MB of memory, 20 s in all "
                             "and at most 32 processes.")
    assert ("It cannot see your home folder; it can read the other files on this computer but change none "
            "outside its own folder.") in lines
    assert "No network: it gets an empty network of its own (a Linux network namespace)." in lines
    assert "It cannot read the memory or environment of your other programs, Ponder's included." in lines
    assert "Everything it starts is stopped with it." in lines
    assert reach_summary(full(), LIMITS) == (
        "separate process · 7 s CPU · 300 MB · no network · home hidden · read-only files")


def test_nothing_but_the_wall_clock_enforced():
    bare = Enforcement(rlimits=(), network_isolated=False, process_tree=False, reason="unshare failed: nope")
    lines = reach_lines(bare, LIMITS)
    assert lines[0].endswith("with 20 s in all (this system does not limit CPU time or memory or the number "
                             "of processes).")
    assert "It can read and change any file your account can." in lines
    assert any("It can use the network" in line and "(unshare failed: nope)" in line for line in lines)
    assert "Processes it starts in a new session can outlive it." in lines
    assert any(line.startswith("It starts without Ponder's environment variables, but can read those")
               for line in lines)
    assert "no network" not in describe_reach(bare, LIMITS).lower()
    assert reach_summary(bare, LIMITS) == "separate process · network allowed · can change your files"


def test_each_fact_changes_only_its_sentence():
    base = reach_lines(full(), LIMITS)
    order = ["limits", "folder", "files", "network", "sockets", "programs", "tree"]
    for change, differs in (
        ({"network_isolated": False}, "network"),
        ({"files_readonly": False}, "files"),
        ({"hidden": ()}, "files"),
        ({"user_namespace": False}, "programs"),
        ({"process_tree": False}, "tree"),
        ({"rlimits": ("cpu_s",)}, "limits"),
    ):
        changed = reach_lines(full(**change), LIMITS)
        assert len(changed) == len(base)
        assert [order[i] for i, (a, b) in enumerate(zip(base, changed)) if a != b] == [differs], change
