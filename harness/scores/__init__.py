"""Pure scores: metric functions, the block-wise tally, detection scoring, two-sample shift tests
and output scores. Imports numpy and scipy only."""
