"""The foundation: configuration, periods, the home, the warehouse connection, settings, errors,
safe I/O and text, the shared data model. Imports no stage and nothing of pcve.app."""
