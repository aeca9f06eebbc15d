"""Scoring and analysing answers: EM/F1 as the official scripts compute them (``metrics``;
files: ``files``), the no-answer threshold (``no_answer``), question types
(``question_types``), breakdowns by slice (``breakdowns``), calibration (``calibration``),
paired A-versus-B comparison (``compare``), and one evaluation's whole analysis
(``analysis``). Pure functions over predictions and gold answers: no model, no files (but
``files``)."""
