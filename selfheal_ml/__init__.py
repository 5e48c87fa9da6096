"""selfheal-ml: a self-healing service for web backends.

Seven agents (Monitor, Security, Diagnostic, Repair, Learning, Predictive, Performance) watch
web platforms, talk over an event bus, detect and diagnose problems, repair them safely and
learn which repair works. See ``ARCHITECTURE.md`` in the shared folder for the layer map.
"""

__version__ = "0.1.0"
