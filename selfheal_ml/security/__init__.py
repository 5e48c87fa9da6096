"""Security domain: request/auth log records, attack detection and ban decisions.

Pure logic only (no I/O): parsers turn log lines into records, detectors count them the
way fail2ban and CrowdSec do, the request classifier scores payloads for injection, and
the ban policy turns findings into decisions. Tailing files, storing decisions and
serving them live in the adapter layers above.
"""
