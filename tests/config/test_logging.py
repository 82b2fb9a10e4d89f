"""Secrets never reach a log line in full, whoever logs them."""

import logging

import structlog

from config.logging import mask, redact_text


def test_mask_keeps_only_the_last_four_characters():
    assert mask("EAAGsecretvalue1234") == "••••••••1234"
    assert mask("short") == "•••••"
    assert mask("") == ""


def test_tokens_and_app_secret_pairs_are_redacted_from_text():
    text = redact_text("call with EAAGabcdefghijklmnop and 902194447211035|demo0app0secret0d1e")
    assert "EAAGabcdefghijklmnop" not in text and "mnop" in text
    assert "demo0app0secret0d1e" not in text and "902194447211035|" in text


def test_a_token_logged_by_mistake_is_masked_in_the_output(capsys):
    from django.conf import settings
    from config.logging import configure

    configure(settings.LOGGING)
    logging.getLogger().setLevel(logging.INFO)
    structlog.get_logger("test").info("oops", token="EAAGverysecrettoken9876", detail="Bearer EAAGanotherone12345678")
    logging.getLogger("plain").warning("plain logging with EAAGthirdsecret55554444")
    err = capsys.readouterr().err
    assert "EAAGverysecrettoken9876" not in err and "9876" in err
    assert "EAAGanotherone12345678" not in err
    assert "EAAGthirdsecret55554444" not in err
