"""The shared read of an import's source, with real threads.

Each target is a thread reading its participant's chunks, as an
ImportToStore atom does on the parallel engine. No test leaves a
thread behind: the last target to leave waits for the reader thread.
"""

import hashlib
import threading
import time

import testtools

from glance_lite.common import exception
from glance_lite.common import streaming
from glance_lite.imports import fanout

CHUNKS = [bytes([n]) * 1000 for n in range(200)]
DATA = b''.join(CHUNKS)
MD5 = hashlib.md5(DATA, usedforsecurity=False).hexdigest()
SHA512 = hashlib.sha512(DATA).hexdigest()
DEPTH = 4


class Source:
    """A source that counts its openings and the chunks it produced."""

    def __init__(self, chunks=CHUNKS, error_at=None, pause=0):
        self.chunks = chunks
        self.error_at = error_at
        self.pause = pause
        self.opened = 0
        self.produced = 0

    def open(self):
        self.opened += 1
        return self._produce()

    def _produce(self):
        for index, chunk in enumerate(self.chunks):
            if index == self.error_at:
                raise exception.StoreDataNotFound(store='src',
                                                  location='file:///gone')
            self.produced += 1
            # A slow source keeps the reader thread busy after the
            # targets left: only waiting for it makes sure it is gone.
            time.sleep(self.pause)
            yield chunk


def shared_threads():
    return [thread for thread in threading.enumerate()
            if thread.name.startswith('shared-read')]


