"""Pure numerics of the FeFET compact model (numpy and scipy.special only; no IO)."""
from .channel import drain_current, intrinsic_current, subthreshold_swing, thermal_voltage
from .ferro import (domain_activation, log_rate, merz_switching_voltage, one_pulse_polarization,
                    switched_fraction, switching_rates)
from .simulate import DeviceSample, SimResult, sample_devices, simulate, threshold_voltage

__all__ = [
    "DeviceSample", "SimResult", "domain_activation", "drain_current", "intrinsic_current",
    "log_rate", "merz_switching_voltage", "one_pulse_polarization", "sample_devices", "simulate",
    "subthreshold_swing", "switched_fraction", "switching_rates", "thermal_voltage", "threshold_voltage",
]
