"""Notifications through an outbox: rows are written in the case's transaction, sending is a separate step.

Receipt acknowledgements (DSA-04, US-11), forwarding the notice to the uploader (CC-10), the decision with
redress options (DSA-04, DSA-07(f)), forwarding a counter-notice to the notifier with "you may complain or
sue" (CC-11), restoration.  Addresses live in the subject vault (crypto-shredded on erasure); a row keeps the
vault payload id.  :func:`send` delivers pending rows over SMTP (``settings.smtp_url``) or any transport with
``send_message`` (tests pass a fake); failures stay in the outbox with the error and are retried.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

from synthguard.errors import ConfigError, SynthGuardError, ValidationError
from synthguard.i18n import N_, current, translate
from synthguard.moderation import texts
from synthguard.moderation.takedown import EMAIL
from synthguard.store.base import utcnow
from synthguard.store.moderation_tables import ModCase, ModOutbox

if TYPE_CHECKING:
    from synthguard.moderation.deps import ModerationDeps
    from synthguard.store.protocols import Unit

MAX_ATTEMPTS = 5
# (subject, body) in English, marked for the catalogs; rendered in the complainant's language when queued
TEMPLATES: dict[str, tuple[str, str]] = {
    "received": (N_("Ticket {ticket}: we received your report"),
                 N_("We received your report ({kind_title}) on {at}. Ticket: {ticket}.\n"
                    "We will decide by {deadline}. Check the status at {status_url} with your ticket and secret.")),
    "forwarded": (N_("Notice about your content {ref}"),
                  N_("We received a notice about content {ref} you uploaded (ticket {ticket}, {kind_title}).\n"
                     "We may take measures. You may send a counter-notice with evidence and your real identity.")),
    "decision": (N_("Ticket {ticket}: decision"),
                 N_("Decision on ticket {ticket}: {action} ({reason}).\nRedress: you may appeal within "
                    "{appeal_days} days through the status page, use out-of-court settlement, or go to court.")),
    "counter_notice": (N_("Ticket {ticket}: the uploader disputes the notice"),
                       N_("The uploader sent a counter-notice stating there is no infringement.\n"
                          "You may complain to the competent authority or sue. Unless you upload proof of a "
                          "complaint or suit on the status page by {restore_at}, the measures will end "
                          "(Civil Code Art. 1196).")),
    "restored": (N_("Content {ref} restored"),
                 N_("The measures on content {ref} ended (ticket {ticket}): {reason}.")),
}
TEXT_FIELDS = ("kind_title", "reason")  # policy texts (moderation/texts.py) and marked reasons
DATE_FIELDS = ("at", "deadline", "restore_at")


class Transport(Protocol):
    def send_message(self, msg: EmailMessage) -> Any: ...


def queue(uow: Unit, case: ModCase, template: str, recipient: str, to_payload: int | None,
          **fields: Any) -> ModOutbox:
    """Render a template in the complainant's language (kept on the case when it was filed; else the current
    one) and add it to the outbox (no address: the row is kept as the record, not sent)."""
    lang = (case.details or {}).get("lang") or current()
    subject, body = TEMPLATES[template]
    values = {"ticket": case.ticket, **fields}
    for k in TEXT_FIELDS:
        if isinstance(values.get(k), str) and values[k]:
            values[k] = translate(values[k], lang)
    for k in DATE_FIELDS:
        if values.get(k) and values[k] != "-":
            values[k] = texts.when(values[k], lang)
    if "action" in values:
        values["action"] = texts.label(texts.ACTIONS, values["action"], lang)
    row = ModOutbox(tenant=case.tenant, case_id=case.id, recipient=recipient, to_payload=to_payload,
                    template=template, subject=translate(subject, lang, **values), body=translate(body, lang, **values),
                    created_at=utcnow(), attempts=0)
    uow.moderation.add(row)
    return row


def outbox(deps: ModerationDeps, tenant: str, *, pending_only: bool = False) -> list[dict[str, Any]]:
    with deps.units() as uow:
        return [_row(r) for r in uow.moderation.outbox(tenant, pending_only=pending_only)]


def _row(r: ModOutbox) -> dict[str, Any]:
    return {"id": r.id, "case_id": r.case_id, "recipient": r.recipient, "template": r.template,
            "subject": r.subject, "body": r.body, "created_at": r.created_at.isoformat(),
            "sent_at": r.sent_at.isoformat() if r.sent_at else None, "attempts": r.attempts, "error": r.error,
            "has_address": r.to_payload is not None}


def smtp_transport(url: str, *, connect: Any = None) -> smtplib.SMTP:
    """``smtp://user:password@host:port`` (STARTTLS, required), ``smtps://...`` (implicit TLS), or
    ``smtp+insecure://...`` (cleartext, only when the operator says so explicitly).

    Certificates are verified.  A server that offers no STARTTLS is refused rather than sent the password and the
    complainants' mail in clear (issue 18 finding 8)."""
    u = urlsplit(url)
    if u.scheme not in ("smtp", "smtps", "smtp+insecure") or not u.hostname:
        raise ConfigError("smtp_url must look like smtp://user:password@host:587 or smtps://host:465")
    tls = ssl.create_default_context()
    if connect is None:
        connect = (lambda h, p: smtplib.SMTP_SSL(h, p, timeout=20, context=tls)) if u.scheme == "smtps" else \
            (lambda h, p: smtplib.SMTP(h, p, timeout=20))
    conn = connect(u.hostname, u.port or (465 if u.scheme == "smtps" else 25))
    if u.scheme != "smtps":
        conn.ehlo()
        if conn.has_extn("starttls"):
            conn.starttls(context=tls)
            conn.ehlo()
        elif u.scheme == "smtp":
            conn.close()
            raise ConfigError("the SMTP server {host} offers no STARTTLS; refusing to send credentials and mail in "
                              "clear", values={"host": u.hostname},
                              hint="Use smtps://, fix the server's TLS, or say smtp+insecure:// explicitly.")
    if u.username:
        conn.login(unquote(u.username), unquote(u.password or ""))
    return conn


