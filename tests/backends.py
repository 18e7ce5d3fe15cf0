"""Which test backends must be there: GLANCE_LITE_TEST_REQUIRE_BACKENDS.

Tests that need a server (MySQL/MariaDB, PostgreSQL, Redis, ZooKeeper)
are skipped when it does not answer, so that the unit tests run on any
machine. A backend listed in ``GLANCE_LITE_TEST_REQUIRE_BACKENDS``
(comma separated, e.g. ``mysql,postgresql,redis,zookeeper``) fails its
tests instead, which is what CI wants: there a missing server is a
broken job, not a reason to test less.
"""

import os
import unittest

ENVIRONMENT_VARIABLE = 'GLANCE_LITE_TEST_REQUIRE_BACKENDS'


def required_backends():
    """Names of the backends whose tests must not be skipped.

    SQLite is always there, so it is always required.
    """
    value = os.environ.get(ENVIRONMENT_VARIABLE, '')
    return {'sqlite'} | {name.strip() for name in value.split(',')
                         if name.strip()}


def skip_or_fail(backend, reason):
    """Skip the running test for want of ``backend``, or fail if required.

    ``reason`` says what is missing and how to get it.
    """
    if backend in required_backends():
        raise AssertionError('required test backend %s is not available '
                             '(%s lists it): %s' % (
                                 backend, ENVIRONMENT_VARIABLE, reason))
    raise unittest.SkipTest(reason)
