"""Parley's own judgment: a classifier learned from the site's moderators.

Pure parts (no database, no clock): :mod:`.features` (what the model looks at),
:mod:`.model` (training and scoring), :mod:`.explain` (which words pushed a verdict),
:mod:`.codec` (a model as JSON and numpy bytes, never pickle), :mod:`.verdict` (the
probability bands the ``classifier`` rule turns into a score), :mod:`.dataset` (labelled
CSV files) and :mod:`.replay` (``parley evaluate``). Around them: :mod:`.store` (examples
and model versions in the moderation store), :mod:`.cache` (each process's copy of the
newest model), :mod:`.training` (beat's retraining) and :mod:`.live` (the pipeline's hook).

Nothing is imported here, so that the pure moderation core can name :mod:`.verdict`
without loading numpy or scikit-learn.
"""
