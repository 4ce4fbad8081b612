"""The main job: every stage end to end, cached by the hash of its inputs, into one report."""
