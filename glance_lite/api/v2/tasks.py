"""/v2/tasks and /v2/images/{id}/tasks: what imports did and are doing.

``POST /v2/tasks`` is Glance's legacy task API, kept for its clients
(Tempest among them): an ``import`` task creates an image from
``input.image_properties`` and fills it from the URL ``input.import_from``
by a web-download import, which the task is. It answers 201 with the
task, pending; a URL that cannot be fetched makes the task a failure
with a message saying why.
"""

import jsonschema
from oslo_utils import uuidutils

from glance_lite.api.v2 import access
from glance_lite.api.v2 import images
from glance_lite.api.v2 import schemas
from glance_lite.api.v2 import views
from glance_lite.api import wsgi
from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite.imports import tasks as import_tasks
from glance_lite import policy

TASK_CREATE_SCHEMA = {
    'type': 'object',
    'properties': {
        'type': {'type': 'string', 'enum': [import_tasks.LEGACY_IMPORT_TASK]},
        'input': {
            'type': 'object',
            'properties': {
                'import_from': {'type': 'string', 'maxLength': 2048},
                'import_from_format': {'type': 'string'},
                'image_properties': {'type': 'object'},
            },
            'required': ['import_from', 'import_from_format',
                         'image_properties'],
        },
    },
    'required': ['type', 'input'],
}
_VALIDATOR = jsonschema.Draft4Validator(TASK_CREATE_SCHEMA)


class TasksController:

    def __init__(self, services):
        self.conf = services.conf
        self.imports = services.imports

    def create(self, request):
        context = wsgi.context_of(request)
        policy.authorize(context, 'add_task', {'owner': context.project_id})
        body = wsgi.read_json(request)
        wsgi.check_body(_VALIDATOR, body, 'task')
        task_input = body['input']
        image = images.create_image(context, task_input['image_properties'])
        try:
            task = self.imports.import_image(
                context, image['id'], 'web-download',
                uri=task_input['import_from'], legacy_input=task_input)
        except Exception:
            # Refused at once (a URL the service may not fetch): the
            # image was only made for the task.
            self.imports.delete_image(context, image['id'])
            raise
        response = wsgi.json_response(views.task_view(task), status=201)
        response.location = '/v2/tasks/%s' % task['id']
        return response

    def show(self, request, task_id):
        context = wsgi.context_of(request)
        if not uuidutils.is_uuid_like(task_id):
            raise exception.TaskNotFound(task_id=task_id)
        task = db_api.task_get(context, task_id)
        if not context.is_admin and task['owner'] != context.project_id:
            raise exception.TaskNotFound(task_id=task_id)
        policy.authorize(context, 'get_task', {'owner': task['owner']})
        return wsgi.json_response(views.task_view(task))

    def index(self, request):
        context = wsgi.context_of(request)
        policy.authorize(context, 'get_tasks', {})
        limit = min(wsgi.int_param(request, 'limit') or
                    self.conf.limit_param_default, self.conf.api_limit_max)
        sort_dir = request.GET.get('sort_dir', 'desc')
        if sort_dir not in ('asc', 'desc'):
            raise exception.BadRequest(
                reason='sort_dir must be asc or desc, not %r' % sort_dir)
        filters = {}
        for name in ('status', 'type'):
            if name in request.GET:
                filters[name] = request.GET[name]
        if filters.get('status', 'pending') not in schemas.TASK_STATUSES:
            raise exception.BadRequest(
                reason='status must be one of %s' % ', '.join(
                    schemas.TASK_STATUSES))
        marker = request.GET.get('marker')
        try:
            tasks = db_api.task_list(context, filters=filters, marker=marker,
                                     limit=limit, sort_dir=sort_dir)
        except exception.TaskNotFound:
            raise exception.BadRequest(
                reason='marker %s is not a task you can see' % marker
            ) from None
        body = {'tasks': [views.task_view(task) for task in tasks],
                'first': '/v2/tasks', 'schema': '/v2/schemas/tasks'}
        next_link = wsgi.next_link(request, '/v2/tasks', tasks, limit)
        if next_link:
            body['next'] = next_link
        return wsgi.json_response(body)

    def image_tasks(self, request, image_id):
        context = wsgi.context_of(request)
        image = access.visible_image(context, image_id)
        access.authorize_image(context, 'get_image', image)
        tasks = db_api.task_list_for_image(context, image_id)
        return wsgi.json_response(
            {'tasks': [views.task_view(task) for task in tasks]})
