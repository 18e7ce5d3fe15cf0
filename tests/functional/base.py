"""Running glance-lite's installed console scripts as real processes."""

import os
import subprocess
import sys
import tempfile

BIN_DIR = os.path.dirname(sys.executable)


class CommandRunner:
    """Write a config file into a scratch directory and run commands."""

    def __init__(self, scratch_dir):
        self.scratch_dir = scratch_dir
        self.state_path = os.path.join(scratch_dir, 'state')

    def write_config(self, *lines):
        handle, path = tempfile.mkstemp(suffix='.conf', dir=self.scratch_dir)
        with os.fdopen(handle, 'w') as config_file:
            config_file.write('\n'.join(
                ['[DEFAULT]', 'state_path = %s' % self.state_path] +
                list(lines)) + '\n')
        return path

    def run(self, command, *args, config_lines=()):
        config = self.write_config(*config_lines)
        return subprocess.run(
            [os.path.join(BIN_DIR, command), '--config-file', config] +
            list(args), capture_output=True, text=True, timeout=300)
