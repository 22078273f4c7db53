"""Pure scores, functions of arrays: metric functions, the block-wise tally, detection scoring,
two-sample shift tests. No model, strategy or run is imported here."""
