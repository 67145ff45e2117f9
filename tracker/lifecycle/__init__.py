"""The life-cycle kernel: every object that has a state declares its machine once, as data (`Machine`,
`Transition`), and every change of state goes through `apply`, which checks and writes the change and its history
entry in one transaction. The history is written only here (`record`, `record_created`)."""
from tracker.lifecycle.kernel import (
    COMMENT_MAX,
    SYSTEM,
    transitions,
    Actor,
    Change,
    Machine,
    Step,
    Transition,
    Versioned,
    apply,
    check_comment,
    conflict_message,
    record,
    record_created,
    save_edit,
)

__all__ = [
    "COMMENT_MAX",
    "SYSTEM",
    "transitions",
    "Actor",
    "Change",
    "Machine",
    "Step",
    "Transition",
    "Versioned",
    "apply",
    "check_comment",
    "conflict_message",
    "record",
    "record_created",
    "save_edit",
]
