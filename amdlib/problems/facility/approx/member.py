"""What an approximate fit returns: a member (the :class:`~amdlib.problems.facility.sp.member.Member`
protocol: ``locations``, ``body``, ``describe``) with its training cost and its dense-audit regret
on the training profiles."""

from __future__ import annotations

from dataclasses import dataclass

from amdlib.problems.facility.sp.member import FittedMember


@dataclass(frozen=True)
class FittedApprox(FittedMember):
    """A fitted member that is not strategy-proof: ``train_regret`` is its dense-audit max regret on
    the audited training profiles and ``train_regret_ucb`` the bound the fit held below epsilon
    (mean + z standard errors, max over agents)."""

    train_regret: float = 0.0
    train_regret_ucb: float = 0.0


def nested(name: str, body: str) -> str:
    """A member body (first line unindented, the others indented 4) as a local ``def name(peaks)``
    in another member's body: the same text, one level deeper."""
    return f"def {name}(peaks):\n        " + body.replace("\n", "\n    ")


__all__ = ["FittedApprox", "nested"]
