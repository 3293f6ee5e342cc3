"""Report handlers, one per format (as Schemathesis's `cli/commands/run/handlers/`): each is told
when the run starts, as each property finishes, and when the run ends.

Adding a format is adding one module with a class that has those three methods.
"""

from conformance.report.console import ConsoleHandler, format_failure
from conformance.report.junit import JUnitHandler

__all__ = ["ConsoleHandler", "JUnitHandler", "format_failure"]
