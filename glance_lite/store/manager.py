"""Loading the configured stores, by stevedore, and finding them by name.

``[DEFAULT] enabled_backends = fast:file, slow:file`` names the stores
and their types; a type is the name of an entry point in the
``glance_lite.stores`` namespace, so a store type from a third-party
package works once that package is installed. The reserved stores
``os_glance_staging_store`` and ``os_glance_tasks_store`` are file
stores that always exist.

Every mistake in that configuration stops start-up with an error that
quotes the entry at fault, rather than surfacing at the first import.
"""

from oslo_config import cfg
from stevedore import driver as stevedore_driver
from stevedore import exception as stevedore_exception
from stevedore import extension

from glance_lite.common import exception
from glance_lite.conf import stores as stores_conf

NAMESPACE = 'glance_lite.stores'
RESERVED_STORE_TYPE = 'file'


def parse_enabled_backends(entries):
    """``["fast:file", ...]`` -> ``{"fast": "file", ...}``, validated."""
    backends = {}
    for entry in entries:
        name, colon, store_type = (part.strip() for part in
                                   entry.partition(':'))
        if not (colon and name and store_type):
            raise _config_error(
                'entry %r is not of the form <store name>:<store type>'
                % entry)
        if name in stores_conf.RESERVED_STORES:
            raise _config_error('store name %r in entry %r is reserved'
                                % (name, entry))
        if name in backends:
            raise _config_error('store name %r appears more than once'
                                % name)
        backends[name] = store_type
    return backends


def _config_error(problem):
    return exception.InvalidConfiguration(
        reason='[DEFAULT] enabled_backends: %s' % problem)


def _driver_class(store_type, name):
    try:
        return stevedore_driver.DriverManager(
            NAMESPACE, store_type, invoke_on_load=False).driver
    except stevedore_exception.NoMatches:
        installed = sorted(extension.ExtensionManager(NAMESPACE).names())
        raise _config_error(
            'store %r has unknown type %r; installed store types: %s'
            % (name, store_type, ', '.join(installed) or 'none')) from None


class StoreManager:
    """The stores of this service, loaded once at start-up."""

    def __init__(self, conf):
        backends = parse_enabled_backends(conf.enabled_backends)
        if not backends:
            raise _config_error('no store is enabled')
        default = conf.glance_store.default_backend
        if default not in backends:
            problem = ('is not set' if not default
                       else '%r is not one of the enabled stores' % default)
            raise exception.InvalidConfiguration(
                reason='[glance_store] default_backend %s; enabled stores: '
                       '%s' % (problem, ', '.join(sorted(backends))))
        self.default_backend = default
        self.enabled_stores = sorted(backends)
        self._types = dict(backends)
        backends.update(dict.fromkeys(stores_conf.RESERVED_STORES,
                                      RESERVED_STORE_TYPE))
        self._stores = {name: self._load(conf, name, store_type)
                        for name, store_type in backends.items()}

    @staticmethod
    def _load(conf, name, store_type):
        driver_class = _driver_class(store_type, name)
        conf.register_group(cfg.OptGroup(
            name, title='Store %s (type %s)' % (name, store_type)))
        conf.register_opts(driver_class.OPTS, group=name)
        return driver_class(name, conf)

    def get(self, name):
        """The driver of store ``name``, enabled or reserved."""
        try:
            return self._stores[name]
        except KeyError:
            raise exception.UnknownStore(
                store=name, enabled=', '.join(self.enabled_stores)) from None

    def store_type(self, name):
        """The type (driver entry-point name) of enabled store ``name``."""
        return self._types[name]
