"""Judging a Tempest run against the skip list.

The skip list (tools/tempest/skip-list.txt) names, one regular
expression a line, the tests that may fail: each must follow a comment
saying why (a test needing Nova, a feature glance-lite will not have).
The listed tests still run, so one that starts passing is reported and
can be taken off the list. Any other failure fails the job.
"""

import csv
import io
import re

FAILED = ('fail', 'failure', 'uxsuccess')
PASSED = ('success', 'xfail')
SKIPPED = ('skip',)


class SkipListError(Exception):
    """The skip list is malformed; the message names the line."""


def read_skip_list(path):
    """[(compiled regex, reason)] from the skip list file at ``path``.

    A regex line takes as its reason the comment lines just above it
    (a blank line ends a comment); a regex without one is refused, as
    is one that does not compile.
    """
    entries = []
    reason = []
    with open(path) as skip_list:
        for number, line in enumerate(skip_list, 1):
            line = line.strip()
            if not line:
                reason = []
            elif line.startswith('#'):
                reason.append(line.lstrip('#').strip())
            else:
                if not reason:
                    raise SkipListError(
                        '%s:%d: %s has no comment above it saying why it '
                        'is skipped' % (path, number, line))
                try:
                    pattern = re.compile(line)
                except re.error as error:
                    raise SkipListError('%s:%d: %s is not a valid regular '
                                        'expression: %s' % (
                                            path, number, line,
                                            error)) from error
                entries.append((pattern, ' '.join(reason)))
    return entries


def test_name(test_id):
    """The name a skip list regex is matched against.

    A class whose set-up failed is reported as ``setUpClass
    (tempest.api....Class)``: its name is then the class's.
    """
    match = re.match(r'^\w+ \((.*)\)$', test_id)
    return match.group(1) if match else test_id


def listed_reason(entries, test_id):
    """The skip list's reason for ``test_id``, or None if not listed."""
    name = test_name(test_id)
    for pattern, reason in entries:
        if pattern.search(name):
            return reason
    return None


class Outcome:
    """The tests of one run, sorted by result and by the skip list."""

    def __init__(self, rows, entries):
        self.passed = []
        self.skipped = []
        self.failed = []           # not in the skip list: fail the job
        self.tolerated = []        # failed, in the skip list
        self.listed_passing = []   # passed although in the skip list
        for test_id, status in rows:
            reason = listed_reason(entries, test_id)
            if status in PASSED:
                self.passed.append(test_id)
                if reason is not None:
                    self.listed_passing.append(test_id)
            elif status in SKIPPED:
                self.skipped.append(test_id)
            elif status in FAILED:
                if reason is None:
                    self.failed.append(test_id)
                else:
                    self.tolerated.append((test_id, reason))

    @property
    def ok(self):
        return not self.failed and bool(self.passed)

    def summary(self, backend=None):
        """Lines for the end of the job's output; the last one counts.

        ``backend``, the database glance-lite ran on, names the run.
        """
        lines = []
        for title, tests in (
                ('Failed, in the skip list (tolerated)',
                 ['%s  (%s)' % pair for pair in self.tolerated]),
                ('Passed although in the skip list (take them off it)',
                 self.listed_passing),
                ('FAILED, not in the skip list', self.failed)):
            if tests:
                lines.append('%s: %d' % (title, len(tests)))
                lines.extend('    %s' % test for test in sorted(tests))
        # "failed" counts what fails the job; the tolerated failures are
        # listed above.
        lines.append('tempest%s: %d passed, %d failed, %d skipped' % (
            ' on %s' % backend if backend else '', len(self.passed),
            len(self.failed), len(self.skipped)))
        return lines


def parse_csv(text):
    """[(test id, status)] from subunit2csv's output."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        if row.get('test'):
            rows.append((row['test'], row['status']))
    return rows
