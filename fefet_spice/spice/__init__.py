"""ngspice netlists built from the same :class:`~fefet_spice.params.FeFETParams` as the numpy model.

* :mod:`.fmt` — deterministic number formatting and name validation (nothing else reaches a deck).
* :mod:`.device` — one FeFET subcircuit: binned domain state nodes, channel B-source, gate charge.
* :mod:`.runner` — run a deck in ngspice (PySpice shared library, ``ngspice -b`` fallback).
* :mod:`.bench` — single-device testbenches (pulse trains, DC sweeps) and :func:`cell_pulse_response`.
* :mod:`.array` — the two-FeFET cell and M x N arrays under a schedule of :mod:`fefet_spice.array.schedule`
  (VAU steps, cell-by-cell writes, pruning/regrowth, MAC reads).
* :mod:`.cosim` — co-simulation: ngspice solves the array network with frozen polarization, numpy the domains.
* :mod:`.quasistatic` (with :mod:`.qs_network`, :mod:`.qs_steps`) — the array network solved without ngspice,
  error-controlled implicit steps (BDF2), domains advanced exactly: SPICE fidelity at 64x64, 10 ns to 1 µs pulses.
* :mod:`.fidelity` — the fidelity cases: the quasi-static mode and the fast path against the tightened deck.
* :mod:`.energy` — write/read energies measured in ngspice (``fefet-energy/1`` JSON).
* :mod:`.library` — the committed ``netlists/`` files (``fefet-spice netlist --all``).

Importing this package does not load PySpice; the runner imports it on first use.
"""
from .bench import cell_pulse_response, run_device
from .device import SpiceDevice, binned_device, subckt

__all__ = ["SpiceDevice", "binned_device", "cell_pulse_response", "run_device", "subckt"]
