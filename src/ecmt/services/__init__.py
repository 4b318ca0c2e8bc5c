"""Use cases, one module each; plain Python driven by the wizard, the CLI and tests."""
