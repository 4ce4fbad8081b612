"""Array operations: line schedules (shared by ngspice and numpy) and the numpy fast path."""
from .schedule import Schedule, mac_read, row_column_vau, sparsity_write, write_cells
from .fast import FastArray

__all__ = ["FastArray", "Schedule", "mac_read", "row_column_vau", "sparsity_write", "write_cells"]
