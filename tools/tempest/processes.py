"""The processes the Tempest job starts, and stopping them by pid.

Every server is started in a session (and so a process group) of its
own, so a terminal's Ctrl-C reaches only the job, which then stops them
in order. Each pid is also written to a file in the work directory: a
job killed outright (SIGKILL, a lost terminal) leaves its servers
behind, and the next run stops exactly those, by pid and start time,
before it starts its own.
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import psutil

STOP_TIMEOUT = 20


def free_port():
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class Processes:
    """The servers one run started, recorded in ``pid_file``."""

    def __init__(self, pid_file):
        self.pid_file = pid_file
        self.started = []  # (name, Popen), in start order

    def start(self, name, argv, log_path, cwd=None, env=None):
        """Start ``argv`` in a session of its own, output to ``log_path``.

        With ``log_path`` None the output is a pipe for the caller to
        read (``process.stdout``).
        """
        log = open(log_path, 'ab') if log_path else subprocess.PIPE
        try:
            process = subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            if log_path:
                log.close()
        self.started.append((name, process))
        self._record()
        return process

    def _record(self):
        entries = []
        for name, process in self.started:
            try:
                created = psutil.Process(process.pid).create_time()
            except psutil.NoSuchProcess:
                continue
            entries.append({'name': name, 'pid': process.pid,
                            'created': created})
        with open(self.pid_file, 'w') as pid_file:
            json.dump(entries, pid_file)

    def stop(self, process):
        """Stop one server this run started."""
        for name, started in self.started:
            if started is process:
                stop_group(name, process.pid)
                process.wait()
        self.started = [(name, started) for name, started in self.started
                        if started is not process]
        self._record()

    def stop_all(self):
        """Stop every server started, last started first."""
        for name, process in reversed(self.started):
            stop_group(name, process.pid)
            process.wait()
        self.started = []
        if os.path.exists(self.pid_file):
            os.unlink(self.pid_file)


def stop_leftovers(pid_file, say):
    """Stop the servers an earlier run recorded and did not stop."""
    try:
        with open(pid_file) as recorded:
            entries = json.load(recorded)
    except (FileNotFoundError, ValueError):
        return
    for entry in entries:
        try:
            process = psutil.Process(entry['pid'])
            same = process.create_time() == entry['created']
        except psutil.NoSuchProcess:
            continue
        if same:
            say('stopping %s (pid %d) left by an earlier run'
                % (entry['name'], entry['pid']))
            stop_group(entry['name'], entry['pid'])
    os.unlink(pid_file)


def stop_group(name, pid, timeout=STOP_TIMEOUT):
    """SIGTERM the process group led by ``pid``; SIGKILL what outlives it.

    The group is the one the server was started in (its pid is the
    group's id), so its workers go with it and nothing else is touched.
    """
    members = _group_members(pid)
    _signal_group(pid, signal.SIGTERM)
    gone, alive = psutil.wait_procs(members, timeout=timeout)
    if alive:
        _signal_group(pid, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=5)


def _group_members(pid):
    try:
        leader = psutil.Process(pid)
        return [leader] + leader.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _signal_group(pid, signum):
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass


def wait_for_url(url, process, log_path, timeout=120):
    """Wait until ``url`` answers (any HTTP status); fail if ``process`` dies.

    Returns the status of the first answer.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise JobError('%s exited with %s before answering; its log '
                           '(%s) ends:\n%s' % (
                               url, process.returncode, log_path,
                               tail(log_path)))
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            time.sleep(0.3)
    raise JobError('%s did not answer within %d s; its log (%s) ends:\n%s'
                   % (url, timeout, log_path, tail(log_path)))


def run_checked(argv, log_path, cwd=None, env=None):
    """Run a set-up command to its end, output to ``log_path``."""
    with open(log_path, 'ab') as log:
        log.write(('$ %s\n' % ' '.join(argv)).encode())
        log.flush()
        result = subprocess.run(argv, cwd=cwd, env=env, stdout=log,
                                stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise JobError('%s exited with %d; %s ends:\n%s' % (
            ' '.join(argv[:2]), result.returncode, log_path, tail(log_path)))


def tail(path, lines=30):
    """The last ``lines`` lines of a log file, for an error message."""
    try:
        with open(path, errors='replace') as log:
            return ''.join(log.readlines()[-lines:])
    except FileNotFoundError:
        return '(no log)'


class JobError(Exception):
    """A step of the job failed; the message says which and why."""
