"""Exceptions shared by every layer; the CLI turns them into one clear sentence."""


class FefetError(Exception):
    """Base class: an error a user can act on (bad file, bad parameter, missing tool)."""


class ParamError(FefetError, ValueError):
    """A parameter set failed validation; the message names the field."""


class DataError(FefetError, ValueError):
    """An input file could not be used; the message names the file and line."""


class SimulatorError(FefetError, RuntimeError):
    """ngspice is missing, or a run failed or did not converge."""
