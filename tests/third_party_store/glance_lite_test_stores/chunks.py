"""A glance-lite store driver that keeps image data as rows of chunks.

It lives outside glance-lite on purpose: the contract tests load it by
its entry point to prove a third-party store needs no change to
glance-lite. All chunks of a write are inserted in one SQLite
transaction, so an image becomes visible in a single commit and a
failed write leaves nothing behind.
"""

import datetime
import os
import sqlite3
import urllib.parse

from oslo_config import cfg

from glance_lite.common import exception
from glance_lite.common import streaming
from glance_lite.store import driver

_SCHEMA = '''
CREATE TABLE IF NOT EXISTS chunks (
    object TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (object, seq));
CREATE TABLE IF NOT EXISTS objects (
    object TEXT PRIMARY KEY,
    written_at TEXT NOT NULL)
'''


class ChunkStore(driver.StoreDriver):

    OPTS = [
        cfg.StrOpt('chunk_store_database',
                   help='SQLite file holding the chunks; defaults to '
                        '$state_path/<store name>.chunks.sqlite.'),
        cfg.IntOpt('chunk_store_chunk_size', default=1024 * 1024,
                   help='Bytes per stored chunk.'),
    ]

    def __init__(self, name, conf):
        super().__init__(name, conf)
        self.database = (self.conf_group.chunk_store_database or os.path.join(
            conf.state_path, '%s.chunks.sqlite' % name))
        self.chunk_size = self.conf_group.chunk_store_chunk_size
        with self._connect() as connection:
            connection.executescript(_SCHEMA)

    def _connect(self):
        return sqlite3.connect(self.database, timeout=30)

    def _object_of(self, location):
        parts = urllib.parse.urlsplit(location)
        if parts.scheme != 'sqlite-chunks' or parts.netloc != self.name:
            raise exception.InvalidLocation(
                store=self.name, location=location,
                reason='not a location of this store')
        image_id, _, write_id = parts.path.lstrip('/').partition('.')
        return self.object_name(image_id, write_id)

    def add(self, image_id, source, write_id, expected_size=None):
        name = self.object_name(image_id, write_id)
        stream = streaming.MeasuredStream(
            streaming.iter_chunks(source, self.chunk_size), self.name,
            image_id, expected_size=expected_size,
            size_cap=self.conf.image_size_cap)
        with self._connect() as connection:  # commits, or rolls back
            self._forget(connection, name)
            # An empty first row, so that an empty image exists too.
            connection.execute('INSERT INTO chunks VALUES (?, -1, ?)',
                               (name, b''))
            for seq, chunk in enumerate(stream):
                connection.execute('INSERT INTO chunks VALUES (?, ?, ?)',
                                   (name, seq, chunk))
            # When the write becomes visible: at this commit.
            connection.execute(
                'INSERT INTO objects VALUES (?, ?)',
                (name, datetime.datetime.now(datetime.timezone.utc)
                 .replace(tzinfo=None).isoformat()))
        return driver.StoredImage(
            'sqlite-chunks://%s/%s' % (self.name, name), stream.size,
            stream.checksum, stream.os_hash_value)

    def get(self, location, offset=0, length=None):
        name = self._object_of(location)
        if not self.exists(location):
            raise exception.StoreDataNotFound(store=self.name,
                                              location=location)
        return self._read(name, offset, length)

    def _read(self, name, offset, length):
        end = None if length is None else offset + length
        position = 0
        with self._connect() as connection:
            for (data,) in connection.execute(
                    'SELECT data FROM chunks WHERE object = ? ORDER BY seq',
                    (name,)):
                start, position = position, position + len(data)
                piece = data[max(offset - start, 0):
                             None if end is None else end - start]
                if piece:
                    yield piece
                if end is not None and position >= end:
                    return

    def delete(self, location):
        name = self._object_of(location)
        with self._connect() as connection:
            deleted = self._forget(connection, name)
        if not deleted:
            raise exception.StoreDataNotFound(store=self.name,
                                              location=location)

    def exists(self, location):
        name = self._object_of(location)
        with self._connect() as connection:
            return connection.execute(
                'SELECT 1 FROM chunks WHERE object = ? LIMIT 1',
                (name,)).fetchone() is not None

    def discard(self, image_id, write_id):
        name = self.object_name(image_id, write_id)
        with self._connect() as connection:
            self._forget(connection, name)

    @staticmethod
    def _forget(connection, name):
        connection.execute('DELETE FROM objects WHERE object = ?', (name,))
        return connection.execute('DELETE FROM chunks WHERE object = ?',
                                  (name,)).rowcount

    def list_objects(self, image_id=None):
        """Every object; a write commits at once, so none is partial."""
        query = ('SELECT chunks.object, SUM(LENGTH(data)), written_at '
                 'FROM chunks LEFT JOIN objects USING (object) ')
        arguments = ()
        if image_id is not None:
            query += 'WHERE chunks.object LIKE ? '
            arguments = (self.object_name(image_id, 'x')[:-1] + '%',)
        with self._connect() as connection:
            rows = connection.execute(query + 'GROUP BY chunks.object',
                                      arguments).fetchall()
        for name, size, written_at in rows:
            image, _, write_id = name.partition('.')
            yield driver.StoredObject(
                image, write_id, 'sqlite-chunks://%s/%s' % (self.name, name),
                size, True, written_at and
                datetime.datetime.fromisoformat(written_at))
