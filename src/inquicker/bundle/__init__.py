"""Data bundles: one document holding a health system's data, imported and exported whole.

The format is described in docs/bundle.md. Entry points: ``io.load_document``,
``importer.import_bundle``, ``exporter.export_bundle`` and ``demo.load_demo``.
"""
