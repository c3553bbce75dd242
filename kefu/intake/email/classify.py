"""Recognise automatic mail — auto-replies, bounces, delivery and abuse reports, bulk mail.

Automatic mail never opens a ticket and is never answered (that is how two auto-responders
ping-pong forever); the ingest records it instead. Signals, strongest first: RFC 3464/5965
report parts, RFC 3834 ``Auto-Submitted``, the vendor headers (``X-Autoreply``,
``X-Autorespond``, ``X-Auto-Response-Suppress``), ``Precedence``, mailer-daemon senders, then
subject patterns of well-known out-of-office and bounce texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kefu.intake.email.parse import ParsedEmail


class Kind:
    NORMAL = "normal"
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    DELIVERY_REPORT = "delivery_report"
    FEEDBACK_REPORT = "feedback_report"
    BULK = "bulk"


@dataclass(frozen=True)
class Classification:
    kind: str
    reason: str
    permanent: bool = False  # a bounce with a 5.x.x status

    @property
    def is_automatic(self) -> bool:
        return self.kind != Kind.NORMAL


_DAEMON_SENDER = re.compile(
    r"^(mailer-daemon|post_?master|mail-daemon|maildaemon|"
    r"mail[ ._-]?delivery([ ._-]?(sub)?system)?|bounces?|mailerdaemon|mmdf|smtp)(@|$)",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver|undelivered mail|returned mail|delivery (status )?notification|"
    r"delivery failure|failure notice|mail delivery (failed|failure|system)|"
    r"delivery has failed|could not be delivered|nondeliverable|non-delivery|not delivered|"
    r"warning: message .* delayed|message delayed|delivery delayed|returned to sender|"
    r"unzustellbar|nicht zustellbar|系统退信|退信|投递失败|未能送达|無法傳遞|"
    r"mail system error|rejected|permanent error|bounce|メールエラー|エラー通知|配信エラー|"
    r"送信エラー|不達|error sending|delivery problem)",
    re.I,
)
_AUTO_REPLY_SUBJECT = re.compile(
    r"^(auto(matic)?[ _-]?(reply|response|antwort)|out of (the )?office|abwesenheit|"
    r"automatische antwort|réponse automatique|respuesta automática|自动回复|自動回覆|"
    r"自动答复|不在办公室|vacation|on vacation|away from)",
    re.I,
)
_SES_NOTIFICATION = re.compile(
    r'\\?"notificationType\\?"\s*:\s*\\?"(Bounce|Complaint|Delivery)\\?"'
)
# Text that only mail servers write into a returned message (also when a person forwards one).
_BOUNCE_TRANSCRIPT = re.compile(
    r"transcript of session follows|this is the mail system at host|"
    r"the following address(es)? had permanent fatal errors|"
    r"delivery to the following recipients? (failed|has been delayed)|"
    r"message could not be delivered to|original message was received at",
    re.I,
)
_COMPLAINT_SUBJECT = re.compile(r"complaint|abuse report|spam report", re.I)
_STATUS = re.compile(r"^\s*status:\s*([245])\.\d{1,3}\.\d{1,3}", re.I | re.M)
_ACTION = re.compile(r"^\s*action:\s*(\S+)", re.I | re.M)
_DIAGNOSTIC_PERMANENT = re.compile(r"\b5\d\d[ -]|\b5\.\d{1,3}\.\d{1,3}\b")


def classify(parsed: ParsedEmail) -> Classification:
    if parsed.has_feedback_report or parsed.report_type == "feedback-report":
        return Classification(Kind.FEEDBACK_REPORT, "feedback report (RFC 5965)")
    if parsed.delivery_status or parsed.report_type == "delivery-status":
        return _delivery_status(parsed)
    if parsed.report_type == "disposition-notification":
        return Classification(Kind.DELIVERY_REPORT, "read receipt (RFC 8098)")
    if parsed.content_type == "multipart/report":
        return _bounce_without_report(parsed, "multipart/report")

    auto_submitted = parsed.header("auto-submitted").strip().lower()
    sender = parsed.from_email
    subject = parsed.subject
    raw_from = parsed.header("from")
    if (
        parsed.header("x-failed-recipients")
        or _DAEMON_SENDER.match(sender)
        or _DAEMON_SENDER.match(raw_from.strip().strip('"'))
        or _DAEMON_SENDER.match(parsed.header("return-path").strip().strip("<>"))
    ):
        return _bounce_without_report(parsed, "mailer-daemon sender or X-Failed-Recipients")
    null_sender = parsed.header("return-path").strip() == "<>" or (
        raw_from.replace(" ", "").endswith("<>") and "@" not in raw_from
    )
    if null_sender:
        # Only automatic mail is sent with an empty return path (RFC 5321 §4.5.5, RFC 3834).
        if _BOUNCE_SUBJECT.search(subject) or parsed.embedded_message_ids:
            return _bounce_without_report(parsed, "empty sender address")
        return Classification(Kind.AUTO_REPLY, "empty sender address")
    ses = _SES_NOTIFICATION.search(parsed.body_text[:5000])
    if ses:
        kind = {"bounce": Kind.BOUNCE, "complaint": Kind.FEEDBACK_REPORT}.get(
            ses.group(1).lower(), Kind.DELIVERY_REPORT
        )
        permanent = re.search(r'bounceType\\?"\s*:\s*\\?"Permanent', parsed.body_text) is not None
        return Classification(kind, "Amazon SES notification", permanent=permanent)
    if _COMPLAINT_SUBJECT.search(subject) and parsed.embedded_message_ids:
        return Classification(Kind.FEEDBACK_REPORT, "complaint with the reported message")
    if auto_submitted and not auto_submitted.startswith("no"):
        if _BOUNCE_SUBJECT.search(subject):
            return _bounce_without_report(parsed, f"Auto-Submitted: {auto_submitted}")
        return Classification(Kind.AUTO_REPLY, f"Auto-Submitted: {auto_submitted}")
    for header in ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autogenerated"):
        if parsed.header(header):
            return Classification(Kind.AUTO_REPLY, f"{header} header")
    suppress = parsed.header("x-auto-response-suppress").lower()
    if suppress and any(word in suppress for word in ("all", "oof", "autoreply")):
        if _AUTO_REPLY_SUBJECT.search(subject):
            return Classification(Kind.AUTO_REPLY, "X-Auto-Response-Suppress on an auto-reply")
    precedence = (parsed.header("precedence") or parsed.header("x-precedence")).strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply", "auto-reply"):
        kind = Kind.AUTO_REPLY if precedence.startswith("auto") else Kind.BULK
        return Classification(kind, f"Precedence: {precedence}")
    if _AUTO_REPLY_SUBJECT.search(subject):
        return Classification(Kind.AUTO_REPLY, "out-of-office subject")
    if parsed.header("x-ms-exchange-generated-message-source") or parsed.header("x-mailgun-bounce"):
        return _bounce_without_report(parsed, "provider bounce header")
    if _BOUNCE_SUBJECT.search(subject) and (
        parsed.embedded_message_ids or _BOUNCE_TRANSCRIPT.search(parsed.body_text[:20000])
    ):
        return _bounce_without_report(parsed, "bounce subject with the returned message")
    return Classification(Kind.NORMAL, "")


def _delivery_status(parsed: ParsedEmail) -> Classification:
    status = parsed.delivery_status
    actions = {action.lower() for action in _ACTION.findall(status)}
    codes = _STATUS.findall(status)
    if actions and actions <= {"delivered", "relayed", "expanded"}:
        return Classification(Kind.DELIVERY_REPORT, "delivery report: delivered")
    permanent = "5" in codes or (not codes and "failed" in actions)
    if not codes and not actions:
        permanent = bool(_DIAGNOSTIC_PERMANENT.search(parsed.body_text))
    return Classification(Kind.BOUNCE, "delivery status notification", permanent=permanent)


def _bounce_without_report(parsed: ParsedEmail, reason: str) -> Classification:
    body = parsed.body_text[:20000]
    temporary = re.search(r"\b4\.\d{1,3}\.\d{1,3}\b|delayed|will retry|still trying", body, re.I)
    permanent = bool(_DIAGNOSTIC_PERMANENT.search(body)) or not temporary
    return Classification(Kind.BOUNCE, reason, permanent=permanent)
