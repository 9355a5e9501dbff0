"""The group robots' bodies and signatures, the back-off, and the delivery settings checked at start-up."""
import base64
import hashlib
import hmac
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest

from field.config import SettingsError
from field.notifications import channels, jobs, settings


def test_wecom_sends_text_and_cuts_it_to_2048_bytes():
    url, body = channels.webhook_request("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "你好" * 2000)
    assert url.endswith("key=k") and body["msgtype"] == "text"
    content = body["text"]["content"]
    assert len(content.encode()) <= 2048 and content.endswith("…")


def test_dingtalk_signs_the_url_with_the_timestamp_and_hmac_of_the_secret():
    url, body = channels.webhook_request("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t", "hi",
                                         secret="SECabc", clock=lambda: 1700000000.123)
    assert body == {"msgtype": "text", "text": {"content": "hi"}}
    query = parse_qs(urlsplit(url).query)
    assert query["access_token"] == ["t"] and query["timestamp"] == ["1700000000123"]
    expected = base64.b64encode(hmac.new(b"SECabc", b"1700000000123\nSECabc", hashlib.sha256).digest()).decode()
    assert query["sign"] == [expected]  # parse_qs undid the URL encoding
    assert unquote_plus(channels.dingtalk_sign("SECabc", 1700000000123)) == expected


def test_dingtalk_without_a_secret_leaves_the_url_alone():
    url, _ = channels.webhook_request("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t", "hi")
    assert url == "https://oapi.dingtalk.com/robot/send?access_token=t"


def test_feishu_sends_msg_type_text_and_signs_in_the_body():
    url, body = channels.webhook_request("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/x", "hi",
                                         secret="s3", clock=lambda: 1700000000.9)
    assert body["msg_type"] == "text" and body["content"] == {"text": "hi"}
    assert body["timestamp"] == "1700000000"
    assert body["sign"] == base64.b64encode(hmac.new(b"1700000000\ns3", b"", hashlib.sha256).digest()).decode()
    assert "sign" not in channels.webhook_request("feishu", url, "hi")[1]


@pytest.mark.parametrize("channel, answer, ok", [
    ("wecom", {"errcode": 0, "errmsg": "ok"}, True), ("wecom", {"errcode": 93000, "errmsg": "bad"}, False),
    ("dingtalk", {"errcode": 310000, "errmsg": "sign not match"}, False), ("dingtalk", {"errcode": 0}, True),
    ("feishu", {"code": 0, "msg": "success"}, True), ("feishu", {"code": 19021, "msg": "sign match fail"}, False),
    ("feishu", {"StatusCode": 0}, True)])
def test_each_robot_says_in_its_own_words_whether_it_took_the_message(channel, answer, ok):
    assert (channels.accepted(channel, answer) is None) is ok


def test_clip_never_splits_a_character():
    assert channels.clip("ab", 10) == "ab"
    clipped = channels.clip("通知" * 10, 10)
    assert clipped.endswith("…") and len(clipped.encode()) <= 10


def test_backoff_doubles_from_the_base_up_to_an_hour():
    assert [jobs.backoff(n, 10) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert jobs.backoff(30, 10) == 3600


def test_the_email_names_sender_recipient_and_subject_on_one_line():
    message = channels.email_message("field@example.com", "rep@example.com", "驳回\n举证", "正文")
    assert message["Subject"] == "驳回 举证" and message["To"] == "rep@example.com"
    assert "正文" in message.get_content()


# --- settings ---------------------------------------------------------------------------------------

DB = "sqlite:////srv/field/instance/field.sqlite"


def test_nothing_set_means_in_app_only_and_a_queue_file_beside_the_database():
    conf = settings.from_environment(DB, env={})
    assert conf.webhooks == {} and not conf.email
    assert conf.queue_url == "sqlite:////srv/field/instance/field-queue.sqlite"


def test_postgresql_keeps_the_queue_in_its_own_database():
    conf = settings.from_environment("postgresql+psycopg://u:p@db/field", env={})
    assert conf.queue_url == "postgresql://u:p@db/field"


@pytest.mark.parametrize("value", ["ftp://x.example/hook", "qyapi.weixin.qq.com/x", "javascript:alert(1)", "http://"])
def test_a_webhook_url_that_is_not_http_stops_the_start(value):
    with pytest.raises(SettingsError, match="NOTIFY_WECOM_WEBHOOK"):
        settings.from_environment(DB, env={"NOTIFY_WECOM_WEBHOOK": value})


@pytest.mark.parametrize("env, name", [
    ({"SMTP_HOST": "mail", "SMTP_FROM": "field@x.cn", "SMTP_PORT": "70000"}, "SMTP_PORT"),
    ({"SMTP_HOST": "mail", "SMTP_FROM": "field@x.cn", "SMTP_PORT": "abc"}, "SMTP_PORT"),
    ({"SMTP_HOST": "mail"}, "SMTP_FROM"),
    ({"SMTP_HOST": "mail", "SMTP_FROM": "field@x.cn", "SMTP_STARTTLS": "maybe"}, "SMTP_STARTTLS"),
    ({"SMTP_HOST": "mail", "SMTP_FROM": "field@x.cn", "SMTP_USER": "u"}, "SMTP_USER"),
    ({"NOTIFY_DINGTALK_SECRET": "SEC1"}, "NOTIFY_DINGTALK_SECRET"),
    ({"NOTIFY_QUEUE_URL": "redis://cache"}, "NOTIFY_QUEUE_URL"),
])
def test_bad_delivery_settings_stop_the_start_naming_the_setting(env, name):
    with pytest.raises(SettingsError, match=name):
        settings.from_environment(DB, env=env)


def test_good_settings_are_read():
    conf = settings.from_environment(DB, env={
        "NOTIFY_WECOM_WEBHOOK": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1",
        "NOTIFY_DINGTALK_WEBHOOK": "https://oapi.dingtalk.com/robot/send?access_token=2",
        "NOTIFY_DINGTALK_SECRET": "SEC2", "SMTP_HOST": "smtp.example.com", "SMTP_PORT": "2525",
        "SMTP_FROM": "field@example.com", "SMTP_STARTTLS": "false"})
    assert set(conf.webhooks) == {"wecom", "dingtalk"} and conf.secrets == {"dingtalk": "SEC2"}
    assert (conf.email, conf.smtp_port, conf.smtp_starttls) == (True, 2525, False)
