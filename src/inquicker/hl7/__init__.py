"""HL7v2 face: SIU messages to a health system's EHR over MLLP, from the event outbox."""
