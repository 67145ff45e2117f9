"""`python -m tracker quotidien`: what runs once a day — agreements past their end become « échu », the network
review's « en retard » recounted where a deadline has passed since it was counted, then the reminders due today are
written down (unique keys) and every reminder waiting or failed is sent.

Safe to run twice, or on two machines against one PostgreSQL: a reminder's key is inserted before sending (insert …
on conflict do nothing, each in its own write transaction) and each reminder is claimed by one run before it is
sent. A run that dies resumes at the next one without repeating what was sent."""
from __future__ import annotations

from dataclasses import dataclass, field

from tracker.agreements.lifecycle import expire_ended_agreements
from tracker.agreements.states import EXPIRABLE
from tracker.agreements.tables import Agreement
from tracker.core import clock
from tracker.deadlines import plan, send
from tracker.review import figures

KIND_NAMES = {
    "echeances": "Rappel d’échéances",
    "engagements": "Relance d’engagement",
    "codir": "Point hebdomadaire du CODIR",
    "reseau": "Synthèse mensuelle de l’ADGCF",
}


@dataclass
class DailyReport:
    expired: list[int] = field(default_factory=list)
    recounted: int = 0  # territories whose kept « en retard » was recounted (dry run: would be)
    planned: list[plan.Planned] = field(default_factory=list)  # written down by this run (dry run: would be)
    retried: list[dict] = field(default_factory=list)  # dry run: waiting or failed ones that would be sent
    sending: send.SendReport = field(default_factory=send.SendReport)

    @property
    def failed(self) -> bool:
        return bool(self.sending.failed)

    def lines(self, dry_run: bool) -> list[str]:
        today = clock.today().isoformat()
        out = []
        if dry_run:
            out.append(f"Simulation du {today} : rien n’est écrit ni envoyé.")
            out.append(f"Contrats qui seraient déclarés échus : {', '.join(map(str, self.expired)) or 'aucun'}.")
            out.append(f"Territoires dont le nombre d’actions en retard serait recompté : {self.recounted}.")
            out.append(f"Courriels qui seraient envoyés : {len(self.planned) + len(self.retried)}.")
            for p in self.planned:
                out.append(f"  · {KIND_NAMES[p.kind]} → {p.recipient.name} <{p.recipient.email}> : {p.summary}")
            for r in self.retried:
                out.append(f"  · nouvel essai du rappel n° {r['id']} ({KIND_NAMES[r['kind']]}, état « {r['state']} »)")
            return out
        out.append(f"Contrats échus : {', '.join(f'n° {i}' for i in self.expired) or 'aucun'}.")
        out.append(f"Territoires dont le nombre d’actions en retard a été recompté : {self.recounted}.")
        out.append(f"Rappels préparés aujourd’hui : {len(self.planned)}.")
        for p in self.planned:
            out.append(f"  · {KIND_NAMES[p.kind]} → {p.recipient.email}")
        out.append(f"Envoyés : {len(self.sending.sent)}.")
        for label, rows in (("En échec (réessayés au prochain passage)", self.sending.failed),
                            ("Annulés", self.sending.cancelled),
                            ("Interrompus (à voir par un administrateur sur /rappels)", self.sending.interrupted)):
            if rows:
                out.append(f"{label} : {len(rows)}.")
                out.extend(f"  · {row}" for row in rows)
        return out


async def run_daily(*, dry_run: bool = False) -> DailyReport:
    """The daily run, or with `dry_run` what it would do (nothing written, nothing sent)."""
    report = DailyReport()
    today, now = clock.today(), clock.now()
    if dry_run:
        report.expired = [r["id"] for r in await Agreement.select(Agreement.id).where(
            Agreement.state.is_in(sorted(EXPIRABLE)) & Agreement.ends_on.is_not_null() & (Agreement.ends_on < today)
        ).order_by(Agreement.id)]
        report.recounted = len(await figures.stale_overdue())
        report.planned = await plan.plan(today, now)
        report.retried = await send.pending()
        return report
    report.expired = await expire_ended_agreements()
    report.recounted = await figures.refresh_stale_overdue()
    for planned in await plan.plan(today, now):
        if await plan.write_down(planned, now) is not None:
            report.planned.append(planned)
    await send.deliver(report.sending)
    return report
