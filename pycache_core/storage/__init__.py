"""Storage: backends (local disk, S3, Redis, third-party) and the tiers over them."""
