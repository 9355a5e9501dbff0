"""The ways out: each group robot's JSON body (and signing), e-mail over SMTP. Pure builders, and a
send() per channel that raises DeliveryError with the receiver's reason when it did not take the message.

Bodies, as the robots document them:
- WeCom (企业微信) group robot: {"msgtype": "text", "text": {"content": …}}; text at most 2048 bytes;
  answers {"errcode": 0, "errmsg": "ok"} (HTTP 200 even when it refuses: errcode says).
- DingTalk (钉钉) custom robot: {"msgtype": "text", "text": {"content": …}}; with 加签 the URL carries
  &timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256 of "<ms>\\n<secret>" keyed by the secret>;
  answers {"errcode": 0, …}.
- Feishu (飞书) custom bot: {"msg_type": "text", "content": {"text": …}}; with 签名校验 the body carries
  "timestamp" (seconds) and "sign" (base64 HMAC-SHA256 of "" keyed by "<s>\\n<secret>"); answers {"code": 0, …}."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from urllib.parse import quote_plus

WECOM_MAX_BYTES = 2048
DINGTALK_MAX_BYTES = 4000   # DingTalk takes ~20 000 bytes; a phone shows a few lines anyway
FEISHU_MAX_BYTES = 4000     # a request body of at most 20 KB


class DeliveryError(Exception):
    """The receiver did not take the message (refused, timed out, answered an error): try again later."""


def clip(text: str, max_bytes: int) -> str:
    """`text` cut to at most max_bytes of UTF-8, on a character boundary, marked with … when cut."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    return raw[:max_bytes - 3].decode("utf-8", errors="ignore") + "…"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode("utf-8"), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_request(channel: str, url: str, text: str, secret: str = "", clock=time.time) -> tuple[str, dict]:
    """(URL, JSON body) to POST for `text` on `channel` ("wecom", "dingtalk", "feishu")."""
    if channel == "wecom":
        return url, {"msgtype": "text", "text": {"content": clip(text, WECOM_MAX_BYTES)}}
    if channel == "dingtalk":
        body = {"msgtype": "text", "text": {"content": clip(text, DINGTALK_MAX_BYTES)}}
        if secret:
            ms = int(clock() * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={ms}&sign={dingtalk_sign(secret, ms)}"
        return url, body
    if channel == "feishu":
        body = {"msg_type": "text", "content": {"text": clip(text, FEISHU_MAX_BYTES)}}
        if secret:
            seconds = int(clock())
            body = {"timestamp": str(seconds), "sign": feishu_sign(secret, seconds), **body}
        return url, body
    raise ValueError(f"no such webhook channel: {channel}")


def accepted(channel: str, answer: dict) -> str | None:
    """None when the robot's JSON answer says it took the message, else its reason."""
    if channel == "feishu":
        code = answer.get("code", answer.get("StatusCode", 0))
        return None if code == 0 else f"{code} {answer.get('msg') or answer.get('StatusMessage') or ''}".strip()
    code = answer.get("errcode", 0)
    return None if code == 0 else f"{code} {answer.get('errmsg', '')}".strip()


def post_webhook(channel: str, url: str, text: str, secret: str = "", timeout: float = 10.0) -> None:
    url, body = webhook_request(channel, url, text, secret)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:  # refused, unreachable, timed out, reset
        raise DeliveryError(str(getattr(exc, "reason", exc)) or type(exc).__name__) from None
    try:
        answer = json.loads(raw.decode("utf-8") or "{}")
    except ValueError:
        answer = {}
    reason = accepted(channel, answer if isinstance(answer, dict) else {})
    if reason:
        raise DeliveryError(f"{channel} refused: {reason}")


def email_message(sender: str, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject.replace("\n", " ")[:200]
    message.set_content(text)
    return message


def send_email(settings, to: str, subject: str, text: str) -> None:
    message = email_message(settings.smtp_from, to, subject, text)
    try:
        if settings.smtp_ssl:
            client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=settings.timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout)
        with client:
            if settings.smtp_starttls:
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password)
            refused = client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP: {exc}") from None
    if refused:
        raise DeliveryError(f"SMTP refused {', '.join(refused)}")
