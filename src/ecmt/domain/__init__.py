"""Pure domain: models, errors with helpdesk codes, the backup password policy. No I/O."""
