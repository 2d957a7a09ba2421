"""Progress bars for management commands."""

from __future__ import annotations

from tqdm import tqdm


def bar_stream(command):
    """The command's raw stderr stream for tqdm: Django's OutputWrapper ends every write
    with a newline, which would print each redraw of the bar on a line of its own."""
    return getattr(command.stderr, "_out", command.stderr)


class TableBars:
    """Progress of archive work (``tenants.archive.Progress`` steps): one tqdm bar per phase
    — and per organisation when ``update_for`` names one — advanced per table, with the
    table's name (and the rows so far) alongside. ``tables``/``rows`` are the current phase's.

    ``describe(schema, phase)`` gives a bar's label; ``leave`` keeps finished bars on screen."""

    def __init__(self, stream, *, disabled: bool, describe, leave: bool = True):
        self.stream, self.disabled, self.describe, self.leave = stream, disabled, describe, leave
        self.bar, self.key, self.phase, self.tables, self.rows = None, None, None, 0, 0

    def update(self, step) -> None:
        self.update_for(None, step)

    def update_for(self, schema: str | None, step) -> None:
        if (schema, step.phase) != self.key:
            self.close()
            self.key, self.phase, self.tables, self.rows = (schema, step.phase), step.phase, step.total, 0
            self.bar = tqdm(
                total=step.total, desc=self.describe(schema, step.phase), unit="table", file=self.stream,
                disable=self.disabled, dynamic_ncols=True, leave=self.leave,
            )  # fmt: skip
        self.rows += step.rows
        self.bar.set_postfix_str(f"{step.table} ({self.rows} rows)", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def organization_bars(command, label: str, verbosity: int) -> TableBars:
    """One bar per organisation and phase (backup_platform, restore_platform), removed when done."""
    return TableBars(
        bar_stream(command), disabled=verbosity == 0, leave=False,
        describe=lambda schema, phase: f"[{label}] {schema} {phase}",
    )  # fmt: skip
