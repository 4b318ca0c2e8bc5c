"""The CCMS client: one HTTPS transport, the EST client (RFC 7030), the JSON API client."""
