"""The aiohttp face of the service: routes, middlewares, TLS peer and proxy handling."""
