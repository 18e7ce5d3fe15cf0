"""Printing a command's result: an aligned table for people, JSON for scripts.

Every ``glance-lite-manage`` command that reports takes ``--format
table|json``; both forms come from the same rows, so a script sees
exactly what an operator reads, with raw values (bytes, seconds)
instead of rounded ones.
"""

import datetime
import json

FORMATS = ('table', 'json')


def add_format_argument(parser):
    parser.add_argument(
        '--format', choices=FORMATS, default='table',
        help='Print an aligned table (the default) or JSON for scripts.')


def _cell(value):
    if value is None:
        return '-'
    if isinstance(value, (list, tuple)):
        return ', '.join(str(v) for v in value) or '-'
    return str(value)


def table(columns, rows):
    """``columns``: (header, function of a row) pairs; the table's lines.

    Each column is as wide as its widest cell; a table without rows is
    its header alone, so "nothing found" still shows what was looked for.
    """
    cells = [[header for header, _ in columns]] + [
        [_cell(value(row)) for _, value in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells)
              for i in range(len(columns))]
    return ['  '.join(cell.ljust(width) for cell, width
                      in zip(line, widths, strict=True)).rstrip()
            for line in cells]


def _json_default(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    raise TypeError('%r cannot be written as JSON' % (value,))


def dump_json(data):
    print(json.dumps(data, indent=2, sort_keys=True, default=_json_default))


def print_table(columns, rows):
    print('\n'.join(table(columns, rows)))


def show(output_format, name, columns, rows):
    """Print ``rows`` as a table, or as JSON ``{name: rows}``."""
    if output_format == 'json':
        dump_json({name: rows})
    else:
        print_table(columns, rows)
