"""Staged extraction of compact-model parameters from measurements (lmfit).

* :mod:`.spec` — fit settings (bounds, vary, expressions) apart from values; mapping to ``FeFETParams``
* :mod:`.protocol` — measurement -> gate waveform (shared with the generator)
* :mod:`.data` — grouping of measurements, model evaluation on the same protocols, :func:`predict`
* :mod:`.stages` — the lmfit stage runner (uncertainties, correlations, rmse, r2)
* :mod:`.extract` — :func:`fit_device`: channel_sub -> channel_above -> channel -> loops -> kinetics -> polish
* :mod:`.report` — the ``fefet-fit/1`` JSON document and per-stage figures
* :mod:`.real` — one-pulse kinetics fits to published P(t_p, V) and MW(t_p, V) tables

lmfit and matplotlib are imported inside functions only.
"""
