"""`ecmt status`: the certificates in the configured store(s), in words or JSON.

Kept apart from the other subcommands (commands.py) so that it loads only what reading a
store needs: no network stack, no renewal or backup services, no PIN handling.
"""

from __future__ import annotations

import argparse

from .output import Output


def run_status(args: argparse.Namespace, out: Output) -> int:
    from ..app import build_app
    from ..certstore import places_of
    from ..certstore.names import plain_store_name
    from ..logsetup import configure
    from .arguments import settings_from_args

    settings = settings_from_args(args)
    configure(settings.log_dir, args.verbose)
    app = build_app(settings)
    found = app.status.certificates(args.epoc)
    where = app.store.description
    if not app.settings.store:  # say that this was the default, and how to choose another
        where += " (the default store here: none is configured; set `store` or use --store)"
    lines = (
        [f"Certificates in {where}:"] if found else [f"No ePractitioner certificate in {where}."]
    )
    several = len(app.store_values) > 1
    lines += [
        f"  {s.name} (EPOC {s.epoc}): {s.state.value}, expires {s.not_after:%d %B %Y}, "
        f"{s.days_left} days left{'' if s.has_private_key else ', NO private key'}"
        + (f"; key readable by: {', '.join(s.key_readers)}" if s.key_readers else "")
        + (f"; in {s.where}" if several else "")
        for s in found
    ]
    out.result(
        {
            "store": app.store.description,
            "stores": [
                {
                    "store": p.value,
                    "where": plain_store_name(p.value),
                    "location": p.store.description,
                }
                for p in places_of(app.store, app.store_value)
            ],
            "epoc": app.status.installed_epoc(),
            "certificates": [s.as_json() for s in found],
        },
        "\n".join(lines),
    )
    return 0