def send(deps: ModerationDeps, *, transport: Transport | None = None, limit: int = 100) -> dict[str, int]:
    """Deliver pending outbox rows; returns counts of sent, failed and skipped (no address) rows."""
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    settings = deps.settings()
    with deps.units() as uow:
        rows = uow.moderation.outbox_due(MAX_ATTEMPTS, limit)
        if not rows:
            return counts
        if transport is None:
            if not settings.smtp_url:
                raise ConfigError("no SMTP server configured", hint="Set SYNTHGUARD_SMTP_URL (smtp://user:pw@host).")
            transport = smtp_transport(settings.smtp_url)
        for r in rows:
            if r.to_payload is None:  # kept as the record of the notice; nobody to send it to
                r.attempts, r.error = MAX_ATTEMPTS, "no address"
                counts["skipped"] += 1
                continue
            r.attempts += 1
            try:
                msg = EmailMessage()
                msg["From"], msg["Subject"] = settings.mail_from, r.subject
                to = deps.vault().load(uow.session, r.to_payload).decode()
                if not EMAIL.fullmatch(to):  # one address, never a list (finding 6: no relay to extra recipients)
                    raise ValidationError("stored recipient is not one valid address")
                msg["To"] = to
                msg.set_content(r.body)
                transport.send_message(msg)
            except (SynthGuardError, smtplib.SMTPException, OSError) as exc:
                r.error = f"{type(exc).__name__}: {exc}"[:500]
                counts["failed"] += 1
                continue
            r.sent_at, r.error = utcnow(), None
            counts["sent"] += 1
    return counts


__all__ = ["TEMPLATES", "outbox", "queue", "send", "smtp_transport"]