class SharedReadTests(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.addCleanup(self.assert_no_thread_left)

    def assert_no_thread_left(self):
        self.assertEqual([], shared_threads())

    def run_targets(self, shared, source, targets):
        """Run ``targets`` ({name: consume(chunks)}) in threads.

        Returns {name: what consume returned, or the exception raised}.
        """
        outcome = {}

        def target(name, consume):
            try:
                with shared.participant(name) as reading:
                    outcome[name] = consume(reading.chunks('src',
                                                           source.open))
            except Exception as error:
                outcome[name] = error
        threads = [threading.Thread(target=target, args=item)
                   for item in targets.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcome

    def test_three_targets_read_the_source_once(self):
        source = Source()
        shared = fanout.SharedRead(['a', 'b', 'c'], depth=DEPTH)
        outcome = self.run_targets(shared, source, dict.fromkeys(
            'abc', lambda chunks: b''.join(chunks)))
        self.assertEqual(dict.fromkeys('abc', b''.join(CHUNKS)), outcome)
        self.assertEqual(1, source.opened)
        self.assertEqual(len(CHUNKS), source.produced)

    def measure_in_targets(self, shared, source, names):
        """Each target writes through its own MeasuredStream, as a store
        driver does; returns {name: (measured_by, size, md5, sha512)}."""
        outcome = {}

        def target(name):
            with shared.participant(name) as reading:
                chunks = reading.chunks('src', source.open)
                stream = streaming.MeasuredStream(
                    chunks, name, None, expected_size=len(DATA),
                    measured_by=reading.measurement)
                size = sum(len(chunk) for chunk in stream)
                outcome[name] = (reading.measurement, size, stream.checksum,
                                 stream.os_hash_value)
        threads = [threading.Thread(target=target, args=(name,))
                   for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcome

    def test_a_shared_read_is_hashed_once_for_every_target(self):
        shared = fanout.SharedRead(['a', 'b', 'c'], depth=DEPTH)
        outcome = self.measure_in_targets(shared, Source(), 'abc')
        self.assertEqual(dict.fromkeys('abc', (shared, len(DATA), MD5,
                                               SHA512)), outcome)

    def test_a_lone_target_hashes_its_read_itself(self):
        shared = fanout.SharedRead(['a'], depth=DEPTH)
        outcome = self.measure_in_targets(shared, Source(), 'a')
        self.assertEqual({'a': (None, len(DATA), MD5, SHA512)}, outcome)

    def test_a_lone_target_reads_without_a_thread(self):
        source = Source()
        shared = fanout.SharedRead(['a', 'b'])
        with shared.participant('b'):
            pass  # b adopted the data: it does not read
        seen_threads = []

        def consume(chunks):
            data = []
            for chunk in chunks:
                seen_threads.extend(shared_threads())
                data.append(chunk)
            return b''.join(data)
        outcome = self.run_targets(shared, source, {'a': consume})
        self.assertEqual({'a': b''.join(CHUNKS)}, outcome)
        self.assertEqual([], seen_threads)
        self.assertEqual(1, source.opened)

    def test_no_reader_no_read(self):
        source = Source()
        shared = fanout.SharedRead(['a', 'b'])
        for name in 'ab':
            with shared.participant(name):
                pass
        self.assertEqual(0, source.opened)

    def test_a_slow_target_holds_the_reader_back(self):
        # The reader may run ahead of the slowest target by its pipe
        # (DEPTH chunks), the chunk in hand and the one being produced.
        source = Source()
        shared = fanout.SharedRead(['fast', 'slow'], depth=DEPTH)
        ahead = []

        def fast():
            with shared.participant('fast') as reading:
                return b''.join(reading.chunks('src', source.open))
        fast_thread = threading.Thread(target=fast)
        fast_thread.start()
        with shared.participant('slow') as reading:
            data = []
            for chunk in reading.chunks('src', source.open):
                data.append(chunk)
                ahead.append(source.produced - len(data))
        fast_thread.join()
        self.assertEqual(b''.join(CHUNKS), b''.join(data))
        self.assertLessEqual(max(ahead), DEPTH + 2, ahead)

    def test_a_failing_target_leaves_the_others_reading(self):
        source = Source()
        shared = fanout.SharedRead(['a', 'broken', 'c'], depth=DEPTH)

        def broken(chunks):
            for index, _chunk in enumerate(chunks):
                if index == 10:
                    raise exception.StoreFull(store='broken', image_id='x',
                                              reason='disk full')
        outcome = self.run_targets(shared, source, {
            'a': b''.join, 'broken': broken, 'c': b''.join})
        self.assertIsInstance(outcome.pop('broken'), exception.StoreFull)
        self.assertEqual(dict.fromkeys('ac', b''.join(CHUNKS)), outcome)
        self.assertEqual(1, source.opened)

    def test_the_read_stops_when_every_target_left(self):
        source = Source(pause=0.01)
        shared = fanout.SharedRead(['a', 'b'], depth=DEPTH)

        def stop_at(count):
            def consume(chunks):
                for index, _chunk in enumerate(chunks):
                    if index == count:
                        raise exception.ImportLockLost(
                            image_id='x', task_id='t', store='a')
            return consume
        outcome = self.run_targets(shared, source,
                                   {'a': stop_at(5), 'b': stop_at(7)})
        self.assertEqual(
            {exception.ImportLockLost},
            {type(error) for error in outcome.values()})
        # The cleanup checks the reader thread is gone; it read little.
        self.assertLess(source.produced, 7 + DEPTH + 3)

    def test_abort_gives_up_every_copy(self):
        source = Source()
        shared = fanout.SharedRead(['a', 'b', 'c'], depth=DEPTH)

        def failing(chunks):
            for index, _chunk in enumerate(chunks):
                if index == 3:
                    shared.abort('b')
                    raise exception.StoreFull(store='b', image_id='x',
                                              reason='disk full')
        outcome = self.run_targets(shared, source, {
            'a': b''.join, 'b': failing, 'c': b''.join})
        self.assertIsInstance(outcome['b'], exception.StoreFull)
        for name in 'ac':
            self.assertIsInstance(outcome[name], exception.CopyAbandoned)
            self.assertIn('store b failed', str(outcome[name]))
        self.assertLess(source.produced, len(CHUNKS))

    def test_a_source_error_reaches_every_target(self):
        source = Source(error_at=50)
        shared = fanout.SharedRead(['a', 'b'], depth=DEPTH)
        outcome = self.run_targets(shared, source,
                                   dict.fromkeys('ab', b''.join))
        for error in outcome.values():
            self.assertIsInstance(error, exception.StoreDataNotFound)
            self.assertEqual('The image data was not found in store src.',
                             str(error))
        self.assertIsNot(outcome['a'], outcome['b'])

    def test_an_unknown_participant_is_refused(self):
        shared = fanout.SharedRead(['a'])
        self.assertRaises(ValueError, shared.participant, 'z')
