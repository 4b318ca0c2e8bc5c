"""The contract between the desktop client and a CCMS: paths, media types, problem codes,
JSON bodies (wire.py), and the safe file writing both sides use (files.py).

Both `ecmt` and `ccms_server` import it; it imports neither, so the desktop app ships
without the server.
"""
