"""Privacy of aggregates: small-count suppression (the noise and the budget follow in the next commits)."""


def persons_suppressed(contributions: int | None, k: int) -> bool:
    """A cell of 1 to k - 1 persons is withheld; zero identifies no one."""
    return contributions is not None and 0 < contributions < k


def noise_plan(decision, dataset):
    """No noise yet: every grant reads exact (suppressed) values."""
    return None
