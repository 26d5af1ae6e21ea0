"""The webhook test world (reliability tenant, deliverer on a clock) serves HL7 too."""

from tests.events.conftest import world

__all__ = ["world"]
