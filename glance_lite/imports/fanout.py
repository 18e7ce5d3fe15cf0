"""One read of an import's source, shared by the target stores it feeds.

An import to N stores used to read its source N times, one store after
the other. Now each target store keeps its own flow atom
(tasks.ImportToStore: its own verification, lock checks, revert and
failure marker) and the atoms run side by side, each writing from a
``SharedRead``: one thread reads the source once and hands every chunk
to each target still reading.

The reader also hashes what it reads, once for all targets: each is
handed the same immutable bytes, so a hash per target could only find
the same digests again, and on two cores three targets' md5 and sha512
cost three times the CPU of one. Each target still counts what it
writes and checks its size and digests against the source's
(ImportToStore); a store that changes the bytes it writes hashes them
itself (store.driver.takes_measurement).

Why one atom per store and not one atom for all: each store's copy is
then a result of its own, persisted and reverted on its own, which is
what a flow resumed after a crash needs to copy only the stores that
had not finished (issue 14). A resumed flow builds its SharedRead from
the atoms it still runs.

Memory stays flat: each target has a bounded pipe of ``depth`` chunks
(the same bytes objects for all targets, never copies), and the reader
waits while any target's pipe is full, so a slow target slows the
others by back-pressure only, and never corrupts them: chunks are
immutable ``bytes``, and a store that changes what it writes changes
its own copy.

A target leaves (``SharedRead.leave``) when it has adopted the data
instead of reading it, when it finished, or when it failed: the reader
stops handing it chunks at once, so a failing target never stops the
others, and the reader stops reading when no target is left. ``abort``
ends every target's read with CopyAbandoned, for an import whose
stores must all succeed. A lone reader needs no thread: it reads the
source itself, as before.
"""

import collections
import threading

from oslo_log import log as logging

from glance_lite.common import exception
from glance_lite.common import streaming

LOG = logging.getLogger(__name__)

# Chunks queued per target: enough for the reader and the targets to
# overlap, few enough to keep memory flat (a file store's chunk is 4 MiB
# by default; all pipes hold the same chunks, so an import holds about
# DEFAULT_DEPTH + 1 of them, however many its targets).
DEFAULT_DEPTH = 2

_END = object()


class _Pipe:
    """The chunks waiting for one target; ``left`` once it stopped reading."""

    def __init__(self):
        self.items = collections.deque()
        self.left = False


