"""Options of the ``file`` store driver.

They are registered in the group of every store of type ``file``: for
``enabled_backends = fast:file`` they are read from ``[fast]``, and the
reserved stores read them from ``[os_glance_staging_store]`` and
``[os_glance_tasks_store]``.
"""

from oslo_config import cfg

ALL_OPTS = [
    cfg.StrOpt(
        'filesystem_store_datadir',
        sample_default='$state_path/stores/<store name>',
        help='Directory holding this store\'s image files; created if '
             'missing. Defaults to $state_path/stores/<store name>. '
             'Files are written under a temporary name in this directory '
             'and renamed into place when complete, so it must be one '
             'filesystem and no other program should write into it.'),
    cfg.IntOpt(
        'filesystem_store_chunk_size',
        default=4 * 1024 * 1024,
        min=4096,
        help='Bytes read, hashed and written per step when data moves '
             'through this store. Memory use per transfer is about one '
             'chunk; larger chunks cost fewer system calls.'),
]
