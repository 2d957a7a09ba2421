"""Progress bars for management commands."""

from __future__ import annotations


def bar_stream(command):
    """The command's raw stderr stream for tqdm: Django's OutputWrapper ends every write
    with a newline, which would print each redraw of the bar on a line of its own."""
    return getattr(command.stderr, "_out", command.stderr)
