"""How the Tempest job (tools/tempest) judges a run against its skip list.

The job itself needs Keystone and Tempest and runs as ``tox -e
tempest``; these tests cover what decides its verdict: the committed
skip list (every entry explained), and the sorting of a run's results
into passed, skipped, tolerated and job-failing.
"""

import importlib.util
import os
import re
import tempfile
import textwrap
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
JOB_DIR = os.path.join(ROOT, 'tools', 'tempest')


def load_results_module():
    spec = importlib.util.spec_from_file_location(
        'tempest_job_results', os.path.join(JOB_DIR, 'results.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


results = load_results_module()

TEST = 'tempest.api.image.v2.test_images.BasicOperationsImagesTest'
# As subunit2csv writes them: ids with a comma are quoted.
CSV = textwrap.dedent('''\
    test,status,start_time,stop_time
    %(t)s.test_delete_image[id-1],success,2026-12-01 02:33:08,2026-12-01 02:33:09
    "%(t)s.test_update_image[id-2,smoke]",failure,2026-12-01 02:33:09,2026-12-01 02:33:10
    setUpClass (tempest.api.image.v2.admin.test_image_caching.ImageCachingTest),skip,2026-12-01 02:33:10,2026-12-01 02:33:10
    setUpClass (tempest.api.image.v2.test_images_dependency.ImageDependencyTests),failure,2026-12-01 02:33:10,2026-12-01 02:33:11
    ''') % {'t': TEST}  # noqa: E501


class SkipListTests(unittest.TestCase):

    def write(self, text):
        handle, path = tempfile.mkstemp(suffix='.txt')
        with os.fdopen(handle, 'w') as skip_list:
            skip_list.write(textwrap.dedent(text))
        self.addCleanup(os.unlink, path)
        return path

    def test_the_committed_skip_list_explains_every_entry(self):
        entries = results.read_skip_list(os.path.join(JOB_DIR,
                                                      'skip-list.txt'))
        for pattern, reason in entries:
            self.assertTrue(reason.strip(), pattern.pattern)

    def test_reason_is_the_comment_just_above(self):
        path = self.write('''\
            # Header, then a blank line: not a reason.

            # Needs Nova
            # to boot the image.
            ^tempest\\.api\\.image\\.v2\\.test_images_dependency
            ''')
        [(pattern, reason)] = results.read_skip_list(path)
        self.assertEqual('Needs Nova to boot the image.', reason)
        self.assertTrue(pattern.search(
            'tempest.api.image.v2.test_images_dependency.X.test_y'))

    def test_an_entry_without_a_comment_is_refused(self):
        path = self.write('''\
            # Needs Nova.

            ^tempest\\.api\\.image\\.v2\\.test_images_dependency
            ''')
        with self.assertRaises(results.SkipListError) as caught:
            results.read_skip_list(path)
        self.assertIn(':3: ', str(caught.exception))
        self.assertIn('no comment', str(caught.exception))

    def test_an_invalid_regex_is_refused(self):
        path = self.write('''\
            # Why.
            tempest.api.image.v2.test_images(
            ''')
        with self.assertRaises(results.SkipListError) as caught:
            results.read_skip_list(path)
        self.assertIn('not a valid regular expression', str(caught.exception))


class OutcomeTests(unittest.TestCase):

    def entries(self, *patterns):
        return [(re.compile(pattern), 'because') for pattern in
                patterns]

    def test_csv_rows_keep_quoted_ids_whole(self):
        rows = results.parse_csv(CSV)
        self.assertEqual(4, len(rows))
        self.assertEqual(('%s.test_update_image[id-2,smoke]' % TEST,
                          'failure'), rows[1])

    def test_unlisted_failures_fail_the_job(self):
        outcome = results.Outcome(results.parse_csv(CSV), [])
        self.assertFalse(outcome.ok)
        self.assertEqual(2, len(outcome.failed))
        self.assertEqual('tempest: 1 passed, 2 failed, 1 skipped',
                         outcome.summary()[-1])
        self.assertEqual('tempest on mysql: 1 passed, 2 failed, 1 skipped',
                         outcome.summary('mysql')[-1])

    def test_listed_failures_are_tolerated_by_class_name_too(self):
        # A class whose set-up failed is matched by its dotted name.
        outcome = results.Outcome(results.parse_csv(CSV), self.entries(
            r'\.test_update_image\b', r'^tempest\.api\.image\.v2\.'
            r'test_images_dependency\.ImageDependencyTests$'))
        self.assertTrue(outcome.ok)
        self.assertEqual([], outcome.failed)
        self.assertEqual(2, len(outcome.tolerated))
        self.assertEqual('tempest: 1 passed, 0 failed, 1 skipped',
                         outcome.summary()[-1])

    def test_listed_tests_that_pass_are_reported(self):
        outcome = results.Outcome(results.parse_csv(CSV), self.entries(
            r'test_delete_image'))
        self.assertEqual(['%s.test_delete_image[id-1]' % TEST],
                         outcome.listed_passing)
        self.assertIn('Passed although in the skip list (take them off '
                      'it): 1', outcome.summary())

    def test_a_run_with_no_passing_test_fails(self):
        outcome = results.Outcome([('%s.test_x' % TEST, 'skip')], [])
        self.assertFalse(outcome.ok)