class SharedRead:
    """The read of one source, for the targets named in ``participants``.

    Every participant must either read (``Participant.chunks``) or
    leave without reading; the read starts once all of them have
    decided, since a target that joined late would miss the chunks
    read before. The last participant to leave waits for the reader
    thread to end, so no thread outlives the targets' atoms.
    """

    def __init__(self, participants, depth=DEFAULT_DEPTH):
        self._source = None
        self._depth = depth
        self._changed = threading.Condition()
        self._undecided = set(participants)
        self._pipes = {}
        self._left = set()
        self._open = None
        self._abandoned_by = None
        self._thread = None
        self._measured = None

    def participant(self, name):
        """The handle of participant ``name``, a context manager.

        Leaving its ``with`` block leaves the read, whatever happened.
        """
        if name not in self._undecided:
            raise ValueError('%s is not an undecided participant of this '
                             'read' % name)
        return Participant(self, name)

    @property
    def checksum(self):
        """md5 hex digest of the shared read, once it has ended."""
        return self._measured.checksum

    @property
    def os_hash_value(self):
        """sha512 hex digest of the shared read, once it has ended."""
        return self._measured.os_hash_value

    def abort(self, failed):
        """End every target's read: store ``failed`` failed, all must stop."""
        with self._changed:
            if self._abandoned_by is None:
                self._abandoned_by = failed
            self._changed.notify_all()

    def _join(self, name, source, open_chunks):
        with self._changed:
            self._check_abandoned(name)
            self._pipes[name] = _Pipe()
            if self._open is None:
                self._source, self._open = source, open_chunks
            self._decided(name)
            while self._undecided:
                self._changed.wait()
                self._check_abandoned(name)
            shared = self._thread is not None
        if shared:
            return self._chunks_for(name, self._pipes[name])
        # Nobody to share with: read the source here, with no thread.
        return self._read_alone(name)

    def leave(self, name):
        """``name`` reads no more, or will not read; idempotent."""
        with self._changed:
            self._left.add(name)
            if name in self._undecided:
                self._decided(name)
            pipe = self._pipes.get(name)
            if pipe is not None:
                pipe.left = True
                pipe.items.clear()
            self._changed.notify_all()
            last = not self._undecided and self._left >= set(self._pipes)
            thread = self._thread
        if last and thread is not None:
            thread.join()

    def _decided(self, name):
        """Called under the lock; starts the reader once all decided."""
        self._undecided.discard(name)
        self._changed.notify_all()
        readers = [reader for reader in self._pipes
                   if reader not in self._left]
        if not self._undecided and len(readers) > 1:
            self._thread = threading.Thread(
                target=self._read, daemon=True,
                name='shared-read-%s' % self._source)
            self._thread.start()

    def _check_abandoned(self, name):
        if self._abandoned_by is not None:
            raise exception.CopyAbandoned(store=name,
                                          failed=self._abandoned_by)

    def _read_alone(self, name):
        for chunk in self._open():
            if self._abandoned_by is not None:
                with self._changed:
                    self._check_abandoned(name)
            yield chunk

    def _chunks_for(self, name, pipe):
        while True:
            with self._changed:
                while not pipe.items:
                    self._check_abandoned(name)
                    self._changed.wait()
                self._check_abandoned(name)
                item = pipe.items.popleft()
                self._changed.notify_all()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise _read_error(item, self._source) from item
            yield item

    def _read(self):
        """The reader thread: each chunk to every target still reading.

        It hashes what it reads before handing it out, so the digests
        (``checksum``, ``os_hash_value``) are complete by the time the
        targets get the end of it.
        """
        chunks = measured = None
        try:
            chunks = self._open()
            self._measured = streaming.MeasuredStream(chunks, self._source,
                                                      image_id=None)
            measured = iter(self._measured)
            for chunk in measured:
                if not self._hand_out(chunk):
                    LOG.debug('Shared read of store %s stopped: no target '
                              'reads it any more', self._source)
                    return
            self._hand_out(_END)
        except Exception as error:
            LOG.warning('Shared read of store %s failed: %s', self._source,
                        getattr(error, 'detail', error))
            self._hand_out(error)
        finally:
            if measured is not None:
                measured.close()
            close = getattr(chunks, 'close', None)
            if close is not None:
                close()

    def _hand_out(self, item):
        """Queue ``item`` for every target; False once none reads.

        Waits while a target's pipe is full: the back-pressure that
        keeps at most ``depth`` chunks per target in memory.
        """
        with self._changed:
            for pipe in list(self._pipes.values()):
                while (len(pipe.items) >= self._depth and not pipe.left
                       and self._abandoned_by is None):
                    self._changed.wait()
                if self._abandoned_by is not None:
                    return False
                if not pipe.left:
                    pipe.items.append(item)
            self._changed.notify_all()
            return any(not pipe.left for pipe in self._pipes.values())


def _read_error(error, source):
    """A target's own exception for the source's read failing with
    ``error``: ours keep their message, others become SourceReadFailed."""
    if isinstance(error, exception.GlanceLiteException):
        return type(error)(**error.kwargs)
    return exception.SourceReadFailed(store=source, reason=str(error))


class Participant:
    """One target store's part in a SharedRead (see SharedRead)."""

    def __init__(self, shared, name):
        self._shared = shared
        self.name = name

    def chunks(self, source, open_chunks):
        """The source's chunks, once every participant has decided.

        ``open_chunks()`` opens the source, the store named ``source``
        (for logs and errors); only the first reader's is called, once.
        """
        return self._shared._join(self.name, source, open_chunks)

    @property
    def measurement(self):
        """What hashes this participant's chunks, or None: the SharedRead.

        Asked after ``chunks``: a shared read hashes what it reads once
        for all its targets (streaming.MeasuredStream's
        ``measured_by``); a lone reader's store hashes it itself.
        """
        return self._shared if self._shared._thread is not None else None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._shared.leave(self.name)
        return False
