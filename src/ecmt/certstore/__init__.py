"""Certificate stores behind one port; `open_store` picks an adapter from a store value."""
