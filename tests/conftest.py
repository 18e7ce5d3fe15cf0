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
_OUTCOMES = collections.defaultdict(collections.Counter)


def pytest_collection_modifyitems(items):
    for item in items:
        fixture = getattr(item.cls, 'FIXTURE', None)
        if fixture is not None:
            _BACKEND_OF_TEST[item.nodeid] = fixture.DRIVER


def pytest_runtest_logreport(report):
    backend = _BACKEND_OF_TEST.get(report.nodeid)
    if backend is None:
        return
    if report.when == 'call' or (report.when == 'setup' and not report.passed):
        _OUTCOMES[backend][report.outcome] += 1


def pytest_terminal_summary(terminalreporter):
    if not _OUTCOMES:
        return
    terminalreporter.section('database tests per backend')
    for backend in sorted(_OUTCOMES):
        counts = _OUTCOMES[backend]
        terminalreporter.write_line(
            '%-11s passed=%d failed=%d skipped=%d' % (
                backend, counts['passed'], counts['failed'],
                counts['skipped']))
