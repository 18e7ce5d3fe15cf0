"""What users and operators are told by glance-lite's exceptions."""

import inspect
import unittest

from glance_lite.common import exception
from glance_lite.conf import stores

# Operator-side words a reason may carry: an option, a path, an errno.
INTERNAL_REASON = ('[import_filtering_opts] allowed_hosts; '
                   '/var/lib/glance-lite/stores/fast: Permission denied')


def every_exception():
    return [cls for _name, cls in inspect.getmembers(exception,
                                                     inspect.isclass)
            if issubclass(cls, exception.GlanceLiteException)]


def make(cls, **given):
    """``cls`` raised with ``given`` and a sample for every other argument."""
    recorder = _Recorder()
    cls.msg_fmt % recorder
    if cls.log_fmt:
        cls.log_fmt % recorder
    names = set(recorder.samples) - {'where', 'Where'}
    if names != set(recorder.samples):
        names.add('store')  # "where" is made of it
    return cls(**{name: given.get(name, recorder.samples.get(name))
                  for name in names})


class _Recorder(dict):
    """Format arguments that note each name a format asks for."""

    def __init__(self):
        super().__init__()
        self.samples = {}

    def __missing__(self, name):
        sample = 7 if name in ('limit', 'expected') else 'sample-%s' % name
        self.samples[name] = sample
        return sample


class UserMessageTests(unittest.TestCase):

    def test_users_never_see_the_staging_store_or_operator_detail(self):
        """Every exception, raised for the staging store with an
        operator's reason: its user message names neither."""
        for cls in every_exception():
            if cls in (exception.InvalidConfiguration,
                       exception.StoreNotListable):
                continue  # told to the operator running a command
            with self.subTest(cls=cls.__name__):
                error = make(cls, store=stores.STAGING_STORE,
                             reason=INTERNAL_REASON, rule=INTERNAL_REASON)
                message = str(error)
                self.assertNotIn('os_glance_', message)
                # A reason users are shown (a web server's answer to
                # their URL, say) is in msg_fmt; others are the log's.
                if '%(reason)s' not in cls.msg_fmt:
                    self.assertNotIn('allowed_hosts', message)
                    self.assertNotIn('/var/lib', message)
                if '%(reason)s' in (cls.log_fmt or ''):
                    self.assertIn(INTERNAL_REASON, error.detail)

    def test_the_staging_store_is_the_staging_area(self):
        error = exception.ImportLockHeld(
            image_id='i', store=stores.STAGING_STORE, task_id='t')
        self.assertEqual('Image i is already being imported to the staging '
                         'area by task t.', str(error))
        self.assertEqual(
            'The staging area is not enabled; enabled stores: fast.',
            str(exception.UnknownStore(store=stores.STAGING_STORE,
                                       enabled='fast')))

    def test_operators_get_the_detail(self):
        error = exception.BackendUnavailable(
            store='fast', reason='/srv/fast: Input/output error')
        self.assertEqual('The image data in store fast cannot be reached '
                         'now.', str(error))
        self.assertEqual('Store fast is unavailable: /srv/fast: '
                         'Input/output error', error.detail)

    def test_unknown_errors_are_not_shown_to_users(self):
        self.assertEqual(
            'An internal error occurred; the service log has the details '
            'of task t1.', exception.message_for_users(
                RuntimeError('cannot schedule new futures after '
                             'interpreter shutdown'), 't1'))
        self.assertEqual('Image i not found.', exception.message_for_users(
            exception.ImageNotFound(image_id='i'), 't1'))
