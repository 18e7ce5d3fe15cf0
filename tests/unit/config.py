"""Fresh glance-lite configurations for tests."""

import os
import tempfile

from oslo_config import cfg

from glance_lite import conf as glance_conf


def make_conf(*config_lines):
    """A ConfigOpts with every glance-lite option, parsed from these lines.

    The lines form a config file, so values go through the same parsing
    and validation as an operator's file.
    """
    conf = cfg.ConfigOpts()
    glance_conf.register_opts(conf)
    with tempfile.NamedTemporaryFile('w', suffix='.conf',
                                     delete=False) as config_file:
        config_file.write('\n'.join(config_lines) + '\n')
    try:
        conf(['--config-file', config_file.name], project='glance-lite')
    finally:
        os.unlink(config_file.name)
    return conf
