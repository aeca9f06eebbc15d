"""A checkpoint as a model that answers: what a name means (``names``), whether the Hub can be
reached (``hub``), what a local folder holds (``folders``), loading with errors that say the fix
(``loading``, ``load_errors``, ``tokenizers``), and the precision it runs in (``precision``,
``quantize``, ``pages``). ``tiny`` builds small random checkpoints offline for tests and smoke
runs."""
