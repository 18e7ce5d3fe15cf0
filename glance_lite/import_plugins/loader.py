"""Finding the configured import plugins, by stevedore.

``[image_import_opts] image_import_plugins`` lists entry-point names of
the ``glance_lite.import_plugins`` namespace, so a plugin from a
third-party package works once that package is installed. Every name
must load, as an ImportPlugin, exactly once: a mistake stops start-up
with an error naming the entry at fault, rather than failing imports.
"""

from stevedore import extension
from stevedore import named

from glance_lite.common import exception
from glance_lite.import_plugins import base

NAMESPACE = 'glance_lite.import_plugins'


def _config_error(problem):
    return exception.InvalidConfiguration(
        reason='[image_import_opts] image_import_plugins: %s' % problem)


def load_plugins(conf):
    """The configured plugin classes, in the configured order."""
    names = conf.image_import_opts.image_import_plugins
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise _config_error('plugin %s is listed more than once'
                            % ', '.join(repeated))
    if not names:
        return []

    def failed(_manager, entry_point, error):
        raise _config_error('plugin %r could not be loaded: %s'
                            % (entry_point.name, error)) from error

    manager = named.NamedExtensionManager(
        NAMESPACE, names, name_order=True, invoke_on_load=False,
        on_load_failure_callback=failed)
    unknown = [name for name in names if name not in manager.names()]
    if unknown:
        installed = sorted(extension.ExtensionManager(NAMESPACE).names())
        raise _config_error('unknown plugin %s; installed plugins: %s' % (
            ', '.join(repr(name) for name in unknown),
            ', '.join(installed) or 'none'))
    for loaded in manager:
        if not (isinstance(loaded.plugin, type) and
                issubclass(loaded.plugin, base.ImportPlugin)):
            raise _config_error('plugin %r is not an import plugin'
                                % loaded.name)
    return [loaded.plugin for loaded in manager]
