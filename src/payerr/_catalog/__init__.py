"""Provider knowledge as data: the adapter files, checked, compiled and looked up.

Nothing here reads a response or sends a request; the layers above ask the catalog.

- ``model``: the hot-path values: ``ProviderSpec`` (a provider) and ``CodeInfo`` (a code).
- ``file_format``: the adapter file format as pydantic models, its JSON Schema, validation.
- ``loader``: finds the shipped adapter files and turns a validated file into a ``ProviderSpec``.
- ``registry``: the catalog of providers and codes behind ``explain``, ``load_adapter``,
  ``register_host`` and ``override_code``.
- ``cache``: the adapter files compiled to JSON lines in the user's cache directory, read lazily.
- ``keys``: the key a compiled catalog is named by; a wheel's own trusted by its files' sizes.
- ``codec``: one row of the compiled form (a code entry, a rule, a token placement) and back.
- ``envelopes``: where each provider puts its code, message and request id; reads a parsed body.
- ``fields``: values at dotted paths of a parsed body, read as text or as a code.
- ``patterns``: the globs and message regexes adapter files write, matched without backtracking.
- ``tables``: code tables whose entries are built on first look-up.
- ``generic``: the provider-independent rules of ``generic.toml`` (status fallbacks, file types).
- ``provider_data``: what an adapter declares beyond its codes: token placement, day start,
  sandbox behaviour.
"""
