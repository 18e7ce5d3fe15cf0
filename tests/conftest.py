"""Test-run wiring: where the opportunistic databases are, and a summary.

oslo.db reads ``OS_TEST_DBAPI_ADMIN_CONNECTION`` once, when its
provisioning module is imported, so the default is set here, before any
test module imports it. The SQLite URL names a file (not ``sqlite://``)
so each test gets a file database that several threads and processes
can share, as the race tests need.
"""

import collections
import os

os.environ.setdefault(
    'OS_TEST_DBAPI_ADMIN_CONNECTION',
    ';'.join([
        'sqlite:///glance-lite-test.db',
        'mysql+pymysql://openstack_citest:openstack_citest@localhost/',
        'postgresql+psycopg2://openstack_citest:openstack_citest'
        '@localhost/postgres',
    ]))

_BACKEND_OF_TEST = {}
# One outcome per test: a test with subtests (unittest's subTest) sends a
# report per subtest, and a test has setup, call and teardown reports;
# counting reports instead of tests made the summary disagree with
# pytest's totals.
_OUTCOME_OF_TEST = {}
_SEVERITY = {'passed': 0, 'skipped': 1, 'failed': 2}


def pytest_collection_modifyitems(items):
    """Note the servers each test needs: a database, a jobboard (BACKEND)."""
    for item in items:
        backends = []
        fixture = getattr(item.cls, 'FIXTURE', None)
        if fixture is not None:
            backends.append(fixture.DRIVER)
        jobboard = getattr(item.cls, 'BACKEND', None)
        if jobboard in ('redis', 'zookeeper'):
            backends.append(jobboard)
        if backends:
            _BACKEND_OF_TEST[item.nodeid] = backends


def pytest_runtest_logreport(report):
    if report.nodeid not in _BACKEND_OF_TEST:
        return
    if report.when == 'call' or not report.passed:
        previous = _OUTCOME_OF_TEST.get(report.nodeid)
        if previous is None or (
                _SEVERITY[report.outcome] > _SEVERITY[previous]):
            _OUTCOME_OF_TEST[report.nodeid] = report.outcome


def pytest_terminal_summary(terminalreporter):
    if not _OUTCOME_OF_TEST:
        return
    counts = collections.defaultdict(collections.Counter)
    for nodeid, outcome in _OUTCOME_OF_TEST.items():
        for backend in _BACKEND_OF_TEST[nodeid]:
            counts[backend][outcome] += 1
    terminalreporter.section('tests per backend (database, jobboard)')
    for backend in sorted(counts):
        terminalreporter.write_line(
            '%-11s passed=%d failed=%d skipped=%d' % (
                backend, counts[backend]['passed'],
                counts[backend]['failed'], counts[backend]['skipped']))
    skipped = {backend for backend, backend_counts in counts.items()
               if backend_counts['skipped']}
    if skipped - {'redis', 'zookeeper'}:
        # Imported here: oslo.db must not be imported before the
        # environment default above is set.
        from tests.unit.db import base as db_base
        terminalreporter.write_line(
            'Database tests were skipped. ' + db_base.HOW_TO_ENABLE_BACKENDS)
    if skipped & {'redis', 'zookeeper'}:
        from tests import jobboards
        terminalreporter.write_line(
            'Jobboard tests were skipped. ' + jobboards.HOW_TO_ENABLE)
