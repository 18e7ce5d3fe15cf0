"""Registering an option group so each ConfigOpts has its own."""

from oslo_config import cfg


def register_group_opts(conf, group, opts):
    """Register ``opts`` on ``conf`` in a fresh copy of ``group``.

    ConfigOpts.register_group copies a group only shallowly, so two
    ConfigOpts registering one module-level OptGroup share its options'
    overrides: set_override on one would change the other. The service
    has a single ConfigOpts, but tests build many.
    """
    conf.register_group(cfg.OptGroup(group.name, title=group.title,
                                     help=group.help))
    conf.register_opts(opts, group=group.name)
