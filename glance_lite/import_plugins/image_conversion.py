"""image_conversion: every imported image converted to one disk format.

The staged data is converted by ``qemu-img convert`` into the task's
own staging object, which the rest of the import stores instead of it;
the image is activated with the converted data's size, checksums,
virtual size and ``[image_conversion] output_format`` as disk_format.

qemu-img parses untrusted data here, so it runs only on data the format
inspector has accepted when it was staged, and is told that format
(``-f``): it never guesses, so a raw image whose bytes look like a
qcow2 header pointing at a host file is never read as one. It runs
under resource limits (CPU seconds and address space, through
oslo.concurrency's prlimit wrapper), so a crafted image cannot make it
spin or allocate without bound. Its output is inspected as it is read
back, like staged data. Any failure fails the import, and the revert
removes the partial or converted file.
"""

import signal

from oslo_concurrency import processutils
from oslo_log import log as logging

from glance_lite.common import exception
from glance_lite.import_plugins import base

LOG = logging.getLogger(__name__)

# qemu-img's name (-f) of each inspector format it may read. An iso is
# a file system, not a disk to convert: it is imported as it is. Other
# formats (luks, an encrypted disk) are refused.
_QEMU_FORMATS = {'raw': 'raw', 'gpt': 'raw', 'qcow2': 'qcow2',
                 'vmdk': 'vmdk', 'vhd': 'vpc', 'vhdx': 'vhdx', 'vdi': 'vdi',
                 'qed': 'qed'}
_KEPT_AS_THEY_ARE = ('iso',)
# A CPU time limit stops a process with SIGXCPU, then SIGKILL.
_CPU_LIMIT_SIGNALS = (signal.SIGXCPU, signal.SIGKILL)


class ImageConversion(base.ImportPlugin):
    """Convert the staged data to ``[image_conversion] output_format``."""

    def execute(self, source):
        job = self.job
        output = job.conf.image_conversion.output_format
        qemu_format = self._input_format(source, output)
        if qemu_format is None:
            return source
        input_path = self.staging.local_path(source.location)
        converted = self.produce_staged(
            lambda path: self.keep_locks_alive(
                self._convert, qemu_format, output, input_path, path),
            output, new_disk_format=output)
        LOG.info('Import task %s converted image %s from %s (%d bytes) to '
                 '%s (%d bytes)', job.task_id, job.image_id,
                 source.inspected_format, source.size, output,
                 converted.size)
        return converted

    def _failed(self, output, reason, detail):
        return exception.ImageConversionFailed(
            image_id=self.job.image_id, output_format=output, reason=reason,
            detail=detail)

    def _input_format(self, source, output):
        """qemu-img's name of the source's format; None: keep it as it is.

        Refuses data that was not inspected (nothing says it is safe to
        parse) and raw output larger than the image size cap.
        """
        detected = source.inspected_format
        if detected is None:
            raise self._failed(
                output, 'its data was not checked when it was uploaded',
                '[image_format] inspect_image_data was false when it was '
                'staged')
        if detected in _KEPT_AS_THEY_ARE:
            return None
        qemu_format = _QEMU_FORMATS.get(detected)
        if qemu_format is None:
            raise self._failed(output, '%s images cannot be converted'
                               % detected, 'no conversion from %s'
                               % detected)
        if qemu_format == output:
            return None
        cap = self.job.conf.image_size_cap
        if output == 'raw' and (source.virtual_size or 0) > cap:
            raise self._failed(
                output, 'converted, it would be %d bytes, more than the %d '
                'bytes an image may have' % (source.virtual_size, cap),
                'virtual size above [DEFAULT] image_size_cap')
        return qemu_format

    def _convert(self, qemu_format, output, input_path, output_path):
        limits = self.job.conf.image_conversion
        try:
            processutils.execute(
                'qemu-img', 'convert', '-f', qemu_format, '-O', output,
                input_path, output_path,
                prlimit=processutils.ProcessLimits(
                    cpu_time=limits.cpu_time_limit,
                    address_space=limits.address_space_limit))
        except processutils.ProcessExecutionError as error:
            detail = 'qemu-img exited with %s: %s' % (
                error.exit_code, (error.stderr or '').strip())
            if error.exit_code is not None and -error.exit_code in (
                    _CPU_LIMIT_SIGNALS):
                raise self._failed(
                    output, 'it needed more processing time than a '
                    'conversion is allowed', detail + ' ([image_conversion] '
                    'cpu_time_limit)') from None
            raise self._failed(
                output, 'the data is damaged, or converting it needs more '
                'memory than a conversion is allowed', detail +
                ' ([image_conversion] address_space_limit)') from None
        except OSError as error:
            raise self._failed(output, 'the conversion could not be run',
                               str(error)) from None
