"""FHIR R4 and SMART Scheduling Links: thin translations over catalog, availability, booking."""
