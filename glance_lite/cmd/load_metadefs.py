"""Loading metadata definition files into the catalogue.

Each ``*.json`` file of a directory holds one namespace, in the shape
POST /v2/metadefs/namespaces takes (checked against the same schema).
Every file is read and checked before anything is written, so a broken
file loads nothing. A namespace already in the catalogue is left as it
is, not updated: what an operator changed through the API survives, and
running the load again changes nothing. To reload one, delete it first.
"""

import json
import os
import sys

import glance_lite
from glance_lite.api.v2 import metadefs_schemas
from glance_lite.common import exception
from glance_lite.db import metadefs as db_metadefs

CREATED = 'created'
EXISTS = 'exists, left unchanged'


def default_directory():
    """The definitions glance-lite ships: installed, or in the checkout.

    A regular installation puts them under its prefix (setup.cfg's
    data_files); an editable one (``pip install -e``, tox) installs no
    data files, so they are read from the source tree beside the package.
    """
    installed = os.path.join(sys.prefix, 'etc', 'glance-lite', 'metadefs')
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(glance_lite.__file__))), 'etc', 'metadefs')


def _read(path):
    try:
        with open(path, encoding='utf-8') as source:
            body = json.load(source)
    except (OSError, ValueError) as error:
        raise exception.InvalidConfiguration(
            reason='cannot read %s: %s' % (path, error)) from None
    if not isinstance(body, dict):
        raise exception.InvalidConfiguration(
            reason='%s does not hold a JSON object' % path)
    try:
        body = metadefs_schemas.validate('namespace', body)
        return body, metadefs_schemas.embedded(body)
    except (exception.BadRequest, exception.Conflict) as error:
        raise exception.InvalidConfiguration(
            reason='%s: %s' % (path, error.kwargs['reason'])) from None


def read_directory(directory):
    """[(file, (body, embedded))] of ``directory``'s files, by name.

    ``embedded`` is what metadefs_schemas.embedded makes of the body.
    """
    try:
        names = sorted(name for name in os.listdir(directory)
                       if name.endswith('.json'))
    except OSError as error:
        raise exception.InvalidConfiguration(
            reason='cannot list %s: %s' % (directory, error)) from None
    if not names:
        raise exception.InvalidConfiguration(
            reason='%s holds no *.json definition files' % directory)
    return [(name, _read(os.path.join(directory, name))) for name in names]


def load(context, directory):
    """Create the namespaces of ``directory`` that do not exist yet.

    Returns one row per file: file, namespace and what happened.
    """
    rows = []
    for name, (body, (contents, associations)) in read_directory(
            directory):
        fields = metadefs_schemas.namespace_fields(body)
        fields['owner'] = body.get('owner')
        try:
            db_metadefs.namespace_create(context, fields, contents,
                                         associations)
            result = CREATED
        except exception.Duplicate:
            result = EXISTS
        rows.append({'file': name, 'namespace': body['namespace'],
                     'result': result})
    return rows
