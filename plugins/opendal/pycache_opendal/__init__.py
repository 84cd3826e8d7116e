"""pycache-opendal: shared cache tiers on every storage service Apache OpenDAL serves.

A storage plugin registered exactly as a third party's would be (entry point
``opendal`` in ``pycache.plugins``, hook `pycache_register_storage_backends`).
`settings` reads which tiers the configuration asks for, `backend` serves one
tier through an ``opendal.Operator``, `errors` turns OpenDAL's errors into
`pycache_core.errors.StorageError` with their full context, and
`credentials` says where a tier's credentials come from.

``opendal`` itself is imported only when a tier is configured, in the server.
"""
