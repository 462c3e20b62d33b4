#!/usr/bin/python3
# seccomp-exec.py FILTER_JSON COMMAND...: runs COMMAND under the system-call filter that a
# systemd unit's SystemCallFilter= lines (in order, as JSON) describe, built as systemd builds
# it: the first line an allow list (or a deny list with ~), each later ~ line removes calls,
# each later line adds them back; a refused call fails with EPERM (SystemCallErrorNumber=EPERM).
# Groups (@system-service…) are expanded by systemd-analyze itself. Needs Debian's python3-seccomp.
# With --memory-deny-write-execute first, COMMAND also runs as MemoryDenyWriteExecute=yes has it
# run: no memory mapped writable and executable, none made executable later (PR_SET_MDWE).
import ctypes
import errno
import json
import os
import subprocess
import sys

import seccomp


def expand(name):
    if not name.startswith('@'):
        return {name}
    out = subprocess.run(['systemd-analyze', 'syscall-filter', name], capture_output=True, text=True, check=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        word = line.strip()
        if word and not word.startswith('#'):
            calls |= expand(word)
    return calls


PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
if sys.argv[1] == '--memory-deny-write-execute':
    del sys.argv[1]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        sys.exit(f'seccomp-exec.py: prctl(PR_SET_MDWE): {os.strerror(ctypes.get_errno())}')

lines = json.loads(sys.argv[1])
allowed = None
denied = set()
for line in lines:
    negative = line.startswith('~')
    calls = set().union(*(expand(word) for word in line.lstrip('~').split()))
    if allowed is None and not negative:
        allowed = calls
    elif allowed is None:
        denied |= calls
    elif negative:
        allowed -= calls
    else:
        allowed |= calls

if allowed is not None:
    rules = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
    action, names = seccomp.ALLOW, allowed
else:
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    action, names = seccomp.ERRNO(errno.EPERM), denied
for name in sorted(names):
    try:
        rules.add_rule(action, name)
    except (RuntimeError, ValueError):
        pass  # a call this architecture does not have
rules.load()
os.execvp(sys.argv[2], sys.argv[2:])
