"""The benchmark suite runs, small, from this checkout: CI's smoke run.

Timing goals are the benchmarks' business and are not asserted here
(a loaded CI machine would make such a test flaky); what is checked is
that every benchmark ran to the end and wrote its figures, and that
the one correctness figure among them holds: exactly one copy written
under contention. (Memory growth is judged at full size only: between
tiny images it measures the workers warming up.)
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

from tests.unit.db import base as db_base

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class BenchmarkSmokeTests(unittest.TestCase):

    def test_smoke_run(self):
        backends = ','.join(sorted(
            db_base.required_backends() & {'mysql', 'postgresql'})) or (
                'sqlite')
        with tempfile.TemporaryDirectory() as scratch:
            output = os.path.join(scratch, 'results.json')
            run = subprocess.run(
                [sys.executable, '-m', 'benchmarks', '--size', '32M',
                 '--large-size', '64M', '--repeat', '1', '--requests', '200',
                 '--concurrency', '20', '--imports', '6',
                 '--backends', backends,
                 '--output', output],
                cwd=ROOT, capture_output=True, text=True, timeout=600)
            self.assertEqual(0, run.returncode, run.stdout + run.stderr)
            with open(output) as result_file:
                result = json.load(result_file)
        self.assertEqual([], result['errors'])
        benchmarks = {row['benchmark'].split(' ')[0]
                      for row in result['rows']}
        self.assertEqual({'store', 'glance-direct', 'copy-image', 'memory',
                          'contention', 'takeover', 'format-inspection',
                          'image-conversion', 'conductors'},
                         benchmarks)
        copies = [row for row in result['rows']
                  if row['figure'] == 'copies written']
        self.assertEqual(len(backends.split(',')), len(copies))
        self.assertTrue(all(row['value'] == 1 for row in copies), copies)
