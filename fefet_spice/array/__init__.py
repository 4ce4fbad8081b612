"""Array operations: line schedules (shared by ngspice and numpy), programming schemes and the numpy fast path."""
from .schedule import (Schedule, mac_read, prune_regrow, row_column_vau, sparsity_write, write_cells,
                       write_cells_scheme)
from .schemes import SCHEMES, Scheme, get_scheme
from .fast import FastArray, FastPathLimitWarning

__all__ = ["FastArray", "FastPathLimitWarning", "SCHEMES", "Schedule", "Scheme", "get_scheme", "mac_read", "prune_regrow", "row_column_vau",
           "sparsity_write", "write_cells", "write_cells_scheme"]
