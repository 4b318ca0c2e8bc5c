"""The PySide6 face: the renewal wizard and the overview window. Qt lives only here."""
