"""Results on disk: atomic writes and reading runs back, record checks, directory ownership, the
study report."""
