"""Settings read from ``config.toml`` and the environment, below everything that uses them."""
