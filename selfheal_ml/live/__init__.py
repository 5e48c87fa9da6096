"""The live path, driven from outside: the simulator and the service as real processes.

``selfheal-ml demo`` proves the loop in virtual time; this package proves it the way users run
it (``selfheal-ml sim serve`` + ``selfheal-ml serve --dev``, faults through ``POST
/sim/faults``). :mod:`.stack` starts and stops the two processes, :mod:`.client` speaks to
them over HTTP, :mod:`.soak` injects faults one after another and scores what the service did
against the simulator's ground truth with :mod:`selfheal_ml.evaluation.chaos` (through the
pure translation in :mod:`selfheal_ml.evaluation.live_soak`). It imports no runtime: only the
command line and HTTP join it to the service.
"""
